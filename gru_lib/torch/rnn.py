"""The simple (Elman, 1990) recurrent network in PyTorch: step function and layer.

Chapter {ref}`ch-simple-rnn`, equation ``eq-ch02-rnn``; the NumPy twin with its hand-derived
backward is :mod:`gru_lib.numpy.rnn`. Here autograd supplies the gradients. Rows are batch
elements, so the book's :math:`W x` is written ``x @ W.T`` (``F.linear(x, W, b)``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gru_lib.torch.base import RecurrentBase, check_step_args
from gru_lib.torch.functional import relu, tanh

__all__ = ["RNN", "rnn_step", "rnn_step_projected"]

_ACTIVATIONS = {"tanh": tanh, "relu": relu}


def _check_nonlinearity(owner: str, nonlinearity) -> None:
    if nonlinearity not in _ACTIVATIONS:
        raise ValueError(f"{owner}: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")


def rnn_step_projected(gi, h, W_hh, b_hh=None, nonlinearity="tanh"):
    r"""The recurrent half of :func:`rnn_step`, given the input projection ``gi``.

    :math:`h' = \phi(x W_{ih}^\top + b_{ih} + h W_{hh}^\top + b_{hh})`, with the input part
    :math:`x W_{ih}^\top + b_{ih}` given as ``gi`` ``(B, H)``. The layers compute ``gi`` for all
    time steps in one product and call this inside the time loop; no input checks (the callers
    have done them).
    """
    return _ACTIVATIONS[nonlinearity](gi + F.linear(h, W_hh, b_hh))


def rnn_step(x, h, W_ih, W_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    r"""One step of the simple RNN, exactly ``torch.nn.RNN``'s cell (eq. ``eq-ch02-rnn``).

    .. math::
        h' = \phi(x W_{ih}^\top + b_{ih} + h W_{hh}^\top + b_{hh}),
        \qquad \phi \in \{\tanh, \mathrm{relu}\}

    Args:
        x: ``(B, D)`` input :math:`x_t`.
        h: ``(B, H)`` previous state :math:`h_{t-1}`.
        W_ih: ``(H, D)`` input weights (``torch.nn.RNN``'s ``weight_ih_l0``).
        W_hh: ``(H, H)`` recurrent weights (``weight_hh_l0``).
        b_ih, b_hh: ``(H,)`` biases or None. Two biases are redundant (only their sum matters)
            but ``torch.nn`` keeps both, so the parameters load one to one.
        nonlinearity: ``'tanh'`` (default) or ``'relu'``.

    Returns:
        h_next: ``(B, H)`` new state :math:`h_t`, same dtype and device as ``x``. Only the
        state (the NumPy twin returns ``(h_next, cache)``): write ``h = rnn_step(...)``, not
        ``h, _ = rnn_step(...)``, which would unpack the rows of ``h_next`` when B = 2.

    All tensors must share one real floating dtype and one device; shapes must match exactly.
    Gradients come from autograd (compare :func:`gru_lib.numpy.rnn_step_backward`).
    """
    check_step_args("rnn_step", 1, x, h, W_ih, W_hh, b_ih, b_hh)
    _check_nonlinearity("rnn_step", nonlinearity)
    return rnn_step_projected(F.linear(x, W_ih, b_ih), h, W_hh, b_hh, nonlinearity)


class RNN(RecurrentBase):
    r"""Multi-layer simple RNN built from torch ops, a drop-in twin of ``torch.nn.RNN``.

    Each layer applies, for every step :math:`t` (eq. ``eq-ch02-rnn``),

    .. math::
        h_t = \phi(x_t W_{ih}^\top + b_{ih} + h_{t-1} W_{hh}^\top + b_{hh})

    where :math:`x_t` is the input for the first layer and the previous layer's output
    (both directions concatenated) above it.

    Args:
        input_size: features :math:`D` of the input.
        hidden_size: features :math:`H` of the state.
        num_layers: stacked layers (default 1).
        nonlinearity: ``'tanh'`` (default) or ``'relu'``.
        bias: if False, no ``b_ih``/``b_hh`` (default True).
        batch_first: input and output are ``(B, T, ·)`` instead of ``(T, B, ·)``; the states
            stay ``(num_layers*num_directions, B, H)`` as in ``torch.nn``.
        dropout: probability of zeroing each output element of every layer but the last, in
            training mode only (default 0), drawn as ``torch.nn`` does.
        bidirectional: add a ``_reverse`` direction per layer reading the sequence backwards.
        device, dtype: where and in which floating dtype the parameters are created.

    Inputs: ``input, hx, lengths``
        * ``input``: ``(T, B, D)``, ``(B, T, D)`` if ``batch_first``, unbatched ``(T, D)``, or a
          ``torch.nn.utils.rnn.PackedSequence`` (then ``output`` is one too, as in ``torch.nn``).
        * ``lengths`` (not in ``torch.nn``; the NumPy half's argument): B ints in ``[1, T]``, or
          None. Steps ``t >= lengths[b]`` keep sequence ``b``'s state and output zeros, so the
          results equal ``torch.nn`` on the packed sequences.
        * ``hx``: initial states ``(num_layers*num_directions, B, H)`` (``(…, H)`` unbatched);
          None means zeros.

    Outputs: ``output, h_n``
        * ``output``: ``(T, B, num_directions*H)`` (batch-first / unbatched like the input), the
          top layer's :math:`h_t` for every ``t``.
        * ``h_n``: ``(num_layers*num_directions, B, H)``, every layer's final state (for the
          reverse direction: its state after reading ``x_1``).

    Parameters: ``weight_ih_l{k}`` ``(H, D_k)``, ``weight_hh_l{k}`` ``(H, H)``, ``bias_ih_l{k}``,
    ``bias_hh_l{k}`` ``(H,)``, plus ``…_reverse``; ``D_0 = D`` and ``D_k = num_directions*H``.
    """

    MODE = "RNN"

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None):
        _check_nonlinearity("RNN", nonlinearity)
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device, dtype)

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s if self.nonlinearity == "tanh" else s + f", nonlinearity={self.nonlinearity!r}"

    def _cell(self, gi, state, W_hh, b_hh):
        return (rnn_step_projected(gi, state[0], W_hh, b_hh, self.nonlinearity),)

    def forward(self, input, hx: torch.Tensor | None = None, lengths=None):  # noqa: A002
        output, (h_n,) = self._forward_layers(input, {"hx": hx}, lengths)
        return output, h_n
