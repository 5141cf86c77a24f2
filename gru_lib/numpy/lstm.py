"""Long short-term memory (Hochreiter & Schmidhuber, 1997, with the forget gate of Gers et al.,
2000), cell and layer, forward and hand-derived backward.

Chapter {ref}`ch-lstm`. Gate blocks are stacked in ``torch.nn.LSTM``'s order ``i | f | g | o``;
rows are batch elements, so the book's ``W x`` is written ``x @ W.T``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from gru_lib.numpy.base import RecurrentBase, check_step_args, check_upstream
from gru_lib.numpy.functional import sigmoid, tanh

__all__ = ["LSTM", "LSTMCache", "lstm_step", "lstm_step_backward"]


class LSTMCache(NamedTuple):
    """What :func:`lstm_step_backward` needs from :func:`lstm_step` (all arrays ``(B, ·)``)."""

    x: np.ndarray        # (B, D) input
    h: np.ndarray        # (B, H) previous hidden state
    c: np.ndarray        # (B, H) previous cell state
    i: np.ndarray        # (B, H) input gate
    f: np.ndarray        # (B, H) forget gate
    g: np.ndarray        # (B, H) candidate cell update
    o: np.ndarray        # (B, H) output gate
    tc: np.ndarray       # (B, H) tanh(c_next)
    W_ih: np.ndarray     # (4H, D)
    W_hh: np.ndarray     # (4H, H)
    has_b_ih: bool
    has_b_hh: bool


def lstm_step(x, h, c, W_ih, W_hh, b_ih=None, b_hh=None):
    r"""One LSTM step, exactly ``torch.nn.LSTM``'s cell.

    .. math::
        i &= \sigma(W_{ii} x + b_{ii} + W_{hi} h + b_{hi}), \quad
        f = \sigma(W_{if} x + b_{if} + W_{hf} h + b_{hf}), \\
        g &= \tanh(W_{ig} x + b_{ig} + W_{hg} h + b_{hg}), \quad
        o = \sigma(W_{io} x + b_{io} + W_{ho} h + b_{ho}), \\
        c' &= f \odot c + i \odot g, \qquad h' = o \odot \tanh(c').

    Args:
        x: ``(B, D)`` input :math:`x_t`.
        h: ``(B, H)`` previous hidden state. c: ``(B, H)`` previous cell state.
        W_ih: ``(4H, D)`` blocks ``i | f | g | o`` (torch's ``weight_ih_l0``).
        W_hh: ``(4H, H)`` same blocks (``weight_hh_l0``).
        b_ih, b_hh: ``(4H,)`` biases in the same block order, or None.

    Returns:
        h_next: ``(B, H)``; c_next: ``(B, H)``; cache: :class:`LSTMCache`.
    """
    check_step_args("lstm_step", 4, x, h, W_ih, W_hh, b_ih, b_hh, c=c)
    H = h.shape[1]
    a = x @ W_ih.T + h @ W_hh.T                      # (B, 4H), blocks i | f | g | o
    if b_ih is not None:
        a = a + b_ih
    if b_hh is not None:
        a = a + b_hh
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H:2 * H])
    g = tanh(a[:, 2 * H:3 * H])
    o = sigmoid(a[:, 3 * H:])
    c_next = f * c + i * g
    tc = tanh(c_next)
    h_next = o * tc
    return h_next, c_next, LSTMCache(x, h, c, i, f, g, o, tc, W_ih, W_hh, b_ih is not None,
                                     b_hh is not None)


def lstm_step_backward(dh_next, dc_next, cache: LSTMCache):
    r"""Backward of :func:`lstm_step`, the forward's lines differentiated in reverse order.

    :math:`\bar v` is the gradient of the loss :math:`L` with respect to a quantity :math:`v` of
    the step, through every path that passes through the step (the notation appendix): a total
    derivative for the outputs and the internal values, :math:`\bar h' = dL/dh'` and
    :math:`\bar c' = dL/dc'`; for the inputs :math:`x, h, c` and the weights, the share that
    flows through this step. The cell state's gradient arrives from two places: from the next
    step through the carousel (``dc_next``, :math:`\bar c'^{\,\text{next}}`) and through
    :math:`h' = o \odot \tanh(c')`:

    .. math::
        \bar o &= \bar h' \odot \tanh(c'), \qquad
        \bar c' = \bar c'^{\,\text{next}} + \bar h' \odot o \odot (1 - \tanh^2 c') \\
        \bar f &= \bar c' \odot c, \quad \bar c = \bar c' \odot f, \quad
        \bar i = \bar c' \odot g, \quad \bar g = \bar c' \odot i \\
        \bar a_o &= \bar o \odot o(1-o), \quad \bar a_g = \bar g \odot (1 - g^2), \quad
        \bar a_f = \bar f \odot f(1-f), \quad \bar a_i = \bar i \odot i(1-i)

    then, with :math:`\bar a = [\bar a_i | \bar a_f | \bar a_g | \bar a_o]`:
    :math:`\bar x = \bar a W_{ih}`, :math:`\bar h = \bar a W_{hh}`,
    :math:`\bar W_{ih} = \bar a^\top x`, :math:`\bar W_{hh} = \bar a^\top h`,
    :math:`\bar b = \sum_\text{batch} \bar a`. The path :math:`\bar c = \bar c' \odot f` has no
    matrix product and no squashing derivative: this is the LSTM's "constant error carousel".

    Args:
        dh_next: ``(B, H)`` gradient with respect to ``h_next``.
        dc_next: ``(B, H)`` gradient with respect to ``c_next`` arriving from later steps (zeros
            at the last step if the loss does not read ``c_n``).
        cache: the :class:`LSTMCache` returned by :func:`lstm_step`.

    Returns:
        ``(dx, dh, dc, dW_ih, dW_hh, db_ih, db_hh)`` with the shapes of ``x``, ``h``, ``c``,
        ``W_ih``, ``W_hh``, ``b_ih``, ``b_hh`` (None where the bias was None). Parameter gradients
        are summed over the batch.
    """
    check_upstream("lstm_step_backward", "dh_next", dh_next, cache.h)
    check_upstream("lstm_step_backward", "dc_next", dc_next, cache.c)
    i, f, g, o, tc = cache.i, cache.f, cache.g, cache.o, cache.tc
    # h_next = o * tanh(c_next)
    do = dh_next * tc
    dc_next = dc_next + dh_next * o * (1.0 - tc**2)
    # c_next = f * c + i * g
    dg = dc_next * i
    di = dc_next * g
    dc = dc_next * f
    df = dc_next * cache.c
    # i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of the four pre-activation blocks
    da = np.concatenate([di * i * (1.0 - i), df * f * (1.0 - f), dg * (1.0 - g**2),
                         do * o * (1.0 - o)], axis=1)
    # a = x W_ih^T + b_ih + h W_hh^T + b_hh
    db_hh = da.sum(axis=0) if cache.has_b_hh else None
    dW_hh = da.T @ cache.h
    dh = da @ cache.W_hh
    db_ih = da.sum(axis=0) if cache.has_b_ih else None
    dW_ih = da.T @ cache.x
    dx = da @ cache.W_ih
    return dx, dh, dc, dW_ih, dW_hh, db_ih, db_hh


def _pair(owner: str, name: str, value):
    """``None`` or a ``(h, c)`` pair, as ``torch.nn.LSTM`` takes its state."""
    if value is None:
        return None, None
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise TypeError(f"{owner}: expected {name} to be a tuple (h, c) of two arrays, "
                        f"got {type(value).__name__}"
                        + (f" of length {len(value)}" if isinstance(value, tuple | list) else ""))
    return tuple(value)


class LSTM(RecurrentBase):
    """Multi-layer LSTM, a NumPy twin of ``torch.nn.LSTM`` with a hand-written backward.

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
            proj_size: as ``torch.nn.LSTM``, in its positional order (``dropout`` between layers
            while ``training``; :meth:`eval` turns it off; ``proj_size`` must be 0).
        dtype: float64 (default) or float32.
        rng: ``np.random.Generator``, int seed, or None (seeded from NumPy's global generator, so
            :func:`gru_lib.seed_everything` makes it reproducible).

    Parameters live in ``.params`` under torch's ``state_dict`` names (gate blocks
    ``i | f | g | o``); ``forward(x, hx=None)`` returns ``(output, (h_n, c_n))``,
    ``backward(d_output, d_hx=None)`` returns ``(dx, (dh0, dc0))`` and fills ``.grads``.
    Each step is :func:`lstm_step` / :func:`lstm_step_backward`.
    """

    MODE = "LSTM"
    NUM_STATES = 2
    STATE_NAMES = ("h0", "c0")

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, *, dtype=np.float64, rng=None):
        if proj_size != 0:
            raise ValueError(f"LSTM: proj_size (torch.nn.LSTM's projection of h) is not "
                             f"implemented in gru_lib; only proj_size=0, got {proj_size!r}")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, dtype=dtype, rng=rng)

    def forward(self, x, hx=None, lengths=None):
        """Run the stack over a sequence. Shapes exactly as ``torch.nn.LSTM``.

        Args:
            x: ``(T, B, input_size)`` (``(B, T, input_size)`` if ``batch_first``), or unbatched
                ``(T, input_size)``; float dtype equal to the model's.
            hx: ``(h0, c0)``, each ``(num_layers * num_directions, B, H)`` (unbatched:
                ``(num_layers * num_directions, H)``), or None for zeros.
            lengths: B ints in ``[1, T]``, any order, or None; as :meth:`GRU.forward`.
        Returns:
            output: ``(T, B, num_directions * H)`` (batch_first: ``(B, T, ·)``; unbatched:
                ``(T, ·)``), the last layer's hidden states at every step.
            (h_n, c_n): final hidden and cell states, same layout as ``h0``.
        """
        states = _pair("LSTM", "hx", hx)
        x, states, batched, mask = self._check_forward(x, states, lengths)
        output, (h_n, c_n) = self._forward(x, states, batched, mask)
        return output, (h_n, c_n)

    def backward(self, d_output, d_hx=None):
        """Backpropagate through time from the last :meth:`forward`; fills ``self.grads``.

        Args:
            d_output: gradient of the loss with respect to ``output`` (same shape).
            d_hx: ``(d_h_n, d_c_n)`` gradients with respect to the final states, either may be
                None (zeros), or None for both.
        Returns:
            dx: gradient with respect to ``x``; (dh0, dc0): with respect to ``h0`` and ``c0``.
        """
        d_finals = _pair("LSTM.backward", "d_hx", d_hx)
        d_output, d_finals = self._check_backward(d_output, d_finals)
        dx, (dh0, dc0) = self._dx_to_caller_layout(*self._backward(d_output, d_finals))
        return dx, (dh0, dc0)

    def _step(self, x, state, weights):
        h_next, c_next, cache = lstm_step(x, state[0], state[1], *weights)
        return (h_next, c_next), cache

    def _step_backward(self, d_state_next, cache):
        dx, dh, dc, *d_params = lstm_step_backward(d_state_next[0], d_state_next[1], cache)
        return dx, (dh, dc), d_params
