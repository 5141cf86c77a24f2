"""Forward passes of N stacked models at once: the layers of :mod:`gru_lib.torch`, batched.

Every parameter of a single model, of shape ``S``, becomes one tensor of shape ``(N, *S)``: model
``k``'s parameters are the slices ``[k]``. A time step then costs one batched matrix product
(``torch.baddbmm``) for all ``N`` models instead of ``N`` small ones; that is where the
ensemble's speed comes from on a CPU, where a small model leaves most of the arithmetic units
idle and most of the time goes to per-operation overhead.

Layout: inputs ``(L, N, B, D)`` (time, model, batch, feature), or ``(L, B, D)`` shared by all
models; states ``(N, B, H)``. The equations are those of the single-model cells (chapters 2, 5, 6
and 14), written once more with a model axis; gate blocks are in torch order.
"""

from __future__ import annotations

import torch

from gru_lib.torch.mingru import g

__all__ = ["input_projection", "stacked_core", "stacked_head"]


def input_projection(x, W_ih, b_ih):
    """``x W_ih^T + b_ih`` for every model and step: ``x`` ``(L, N, B, D)`` or ``(L, B, D)``,
    ``W_ih`` ``(N, GH, D)``, ``b_ih`` ``(N, GH)`` → ``(L, N, B, GH)``. One product for all steps.
    """
    if x.dim() == 3:
        out = torch.einsum("lbd,ngd->lnbg", x, W_ih)
    else:
        out = torch.einsum("lnbd,ngd->lnbg", x, W_ih)
    return out + b_ih[:, None, :]


def _recurrent(h, W_hh, b_hh):
    """``h W_hh^T + b_hh`` for every model: ``h`` ``(N, B, H)`` → ``(N, B, GH)``."""
    return torch.baddbmm(b_hh[:, None, :], h, W_hh.transpose(1, 2))


def _rnn_layer(px, W_hh, b_hh):
    """``h_t = tanh(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh)`` (chapter 2)."""
    L, N, B, H = px.shape
    h = px.new_zeros(N, B, H)
    out = []
    for p in px.unbind(0):   # unbind, not px[t]: its backward writes one gradient, not L
        h = torch.tanh(p + _recurrent(h, W_hh, b_hh))
        out.append(h)
    return torch.stack(out)


def _gru_layer(px, W_hh, b_hh):
    """torch.nn.GRU's step (chapter 5): ``r, z = σ(·)``, ``n = tanh(x_n + r ⊙ (W_hn h + b_hn))``,
    ``h' = (1 − z) ⊙ n + z ⊙ h``."""
    L, N, B, G3 = px.shape
    H = G3 // 3
    h = px.new_zeros(N, B, H)
    out = []
    for p in px.unbind(0):
        gh = _recurrent(h, W_hh, b_hh)
        xr, xz, xn = p.split(H, dim=-1)
        hr, hz, hn = gh.split(H, dim=-1)
        r = torch.sigmoid(xr + hr)
        z = torch.sigmoid(xz + hz)
        n = torch.tanh(xn + r * hn)
        h = (1 - z) * n + z * h
        out.append(h)
    return torch.stack(out)


def _lstm_layer(px, W_hh, b_hh):
    """torch.nn.LSTM's step (chapter 6): gates ``i | f | g | o``, ``c' = f ⊙ c + i ⊙ g``,
    ``h' = o ⊙ tanh(c')``."""
    L, N, B, G4 = px.shape
    H = G4 // 4
    h = px.new_zeros(N, B, H)
    c = px.new_zeros(N, B, H)
    out = []
    for p in px.unbind(0):
        gates = p + _recurrent(h, W_hh, b_hh)
        i, f, g, o = gates.split(H, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        out.append(h)
    return torch.stack(out)


def _mingru_layer(px):
    """minGRU (chapter 14): ``z_t = σ(k_t)``, ``h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ g(u_t)``,
    ``h_0 = 0``, with ``(k_t | u_t)`` the input projection.

    Sequential, although :class:`gru_lib.torch.MinGRU` trains in log-space parallel-scan mode:
    both compute the same recurrence (chapter 14 checks it to float64 rounding), and on a CPU with
    a model axis the T cheap element-wise steps cost far less than ``logcumsumexp`` and its
    backward.
    """
    H = px.shape[-1] // 2
    z, v = torch.sigmoid(px[..., :H]), g(px[..., H:])
    h = px.new_zeros(px.shape[1:-1] + (H,))
    out = []
    for zt, vt in zip(z.unbind(0), v.unbind(0), strict=True):
        h = (1 - zt) * h + zt * vt
        out.append(h)
    return torch.stack(out)


def stacked_core(cell: str, x, params: dict, num_layers: int):
    """All hidden states of the last layer: ``x`` ``(L, N, B, D)`` or ``(L, B, D)`` →
    ``(L, N, B, H)``. ``params`` maps ``torch.nn`` names (``weight_ih_l0``, ...) to stacked
    tensors."""
    for layer in range(num_layers):
        px = input_projection(x, params[f"weight_ih_l{layer}"], params[f"bias_ih_l{layer}"])
        if cell == "minGRU":
            x = _mingru_layer(px)
            continue
        W_hh, b_hh = params[f"weight_hh_l{layer}"], params[f"bias_hh_l{layer}"]
        x = {"RNN": _rnn_layer, "GRU": _gru_layer, "LSTM": _lstm_layer}[cell](px, W_hh, b_hh)
    return x


def stacked_head(h, W, b, readout: str):
    """The linear readout, model-major: ``h`` ``(L, N, B, H)`` → ``(N, B, O)`` for ``'last'``,
    ``(N, L, B, O)`` for ``'all'`` (the layouts :mod:`gru_lib.ensemble.specs` losses take)."""
    if readout == "last":
        return torch.baddbmm(b[:, None, :], h[-1], W.transpose(1, 2))
    return torch.einsum("lnbh,noh->nlbo", h, W) + b[:, None, None, :]
