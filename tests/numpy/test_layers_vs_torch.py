"""The NumPy layers against ``torch.nn.RNN`` / ``GRU`` / ``LSTM`` in float64.

Both get the same weights (torch's ``state_dict`` loaded into ours), the same input and initial
state, and the same random upstream gradients for ``output``, ``h_n`` (and ``c_n``). Outputs,
final states and every gradient (input, initial states, each parameter) must agree to 1e-10:
ours comes from the hand-written backward, torch's from autograd.
"""

import itertools

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gru_lib.numpy import GRU, LSTM, RNN

TOL = 1e-10
MODES = ["RNN_TANH", "RNN_RELU", "GRU", "LSTM"]


def make_pair(mode, D, H, num_layers, bias, batch_first, bidirectional, seed=0):
    """A torch.nn module and our twin holding the same (torch-initialised) weights."""
    torch.manual_seed(seed)
    kw = dict(num_layers=num_layers, bias=bias, batch_first=batch_first,
              bidirectional=bidirectional)
    if mode.startswith("RNN"):
        nl = mode[4:].lower()
        ref = torch.nn.RNN(D, H, nonlinearity=nl, dtype=torch.float64, **kw)
        ours = RNN(D, H, nonlinearity=nl, **kw)
    elif mode == "GRU":
        ref, ours = torch.nn.GRU(D, H, dtype=torch.float64, **kw), GRU(D, H, **kw)
    else:
        ref, ours = torch.nn.LSTM(D, H, dtype=torch.float64, **kw), LSTM(D, H, **kw)
    ours.load_state_dict(ref.state_dict())
    return ref, ours


def compare(ref, ours, x, states, rng):
    """Run both forward and backward; return {quantity: max |ours - torch|}.

    ``states`` is None or a tuple of initial states (``(h0,)``, or ``(h0, c0)`` for an LSTM).
    """
    lstm = isinstance(ours, LSTM)
    tx = torch.tensor(x, requires_grad=True)
    ts = None if states is None else [torch.tensor(s, requires_grad=True) for s in states]
    if lstm:
        out, (h_n, c_n) = ref(tx, None if ts is None else tuple(ts))
        o2, (h2, c2) = ours(x, states)
        finals, ours_finals = [h_n, c_n], [h2, c2]
    else:
        out, h_n = ref(tx, None if ts is None else ts[0])
        o2, h2 = ours(x, None if states is None else states[0])
        finals, ours_finals = [h_n], [h2]
    g_out = rng.standard_normal(out.shape)
    g_finals = [rng.standard_normal(f.shape) for f in finals]
    loss = (out * torch.from_numpy(g_out)).sum()
    for f, g in zip(finals, g_finals, strict=True):
        loss = loss + (f * torch.from_numpy(g)).sum()
    loss.backward()
    if lstm:
        dx, (dh0, dc0) = ours.backward(g_out, tuple(g_finals))
        d_states = [dh0, dc0]
    else:
        dx, dh0 = ours.backward(g_out, g_finals[0])
        d_states = [dh0]
    diffs = {"output": np.abs(o2 - out.detach().numpy()).max()}
    for name, a, b in zip(["h_n", "c_n"], ours_finals, finals, strict=False):
        assert a.shape == tuple(b.shape), name
        diffs[name] = np.abs(a - b.detach().numpy()).max()
    assert o2.shape == tuple(out.shape) and dx.shape == x.shape
    diffs["dx"] = np.abs(dx - tx.grad.numpy()).max()
    if ts is not None:
        for name, a, t in zip(["dh0", "dc0"], d_states, ts, strict=False):
            diffs[name] = np.abs(a - t.grad.numpy()).max()
    for name, p in ref.named_parameters():
        diffs[name] = np.abs(ours.grads[name] - p.grad.numpy()).max()
    assert list(ours.grads) == [n for n, _ in ref.named_parameters()]
    return diffs


def initial_states(mode, n, B, H, rng, batched=True):
    shape = (n, B, H) if batched else (n, H)
    k = 2 if mode == "LSTM" else 1
    return tuple(rng.standard_normal(shape) for _ in range(k))


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("mode", MODES)
def test_grid_matches_torch(mode, num_layers, bidirectional, numpy_report):
    """32 configurations per case: batch_first × h0 given × T ∈ {1, 5} × B ∈ {1, 3} × bias."""
    rng = np.random.default_rng(100 * MODES.index(mode) + 10 * num_layers + bidirectional)
    D, H = 3, 4
    for batch_first, with_h0, T, B, bias in itertools.product(
            [False, True], [False, True], [1, 5], [1, 3], [True, False]):
        ref, ours = make_pair(mode, D, H, num_layers, bias, batch_first, bidirectional)
        x = rng.standard_normal((B, T, D) if batch_first else (T, B, D))
        n = num_layers * (2 if bidirectional else 1)
        states = initial_states(mode, n, B, H, rng) if with_h0 else None
        diffs = compare(ref, ours, x, states, rng)
        worst = max(diffs, key=diffs.get)
        config = dict(batch_first=batch_first, h0=with_h0, T=T, B=B, bias=bias)
        assert diffs[worst] <= TOL, f"{config}: {worst} differs by {diffs[worst]:.3e}"
        numpy_report.compared(diffs[worst])


@pytest.mark.parametrize("with_h0", [False, True])
@pytest.mark.parametrize("mode", MODES)
def test_unbatched_input_matches_torch(mode, with_h0, numpy_report):
    """2-D input ``(T, D)`` and state ``(L*dirs, H)``, as torch.nn accepts them."""
    rng = np.random.default_rng(7)
    ref, ours = make_pair(mode, 3, 4, num_layers=2, bias=True, batch_first=True,
                          bidirectional=True)
    x = rng.standard_normal((6, 3))
    states = initial_states(mode, 4, 1, 4, rng, batched=False) if with_h0 else None
    diffs = compare(ref, ours, x, states, rng)
    assert max(diffs.values()) <= TOL, diffs
    numpy_report.compared(max(diffs.values()))


@settings(max_examples=30, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mode=st.sampled_from(MODES), D=st.integers(1, 5), H=st.integers(1, 5),
       num_layers=st.integers(1, 3), T=st.integers(1, 7), B=st.integers(1, 4),
       bias=st.booleans(), batch_first=st.booleans(), bidirectional=st.booleans(),
       with_h0=st.booleans(), seed=st.integers(0, 2**16))
def test_random_shapes_match_torch(mode, D, H, num_layers, T, B, bias, batch_first,
                                   bidirectional, with_h0, seed, numpy_report):
    """Property: for any shapes, NumPy == torch.nn (forward and every gradient)."""
    rng = np.random.default_rng(seed)
    ref, ours = make_pair(mode, D, H, num_layers, bias, batch_first, bidirectional, seed)
    x = rng.standard_normal((B, T, D) if batch_first else (T, B, D))
    n = num_layers * (2 if bidirectional else 1)
    states = initial_states(mode, n, B, H, rng) if with_h0 else None
    diffs = compare(ref, ours, x, states, rng)
    assert max(diffs.values()) <= TOL, diffs
    numpy_report.compared(max(diffs.values()))


@pytest.mark.parametrize("mode", MODES)
def test_float32_matches_torch_float32(mode):
    """float32 end to end: our arrays stay float32 and agree with torch's float32 to ~1e-5."""
    rng = np.random.default_rng(3)
    ref64, _ = make_pair(mode, 3, 4, 2, True, False, True)
    ref = ref64.float()
    cls = {"GRU": GRU, "LSTM": LSTM}.get(mode, RNN)
    kw = {"nonlinearity": mode[4:].lower()} if mode.startswith("RNN") else {}
    ours = cls(3, 4, num_layers=2, bidirectional=True, dtype=np.float32, **kw)
    ours.load_state_dict(ref.state_dict())
    x = rng.standard_normal((5, 2, 3)).astype(np.float32)
    tx = torch.tensor(x, requires_grad=True)
    out = ref(tx)[0]
    o2 = ours(x)[0]
    g = rng.standard_normal(o2.shape).astype(np.float32)
    (out * torch.from_numpy(g)).sum().backward()
    dx, _ = ours.backward(g)
    assert o2.dtype == dx.dtype == np.float32
    assert all(v.dtype == np.float32 for v in ours.grads.values())
    np.testing.assert_allclose(o2, out.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(dx, tx.grad.numpy(), atol=1e-5)
    for name, p in ref.named_parameters():
        np.testing.assert_allclose(ours.grads[name], p.grad.numpy(), atol=1e-4, err_msg=name)


@pytest.mark.parametrize("mode", MODES)
def test_parameters_match_torch_layout(mode):
    """Same names, order, shapes and count as torch.nn; state_dict returns copies."""
    ref, ours = make_pair(mode, 3, 5, 3, True, False, True)
    sd = ref.state_dict()
    assert list(ours.state_dict()) == list(sd)
    assert all(ours.params[k].shape == tuple(v.shape) for k, v in sd.items())
    assert ours.num_parameters() == sum(p.numel() for p in ref.parameters())
    copy = ours.state_dict()
    copy["weight_ih_l0"][:] = 0.0
    assert np.any(ours.params["weight_ih_l0"] != 0.0)


def test_init_follows_rng_and_torch_bounds():
    """U(-1/sqrt(H), 1/sqrt(H)); an int seed or a Generator reproduces, the global seed too."""
    a, b = GRU(3, 16, rng=5), GRU(3, 16, rng=np.random.default_rng(5))
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
    assert all(np.abs(p).max() <= 0.25 for p in a.params.values())
    np.random.seed(1)  # noqa: NPY002 - rng=None must follow NumPy's global seed
    c = LSTM(3, 4)
    np.random.seed(1)  # noqa: NPY002
    d = LSTM(3, 4)
    assert all(np.array_equal(c.params[k], d.params[k]) for k in c.params)


@pytest.mark.parametrize("mode", MODES)
def test_backward_overwrites_grads_and_ignores_later_input_changes(mode):
    """``.grads`` is set, not accumulated; editing ``x`` after forward does not affect backward."""
    _, ours = make_pair(mode, 3, 4, 2, True, True, True)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 5, 3))
    out, _ = ours(x)
    g = rng.standard_normal(out.shape)
    dx1, _ = ours.backward(g)
    grads1 = {k: v.copy() for k, v in ours.grads.items()}
    x += 1.0
    dx2, _ = ours.backward(g)
    assert np.array_equal(dx1, dx2)
    assert all(np.array_equal(grads1[k], ours.grads[k]) for k in grads1)
