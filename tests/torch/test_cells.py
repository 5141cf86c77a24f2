"""Step functions against torch.nn's cells, reset_after=False against Cho et al. (2014) written
out directly, and torch.autograd.gradcheck on small layers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.func import functional_call

import gru_lib.torch as gt

TOL = 1e-10
f64 = torch.float64


def _cell_args(cell):
    return cell.weight_ih, cell.weight_hh, cell.bias_ih, cell.bias_hh


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("kind", ["rnn_tanh", "rnn_relu", "gru", "lstm"])
def test_step_matches_torch_cell_values_and_gradients(kind, bias):
    torch.manual_seed(0)
    B, D, H = 3, 5, 4
    if kind == "gru":
        cell = torch.nn.GRUCell(D, H, bias=bias, dtype=f64)
    elif kind == "lstm":
        cell = torch.nn.LSTMCell(D, H, bias=bias, dtype=f64)
    else:
        cell = torch.nn.RNNCell(D, H, bias=bias, nonlinearity=kind[4:], dtype=f64)
    x = torch.randn(B, D, dtype=f64, requires_grad=True)
    h = torch.randn(B, H, dtype=f64, requires_grad=True)
    c = torch.randn(B, H, dtype=f64, requires_grad=True)
    W_ih, W_hh, b_ih, b_hh = _cell_args(cell)
    if kind == "gru":
        ours, ref = [gt.gru_step(x, h, W_ih, W_hh, b_ih, b_hh)], [cell(x, h)]
    elif kind == "lstm":
        ours, ref = list(gt.lstm_step(x, h, c, W_ih, W_hh, b_ih, b_hh)), list(cell(x, (h, c)))
    else:
        ours = [gt.rnn_step(x, h, W_ih, W_hh, b_ih, b_hh, nonlinearity=kind[4:])]
        ref = [cell(x, h)]
    leaves = [x, h, *([c] if kind == "lstm" else []), *cell.parameters()]
    ups = [torch.randn_like(t) for t in ref]
    g_ours = torch.autograd.grad(ours, leaves, ups)
    g_ref = torch.autograd.grad(ref, leaves, ups)
    for a, b in zip(ours + list(g_ours), ref + list(g_ref), strict=True):
        assert a.shape == b.shape
        assert (a - b).abs().max().item() <= TOL


# ---------------------------------------------------------------- Cho et al. (2014), directly
def _sig(a):
    return 1.0 / (1.0 + np.exp(-a))


def cho_gru_sequence(x, h0, W_ih, W_hh, b_ih, b_hh):
    """Cho et al. (2014), eqs. (5)–(8), one example at a time with column vectors.

    r = σ(W_r x + U_r h), z = σ(W_z x + U_z h), h̃ = tanh(W x + U (r ⊙ h)),
    h ← z ⊙ h + (1 − z) ⊙ h̃; the biases (absent in the paper's equations) are added to each
    pre-activation as torch lays them out. ``x`` (T, D), ``h0`` (H,); returns all states (T, H).
    """
    H = h0.shape[0]
    Wr, Wz, W = W_ih[:H], W_ih[H:2 * H], W_ih[2 * H:]
    Ur, Uz, U = W_hh[:H], W_hh[H:2 * H], W_hh[2 * H:]
    bir, biz, bi = b_ih[:H], b_ih[H:2 * H], b_ih[2 * H:]
    bhr, bhz, bh = b_hh[:H], b_hh[H:2 * H], b_hh[2 * H:]
    h, states = h0.copy(), []
    for x_t in x:
        r = _sig(Wr @ x_t + bir + Ur @ h + bhr)
        z = _sig(Wz @ x_t + biz + Uz @ h + bhz)
        h_tilde = np.tanh(W @ x_t + bi + U @ (r * h) + bh)
        h = z * h + (1.0 - z) * h_tilde
        states.append(h)
    return np.stack(states)


def cho_gru_stack(x, h0, params, num_layers, bidirectional, bias, H):
    """Stacked / bidirectional composition of :func:`cho_gru_sequence` for one example.

    ``x`` (T, D), ``h0`` (num_layers*dirs, H); returns (output (T, dirs*H), h_n (L*dirs, H)).
    """
    dirs = 2 if bidirectional else 1
    finals = []
    for layer in range(num_layers):
        outs = []
        for d in range(dirs):
            sfx = f"_l{layer}" + ("_reverse" if d else "")
            W_ih, W_hh = params["weight_ih" + sfx], params["weight_hh" + sfx]
            b_ih = params["bias_ih" + sfx] if bias else np.zeros(3 * H)
            b_hh = params["bias_hh" + sfx] if bias else np.zeros(3 * H)
            seq = x[::-1] if d else x
            hs = cho_gru_sequence(seq, h0[layer * dirs + d], W_ih, W_hh, b_ih, b_hh)
            finals.append(hs[-1])
            outs.append(hs[::-1] if d else hs)
        x = np.concatenate(outs, axis=1)
    return x, np.stack(finals)


def test_gru_step_reset_before_matches_cho():
    rng = np.random.default_rng(0)
    B, D, H = 4, 3, 5
    x, h = rng.normal(size=(B, D)), rng.normal(size=(B, H))
    W_ih, W_hh = rng.normal(size=(3 * H, D)), rng.normal(size=(3 * H, H))
    b_ih, b_hh = rng.normal(size=3 * H), rng.normal(size=3 * H)
    t = [torch.from_numpy(a) for a in (x, h, W_ih, W_hh, b_ih, b_hh)]
    ours = gt.gru_step(*t, reset_after=False).numpy()
    ref = np.stack([cho_gru_sequence(x[b:b + 1], h[b], W_ih, W_hh, b_ih, b_hh)[0]
                    for b in range(B)])
    assert np.abs(ours - ref).max() <= TOL
    # and the placement of r matters: reset_after=True gives a different state
    assert np.abs(gt.gru_step(*t, reset_after=True).numpy() - ref).max() > 1e-3


@pytest.mark.parametrize(("num_layers", "bidirectional", "batch_first", "bias"),
                         [(1, False, False, True), (2, True, False, True),
                          (3, False, True, False), (2, True, True, False)])
def test_gru_layer_reset_before_matches_cho(num_layers, bidirectional, batch_first, bias):
    T, B, D, H = 6, 3, 4, 5
    torch.manual_seed(1)
    model = gt.GRU(D, H, num_layers, bias=bias, batch_first=batch_first,
                   bidirectional=bidirectional, reset_after=False, dtype=f64)
    dirs = 2 if bidirectional else 1
    x = torch.randn(B, T, D, dtype=f64) if batch_first else torch.randn(T, B, D, dtype=f64)
    h0 = torch.randn(num_layers * dirs, B, H, dtype=f64)
    with torch.no_grad():
        out, h_n = model(x, h0)
    params = {k: v.numpy() for k, v in model.state_dict().items()}
    xb = x.numpy() if batch_first else x.numpy().transpose(1, 0, 2)          # (B, T, D)
    for b in range(B):
        ref_out, ref_hn = cho_gru_stack(xb[b], h0[:, b].numpy(), params, num_layers,
                                        bidirectional, bias, H)
        got = out[b] if batch_first else out[:, b]
        assert np.abs(got.numpy() - ref_out).max() <= TOL
        assert np.abs(h_n[:, b].numpy() - ref_hn).max() <= TOL


# ---------------------------------------------------------------- autograd.gradcheck
@pytest.mark.parametrize(("cls", "extra"), [
    (gt.GRU, {}), (gt.GRU, {"reset_after": False}), (gt.LSTM, {}),
    (gt.RNN, {"nonlinearity": "tanh"}), (gt.RNN, {"nonlinearity": "relu"}),
])
def test_gradcheck_small_layer(cls, extra):
    torch.manual_seed(0)
    model = cls(2, 2, num_layers=2, bidirectional=True, dtype=f64, **extra)
    names = [n for n, _ in model.named_parameters()]
    x = torch.randn(3, 2, 2, dtype=f64, requires_grad=True)
    n_states = 2 if cls is gt.LSTM else 1
    states = [torch.randn(4, 2, 2, dtype=f64, requires_grad=True) for _ in range(n_states)]
    params = [p.detach().clone().requires_grad_() for p in model.parameters()]

    def f(x, *rest):
        st, ps = rest[:n_states], rest[n_states:]
        hx = tuple(st) if cls is gt.LSTM else st[0]
        out, fin = functional_call(model, dict(zip(names, ps, strict=True)), (x, hx))
        fin = fin if isinstance(fin, tuple) else (fin,)
        return (out, *fin)

    # the full Jacobian for the input and states (few numbers); torch's fast mode (a random
    # projection of the Jacobian, numerical vs analytical) for everything with the parameters
    assert torch.autograd.gradcheck(lambda x, *st: f(x, *st, *params), (x, *states),
                                    eps=1e-6, atol=1e-7)
    assert torch.autograd.gradcheck(f, (x, *states, *params), eps=1e-6, atol=1e-7,
                                    fast_mode=True)
