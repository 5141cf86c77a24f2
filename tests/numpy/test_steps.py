"""Each cell's step and hand-derived backward: against torch autograd and finite differences."""

import numpy as np
import pytest
import torch

from gru_lib.numpy import (
    gradcheck,
    gru_step,
    gru_step_backward,
    lstm_step,
    lstm_step_backward,
    rnn_step,
    rnn_step_backward,
)

B, D, H = 3, 4, 5
CELLS = ["rnn_tanh", "rnn_relu", "gru_after", "gru_before", "lstm"]
GATES = {"rnn": 1, "gru": 3, "lstm": 4}


def make_args(cell, bias, seed=0):
    """Random step arguments (float64); returns (inputs dict, upstream gradients list)."""
    rng = np.random.default_rng(seed)
    G = GATES[cell.split("_")[0]]
    args = {"x": rng.standard_normal((B, D)), "h": rng.standard_normal((B, H))}
    if cell == "lstm":
        args["c"] = rng.standard_normal((B, H))
    args["W_ih"] = rng.standard_normal((G * H, D)) * 0.5
    args["W_hh"] = rng.standard_normal((G * H, H)) * 0.5
    args["b_ih"] = rng.standard_normal(G * H) if bias else None
    args["b_hh"] = rng.standard_normal(G * H) if bias else None
    upstream = [rng.standard_normal((B, H)) for _ in range(2 if cell == "lstm" else 1)]
    return args, upstream


def forward(cell, a):
    """Our step; returns (list of outputs, cache)."""
    w = (a["W_ih"], a["W_hh"], a["b_ih"], a["b_hh"])
    if cell.startswith("rnn"):
        h, cache = rnn_step(a["x"], a["h"], *w, nonlinearity=cell[4:])
        return [h], cache
    if cell.startswith("gru"):
        h, cache = gru_step(a["x"], a["h"], *w, reset_after=cell == "gru_after")
        return [h], cache
    h, c, cache = lstm_step(a["x"], a["h"], a["c"], *w)
    return [h, c], cache


def backward(cell, upstream, cache):
    """Our backward, as a dict keyed like the forward's arguments."""
    if cell == "lstm":
        names = ["x", "h", "c", "W_ih", "W_hh", "b_ih", "b_hh"]
        return dict(zip(names, lstm_step_backward(*upstream, cache), strict=True))
    names = ["x", "h", "W_ih", "W_hh", "b_ih", "b_hh"]
    step_backward = rnn_step_backward if cell.startswith("rnn") else gru_step_backward
    return dict(zip(names, step_backward(upstream[0], cache), strict=True))


def torch_reference(cell, a):
    """The same step written with torch ops (autograd differentiates it)."""
    t = {k: None if v is None else torch.tensor(v, requires_grad=True) for k, v in a.items()}
    gi = t["x"] @ t["W_ih"].T + (0 if t["b_ih"] is None else t["b_ih"])
    gh = t["h"] @ t["W_hh"].T + (0 if t["b_hh"] is None else t["b_hh"])
    if cell.startswith("rnn"):
        outs = [torch.tanh(gi + gh) if cell == "rnn_tanh" else torch.relu(gi + gh)]
    elif cell == "gru_after":
        i_r, i_z, i_n = gi.chunk(3, 1)
        h_r, h_z, h_n = gh.chunk(3, 1)
        r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
        n = torch.tanh(i_n + r * h_n)
        outs = [(1 - z) * n + z * t["h"]]
    elif cell == "gru_before":
        i_r, i_z, i_n = gi.chunk(3, 1)
        h_r, h_z, _ = gh.chunk(3, 1)
        r, z = torch.sigmoid(i_r + h_r), torch.sigmoid(i_z + h_z)
        hn = (r * t["h"]) @ t["W_hh"][2 * H:].T + (0 if t["b_hh"] is None else t["b_hh"][2 * H:])
        n = torch.tanh(i_n + hn)
        outs = [(1 - z) * n + z * t["h"]]
    else:
        i, f, g, o = (gi + gh).chunk(4, 1)
        c = torch.sigmoid(f) * t["c"] + torch.sigmoid(i) * torch.tanh(g)
        outs = [torch.sigmoid(o) * torch.tanh(c), c]
    return outs, t


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("cell", CELLS)
def test_step_matches_torch_autograd(cell, bias, numpy_report):
    a, upstream = make_args(cell, bias)
    outs, cache = forward(cell, a)
    grads = backward(cell, upstream, cache)
    t_outs, t = torch_reference(cell, a)
    sum(((o * torch.from_numpy(g)).sum() for o, g in zip(t_outs, upstream, strict=True))
        ).backward()
    diffs = [np.abs(o - to.detach().numpy()).max() for o, to in zip(outs, t_outs, strict=True)]
    for k, g in grads.items():
        if a[k] is None:
            assert g is None, f"d{k} should be None without bias"
        else:
            assert g.shape == a[k].shape, k
            diffs.append(np.abs(g - t[k].grad.numpy()).max())
    assert max(diffs) <= 1e-12
    numpy_report.compared(max(diffs))


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("cell", CELLS)
def test_step_backward_gradcheck(cell, bias, numpy_report):
    """Central differences on every input of the step, relative error ≤ 1e-7."""
    a, upstream = make_args(cell, bias, seed=1)
    outs, cache = forward(cell, a)
    grads = {k: g for k, g in backward(cell, upstream, cache).items() if g is not None}

    def loss():
        return sum(float((o * g).sum()) for o, g in zip(forward(cell, a)[0], upstream,
                                                        strict=True))

    errors = gradcheck(loss, {k: v for k, v in a.items() if v is not None}, grads)
    numpy_report.gradchecked(f"{cell} step (bias={bias})", errors)
    assert max(errors.values()) <= 1e-7, errors


@pytest.mark.parametrize("cell", CELLS)
def test_step_float32_stays_float32(cell):
    a, upstream = make_args(cell, True)
    a = {k: v.astype(np.float32) for k, v in a.items()}
    upstream = [u.astype(np.float32) for u in upstream]
    outs, cache = forward(cell, a)
    grads = backward(cell, upstream, cache)
    assert all(o.dtype == np.float32 for o in outs)
    assert all(g.dtype == np.float32 for g in grads.values())


def test_rnn_relu_derivative_is_zero_where_inactive():
    """relu' is 0 for a ≤ 0: a unit that is off passes no gradient back."""
    x, h = -np.ones((1, 1)), np.zeros((1, 1))
    _, cache = rnn_step(x, h, np.ones((1, 1)), np.ones((1, 1)), nonlinearity="relu")
    dx, dh, *_ = rnn_step_backward(np.ones((1, 1)), cache)
    assert dx[0, 0] == 0.0 and dh[0, 0] == 0.0
