"""gru_lib.torch.{RNN, GRU, LSTM} against torch.nn's, in float64, forward and every gradient.

For each configuration we build ``torch.nn``'s module, load its ``state_dict`` into ours, run both
on the same input and initial state, back-propagate the same random upstream gradient through
``output`` and the final state(s), and compare outputs, final states and the gradients of every
parameter, the input and the initial state(s). Float64 leaves only rounding: the tolerance is 1e-10.
"""

from __future__ import annotations

import itertools

import pytest
import torch

import gru_lib.torch as gt

TOL = 1e-10
D, H = 3, 4

MODELS = {
    "rnn_tanh": (gt.RNN, torch.nn.RNN, {"nonlinearity": "tanh"}),
    "rnn_relu": (gt.RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
    "gru": (gt.GRU, torch.nn.GRU, {}),
    "lstm": (gt.LSTM, torch.nn.LSTM, {}),
}
# inner grid, run inside each test: (batch_first, with initial state, (T, B), bias)
INNER = list(itertools.product([False, True], [False, True], [(1, 1), (5, 3)], [True, False]))


def _pair(kind, num_layers, bidirectional, batch_first, bias, seed):
    ours_cls, ref_cls, extra = MODELS[kind]
    kw = dict(input_size=D, hidden_size=H, num_layers=num_layers, bias=bias,
              batch_first=batch_first, bidirectional=bidirectional, dtype=torch.float64, **extra)
    torch.manual_seed(seed)
    ref = ref_cls(**kw)
    ours = ours_cls(**kw)
    ours.load_state_dict(ref.state_dict())
    return ours, ref


def _run(model, x, states, lstm):
    """Forward, then one backward of a fixed random functional; returns (tensors, grads)."""
    if lstm:
        out, (h_n, c_n) = model(x, None if states is None else tuple(states))
        finals = [h_n, c_n]
    else:
        out, h_n = model(x, None if states is None else states[0])
        finals = [h_n]
    gen = torch.Generator().manual_seed(123)
    loss = sum((t * torch.randn(t.shape, generator=gen, dtype=t.dtype)).sum()
               for t in [out, *finals])
    leaves = [x, *(states or []), *model.parameters()]
    grads = torch.autograd.grad(loss, leaves)
    return [out, *finals], list(grads)


def compare(kind, num_layers, bidirectional, batch_first, with_state, T, B, bias, seed=0,
            batched=True):
    """Max |Δ| between ours and torch.nn over outputs, final states and all gradients."""
    lstm = kind == "lstm"
    ours, ref = _pair(kind, num_layers, bidirectional, batch_first, bias, seed)
    gen = torch.Generator().manual_seed(seed + 1)
    if batched:
        shape = (B, T, D) if batch_first else (T, B, D)
        s_shape = (num_layers * (2 if bidirectional else 1), B, H)
    else:
        shape, s_shape = (T, D), (num_layers * (2 if bidirectional else 1), H)
    x = torch.randn(shape, generator=gen, dtype=torch.float64)
    states = None
    if with_state:
        states = [torch.randn(s_shape, generator=gen, dtype=torch.float64)
                  for _ in range(2 if lstm else 1)]
    results = []
    for model in (ours, ref):
        xi = x.clone().requires_grad_()
        si = None if states is None else [s.clone().requires_grad_() for s in states]
        results.append(_run(model, xi, si, lstm))
    (t_ours, g_ours), (t_ref, g_ref) = results
    worst = 0.0
    for a, b in zip(t_ours + g_ours, t_ref + g_ref, strict=True):
        assert a.shape == b.shape and a.dtype == b.dtype
        worst = max(worst, (a - b).abs().max().item())
    return worst


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("kind", list(MODELS))
def test_matches_torch_nn(kind, num_layers, bidirectional):
    worst = {}
    for batch_first, with_state, (T, B), bias in INNER:
        worst[(batch_first, with_state, T, B, bias)] = compare(
            kind, num_layers, bidirectional, batch_first, with_state, T, B, bias)
    bad = {k: v for k, v in worst.items() if not v <= TOL}
    assert not bad, f"max |Δ| above {TOL} for (batch_first, state, T, B, bias): {bad}"


@pytest.mark.parametrize("kind", list(MODELS))
@pytest.mark.parametrize("with_state", [False, True])
def test_unbatched_matches_torch_nn(kind, with_state):
    assert compare(kind, 2, True, False, with_state, 4, 1, True, batched=False) <= TOL


@pytest.mark.parametrize("kind", list(MODELS))
def test_output_shapes_match_torch_nn(kind):
    ours, ref = _pair(kind, 2, True, True, True, seed=3)
    x = torch.randn(3, 7, D, dtype=torch.float64)
    out_o, st_o = ours(x)
    out_r, st_r = ref(x)
    assert out_o.shape == out_r.shape == (3, 7, 2 * H)
    if kind == "lstm":
        assert [s.shape for s in st_o] == [s.shape for s in st_r] == [(4, 3, H)] * 2
    else:
        assert st_o.shape == st_r.shape == (4, 3, H)


@pytest.mark.parametrize("kind", list(MODELS))
def test_init_matches_torch_nn_for_the_same_seed(kind):
    ours_cls, ref_cls, extra = MODELS[kind]
    torch.manual_seed(7)
    ref = ref_cls(5, 6, num_layers=2, bidirectional=True, **extra)
    torch.manual_seed(7)
    ours = ours_cls(5, 6, num_layers=2, bidirectional=True, **extra)
    sd_o, sd_r = ours.state_dict(), ref.state_dict()
    assert list(sd_o) == list(sd_r)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in ref.named_parameters()]
    for k in sd_r:
        assert torch.equal(sd_o[k], sd_r[k]), k
    bound = 1 / 6 ** 0.5
    assert all(p.abs().max() <= bound for p in ours.parameters())
    assert ours.num_parameters() == sum(p.numel() for p in ref.parameters())
