"""Stable nonlinearities, saturated inputs (|x| = 1e4) and very long sequences (T = 10,000)."""

import warnings

import numpy as np
import pytest
import torch

from gru_lib.numpy import GRU, LSTM, RNN, sigmoid, tanh
from gru_lib.numpy.functional import relu


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_tanh_saturate_without_warnings(dtype):
    x = np.array([-1e4, -800.0, -100.0, -1.0, 0.0, 1.0, 100.0, 800.0, 1e4], dtype=dtype)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        s, t = sigmoid(x), tanh(x)
    assert s.dtype == t.dtype == dtype
    assert s[0] == 0.0 and s[-1] == 1.0 and s[4] == 0.5
    assert t[0] == -1.0 and t[-1] == 1.0
    assert np.all(np.isfinite(s)) and np.all(np.isfinite(t))
    ref = torch.sigmoid(torch.tensor(x.astype(np.float64))).numpy()
    # float32's exp(-100) is subnormal (few significant bits), hence the absolute tolerance
    tol = {"rtol": 1e-6, "atol": 1e-37} if dtype == np.float32 else {"rtol": 1e-15, "atol": 0}
    np.testing.assert_allclose(s, ref, **tol)


def test_sigmoid_matches_definition_in_the_safe_range():
    x = np.linspace(-30, 30, 601)
    np.testing.assert_allclose(sigmoid(x), 1.0 / (1.0 + np.exp(-x)), rtol=1e-14)
    np.testing.assert_allclose(relu(x), np.maximum(x, 0.0))


@pytest.mark.parametrize("cls", [RNN, GRU, LSTM])
def test_layers_survive_huge_inputs(cls):
    """Inputs of magnitude 1e4 saturate every gate: no warning, no NaN, finite gradients."""
    rng = np.random.default_rng(0)
    model = cls(3, 4, num_layers=2, bidirectional=True, rng=0)
    x = 1e4 * np.sign(rng.standard_normal((6, 2, 3)))
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        out, _ = model(x)
        dx, _ = model.backward(np.ones_like(out))
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(dx))
    assert all(np.all(np.isfinite(g)) for g in model.grads.values())


@pytest.mark.parametrize("mode", ["RNN", "GRU", "LSTM"])
def test_ten_thousand_steps_match_torch(mode, numpy_report):
    """T = 10,000: the loops are iterative (no recursion) and agree with torch.nn throughout."""
    T, B, D, H = 10_000, 1, 2, 3
    ref = getattr(torch.nn, mode)(D, H, dtype=torch.float64)
    ours = {"RNN": RNN, "GRU": GRU, "LSTM": LSTM}[mode](D, H)
    ours.load_state_dict(ref.state_dict())
    rng = np.random.default_rng(1)
    x = rng.standard_normal((T, B, D))
    g = rng.standard_normal((T, B, H))
    tx = torch.tensor(x, requires_grad=True)
    out = ref(tx)[0]
    (out * torch.from_numpy(g)).sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        o2 = ours(x)[0]
        dx, _ = ours.backward(g)
    diffs = [np.abs(o2 - out.detach().numpy()).max(), np.abs(dx - tx.grad.numpy()).max()]
    diffs += [np.abs(ours.grads[k] - p.grad.numpy()).max() for k, p in ref.named_parameters()]
    assert max(diffs) <= 1e-10, diffs
    numpy_report.compared(max(diffs))
