"""gru_lib.analysis: state Jacobians against analytic products and brute-force autograd, spectral
quantities on matrices with known spectra, and the NumPy clipping functions against torch's."""

import numpy as np
import pytest
import torch
from torch import nn

from gru_lib.analysis import (
    clip_elementwise,
    clip_global_norm,
    global_norm,
    spectral_norm,
    spectral_radius,
    state_jacobian_norms,
    step_jacobians,
)


class LinearRNN(nn.Module):
    """h_t = W h_{t-1} + U x_t with the torch.nn.RNN forward contract (time-major)."""

    def __init__(self, W, U):
        super().__init__()
        self.W = nn.Parameter(torch.as_tensor(W))
        self.U = nn.Parameter(torch.as_tensor(U))
        self.hidden_size = self.W.shape[0]

    def forward(self, x, h=None):
        if h is None:
            h = x.new_zeros(1, x.shape[1], self.hidden_size)
        h = h[0]
        outs = []
        for t in range(x.shape[0]):
            h = h @ self.W.T + x[t] @ self.U.T
            outs.append(h)
        return torch.stack(outs), h.unsqueeze(0)


def _brute_force(model, x, t, is_lstm):
    """∂h_T/∂s_t per example by autograd through the whole tail of the sequence (t is 1-based)."""
    T, B = x.shape[0], x.shape[1]
    with torch.no_grad():
        _, st = model(x[:t]) if t > 0 else (None, None)
    H = model.hidden_size

    def tail(s):  # s: (S,) one example's state at step t -> its h_T (H,)
        if is_lstm:
            state = (s[:H].reshape(1, 1, H), s[H:].reshape(1, 1, H))
            _, (h, _) = model(x[t:, b:b + 1], state)
        else:
            _, h = model(x[t:, b:b + 1], s.reshape(1, 1, H))
        return h.reshape(H)

    out = []
    for b in range(B):
        s = torch.cat([st[0][0, b], st[1][0, b]]) if is_lstm else st[0, b]
        if t == T:
            S = s.shape[0]
            J = torch.eye(S, dtype=s.dtype)[:H]
        else:
            J = torch.autograd.functional.jacobian(tail, s)
        out.append(float(torch.linalg.matrix_norm(J, ord=2)))
    return float(np.mean(out))


def test_linear_rnn_matches_matrix_powers():
    rng = np.random.default_rng(0)
    H, D, T, B = 4, 2, 7, 3
    W = rng.normal(size=(H, H)) / np.sqrt(H) * 1.3
    model = LinearRNN(W, rng.normal(size=(H, D))).double()
    x = rng.normal(size=(T, B, D))
    got = state_jacobian_norms(model, x)
    want = [np.linalg.norm(np.linalg.matrix_power(W, T - t), 2) for t in range(1, T + 1)]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert got.shape == (T,) and got.dtype == np.float64 and got[-1] == pytest.approx(1.0)


def test_tanh_rnn_matches_explicit_product():
    torch.manual_seed(0)
    H, D, T, B = 5, 3, 8, 2
    model = nn.RNN(D, H).double()
    x = torch.randn(T, B, D, dtype=torch.float64)
    with torch.no_grad():
        hs, _ = model(x)  # (T, B, H): h_1..h_T
    W = model.weight_hh_l0.detach().numpy()
    hs = hs.numpy()
    want = np.empty(T)
    for t in range(1, T + 1):
        vals = []
        for b in range(B):
            P = np.eye(H)
            for k in range(T, t, -1):  # ∂h_k/∂h_{k-1} = diag(1 - h_k^2) W_hh
                P = P @ (np.diag(1 - hs[k - 1, b] ** 2) @ W)
            vals.append(np.linalg.norm(P, 2))
        want[t - 1] = np.mean(vals)
    np.testing.assert_allclose(state_jacobian_norms(model, x), want, rtol=1e-10)


@pytest.mark.parametrize("cls", [nn.GRU, nn.LSTM], ids=["GRU", "LSTM"])
def test_gated_cells_match_brute_force(cls):
    torch.manual_seed(1)
    H, D, T, B = 4, 3, 6, 2
    model = cls(D, H).double()
    x = torch.randn(T, B, D, dtype=torch.float64)
    got = state_jacobian_norms(model, x)
    want = [_brute_force(model, x, t, cls is nn.LSTM) for t in range(1, T + 1)]
    np.testing.assert_allclose(got, want, rtol=1e-9)


def test_step_jacobians_shapes():
    torch.manual_seed(2)
    x = torch.randn(5, 3, 2, dtype=torch.float64)
    assert step_jacobians(nn.GRU(2, 4).double(), x).shape == (5, 3, 4, 4)
    assert step_jacobians(nn.LSTM(2, 4).double(), x).shape == (5, 3, 8, 8)


def test_layouts_h0_and_numpy_input_agree():
    torch.manual_seed(3)
    H, D, T, B = 4, 2, 6, 3
    tm = nn.GRU(D, H).double()
    bf = nn.GRU(D, H, batch_first=True).double()
    bf.load_state_dict(tm.state_dict())
    x = torch.randn(T, B, D, dtype=torch.float64)
    h0 = torch.randn(1, B, H, dtype=torch.float64) * 0.5
    a = state_jacobian_norms(tm, x, h0)
    np.testing.assert_allclose(state_jacobian_norms(bf, x.transpose(0, 1), h0), a, rtol=1e-12)
    np.testing.assert_allclose(state_jacobian_norms(tm, x.numpy(), h0.numpy()), a, rtol=1e-12)
    assert not np.allclose(state_jacobian_norms(tm, x), a)  # h0 is used
    # unbatched (T, D) equals a batch of one
    np.testing.assert_allclose(state_jacobian_norms(tm, x[:, 0]),
                               state_jacobian_norms(tm, x[:, :1]), rtol=1e-12)


def test_lstm_h0_pair_and_float32():
    torch.manual_seed(4)
    model = nn.LSTM(2, 3)
    x = torch.randn(5, 2, 2)
    h0 = (torch.randn(1, 2, 3) * 0.3, torch.randn(1, 2, 3) * 0.3)
    got = state_jacobian_norms(model, x, h0)
    ref = state_jacobian_norms(model.double(), x.double(), tuple(a.double() for a in h0))
    np.testing.assert_allclose(got, ref, rtol=1e-4)


def test_rejects_multilayer_and_bidirectional():
    x = torch.randn(3, 1, 2)
    with pytest.raises(ValueError, match="single-layer"):
        state_jacobian_norms(nn.RNN(2, 3, num_layers=2), x)
    with pytest.raises(ValueError, match="unidirectional"):
        state_jacobian_norms(nn.GRU(2, 3, bidirectional=True), x)
    with pytest.raises(ValueError, match="x must be"):
        state_jacobian_norms(nn.RNN(2, 3), torch.randn(2, 3, 1, 2))


def test_spectral_radius_and_norm():
    th = 0.7
    R = 0.9 * np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
    assert spectral_radius(R) == pytest.approx(0.9)
    assert spectral_norm(R) == pytest.approx(0.9)
    N = np.array([[0.0, 5.0], [0.0, 0.0]])  # nilpotent: radius 0, norm 5
    assert spectral_radius(N) == pytest.approx(0.0)
    assert spectral_norm(N) == pytest.approx(5.0)
    W = torch.randn(6, 6, dtype=torch.float64)
    assert spectral_radius(W) <= spectral_norm(W) + 1e-12
    assert spectral_norm(nn.Parameter(W)) == pytest.approx(float(torch.linalg.matrix_norm(W, 2)))
    with pytest.raises(ValueError, match="square"):
        spectral_radius(np.ones((2, 3)))


def _grads(seed, scale=1.0):
    rng = np.random.default_rng(seed)
    return {"weight_ih_l0": scale * rng.normal(size=(4, 3)),
            "weight_hh_l0": scale * rng.normal(size=(4, 4)),
            "bias_ih_l0": scale * rng.normal(size=4)}


def _torch_params(grads):
    ps = []
    for g in grads.values():
        p = nn.Parameter(torch.zeros(g.shape, dtype=torch.float64))
        p.grad = torch.tensor(g)
        ps.append(p)
    return ps


@pytest.mark.parametrize("max_norm", [0.5, 3.0, 100.0])
def test_clip_global_norm_matches_torch(max_norm):
    grads = _grads(0)
    before = {k: v.copy() for k, v in grads.items()}
    clipped, n = clip_global_norm(grads, max_norm)
    ps = _torch_params(grads)
    tn = nn.utils.clip_grad_norm_(ps, max_norm)
    assert n == pytest.approx(float(tn), rel=1e-12)
    for (k, g), p in zip(clipped.items(), ps, strict=True):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-12)
        np.testing.assert_array_equal(grads[k], before[k])  # input untouched
    assert global_norm(clipped) == pytest.approx(min(n, max_norm), rel=1e-6)


def test_clip_global_norm_keeps_direction_and_none():
    grads = _grads(1, scale=10.0)
    grads["bias_hh_l0"] = None
    clipped, n = clip_global_norm(grads, 1.0)
    assert clipped["bias_hh_l0"] is None
    a = np.concatenate([g.ravel() for g in grads.values() if g is not None])
    b = np.concatenate([g.ravel() for g in clipped.values() if g is not None])
    assert np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)) == pytest.approx(1.0)
    assert n == pytest.approx(np.linalg.norm(a))
    with pytest.raises(ValueError, match="positive"):
        clip_global_norm(grads, 0.0)
    with pytest.raises(TypeError, match="dict"):
        clip_global_norm([np.ones(2)], 1.0)


def test_clip_elementwise_matches_torch():
    grads = _grads(2, scale=2.0)
    clipped = clip_elementwise(grads, 0.7)
    ps = _torch_params(grads)
    nn.utils.clip_grad_value_(ps, 0.7)
    for g, p in zip(clipped.values(), ps, strict=True):
        np.testing.assert_array_equal(g, p.grad.numpy())
    with pytest.raises(ValueError, match="positive"):
        clip_elementwise(grads, -1.0)


def test_global_norm():
    assert global_norm({"a": np.array([3.0]), "b": np.array([[4.0]]), "c": None}) == 5.0
    assert global_norm([np.ones(4), np.ones(5)]) == pytest.approx(3.0)


@pytest.mark.parametrize("name", ["RNN", "GRU", "LSTM"])
def test_gru_lib_torch_modules_match_torch_nn(name):
    import gru_lib.torch as gt

    torch.manual_seed(5)
    ref = getattr(nn, name)(3, 4).double()
    ours = getattr(gt, name)(3, 4, dtype=torch.float64)
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(6, 2, 3, dtype=torch.float64)
    np.testing.assert_allclose(state_jacobian_norms(ours, x), state_jacobian_norms(ref, x),
                               rtol=1e-10)
