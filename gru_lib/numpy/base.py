"""Machinery shared by the NumPy layers: parameters, checks, the layer loops and their BPTT.

The step functions (:mod:`gru_lib.numpy.rnn`, :mod:`~gru_lib.numpy.gru`,
:mod:`~gru_lib.numpy.lstm`) call :func:`~gru_lib.numpy.checks.check_step_args` once at their
public entry (the checks live in :mod:`gru_lib.numpy.checks`, re-exported here), so their
bodies can be pure math. The layers (:class:`RecurrentBase` and its subclasses) validate their
arguments once per call and then loop over layers, directions and time steps; that loop, and its
mirror image for backpropagation through time, is written once here for all three cells. Messages
use the same words as :mod:`gru_lib._spec`, so both backends reject the same mistakes alike.

Conventions shared with :mod:`gru_lib.torch`: the initial state is ``hx`` (the old NumPy name
``h0=`` still works with a ``FutureWarning``); ``lengths=`` gives each sequence its own length
(padded steps leave the state unchanged and output zeros, as ``torch.nn`` runs a
``PackedSequence``); ``dropout`` acts between layers in training mode (``train()``/``eval()``).
The step functions return ``(h_next, cache)`` (LSTM ``(h_next, c_next, cache)``), where the torch
twins return only the new state(s).
"""

from __future__ import annotations

import numpy as np

from gru_lib import _spec
from gru_lib.numpy.checks import (  # noqa: F401 - re-exported: the cells import them from here
    _UNSET,
    _as_numpy,
    _check_array,
    check_shape,
    check_step_args,
    check_upstream,
    renamed_h0,
)


class RecurrentBase:
    """A stack of recurrent layers, optionally bidirectional, with forward and full BPTT.

    Subclasses choose the cell: they set ``MODE`` (``"RNN"``, ``"GRU"`` or ``"LSTM"``, which fixes
    the number of gate blocks) and ``NUM_STATES`` (1, or 2 for the LSTM's ``(h, c)``), and
    implement ``_step`` / ``_step_backward`` by calling their module's step functions. Everything
    else, parameters, checks and the loops over layers, directions and time, lives here once.

    Layout, as ``torch.nn``: layer ``l`` direction ``d`` reads the full output of layer ``l − 1``
    (both directions concatenated), the reverse direction runs from ``t = T`` down to 1, and the
    output at time ``t`` is ``[h_t^{fwd} | h_t^{rev}]``. Initial and final states are stacked
    along the first axis in the order ``l0, l0_reverse, l1, …``.
    """

    MODE = ""
    NUM_STATES = 1
    STATE_NAMES = ("hx",)          # the names messages use for the initial state(s)

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, *, dtype=np.float64, rng=None):
        owner = type(self).__name__
        (self.input_size, self.hidden_size, self.num_layers, self.bias, self.batch_first,
         self.bidirectional) = _spec.check_constructor(owner, input_size, hidden_size, num_layers,
                                                       bias, batch_first, bidirectional)
        self.dropout = _spec.check_dropout(owner, dropout, self.num_layers, stacklevel=4)
        self.training = True
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise TypeError(f"{owner}: dtype must be float32 or float64, got {self.dtype}")
        if rng is None:  # draw the seed from NumPy's global generator, so seed_everything rules
            rng = np.random.default_rng(np.random.randint(2**31))  # noqa: NPY002
        elif not isinstance(rng, np.random.Generator):
            rng = np.random.default_rng(rng)
        # torch.nn initialises every weight and bias from U(-1/sqrt(H), 1/sqrt(H)).
        bound = 1.0 / np.sqrt(self.hidden_size)
        self.params = {name: rng.uniform(-bound, bound, size=shape).astype(self.dtype)
                       for name, shape in self._shapes().items()}
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self.rng = rng                 # also draws the dropout masks
        self._cache = None

    def train(self, mode: bool = True):
        """Training mode (dropout active), as ``nn.Module.train``; returns ``self``."""
        self.training = _spec._check_bool(type(self).__name__, "mode", mode)
        return self

    def eval(self):
        """Evaluation mode (no dropout), as ``nn.Module.eval``; returns ``self``."""
        return self.train(False)

    # -- parameters -------------------------------------------------------------------------
    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def _shapes(self) -> dict[str, tuple[int, ...]]:
        return _spec.param_shapes(self.MODE, self.input_size, self.hidden_size, self.num_layers,
                                  self.bias, self.bidirectional)

    def _weights(self, layer: int, direction: int):
        """``(W_ih, W_hh, b_ih, b_hh)`` of one layer and direction (biases None without bias)."""
        names = _spec.layer_param_names(layer, direction == 1, self.bias)
        return tuple(None if n is None else self.params[n] for n in names)

    def num_parameters(self) -> int:
        """Total number of scalar parameters (the same count as ``torch.nn``'s module)."""
        return int(sum(p.size for p in self.params.values()))

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the parameters, keyed and ordered like ``torch.nn``'s ``state_dict()``."""
        return {k: v.copy() for k, v in self.params.items()}

    def load_state_dict(self, state) -> None:
        """Load parameters from NumPy arrays or torch tensors, e.g. ``torch.nn.GRU.state_dict()``.

        Keys and shapes must match exactly (missing, unexpected or misshapen entries raise
        ``ValueError`` naming them); values are copied and cast to the model's dtype.
        """
        owner = type(self).__name__
        arrays = {k: _as_numpy(f"{owner}.load_state_dict", k, v) for k, v in state.items()}
        _spec.check_state_dict(owner, self._shapes(), {k: a.shape for k, a in arrays.items()})
        for k in self.params:
            self.params[k] = np.array(arrays[k], dtype=self.dtype)

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def __repr__(self) -> str:
        extra = "".join(f", {k}={v!r}" for k, v in self._extra_repr().items())
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size}{extra})"

    def _extra_repr(self) -> dict:
        defaults = {"num_layers": 1, "bias": True, "batch_first": False, "dropout": 0.0,
                    "bidirectional": False}
        return {k: getattr(self, k) for k, v in defaults.items() if getattr(self, k) != v}

    # -- the two hooks a cell provides ------------------------------------------------------
    def _step(self, x, state: tuple, weights: tuple):
        """``(state_next, cache)`` for one time step; ``state`` is ``(h,)`` or ``(h, c)``."""
        raise NotImplementedError

    def _step_backward(self, d_state_next: tuple, cache):
        """``(dx, d_state, (dW_ih, dW_hh, db_ih, db_hh))`` for one time step."""
        raise NotImplementedError

    # -- one layer in one direction: the step loop (FastGRU replaces these two) ------------
    def _layer_forward(self, x, state: tuple, weights: tuple, reverse: bool):
        """Run :meth:`_step` over ``x`` ``(T, B, D_l)``; return ``(hs, final_state, cache)``.

        ``hs`` ``(T, B, H)`` is in time order whichever way the direction reads the sequence.
        """
        T = x.shape[0]
        hs = np.empty((T,) + state[0].shape, dtype=self.dtype)
        step_caches = [None] * T
        for t in (range(T - 1, -1, -1) if reverse else range(T)):
            state, step_caches[t] = self._step(x[t], state, weights)
            hs[t] = state[0]
        return hs, state, step_caches

    def _layer_backward(self, d_hs, d_state: tuple, step_caches, reverse: bool):
        """BPTT through one layer and direction, time running against the forward's order.

        ``d_hs`` ``(T, B, H)``: upstream gradient of every ``h_t``; ``d_state``: of the final
        state. Returns ``(dx (T, B, D_l), d_initial_state, (dW_ih, dW_hh, db_ih, db_hh))`` with
        the weight gradients summed over time.
        """
        T = d_hs.shape[0]
        dx_all, total = None, None
        for t in (range(T) if reverse else range(T - 1, -1, -1)):
            dh = d_state[0] + d_hs[t]              # δ_t: from above and from step t+1
            dx, d_state, d_params = self._step_backward((dh,) + d_state[1:], step_caches[t])
            if dx_all is None:
                dx_all = np.empty((T,) + dx.shape, dtype=self.dtype)
                total = [None if g is None else np.zeros_like(g) for g in d_params]
            dx_all[t] = dx
            for acc, g in zip(total, d_params, strict=True):
                if acc is not None:
                    acc += g
        return dx_all, d_state, tuple(total)

    # -- the same two loops for sequences of their own lengths ------------------------------
    def _layer_forward_masked(self, x, state: tuple, weights: tuple, reverse: bool, mask):
        r""":meth:`_layer_forward` where ``mask`` ``(T, B)`` marks each sequence's real steps.

        .. math::
            s_t = m_t\, \mathrm{cell}(x_t, s_{t-1}) + (1 - m_t)\, s_{t-1}, \qquad
            \text{output}_t = m_t\, h_t

        so a padded step carries the state over unchanged and outputs zero; the reverse
        direction starts at each sequence's last real step. Uses :meth:`_step`, so subclasses
        with their own layer kernels (FastGRU) get lengths for free.
        """
        T = x.shape[0]
        hs = np.empty((T,) + state[0].shape, dtype=self.dtype)
        step_caches = [None] * T
        for t in (range(T - 1, -1, -1) if reverse else range(T)):
            keep = mask[t][:, None]
            new, step_caches[t] = self._step(x[t], state, weights)
            state = tuple(np.where(keep, n, s) for n, s in zip(new, state, strict=True))
            hs[t] = np.where(keep, new[0], 0.0)
        return hs, state, step_caches

    def _layer_backward_masked(self, d_hs, d_state: tuple, step_caches, reverse: bool, mask):
        """Backward of :meth:`_layer_forward_masked`: the mask routes each gradient.

        Where ``m_t = 1`` the gradient of :math:`s_t` (plus the output's) enters the cell's
        backward; where ``m_t = 0`` it passes to :math:`s_{t-1}` untouched, and the output,
        a constant zero there, sends nothing.
        """
        T = d_hs.shape[0]
        dx_all, total = None, None
        for t in (range(T) if reverse else range(T - 1, -1, -1)):
            keep = mask[t][:, None]
            d_new = tuple(np.where(keep, g, 0.0)
                          for g in (d_state[0] + d_hs[t],) + d_state[1:])
            dx, d_prev, d_params = self._step_backward(d_new, step_caches[t])
            d_state = tuple(p + np.where(keep, 0.0, g)
                            for p, g in zip(d_prev, d_state, strict=True))
            if dx_all is None:
                dx_all = np.empty((T,) + dx.shape, dtype=self.dtype)
                total = [None if g is None else np.zeros_like(g) for g in d_params]
            dx_all[t] = dx
            for acc, g in zip(total, d_params, strict=True):
                if acc is not None:
                    acc += g
        return dx_all, d_state, tuple(total)

    def _dropout_mask(self, shape) -> np.ndarray:
        """Keep each element with probability ``1 − p``, scaled by ``1/(1 − p)`` (inverted dropout).

        Drawn from ``self.rng``; the same law as ``torch.nn``'s, not the same random numbers.
        """
        p = self.dropout
        if p == 1:
            return np.zeros(shape, dtype=self.dtype)
        return ((self.rng.random(shape) >= p) / (1.0 - p)).astype(self.dtype)

    # -- public-boundary checks -------------------------------------------------------------
    def _check_forward(self, x, states, lengths=None):
        """Validate ``x``, the initial states and lengths; return them time-major and batched.

        Returns ``(x, states, batched, mask)`` with ``mask`` ``(T, B)`` bool, or None without
        ``lengths``.
        """
        owner = type(self).__name__
        _check_array(owner, "input", x)
        T, B, batched = _spec.check_input_shape(owner, x.shape, self.input_size, self.batch_first)
        mask = None
        if lengths is not None:
            lengths = np.array(_spec.check_lengths(owner, lengths, T, B))
            mask = np.arange(T)[:, None] < lengths[None, :]
        expected = _spec.expected_state_shape(self.num_layers, self.bidirectional, B,
                                              self.hidden_size, batched)
        dtypes = {"input": x.dtype.name}
        for name, s in zip(self.STATE_NAMES, states, strict=True):
            if s is not None:
                _check_array(owner, name, s)
                _spec.check_state_shape(owner, name, s.shape, expected)
                dtypes[name] = s.dtype.name
        dtypes["parameters"] = self.dtype.name
        _spec.check_same_dtype(owner, dtypes)
        x = x if batched else x[:, None, :]
        x = x.transpose(1, 0, 2) if (batched and self.batch_first) else x
        zeros = np.zeros(expected[:1] + (B, self.hidden_size), dtype=self.dtype)
        states = tuple(zeros if s is None else (s if batched else s[:, None, :]) for s in states)
        # Copies: the step caches keep views of these, and the caller may change their arrays
        # in place between forward and backward (a gradient check does exactly that).
        x = x.copy() if mask is None else np.where(mask[:, :, None], x, 0.0).astype(self.dtype)
        return x, tuple(s.copy() for s in states), batched, mask

    def _to_caller_layout(self, out: np.ndarray, finals: tuple, batched: bool):
        """Undo :meth:`_check_forward`'s reshaping: batch_first and unbatched as torch returns."""
        if not batched:
            return out[:, 0, :], tuple(f[:, 0, :] for f in finals)
        if self.batch_first:
            out = out.transpose(1, 0, 2)
        return out, finals

    # -- forward: layers × directions × time ------------------------------------------------
    def _forward(self, x, states, batched, mask=None):
        T, B, _ = x.shape
        H, num_dirs = self.hidden_size, self.num_directions
        finals = tuple(np.empty_like(s) for s in states)
        caches = []                                   # caches[l][d][t]
        keeps = []                                    # dropout masks between layers
        layer_in = x
        for layer in range(self.num_layers):
            out = np.empty((T, B, num_dirs * H), dtype=self.dtype)
            caches.append([])
            for d in range(num_dirs):
                k = layer * num_dirs + d              # index into hx / h_n
                state = tuple(s[k] for s in states)
                weights = self._weights(layer, d)
                if mask is None:
                    hs, state, cache = self._layer_forward(layer_in, state, weights, d == 1)
                else:
                    hs, state, cache = self._layer_forward_masked(layer_in, state, weights,
                                                                  d == 1, mask)
                out[:, :, d * H:(d + 1) * H] = hs
                for f, s in zip(finals, state, strict=True):
                    f[k] = s
                caches[layer].append(cache)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                keeps.append(self._dropout_mask(out.shape))
                out = out * keeps[-1]
            layer_in = out
        self._cache = {"caches": caches, "T": T, "B": B, "batched": batched, "mask": mask,
                       "keeps": keeps}
        return self._to_caller_layout(layer_in, finals, batched)

    # -- backward: the same loops, reversed -------------------------------------------------
    def _check_backward(self, d_output, d_finals):
        """Validate upstream gradients against the last forward; return them time-major."""
        owner = f"{type(self).__name__}.backward"
        if self._cache is None:
            raise RuntimeError(f"{owner}: call forward before backward (no forward pass cached)")
        T, B, batched = self._cache["T"], self._cache["B"], self._cache["batched"]
        num_dirs, H = self.num_directions, self.hidden_size
        width = num_dirs * H                          # features of the output
        out_shape = (T, width) if not batched else ((B, T, width) if self.batch_first
                                                    else (T, B, width))
        state_shape = _spec.expected_state_shape(self.num_layers, self.bidirectional, B, H,
                                                 batched)
        _check_array(owner, "d_output", d_output)
        check_shape(owner, "d_output", d_output, out_shape, "the output's shape")
        dtypes = {"d_output": d_output.dtype.name}
        names = ("d_h_n", "d_c_n")[:self.NUM_STATES]
        for name, g in zip(names, d_finals, strict=True):
            if g is not None:
                _check_array(owner, name, g)
                check_shape(owner, name, g, state_shape, "the final state's shape")
                dtypes[name] = g.dtype.name
        dtypes["parameters"] = self.dtype.name
        _spec.check_same_dtype(owner, dtypes)
        d_output = d_output if batched else d_output[:, None, :]
        d_output = d_output.transpose(1, 0, 2) if (batched and self.batch_first) else d_output
        zeros = np.zeros((self.num_layers * num_dirs, B, H), dtype=self.dtype)
        d_finals = tuple(zeros if g is None else (g if batched else g[:, None, :])
                         for g in d_finals)
        return d_output, d_finals

    def _backward(self, d_output, d_finals):
        """Full BPTT. Returns ``dx`` (T, B, input_size) and the initial-state gradients."""
        T, B = self._cache["T"], self._cache["B"]
        H, num_dirs = self.hidden_size, self.num_directions
        grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        d_states0 = tuple(np.empty_like(g) for g in d_finals)
        d_layer_out = d_output                        # gradient reaching this layer's output
        for layer in range(self.num_layers - 1, -1, -1):
            layer_in_size = self.input_size if layer == 0 else num_dirs * H
            d_layer_in = np.zeros((T, B, layer_in_size), dtype=self.dtype)
            names = [_spec.layer_param_names(layer, d == 1, self.bias) for d in range(num_dirs)]
            mask = self._cache["mask"]
            for d in range(num_dirs):
                k = layer * num_dirs + d
                d_state = tuple(g[k] for g in d_finals)
                args = (d_layer_out[:, :, d * H:(d + 1) * H], d_state,
                        self._cache["caches"][layer][d], d == 1)
                dx, d_state, d_params = (self._layer_backward(*args) if mask is None
                                         else self._layer_backward_masked(*args, mask))
                d_layer_in += dx
                for name, g in zip(names[d], d_params, strict=True):
                    if name is not None:
                        grads[name] += g
                for g0, g in zip(d_states0, d_state, strict=True):
                    g0[k] = g
            if layer > 0 and self._cache["keeps"]:    # the dropout below this layer's input
                d_layer_in = d_layer_in * self._cache["keeps"][layer - 1]
            d_layer_out = d_layer_in
        self.grads = grads
        return d_layer_out, d_states0

    def _dx_to_caller_layout(self, dx, d_states0):
        if not self._cache["batched"]:
            return dx[:, 0, :], tuple(g[:, 0, :] for g in d_states0)
        if self.batch_first:
            dx = dx.transpose(1, 0, 2)
        return dx, d_states0


class SingleStateBase(RecurrentBase):
    """Public ``forward(x, hx=None, lengths=None)`` / ``backward(d_output, d_h_n=None)``."""

    def forward(self, x, hx=None, lengths=None, *, h0=_UNSET):
        """Run the stack over a sequence. Shapes exactly as ``torch.nn.RNN`` / ``torch.nn.GRU``.

        Args:
            x: ``(T, B, input_size)`` (``(B, T, input_size)`` if ``batch_first``), or unbatched
                ``(T, input_size)``; float dtype equal to the model's.
            hx: ``(num_layers * num_directions, B, H)`` (unbatched: ``(num_layers *
                num_directions, H)``), or None for zeros. (``h0=`` is its old name.)
            lengths: B ints in ``[1, T]``, any order, or None (every sequence has length T).
                Steps ``t >= lengths[b]`` leave sequence ``b``'s state unchanged and output
                zeros, so ``h_n`` holds each sequence's state after its last real step.
        Returns:
            output: ``(T, B, num_directions * H)`` (batch_first: ``(B, T, ·)``; unbatched:
                ``(T, ·)``), the last layer's states at every step.
            h_n: same layout as ``hx``, every layer's and direction's final state.
        """
        hx = renamed_h0(f"{type(self).__name__}.forward", hx, h0)
        x, states, batched, mask = self._check_forward(x, (hx,), lengths)
        output, (h_n,) = self._forward(x, states, batched, mask)
        return output, h_n

    def backward(self, d_output, d_h_n=None):
        """Backpropagate through time from the last :meth:`forward`; fills ``self.grads``.

        Args:
            d_output: gradient of the loss with respect to ``output`` (same shape).
            d_h_n: gradient with respect to ``h_n`` (same shape), or None for zeros.
        Returns:
            dx: gradient with respect to ``x`` (its shape; zero at padded steps); dhx: with
            respect to ``hx`` (its shape; the gradient at the zero state if ``hx`` was None).
        """
        d_output, d_finals = self._check_backward(d_output, (d_h_n,))
        dx, d_states0 = self._dx_to_caller_layout(*self._backward(d_output, d_finals))
        return dx, d_states0[0]
