"""Finite-difference checks of the layers' full BPTT: every parameter, the input, the states."""

import numpy as np
import pytest

from gru_lib.numpy import GRU, LSTM, RNN, gradcheck, numerical_gradient, relative_error

CONFIGS = {
    "RNN tanh": lambda: RNN(2, 3, num_layers=2, bidirectional=True, rng=0),
    "RNN relu, batch_first": lambda: RNN(2, 3, num_layers=2, nonlinearity="relu",
                                         batch_first=True, bidirectional=True, rng=1),
    "GRU": lambda: GRU(2, 3, num_layers=2, bidirectional=True, rng=2),
    "GRU reset_after=False, no bias, batch_first": lambda: GRU(
        2, 3, num_layers=2, bias=False, batch_first=True, bidirectional=True, reset_after=False,
        rng=3),
    "LSTM": lambda: LSTM(2, 3, num_layers=2, bidirectional=True, rng=4),
    "GRU unidirectional, 3 layers": lambda: GRU(2, 3, num_layers=3, rng=5),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_layer_backward_gradcheck(name, numpy_report):
    model = CONFIGS[name]()
    rng = np.random.default_rng(11)
    T, B = 4, 2
    lstm = isinstance(model, LSTM)
    x = rng.standard_normal((B, T, 2) if model.batch_first else (T, B, 2))
    n = model.num_layers * model.num_directions
    states = [rng.standard_normal((n, B, 3)) for _ in range(2 if lstm else 1)]
    out, finals = model(x, tuple(states) if lstm else states[0])
    finals = list(finals) if lstm else [finals]
    g_out = rng.standard_normal(out.shape)
    g_finals = [rng.standard_normal(f.shape) for f in finals]
    if lstm:
        dx, d_states = model.backward(g_out, tuple(g_finals))
    else:
        dx, d_states = model.backward(g_out, g_finals[0])
        d_states = (d_states,)

    def loss():
        out, finals = model(x, tuple(states) if lstm else states[0])
        finals = finals if lstm else (finals,)
        return float((out * g_out).sum() + sum((f * g).sum() for f, g in
                                                zip(finals, g_finals, strict=True)))

    names = ["h0", "c0"][:len(states)]
    params = {"x": x, **dict(zip(names, states, strict=True)), **model.params}
    grads = {"x": dx, **dict(zip(names, d_states, strict=True)), **model.grads}
    errors = gradcheck(loss, params, grads)
    numpy_report.gradchecked(f"{name} layer", errors)
    assert max(errors.values()) <= 1e-7, errors


def test_relative_error_is_symmetric_and_safe_at_zero():
    a, b = np.array([1.0, 2.0]), np.array([1.0, 2.5])
    assert relative_error(a, b) == relative_error(b, a)
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.ones(2), -np.ones(2)) == 1.0
    with pytest.raises(ValueError, match=r"\(2,\) vs \(3,\)"):
        relative_error(np.ones(2), np.ones(3))


def test_numerical_gradient_restores_and_is_accurate():
    x = np.array([[0.3, -1.2], [2.0, 0.5]])
    before = x.copy()
    g = numerical_gradient(lambda: float(np.sum(np.sin(x) * x)), x)
    assert np.array_equal(x, before)
    np.testing.assert_allclose(g, np.cos(x) * x + np.sin(x), rtol=1e-8)


def test_gradcheck_catches_a_wrong_gradient():
    """A transposed weight gradient of a square matrix has the right shape and is wrong."""
    rng = np.random.default_rng(0)
    W, v, u = rng.standard_normal((3, 3)), rng.standard_normal(3), rng.standard_normal(3)
    right = np.outer(u, v)                       # d(u^T W v)/dW
    errors = gradcheck(lambda: float(u @ W @ v), {"W": W}, {"W": right})
    assert errors["W"] < 1e-9
    errors = gradcheck(lambda: float(u @ W @ v), {"W": W}, {"W": right.T})
    assert errors["W"] > 0.1
    with pytest.raises(KeyError, match="not in params"):
        gradcheck(lambda: 0.0, {"W": W}, {"V": right})
