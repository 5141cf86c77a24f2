"""The simple (Elman) recurrent cell and layer, forward and hand-derived backward.

Chapter {ref}`ch-simple-rnn` introduces the cell, chapter {ref}`ch-bptt` derives its backward.
Rows are batch elements, so the book's column-vector ``W_ih x + W_hh h`` is written
``x @ W_ih.T + h @ W_hh.T`` here; the weights keep ``torch.nn.RNN``'s names and shapes.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from gru_lib.numpy.base import SingleStateBase, check_step_args, check_upstream
from gru_lib.numpy.functional import relu, tanh

__all__ = ["RNN", "RNNCache", "rnn_step", "rnn_step_backward"]


class RNNCache(NamedTuple):
    """What :func:`rnn_step_backward` needs from :func:`rnn_step`."""

    x: np.ndarray        # (B, D) input
    h: np.ndarray        # (B, H) previous state
    h_next: np.ndarray   # (B, H) new state: f'(a) is read from it, not from a
    W_ih: np.ndarray     # (H, D)
    W_hh: np.ndarray     # (H, H)
    has_b_ih: bool
    has_b_hh: bool
    nonlinearity: str    # "tanh" or "relu"


def rnn_step(x, h, W_ih, W_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    r"""One step of the simple recurrent cell.

    .. math::
        a_t = W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}, \qquad h_t = f(a_t),

    with :math:`f = \tanh` (default) or :math:`\mathrm{relu}`, exactly ``torch.nn.RNN``'s cell.

    Args:
        x: ``(B, D)`` input :math:`x_t`, one row per sequence in the batch.
        h: ``(B, H)`` previous state :math:`h_{t-1}`.
        W_ih: ``(H, D)`` input weights. W_hh: ``(H, H)`` recurrent weights.
        b_ih, b_hh: ``(H,)`` biases, or None. (Two biases, as in torch: only their sum matters.)
        nonlinearity: ``"tanh"`` or ``"relu"``.

    Returns:
        h_next: ``(B, H)`` new state :math:`h_t`.
        cache: :class:`RNNCache` for :func:`rnn_step_backward`.
    """
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn_step: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    check_step_args("rnn_step", 1, x, h, W_ih, W_hh, b_ih, b_hh)
    a = x @ W_ih.T + h @ W_hh.T
    if b_ih is not None:
        a = a + b_ih
    if b_hh is not None:
        a = a + b_hh
    h_next = tanh(a) if nonlinearity == "tanh" else relu(a)
    return h_next, RNNCache(x, h, h_next, W_ih, W_hh, b_ih is not None, b_hh is not None,
                            nonlinearity)


def rnn_step_backward(dh_next, cache: RNNCache):
    r"""Backward of :func:`rnn_step`: the forward's two lines, differentiated in reverse order.

    :math:`\bar v` is the gradient of the loss :math:`L` with respect to a quantity :math:`v` of
    the step, through every path that passes through the step (the notation appendix): a total
    derivative for the output and the pre-activation, :math:`\bar h_t = dL/dh_t = \delta_t` and
    :math:`\bar a_t = dL/da_t`; for the inputs and the weights, the share that flows through
    this step (the layer adds the output's gradient at :math:`t-1` to :math:`\bar h_{t-1}` and
    sums the weights' shares over the steps). Rows per batch element:

    .. math::
        \bar a_t &= \bar h_t \odot f'(a_t), \qquad
        f'(a_t) = 1 - h_t^2 \ (\tanh) \quad \text{or} \quad [h_t > 0] \ (\mathrm{relu}) \\
        \bar h_{t-1} &= \bar a_t W_{hh}, \quad \bar W_{hh} = \bar a_t^\top h_{t-1}, \quad
        \bar b_{hh} = \textstyle\sum_\text{batch} \bar a_t \\
        \bar x_t &= \bar a_t W_{ih}, \quad \bar W_{ih} = \bar a_t^\top x_t, \quad
        \bar b_{ih} = \textstyle\sum_\text{batch} \bar a_t

    Args:
        dh_next: ``(B, H)`` gradient of the loss with respect to ``h_next``.
        cache: the :class:`RNNCache` returned by :func:`rnn_step`.

    Returns:
        ``(dx, dh, dW_ih, dW_hh, db_ih, db_hh)`` with the shapes of ``x``, ``h``, ``W_ih``,
        ``W_hh``, ``b_ih``, ``b_hh``; ``db_ih``/``db_hh`` are None where the bias was None.
        Weight gradients are summed over the batch, as for a loss that sums over it.
    """
    check_upstream("rnn_step_backward", "dh_next", dh_next, cache.h_next)
    # h_next = f(a): the derivative is written through the output, which the cache holds.
    if cache.nonlinearity == "tanh":
        da = dh_next * (1.0 - cache.h_next**2)
    else:
        da = dh_next * (cache.h_next > 0)
    # a = x W_ih^T + b_ih + h W_hh^T + b_hh: each term receives da.
    db_hh = da.sum(axis=0) if cache.has_b_hh else None
    dW_hh = da.T @ cache.h
    dh = da @ cache.W_hh
    db_ih = da.sum(axis=0) if cache.has_b_ih else None
    dW_ih = da.T @ cache.x
    dx = da @ cache.W_ih
    return dx, dh, dW_ih, dW_hh, db_ih, db_hh


class RNN(SingleStateBase):
    """Multi-layer Elman RNN, a NumPy twin of ``torch.nn.RNN`` with a hand-written backward.

    Args:
        input_size, hidden_size, num_layers, nonlinearity, bias, batch_first, dropout,
            bidirectional: as ``torch.nn.RNN``, in its positional order (``dropout`` between
            layers while ``training``; :meth:`eval` turns it off; masks drawn from ``rng``).
        dtype: float64 (default) or float32.
        rng: ``np.random.Generator``, int seed, or None (seeded from NumPy's global generator, so
            :func:`gru_lib.seed_everything` makes it reproducible).

    Parameters live in ``.params`` under torch's ``state_dict`` names; ``forward(x, hx=None,
    lengths=None)`` returns ``(output, h_n)``, ``backward(d_output, d_h_n=None)`` returns
    ``(dx, dhx)`` and fills ``.grads``. Each step is :func:`rnn_step` / :func:`rnn_step_backward`.
    """

    MODE = "RNN"

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, *, dtype=np.float64,
                 rng=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, dtype=dtype, rng=rng)

    def _extra_repr(self) -> dict:
        extra = super()._extra_repr()
        return {"nonlinearity": self.nonlinearity, **extra} if self.nonlinearity != "tanh" \
            else extra

    def _step(self, x, state, weights):
        h_next, cache = rnn_step(x, state[0], *weights, nonlinearity=self.nonlinearity)
        return (h_next,), cache

    def _step_backward(self, d_state_next, cache):
        dx, dh, *d_params = rnn_step_backward(d_state_next[0], cache)
        return dx, (dh,), d_params
