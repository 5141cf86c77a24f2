"""FastGRU: the GRU of :mod:`gru_lib.torch.gru` with a hand-written BPTT (chapter {ref}`ch-cost`).

Same constructor, parameters (``state_dict`` keys) and ``forward`` contract as
:class:`gru_lib.torch.GRU` (PyTorch's convention, ``reset_after=True``). What changes is how one
layer in one direction is computed. Autograd on a Python loop records every small operation of
every step and replays them backwards one by one, including one small weight-gradient product per
step. :class:`GRULayerFunction` instead restructures the work, as cuDNN does on GPUs
(Appleyard et al., 2016):

* forward: the input projection ``x_t W_ih^T + b_ih`` for *all* time steps is one matrix product;
  only ``h_{t−1} W_hh^T`` stays inside the time loop;
* backward: the loop over time carries only what must be sequential — the total state gradient
  ``δ_t`` and its product with ``W_hh`` — and stores the pre-activation gradients of every step;
* after the loop, ``dW_ih``, ``dW_hh`` and ``dx`` are each *one* large matrix product over all
  ``T·B`` rows, instead of T small ones.

The reverse direction of a bidirectional layer is the same function on the time-reversed input.
"""

from __future__ import annotations

import torch

from gru_lib.torch.gru import GRU

__all__ = ["FastGRU", "GRULayerFunction", "gru_layer"]


class GRULayerFunction(torch.autograd.Function):
    """One unidirectional GRU layer over a whole sequence, forward and hand-derived backward.

    Inputs: ``x`` ``(T, B, D)``, ``h0`` ``(B, H)``, ``W_ih`` ``(3H, D)``, ``W_hh`` ``(3H, H)``,
    ``b_ih``, ``b_hh`` ``(3H,)`` or None (gate blocks ``r | z | n``).
    Output: all states ``(T, B, H)``; the final state is its last row, so autograd adds the
    gradient of ``h_n`` into the last step's output gradient for free.
    """

    @staticmethod
    def forward(ctx, x, h0, W_ih, W_hh, b_ih, b_hh):
        T, B, _ = x.shape
        H = h0.shape[-1]
        gi = torch.matmul(x, W_ih.t())                  # (T, B, 3H): all inputs, one product
        if b_ih is not None:
            gi = gi + b_ih
        hs = x.new_empty(T + 1, B, H)
        hs[0] = h0
        rz = x.new_empty(T, B, 2 * H)                  # saved gates r | z
        n = x.new_empty(T, B, H)
        ghn = x.new_empty(T, B, H)                     # W_hn h + b_hn, needed for dr
        h = h0
        for t in range(T):
            gh = torch.matmul(h, W_hh.t())              # the only product inside the loop
            if b_hh is not None:
                gh = gh + b_hh
            rz_t = torch.sigmoid(gi[t, :, :2 * H] + gh[:, :2 * H])
            ghn[t] = gh[:, 2 * H:]
            n_t = torch.tanh(gi[t, :, 2 * H:] + rz_t[:, :H] * ghn[t])
            h = n_t + rz_t[:, H:] * (h - n_t)            # (1 − z) n + z h
            rz[t], n[t], hs[t + 1] = rz_t, n_t, h
        ctx.save_for_backward(x, hs, rz, n, ghn, W_ih, W_hh)
        ctx.has_bias = (b_ih is not None, b_hh is not None)
        return hs[1:]

    @staticmethod
    def backward(ctx, d_out):
        x, hs, rz, n, ghn, W_ih, W_hh = ctx.saved_tensors
        T, B, H = n.shape
        r, z = rz[..., :H], rz[..., H:]
        # Everything that does not depend on δ_t is computed for all steps at once. With
        # a = (1 − z)(1 − n²), the three blocks of d(h W_hh^T + b_hh) at step t are
        #   reset:  δ_t · a · (W_hn h + b_hn) · r(1 − r)
        #   update: δ_t · (h_{t−1} − n) · z(1 − z)
        #   cand.:  δ_t · a · r
        a = (1 - z) * (1 - n * n)
        coef = torch.cat([a * ghn * r * (1 - r), (hs[:-1] - n) * z * (1 - z), a * r], dim=-1)
        coef = coef.view(T, B, 3, H)
        d_gh = d_out.new_empty(T, B, 3, H)
        delta = d_out.new_empty(T, B, H)
        dh = torch.zeros_like(hs[0])
        for t in range(T - 1, -1, -1):
            dh = dh + d_out[t]                       # δ_t: from the output and from step t+1
            delta[t] = dh
            torch.mul(dh.unsqueeze(1), coef[t], out=d_gh[t])
            # direct path z ⊙ δ plus the path through W_hh (one (B, 3H) × (3H, H) product)
            dh = torch.addmm(dh * z[t], d_gh[t].view(B, 3 * H), W_hh)
        d_gh = d_gh.view(T, B, 3 * H)
        # The input-side gradient equals the hidden-side one except in the candidate block,
        # where the reset gate does not multiply the input projection: there it is δ · a.
        d_gi = torch.cat([d_gh[..., :2 * H], delta * a], dim=-1)
        # After the loop: each weight gradient is one product over all T·B rows.
        gi_rows, gh_rows = d_gi.reshape(T * B, 3 * H), d_gh.reshape(T * B, 3 * H)
        dW_ih = torch.matmul(gi_rows.t(), x.reshape(T * B, -1))
        dW_hh = torch.matmul(gh_rows.t(), hs[:-1].reshape(T * B, H))
        db_ih = gi_rows.sum(0) if ctx.has_bias[0] else None
        db_hh = gh_rows.sum(0) if ctx.has_bias[1] else None
        dx = torch.matmul(d_gi, W_ih)
        return dx, dh, dW_ih, dW_hh, db_ih, db_hh


def gru_layer(x, h0, W_ih, W_hh, b_ih=None, b_hh=None, reverse=False):
    """Run :class:`GRULayerFunction` forwards in time, or backwards (``reverse=True``).

    Returns the states ``(T, B, H)`` in the input's time order.
    """
    if reverse:
        return GRULayerFunction.apply(x.flip(0), h0, W_ih, W_hh, b_ih, b_hh).flip(0)
    return GRULayerFunction.apply(x, h0, W_ih, W_hh, b_ih, b_hh)


class FastGRU(GRU):
    """:class:`gru_lib.torch.GRU` with each layer and direction run by :class:`GRULayerFunction`.

    Same constructor, parameters, ``state_dict`` keys and ``forward(input, hx=None)`` contract
    as :class:`gru_lib.torch.GRU` (and so ``torch.nn.GRU``): multi-layer, bidirectional,
    ``batch_first`` and unbatched inputs all work. Only PyTorch's convention has a hand-written
    kernel: ``reset_after=False`` raises a ``ValueError`` pointing to :class:`gru_lib.torch.GRU`.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 bidirectional=False, reset_after=True, device=None, dtype=None):
        if reset_after is not True:
            raise ValueError("FastGRU: only reset_after=True (PyTorch's convention) has a "
                             f"hand-written kernel, got reset_after={reset_after!r}; use "
                             "gru_lib.torch.GRU(reset_after=False) for Cho et al. (2014)")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first,
                         bidirectional=bidirectional, reset_after=True, device=device,
                         dtype=dtype)

    def _layer(self, x, state, weights, reverse):
        hs = gru_layer(x, state[0], *weights, reverse=reverse)
        # the reverse direction's final state is the one after reading x_1, at time index 0
        return hs, (hs[0] if reverse else hs[-1],)
