"""FastGRU in NumPy: the restructured GRU layer of chapter {ref}`ch-cost`.

The reference :func:`gru_lib.numpy.gru.gru_step` / ``gru_step_backward`` pair is written to be
read one step at a time. This module computes the same numbers (PyTorch's convention,
``reset_after=True``) restructured for speed, mirroring :mod:`gru_lib.torch.fast_gru`:

* the input projection of all T steps is one ``(T·B, D) × (D, 3H)`` product;
* the backward loop over time carries only the total state gradient ``δ_t`` and one
  ``(B, 3H) × (3H, H)`` product per step; every coefficient that does not depend on ``δ_t`` is
  computed for all steps at once before the loop;
* ``dW_ih``, ``dW_hh`` and ``dx`` are single products over all ``T·B`` rows after the loop.

The tests check it against ``torch.nn.GRU`` and against the step-by-step reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gru_lib.numpy.functional import sigmoid
from gru_lib.numpy.gru import GRU

__all__ = ["FastGRU", "GRULayerCache", "gru_layer_backward", "gru_layer_forward"]



@dataclass
class GRULayerCache:
    """What :func:`gru_layer_backward` needs: inputs, all states and the gates of every step."""

    x: np.ndarray      # (T, B, D)
    hs: np.ndarray     # (T+1, B, H), hs[0] = h0
    r: np.ndarray      # (T, B, H)
    z: np.ndarray
    n: np.ndarray
    ghn: np.ndarray    # W_hn h_{t-1} + b_hn
    W_ih: np.ndarray
    W_hh: np.ndarray
    has_bias: bool


def gru_layer_forward(x, h0, W_ih, W_hh, b_ih=None, b_hh=None):
    """All states of one GRU layer: ``x`` (T, B, D), ``h0`` (B, H) → ``(hs (T, B, H), cache)``."""
    T, B, D = x.shape
    H = h0.shape[-1]
    gi = (x.reshape(T * B, D) @ W_ih.T).reshape(T, B, 3 * H)   # one product for all steps
    if b_ih is not None:
        gi += b_ih
    hs = np.empty((T + 1, B, H), dtype=x.dtype)
    r, z, n, ghn = (np.empty((T, B, H), dtype=x.dtype) for _ in range(4))
    hs[0] = h0
    for t in range(T):
        gh = hs[t] @ W_hh.T                                     # the only product in the loop
        if b_hh is not None:
            gh += b_hh
        rz = sigmoid(gi[t, :, :2 * H] + gh[:, :2 * H])
        r[t], z[t], ghn[t] = rz[:, :H], rz[:, H:], gh[:, 2 * H:]
        n[t] = np.tanh(gi[t, :, 2 * H:] + r[t] * ghn[t])
        hs[t + 1] = n[t] + z[t] * (hs[t] - n[t])                # (1 − z) n + z h
    return hs[1:], GRULayerCache(x, hs, r, z, n, ghn, W_ih, W_hh, b_ih is not None)


def gru_layer_backward(d_out, cache: GRULayerCache):
    """Backward of :func:`gru_layer_forward` for upstream ``d_out`` (T, B, H).

    Returns ``(dx, dh0, dW_ih, dW_hh, db_ih, db_hh)`` (biases' gradients None without bias).
    The gradient of the final state, if any, is added by the caller to ``d_out[-1]``.
    """
    c = cache
    T, B, H = c.n.shape
    a = (1 - c.z) * (1 - c.n * c.n)
    # d(h W_hh^T + b_hh) at step t is δ_t times these three blocks (see the torch twin).
    coef = np.concatenate([a * c.ghn * c.r * (1 - c.r), (c.hs[:-1] - c.n) * c.z * (1 - c.z),
                           a * c.r], axis=-1).reshape(T, B, 3, H)
    d_gh = np.empty((T, B, 3, H), dtype=d_out.dtype)
    delta = np.empty((T, B, H), dtype=d_out.dtype)
    dh = np.zeros((B, H), dtype=d_out.dtype)
    for t in range(T - 1, -1, -1):
        dh = dh + d_out[t]                                     # δ_t
        delta[t] = dh
        np.multiply(dh[:, None, :], coef[t], out=d_gh[t])
        dh = dh * c.z[t] + d_gh[t].reshape(B, 3 * H) @ c.W_hh  # direct path + through W_hh
    d_gh = d_gh.reshape(T * B, 3 * H)
    d_gi = np.concatenate([d_gh[:, :2 * H], (delta * a).reshape(T * B, H)], axis=-1)
    dW_ih = d_gi.T @ c.x.reshape(T * B, -1)
    dW_hh = d_gh.T @ c.hs[:-1].reshape(T * B, H)
    db_ih = d_gi.sum(axis=0) if c.has_bias else None
    db_hh = d_gh.sum(axis=0) if c.has_bias else None
    dx = (d_gi @ c.W_ih).reshape(T, B, -1)
    return dx, dh, dW_ih, dW_hh, db_ih, db_hh


class FastGRU(GRU):
    """:class:`gru_lib.numpy.GRU` with each layer and direction run by the restructured kernel.

    Same constructor, ``params``/``grads``/``state_dict`` and ``forward``/``backward`` contract
    as :class:`gru_lib.numpy.GRU`. Only PyTorch's convention (``reset_after=True``) is supported.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 bidirectional=False, reset_after=True, *, dtype=np.float64, rng=None):
        if reset_after is not True:
            raise ValueError("FastGRU: only reset_after=True (PyTorch's convention) has a "
                             f"restructured kernel, got reset_after={reset_after!r}; use "
                             "gru_lib.numpy.GRU(reset_after=False) for Cho et al. (2014)")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first,
                         bidirectional=bidirectional, reset_after=True, dtype=dtype, rng=rng)

    def _layer_forward(self, x, state, weights, reverse):
        if reverse:                      # the reverse direction reads the sequence backwards
            x = x[::-1]
        hs, cache = gru_layer_forward(x, state[0], *weights)
        final = hs[-1]
        return (hs[::-1] if reverse else hs), (final,), cache

    def _layer_backward(self, d_hs, d_state, cache, reverse):
        d_out = (d_hs[::-1] if reverse else d_hs).copy()
        d_out[-1] += d_state[0]          # the final state is the last output of this direction
        dx, dh0, *d_params = gru_layer_backward(d_out, cache)
        return (dx[::-1] if reverse else dx), (dh0,), tuple(d_params)
