"""Long short-term memory in PyTorch: step function and layer.

Hochreiter & Schmidhuber (1997) with the forget gate of Gers et al. (2000), as ``torch.nn.LSTM``
computes it. Chapter {ref}`ch-lstm`, equations ``eq-ch06-gates`` to ``eq-ch06-hidden``; the NumPy
twin with its hand-derived backward is :mod:`gru_lib.numpy.lstm`. Gate blocks are stacked in
torch's order ``i | f | g | o``; rows are batch elements, so the book's ``W x`` is ``x @ W.T``.
"""

from __future__ import annotations

import torch.nn.functional as F

from gru_lib.torch.base import RecurrentBase, check_step_args
from gru_lib.torch.functional import sigmoid, tanh

__all__ = ["LSTM", "lstm_step", "lstm_step_projected"]


def lstm_step_projected(gi, h, c, W_hh, b_hh=None):
    r"""The recurrent half of :func:`lstm_step`, given the input projection ``gi``.

    ``gi`` ``(B, 4H)`` is :math:`x W_{ih}^\top + b_{ih}` (blocks ``i | f | g | o``). The layers
    compute it for all time steps in one product and call this inside the time loop; no input
    checks (the callers have done them). Returns ``(h_next, c_next)``.
    """
    H = h.shape[-1]
    a = gi + F.linear(h, W_hh, b_hh)                  # (B, 4H) all four pre-activations
    i = sigmoid(a[..., :H])
    f = sigmoid(a[..., H:2 * H])
    g = tanh(a[..., 2 * H:3 * H])
    o = sigmoid(a[..., 3 * H:])
    c_next = f * c + i * g
    return o * tanh(c_next), c_next


def lstm_step(x, h, c, W_ih, W_hh, b_ih=None, b_hh=None):
    r"""One LSTM step, exactly ``torch.nn.LSTM``'s cell (eqs. ``eq-ch06-gates``–``eq-ch06-hidden``).

    .. math::
        [a_i | a_f | a_g | a_o] &= x W_{ih}^\top + b_{ih} + h W_{hh}^\top + b_{hh} \\
        i = \sigma(a_i),\ f &= \sigma(a_f),\ g = \tanh(a_g),\ o = \sigma(a_o) \\
        c' &= f \odot c + i \odot g \\
        h' &= o \odot \tanh(c')

    Args:
        x: ``(B, D)`` input :math:`x_t`.
        h: ``(B, H)`` previous hidden state :math:`h_{t-1}`.
        c: ``(B, H)`` previous cell state :math:`c_{t-1}`.
        W_ih: ``(4H, D)`` blocks :math:`W_{ii} | W_{if} | W_{ig} | W_{io}` (``weight_ih_l0``).
        W_hh: ``(4H, H)`` the recurrent blocks in the same order (``weight_hh_l0``).
        b_ih, b_hh: ``(4H,)`` biases in the same block order, or None.

    Returns:
        ``(h_next, c_next)``, both ``(B, H)``, same dtype and device as ``x``; no cache (the
        NumPy twin returns ``(h_next, c_next, cache)``), autograd keeps what the backward needs.

    All tensors must share one real floating dtype and one device; shapes must match exactly.
    Gradients come from autograd (compare :func:`gru_lib.numpy.lstm_step_backward`).
    """
    check_step_args("lstm_step", 4, x, h, W_ih, W_hh, b_ih, b_hh, c=c)
    return lstm_step_projected(F.linear(x, W_ih, b_ih), h, c, W_hh, b_hh)


class LSTM(RecurrentBase):
    r"""Multi-layer LSTM built from torch ops, a drop-in twin of ``torch.nn.LSTM``.

    Each layer applies :func:`lstm_step` at every time step, with :math:`x_t` the input for the
    first layer and the previous layer's output :math:`h_t` (both directions concatenated) above
    it. The input projection :math:`x_t W_{ih}^\top + b_{ih}` is computed for all steps in one
    matrix product before the time loop. (``torch.nn.LSTM``'s ``proj_size`` is not offered.)

    Args:
        input_size: features :math:`D` of the input.
        hidden_size: features :math:`H` of the states.
        num_layers: stacked layers (default 1).
        bias: if False, no ``b_ih``/``b_hh`` (default True).
        batch_first: input and output are ``(B, T, ·)`` instead of ``(T, B, ·)``; the states stay
            ``(num_layers*num_directions, B, H)`` as in ``torch.nn``.
        dropout: probability of zeroing each output element of every layer but the last, in
            training mode only (default 0), drawn as ``torch.nn`` does.
        bidirectional: add a ``_reverse`` direction per layer reading the sequence backwards.
        proj_size: must be 0 (a ``ValueError`` otherwise).
        device, dtype: where and in which floating dtype the parameters are created.

    Inputs: ``input, hx, lengths``
        * ``input``: ``(T, B, D)``, ``(B, T, D)`` if ``batch_first``, unbatched ``(T, D)``, or a
          ``torch.nn.utils.rnn.PackedSequence`` (then ``output`` is one too, as in ``torch.nn``).
        * ``lengths`` (not in ``torch.nn``; the NumPy half's argument): B ints in ``[1, T]``, or
          None. Steps ``t >= lengths[b]`` keep sequence ``b``'s state and output zeros, so the
          results equal ``torch.nn`` on the packed sequences.
        * ``hx``: a tuple ``(h0, c0)`` of initial states, each
          ``(num_layers*num_directions, B, H)`` (``(…, H)`` unbatched), or None for zeros.

    Outputs: ``output, (h_n, c_n)``
        * ``output``: ``(T, B, num_directions*H)`` (batch-first / unbatched like the input), the
          top layer's :math:`h_t` for every ``t``.
        * ``h_n``, ``c_n``: ``(num_layers*num_directions, B, H)``, every layer's final states.

    Parameters: ``weight_ih_l{k}`` ``(4H, D_k)``, ``weight_hh_l{k}`` ``(4H, H)``,
    ``bias_ih_l{k}``, ``bias_hh_l{k}`` ``(4H,)`` (blocks ``i | f | g | o``), plus ``…_reverse``;
    ``D_0 = D`` and ``D_k = num_directions*H``.
    """

    MODE = "LSTM"

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        if proj_size != 0:
            raise ValueError(f"LSTM: proj_size (torch.nn.LSTM's projection of h) is not "
                             f"implemented in gru_lib; only proj_size=0, got {proj_size!r}")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device, dtype)

    def _cell(self, gi, state, W_hh, b_hh):
        return lstm_step_projected(gi, state[0], state[1], W_hh, b_hh)

    def forward(self, input, hx=None, lengths=None):  # noqa: A002 - torch.nn's argument name
        if hx is None:
            h0 = c0 = None
        elif isinstance(hx, (tuple, list)) and len(hx) == 2:
            h0, c0 = hx
        else:
            raise TypeError(f"LSTM: expected hx as a tuple (h0, c0) or None, "
                            f"got {type(hx).__name__}")
        output, (h_n, c_n) = self._forward_layers(input, {"h0": h0, "c0": c0}, lengths)
        return output, (h_n, c_n)
