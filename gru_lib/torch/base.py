"""Machinery shared by the torch layers: ``torch.nn``'s interface, then the layer loops.

The step functions (:mod:`gru_lib.torch.rnn`, :mod:`~gru_lib.torch.gru`,
:mod:`~gru_lib.torch.lstm`) call :func:`~gru_lib.torch.checks.check_step_args` at their public
entry (the checks live in :mod:`gru_lib.torch.checks` and are re-exported here), and the layers
call :meth:`RecurrentBase._check_forward` once per ``forward``; the math below those entries is
plain tensor algebra that autograd differentiates.

:class:`RecurrentBase` is what :class:`~gru_lib.torch.RNN`, :class:`~gru_lib.torch.GRU` and
:class:`~gru_lib.torch.LSTM` have in common: ``torch.nn``'s constructor, parameter names, order and
initialisation, and the loop over layers, directions and time steps. A subclass only supplies
``_cell``, one time step given the precomputed input projection.

Two loops run a layer over time: :meth:`RecurrentBase._layer` for full-length sequences, and
:meth:`RecurrentBase._layer_masked` when sequences have their own lengths (a ``PackedSequence``
or ``lengths=``). Both read the input projection once per step from ``gi.unbind(0)``: indexing
``gi[t]`` inside the loop would make autograd add a ``(T, B, G*H)`` zero-filled gradient per
step in the backward, a cost quadratic in ``T`` (chapter {ref}`ch-cost`).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import PackedSequence

from gru_lib import _spec
from gru_lib.torch.checks import (  # noqa: F401 - re-exported: the cells import them from here
    _check_tensor,
    _is_real_float,
    check_same_device,
    check_step_args,
    dtype_name,
)

__all__ = ["RecurrentBase", "check_same_device", "check_step_args", "dtype_name"]


class RecurrentBase(nn.Module):
    r"""Stack of recurrent layers with ``torch.nn.RNN``/``GRU``/``LSTM``'s interface.

    Layer ``l`` in direction ``d`` reads the sequence :math:`x^{(l)}_{1..T}` (the input for
    ``l = 0``, otherwise the previous layer's outputs, both directions concatenated) and runs

    .. math::
        g_t = x^{(l)}_t W_{ih}^\top + b_{ih} \quad (\text{all } t \text{ in one product}), \qquad
        s_t = \mathrm{cell}(g_t, s_{t-1})

    forwards in time for ``d = 0`` and backwards (``t = T..1``) for the ``_reverse`` direction
    (Schuster & Paliwal, 1997). ``s`` is ``(h,)`` or, for the LSTM, ``(h, c)``; the layer's output
    at step ``t`` is :math:`h_t`.

    Parameters are registered in ``torch.nn``'s order (:func:`gru_lib._spec.param_shapes`) and
    initialised like it, every entry from :math:`U(-1/\sqrt{H}, 1/\sqrt{H})` in that order, so a
    module built after ``torch.manual_seed(s)`` holds the same numbers as ``torch.nn``'s twin
    built after the same seed. Subclasses set ``MODE`` and implement ``_cell``.

    As ``torch.nn``: ``dropout`` between layers (training mode only, not after the last layer,
    drawn with ``F.dropout`` on the same tensor shape, so the same seed gives the same masks as
    ``torch.nn`` on CPU); ``PackedSequence`` inputs and outputs; ``flatten_parameters()`` (a no-op:
    there is no flat cuDNN buffer) and ``all_weights``. Not offered: the LSTM's ``proj_size``.
    ``torch.jit.trace`` and ONNX export raise an error (see :meth:`_refuse_fixed_length_graph`).
    """

    MODE = ""          # "RNN", "GRU" or "LSTM": picks the number of gate blocks
    STATE_NAMES = ("h0",)

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__()
        owner = type(self).__name__
        (self.input_size, self.hidden_size, self.num_layers, self.bias, self.batch_first,
         self.bidirectional) = _spec.check_constructor(owner, input_size, hidden_size, num_layers,
                                                       bias, batch_first, bidirectional)
        self.dropout = _spec.check_dropout(owner, dropout, self.num_layers, stacklevel=4)
        self.proj_size = 0                 # torch.nn's attribute; only 0 is offered
        if dtype is not None:
            if not isinstance(dtype, torch.dtype):
                raise TypeError(f"{owner}: dtype must be a torch.dtype or None, "
                                f"got {type(dtype).__name__} ({dtype!r})")
            _spec.check_float_dtype(owner, "dtype", dtype_name(dtype), _is_real_float(dtype))
        self.num_directions = 2 if bidirectional else 1
        shapes = _spec.param_shapes(self.MODE, self.input_size, self.hidden_size,
                                    self.num_layers, self.bias, self.bidirectional)
        for name, shape in shapes.items():
            self.register_parameter(name, nn.Parameter(torch.empty(shape, device=device,
                                                                   dtype=dtype)))
        self.reset_parameters()

    # ----------------------------------------------------------------- parameters
    def reset_parameters(self) -> None:
        """Draw every parameter from :math:`U(-1/\\sqrt{H}, 1/\\sqrt{H})`, as ``torch.nn`` does."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        with torch.no_grad():
            for p in self.parameters():
                p.uniform_(-bound, bound)

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """Expected ``state_dict`` names and shapes, in ``torch.nn``'s order."""
        return _spec.param_shapes(self.MODE, self.input_size, self.hidden_size, self.num_layers,
                                  self.bias, self.bidirectional)

    def num_parameters(self) -> int:
        """Number of scalar parameters: :math:`\\sum_{l,d} G H (D_l + H + 2\\,[\\text{bias}])`."""
        return sum(p.numel() for p in self.parameters())

    def _weights(self, layer: int, reverse: bool):
        """``(W_ih, W_hh, b_ih, b_hh)`` of one layer and direction (biases None without bias)."""
        names = _spec.layer_param_names(layer, reverse, self.bias)
        return tuple(None if n is None else getattr(self, n) for n in names)

    @property
    def all_weights(self) -> list[list[nn.Parameter]]:
        """``torch.nn``'s layout: one list ``[W_ih, W_hh, b_ih, b_hh]`` per layer and direction."""
        return [[w for w in self._weights(layer, d == 1) if w is not None]
                for layer in range(self.num_layers) for d in range(self.num_directions)]

    def flatten_parameters(self) -> None:
        """No-op, kept for drop-in use: ``torch.nn`` packs weights into one cuDNN buffer here."""

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """``nn.Module.load_state_dict``, plus ``gru_lib``'s strict check and NumPy arrays.

        With ``strict=True`` (the default) missing keys, unexpected keys and wrong shapes raise
        ``ValueError`` naming the key, the expected and the actual shape (the same message as
        :meth:`gru_lib.numpy.GRU.load_state_dict`). Values may be tensors or NumPy arrays (e.g. a
        :mod:`gru_lib.numpy` model's ``state_dict()``); they are copied into the existing
        parameters, so dtype and device stay the module's.
        """
        if strict:
            _spec.check_state_dict(type(self).__name__, self.param_shapes(),
                                   {k: tuple(v.shape) for k, v in state_dict.items()})
        converted = OrderedDict((k, v if isinstance(v, torch.Tensor) else torch.as_tensor(v))
                                for k, v in state_dict.items())
        if hasattr(state_dict, "_metadata"):            # torch's per-module version info
            converted._metadata = state_dict._metadata
        return super().load_state_dict(converted, strict=strict, assign=assign)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s

    # ----------------------------------------------------------------- checks
    def _check_forward(self, input, states: Mapping[str, torch.Tensor | None],
                       packed: bool = False) -> tuple[int, int, bool]:
        """Validate ``input`` and the initial states; return ``(T, B, batched)``.

        ``packed``: ``input`` is a ``PackedSequence``'s data ``(N, D)``; the states are checked
        against its largest batch.
        """
        owner = type(self).__name__
        _check_tensor(owner, "input", input.data if packed else input)
        given = {k: v for k, v in states.items() if v is not None}
        for name, s in given.items():
            _check_tensor(owner, name, s)
        if packed:
            data = input.data
            if data.dim() != 2 or data.shape[-1] != self.input_size:
                raise ValueError(f"{owner}: expected a PackedSequence with data of shape "
                                 f"(N, input_size) with input_size={self.input_size}, got data "
                                 f"of shape {_spec.fmt_shape(data.shape)}")
            T, B, batched = len(input.batch_sizes), int(input.batch_sizes[0]), True
        else:
            T, B, batched = _spec.check_input_shape(owner, input.shape, self.input_size,
                                                    self.batch_first)
        expected = _spec.expected_state_shape(self.num_layers, self.bidirectional, B,
                                              self.hidden_size, batched)
        for name, s in given.items():
            _spec.check_state_shape(owner, name, s.shape, expected)
        w = self.weight_ih_l0
        x = input.data if packed else input
        _spec.check_same_dtype(owner, {"input": dtype_name(x.dtype),
                                       **{k: dtype_name(s.dtype) for k, s in given.items()},
                                       "parameters": dtype_name(w.dtype)})
        check_same_device(owner, {"input": x.device, **{k: s.device for k, s in given.items()},
                                  "parameters": w.device})
        return T, B, batched

    def _refuse_fixed_length_graph(self) -> None:
        """Raise under ``torch.jit.trace`` and ``torch.export`` (hence every ONNX export path).

        The loop over time is Python: a tracer or exporter records it unrolled for the example's
        ``T``, and the recorded graph then silently returns wrong results for any other length
        (it reads only the first ``T`` steps, or fails later at best). Refusing here turns that
        silent error into a loud one at trace/export time.
        """
        tracing = torch.jit.is_tracing()
        if tracing or torch.compiler.is_exporting():
            how = ("torch.jit.trace (and torch.onnx.export(..., dynamo=False), which traces)"
                   if tracing else "torch.export (and torch.onnx.export(..., dynamo=True))")
            twin = f"torch.nn.{self.MODE}"
            raise RuntimeError(
                f"gru_lib.torch.{type(self).__name__} cannot be traced or exported: {how} would "
                "record its Python loop over time unrolled for this example's sequence length, "
                "and the graph would silently give wrong results for any other length. Export "
                f"{twin} instead: it has the same parameters, so "
                f"{twin}(...).load_state_dict(model.state_dict()) copies them one to one"
                + (" (reset_after=True only)." if self.MODE == "GRU" else "."))

    # ----------------------------------------------------------------- the loops
    def _cell(self, gi: torch.Tensor, state: tuple, W_hh, b_hh) -> tuple:
        """One time step: ``gi`` ``(B, G*H)`` is :math:`x_t W_{ih}^\\top + b_{ih}`."""
        raise NotImplementedError

    def _layer(self, x: torch.Tensor, state: tuple, weights: tuple, reverse: bool):
        """One layer in one direction over the whole sequence: ``x`` ``(T, B, D_l)``.

        Returns the states ``(T, B, H)`` in time order and the final state tuple. The default
        projects the input for every step in one product, then loops :meth:`_cell` over time;
        :class:`gru_lib.torch.FastGRU` replaces this whole method with a hand-written kernel.
        """
        W_ih, W_hh, b_ih, b_hh = weights
        gis = F.linear(x, W_ih, b_ih).unbind(0)          # T views (B, G*H), split once
        T = len(gis)
        hs: list[torch.Tensor | None] = [None] * T       # h_t, filled in time order
        for t in (range(T - 1, -1, -1) if reverse else range(T)):
            state = self._cell(gis[t], state, W_hh, b_hh)
            hs[t] = state[0]
        return torch.stack(hs), state

    def _layer_masked(self, x: torch.Tensor, state: tuple, weights: tuple, reverse: bool,
                      mask: torch.Tensor):
        """:meth:`_layer` for sequences of their own lengths; ``mask`` ``(T, B)`` marks real steps.

        Where ``mask[t, b]`` is False the state of sequence ``b`` is carried over unchanged and
        the output is zero, so the forward direction ends at each sequence's last real step and
        the reverse direction starts there, exactly as ``torch.nn`` runs a ``PackedSequence``.
        Subclasses' :meth:`_layer` kernels need not know about lengths: this loop uses
        :meth:`_cell`.
        """
        W_ih, W_hh, b_ih, b_hh = weights
        gis = F.linear(x, W_ih, b_ih).unbind(0)
        keep = mask.unsqueeze(-1).unbind(0)              # T masks (B, 1)
        T = len(gis)
        hs: list[torch.Tensor | None] = [None] * T
        for t in (range(T - 1, -1, -1) if reverse else range(T)):
            new = self._cell(gis[t], state, W_hh, b_hh)
            state = tuple(torch.where(keep[t], n, s) for n, s in zip(new, state, strict=True))
            hs[t] = torch.where(keep[t], new[0], 0.0)
        return torch.stack(hs), state

    def _dropout_between(self, x: torch.Tensor, pack_index) -> torch.Tensor:
        """``torch.nn``'s dropout between layers, on the same tensor shape as ``torch.nn``.

        ``torch.nn`` applies it to the layer's output as it holds it: ``(T, B, ·)`` for a padded
        input, the packed data ``(N, ·)`` for a ``PackedSequence``. Drawing the mask on the same
        shape consumes the random generator identically, so one seed gives one mask in both.
        """
        if pack_index is None:
            return F.dropout(x, self.dropout, training=True)
        data = F.dropout(x[pack_index], self.dropout, training=True)
        return x.new_zeros(x.shape).index_put(pack_index, data)

    def _run(self, x: torch.Tensor, init: list, mask=None, pack_index=None):
        """The loop over layers and directions (chapter {ref}`ch-deep-bidirectional`).

        ``x`` is time-major ``(T, B, D)``; ``init`` holds the initial states, each
        ``(num_layers*num_directions, B, H)``. Layer ``l`` reads the whole output of layer
        ``l − 1``, both directions concatenated along the features; each direction runs
        :meth:`_layer`, the reverse one from ``t = T − 1`` down to 0, storing each state at its
        own time index. Between layers, in training mode, ``torch.nn``'s dropout. ``mask``
        ``(T, B)`` marks the real steps of sequences with their own lengths (a
        ``PackedSequence`` or ``lengths=``), ``pack_index`` the rows of the packed data.

        Returns the top layer's outputs ``(T, B, num_directions*H)`` and the final states,
        stacked like ``init`` in the order ``layer * num_directions + direction``.
        """
        finals: list[list[torch.Tensor]] = [[] for _ in init]
        for layer in range(self.num_layers):
            outputs = []
            for d in range(self.num_directions):
                weights = self._weights(layer, reverse=d == 1)
                state = tuple(s[layer * self.num_directions + d] for s in init)
                if mask is None:
                    hs, state = self._layer(x, state, weights, reverse=d == 1)
                else:
                    hs, state = self._layer_masked(x, state, weights, d == 1, mask)
                outputs.append(hs)                      # (T, B, H), in time order
                for acc, s in zip(finals, state, strict=True):
                    acc.append(s)
            x = outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=2)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = self._dropout_between(x, pack_index)
        return x, [torch.stack(acc) for acc in finals]

    def _init_states(self, init: list, x: torch.Tensor) -> list:
        B = x.shape[1]
        n = self.num_layers * self.num_directions
        return [x.new_zeros(n, B, self.hidden_size) if s is None else s for s in init]

    def _forward_layers(self, input, states: Mapping[str, torch.Tensor | None], lengths=None):
        """Validate, reshape to time-major, :meth:`_run`; returns ``(output, [final states])``.

        ``states`` maps ``'hx'`` (LSTM: ``'h0'`` and ``'c0'``; the names used in messages) to
        ``(num_layers*num_directions, B, H)`` tensors or None (zeros of the input's dtype and
        device). ``input`` may be a ``PackedSequence``
        (then so is the output); ``lengths`` (B ints) marks padded steps of a tensor input.
        """
        self._refuse_fixed_length_graph()
        if isinstance(input, PackedSequence):
            if lengths is not None:
                raise ValueError(f"{type(self).__name__}: lengths= is for padded tensors; a "
                                 "PackedSequence carries its own lengths")
            return self._run_packed(input, states)
        T, B, batched = self._check_forward(input, states)
        x = input
        init = list(states.values())
        # unbatched: (T, D) -> (T, 1, D) and states (layers*dirs, H) -> (layers*dirs, 1, H)
        if not batched:
            x = x.unsqueeze(1)
            init = [None if s is None else s.unsqueeze(1) for s in init]
        elif self.batch_first:               # (B, T, D) -> (T, B, D)
            x = x.transpose(0, 1)
        mask = None
        if lengths is not None:
            lengths = _spec.check_lengths(type(self).__name__, lengths, T, B)
            steps = torch.arange(T, device=x.device).unsqueeze(1)
            mask = steps < torch.tensor(lengths, device=x.device)   # (T, B)
        output, final = self._run(x, self._init_states(init, x), mask)
        if not batched:
            output, final = output.squeeze(1), [f.squeeze(1) for f in final]
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, final

    def _run_packed(self, packed: PackedSequence, states):
        """A ``PackedSequence`` in, a ``PackedSequence`` out, as ``torch.nn`` does it.

        The packed data ``(N, D)`` holds, time step after time step, the sequences still running
        (sorted longest first). It is scattered into a zero-padded ``(T, B, D)`` tensor, run with
        a mask of real steps, and gathered back. ``hx`` and ``h_n`` are in the caller's batch
        order; inside, everything is in the sorted order (``sorted_indices``).
        """
        T, B, _ = self._check_forward(packed, states, packed=True)
        data, batch_sizes, sorted_idx, unsorted_idx = packed
        init = list(states.values())
        if sorted_idx is not None:           # the caller's order -> the packed (sorted) order
            init = [None if s is None else s.index_select(1, sorted_idx) for s in init]
        steps = torch.arange(B, device=data.device)
        mask = steps.unsqueeze(0) < batch_sizes.to(data.device).unsqueeze(1)    # (T, B)
        pack_index = mask.nonzero(as_tuple=True)        # (t, b) of each packed row, in order
        x = data.new_zeros(T, B, self.input_size).index_put(pack_index, data)
        output, final = self._run(x, self._init_states(init, x), mask, pack_index)
        if unsorted_idx is not None:
            final = [f.index_select(1, unsorted_idx) for f in final]
        return PackedSequence(output[pack_index], batch_sizes, sorted_idx, unsorted_idx), final
