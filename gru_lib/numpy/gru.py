"""The gated recurrent unit (Cho et al., 2014), cell and layer, forward and hand-derived backward.

Chapter {ref}`ch-gru`. Two placements of the reset gate exist and both are here:

- ``reset_after=True`` (``torch.nn.GRU``, cuDNN, Keras' default): ``r`` multiplies the recurrent
  pre-activation, ``n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))``;
- ``reset_after=False`` (Cho et al. 2014, Keras ``reset_after=False``): ``r`` multiplies the state
  before the product, ``n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)``.

Both use ``h' = (1 − z) ⊙ n + z ⊙ h`` (torch's convention: ``z`` keeps the old state; the paper
writes ``z`` on ``h`` too, some later papers swap ``z`` and ``1 − z``). Weights are stacked in
torch's gate order ``r | z | n``; rows are batch elements, so ``W x`` is written ``x @ W.T``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from gru_lib.numpy.base import SingleStateBase, check_step_args, check_upstream
from gru_lib.numpy.functional import sigmoid, tanh

__all__ = ["GRU", "GRUCache", "gru_step", "gru_step_backward"]


class GRUCache(NamedTuple):
    """What :func:`gru_step_backward` needs from :func:`gru_step` (all arrays ``(B, ·)``)."""

    x: np.ndarray        # (B, D) input
    h: np.ndarray        # (B, H) previous state
    r: np.ndarray        # (B, H) reset gate
    z: np.ndarray        # (B, H) update gate
    n: np.ndarray        # (B, H) candidate state
    hn: np.ndarray       # (B, H) W_hn h + b_hn (reset_after) or W_hn (r ⊙ h) + b_hn (not)
    W_ih: np.ndarray     # (3H, D)
    W_hh: np.ndarray     # (3H, H)
    has_b_ih: bool
    has_b_hh: bool
    reset_after: bool


def _split3(a):
    """Split the last axis into the three gate blocks r | z | n."""
    H = a.shape[-1] // 3
    return a[..., :H], a[..., H:2 * H], a[..., 2 * H:]


def gru_step(x, h, W_ih, W_hh, b_ih=None, b_hh=None, reset_after=True):
    r"""One GRU step.

    .. math::
        r &= \sigma(W_{ir} x + b_{ir} + W_{hr} h + b_{hr}) \\
        z &= \sigma(W_{iz} x + b_{iz} + W_{hz} h + b_{hz}) \\
        n &= \tanh(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn}))
             \quad\text{(reset\_after=True, torch)} \\
        n &= \tanh(W_{in} x + b_{in} + W_{hn} (r \odot h) + b_{hn})
             \quad\text{(reset\_after=False, Cho et al. 2014)} \\
        h' &= (1 - z) \odot n + z \odot h

    Args:
        x: ``(B, D)`` input :math:`x_t`.
        h: ``(B, H)`` previous state :math:`h_{t-1}`.
        W_ih: ``(3H, D)`` blocks :math:`W_{ir} | W_{iz} | W_{in}` (torch's ``weight_ih_l0``).
        W_hh: ``(3H, H)`` blocks :math:`W_{hr} | W_{hz} | W_{hn}` (``weight_hh_l0``).
        b_ih, b_hh: ``(3H,)`` biases in the same block order, or None.
        reset_after: where the reset gate acts (see above). With ``reset_after=True``,
            ``b_hn`` is scaled by ``r`` and ``b_in`` is not, so both biases matter; with
            ``reset_after=False`` they simply add and only their sum matters (Keras keeps one
            bias there). Both are kept in either case, for ``torch.nn``'s parameter layout.

    Returns:
        h_next: ``(B, H)`` new state :math:`h_t`.
        cache: :class:`GRUCache` for :func:`gru_step_backward`.
    """
    check_step_args("gru_step", 3, x, h, W_ih, W_hh, b_ih, b_hh)
    H = h.shape[1]
    W_hrz, W_hn = W_hh[:2 * H], W_hh[2 * H:]
    gi = x @ W_ih.T                                  # (B, 3H): the input's share of every gate
    if b_ih is not None:
        gi = gi + b_ih
    i_r, i_z, i_n = _split3(gi)
    gh_rz = h @ W_hrz.T                              # (B, 2H): the state's share of r and z
    if b_hh is not None:
        gh_rz = gh_rz + b_hh[:2 * H]
    h_r, h_z = gh_rz[:, :H], gh_rz[:, H:]
    r = sigmoid(i_r + h_r)
    z = sigmoid(i_z + h_z)
    hn = (h if reset_after else r * h) @ W_hn.T      # the placement of r is the only difference
    if b_hh is not None:
        hn = hn + b_hh[2 * H:]
    n = tanh(i_n + r * hn) if reset_after else tanh(i_n + hn)
    h_next = (1.0 - z) * n + z * h
    return h_next, GRUCache(x, h, r, z, n, hn, W_ih, W_hh, b_ih is not None, b_hh is not None,
                            reset_after)


def gru_step_backward(dh_next, cache: GRUCache):
    r"""Backward of :func:`gru_step`, the forward's lines differentiated in reverse order.

    With :math:`\delta = dL/dh'` (the total derivative :math:`\delta_t`, through every path),
    :math:`a_r, a_z, a_n` the pre-activations of :math:`r, z, n`, and :math:`\bar v` the
    gradient of the loss with respect to a quantity :math:`v` of the step through every path
    that passes through the step (total for its internal values; for its inputs ``x``, ``h`` and
    the weights, the share that flows through this step; the notation appendix). All products
    are element-wise except in the two affine maps at the end. With :math:`g = W_{hn} h +
    b_{hn}` the recurrent part of the candidate (reset-after; as in chapter 7's derivation) or
    :math:`s = r \odot h` the reset state it multiplies (reset-before):

    .. math::
        \bar n &= \delta \odot (1 - z), \quad \bar z = \delta \odot (h - n), \quad
        \bar h = \delta \odot z \quad\text{(from } h' = (1-z) n + z h) \\
        \bar a_n &= \bar n \odot (1 - n^2) \\
        \text{reset\_after:}\ \ \bar r &= \bar a_n \odot g, \quad \bar g = \bar a_n \odot r \\
        \text{not:}\ \ \bar s &= \bar a_n W_{hn}, \quad
        \bar r = \bar s \odot h, \quad \bar h \mathrel{+}= \bar s \odot r \\
        \bar a_z &= \bar z \odot z (1 - z), \quad \bar a_r = \bar r \odot r (1 - r)

    and finally the two affine maps, with the pre-activation gradients stacked in the weights'
    block order, :math:`\bar A_i = [\bar a_r | \bar a_z | \bar a_n]` for the input product and
    :math:`\bar A_h = [\bar a_r | \bar a_z | \bar g]` for the recurrent one (reset-before: the
    :math:`n` block of ``W_hh`` acts on :math:`s`, and its gradient is :math:`\bar a_n^\top s`):
    :math:`\bar x = \bar A_i W_{ih}`, :math:`\bar h \mathrel{+}= \bar A_h W_{hh}`,
    :math:`\bar W_{ih} = \bar A_i^\top x`, :math:`\bar W_{hh} = \bar A_h^\top h`, bias gradients
    summed over the batch (one row per batch element throughout).

    Args:
        dh_next: ``(B, H)`` gradient of the loss with respect to ``h_next``.
        cache: the :class:`GRUCache` returned by :func:`gru_step`.

    Returns:
        ``(dx, dh, dW_ih, dW_hh, db_ih, db_hh)`` with the shapes of ``x`` ``(B, D)``, ``h``
        ``(B, H)``, ``W_ih`` ``(3H, D)``, ``W_hh`` ``(3H, H)``, ``b_ih``/``b_hh`` ``(3H,)``
        (None where the bias was None). Parameter gradients are summed over the batch.
    """
    check_upstream("gru_step_backward", "dh_next", dh_next, cache.h)
    x, h, r, z, n, hn = cache.x, cache.h, cache.r, cache.z, cache.n, cache.hn
    H = h.shape[1]
    W_hrz, W_hn = cache.W_hh[:2 * H], cache.W_hh[2 * H:]
    # h_next = (1 - z) * n + z * h
    dn = dh_next * (1.0 - z)
    dz = dh_next * (h - n)
    dh = dh_next * z
    # n = tanh(a_n)
    da_n = dn * (1.0 - n**2)
    # a_n = i_n + r * hn (reset_after) or i_n + hn, with hn = (h or r*h) @ W_hn.T + b_hn
    if cache.reset_after:
        dr = da_n * hn
        dhn = da_n * r
        dW_hn = dhn.T @ h
        dh = dh + dhn @ W_hn
    else:
        dhn = da_n
        dW_hn = dhn.T @ (r * h)
        drh = dhn @ W_hn
        dr = drh * h
        dh = dh + drh * r
    # z = sigmoid(i_z + h_z), r = sigmoid(i_r + h_r)
    da_z = dz * z * (1.0 - z)
    da_r = dr * r * (1.0 - r)
    # gh_rz = h @ W_hrz.T + b_hrz
    dgh_rz = np.concatenate([da_r, da_z], axis=1)
    dW_hrz = dgh_rz.T @ h
    dh = dh + dgh_rz @ W_hrz
    dW_hh = np.concatenate([dW_hrz, dW_hn], axis=0)
    db_hh = np.concatenate([dgh_rz.sum(axis=0), dhn.sum(axis=0)]) if cache.has_b_hh else None
    # gi = x @ W_ih.T + b_ih, blocks r | z | n
    dgi = np.concatenate([da_r, da_z, da_n], axis=1)
    db_ih = dgi.sum(axis=0) if cache.has_b_ih else None
    dW_ih = dgi.T @ x
    dx = dgi @ cache.W_ih
    return dx, dh, dW_ih, dW_hh, db_ih, db_hh


class GRU(SingleStateBase):
    """Multi-layer GRU, a NumPy twin of ``torch.nn.GRU`` with a hand-written backward.

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional: as
            ``torch.nn.GRU``, in its positional order (``dropout`` between layers while
            ``training``; :meth:`eval` turns it off; masks drawn from ``rng``).
        reset_after (keyword-only): True (default) is ``torch.nn.GRU``; False is Cho et al.
            (2014), the reset gate applied to the state before the recurrent product (see the
            module docstring).
        dtype: float64 (default) or float32.
        rng: ``np.random.Generator``, int seed, or None (seeded from NumPy's global generator, so
            :func:`gru_lib.seed_everything` makes it reproducible).

    Parameters live in ``.params`` under torch's ``state_dict`` names (gate blocks ``r | z | n``);
    ``forward(x, hx=None, lengths=None)`` returns ``(output, h_n)``,
    ``backward(d_output, d_h_n=None)`` returns ``(dx, dhx)`` and fills ``.grads``. Each step is
    :func:`gru_step` / :func:`gru_step_backward`.
    """

    MODE = "GRU"

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, *, reset_after=True, dtype=np.float64,
                 rng=None):
        if not isinstance(reset_after, bool):
            raise TypeError(f"{type(self).__name__}: reset_after must be a bool, got "
                            f"{type(reset_after).__name__} ({reset_after!r})")
        self.reset_after = reset_after
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, dtype=dtype, rng=rng)

    def _extra_repr(self) -> dict:
        extra = super()._extra_repr()
        return extra if self.reset_after else {**extra, "reset_after": False}

    def _step(self, x, state, weights):
        h_next, cache = gru_step(x, state[0], *weights, reset_after=self.reset_after)
        return (h_next,), cache

    def _step_backward(self, d_state_next, cache):
        dx, dh, *d_params = gru_step_backward(d_state_next[0], cache)
        return dx, (dh,), d_params
