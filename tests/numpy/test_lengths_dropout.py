"""The NumPy layers' lengths= (torch.nn's PackedSequence semantics), dropout between layers and
the hx keyword: against torch.nn, and their hand-written backward against finite differences."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import gru_lib.numpy as gn
from gru_lib.numpy import gradcheck

LENGTHS = [3, 5, 1, 4]
T, D, H = 5, 2, 3


def _inputs(model, rng, lengths=LENGTHS):
    B = len(lengths)
    x = rng.standard_normal((B, T, D) if model.batch_first else (T, B, D))
    n = model.num_layers * model.num_directions
    states = [rng.standard_normal((n, B, H)) for _ in range(model.NUM_STATES)]
    return x, states


def _call(model, x, states, **kw):
    lstm = model.NUM_STATES == 2
    out, finals = model(x, tuple(states) if lstm else states[0], **kw)
    return out, (list(finals) if lstm else [finals])


def _backward(model, g_out, g_finals):
    if model.NUM_STATES == 2:
        dx, d_states = model.backward(g_out, tuple(g_finals))
        return dx, list(d_states)
    dx, d_state = model.backward(g_out, g_finals[0])
    return dx, [d_state]


@pytest.mark.parametrize("name", ["RNN", "GRU", "LSTM"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_lengths_equal_torch_nn_packed_forward_and_backward(name, bidirectional):
    ref = getattr(torch.nn, name)(D, H, num_layers=2, bidirectional=bidirectional,
                                  dtype=torch.float64)
    ours = getattr(gn, name)(D, H, num_layers=2, bidirectional=bidirectional)
    ours.load_state_dict(ref.state_dict())
    rng = np.random.default_rng(0)
    x, states = _inputs(ours, rng)
    out, finals = _call(ours, x, states, lengths=LENGTHS)
    g_out = rng.standard_normal(out.shape)
    g_finals = [rng.standard_normal(f.shape) for f in finals]
    dx, d_states = _backward(ours, g_out, g_finals)

    xt = torch.tensor(x, requires_grad=True)
    st = [torch.tensor(s, requires_grad=True) for s in states]
    packed = pack_padded_sequence(xt, torch.tensor(LENGTHS), enforce_sorted=False)
    out_t, fin_t = ref(packed, tuple(st) if name == "LSTM" else st[0])
    out_t, _ = pad_packed_sequence(out_t, total_length=T)
    fin_t = list(fin_t) if name == "LSTM" else [fin_t]
    loss = (out_t * torch.tensor(g_out)).sum() + sum(
        (f * torch.tensor(g)).sum() for f, g in zip(fin_t, g_finals, strict=True))
    loss.backward()
    np.testing.assert_allclose(out, out_t.detach().numpy(), atol=1e-12, rtol=0)
    for a, b in zip(finals, fin_t, strict=True):
        np.testing.assert_allclose(a, b.detach().numpy(), atol=1e-12, rtol=0)
    np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-12, rtol=0)
    for a, b in zip(d_states, st, strict=True):
        np.testing.assert_allclose(a, b.grad.numpy(), atol=1e-12, rtol=0)
    for k, p in ref.named_parameters():
        np.testing.assert_allclose(ours.grads[k], p.grad.numpy(), atol=1e-12, rtol=0, err_msg=k)
    # padded steps output exactly zero
    for b, n in enumerate(LENGTHS):
        assert not out[n:, b].any()


CONFIGS = {
    "RNN bidirectional": lambda: gn.RNN(D, H, num_layers=2, bidirectional=True, rng=0),
    "GRU bidirectional batch_first": lambda: gn.GRU(D, H, num_layers=2, batch_first=True,
                                                    bidirectional=True, rng=1),
    "GRU reset_after=False": lambda: gn.GRU(D, H, num_layers=2, reset_after=False, rng=2),
    "LSTM bidirectional": lambda: gn.LSTM(D, H, num_layers=2, bidirectional=True, rng=3),
    "FastGRU bidirectional": lambda: gn.FastGRU(D, H, num_layers=2, bidirectional=True, rng=4),
    "GRU dropout": lambda: gn.GRU(D, H, num_layers=3, dropout=0.5, bidirectional=True, rng=5),
    "LSTM dropout": lambda: gn.LSTM(D, H, num_layers=2, dropout=0.3, rng=6),
}


# (full-length runs without dropout are test_layer_gradcheck.py's)
CASES = [(name, True) for name in CONFIGS] + [(n, False) for n in CONFIGS if "dropout" in n]


@pytest.mark.parametrize(("name", "with_lengths"), CASES)
def test_gradcheck_with_lengths_and_dropout(name, with_lengths, numpy_report):
    """Finite differences through the masked loops and the dropout masks (fixed per forward)."""
    model = CONFIGS[name]()
    rng = np.random.default_rng(11)
    x, states = _inputs(model, rng)
    lengths = LENGTHS if with_lengths else None

    def run():
        model.rng = np.random.default_rng(99)        # the same dropout masks on every forward
        return _call(model, x, states, lengths=lengths)

    out, finals = run()
    g_out = rng.standard_normal(out.shape)
    g_finals = [rng.standard_normal(f.shape) for f in finals]
    dx, d_states = _backward(model, g_out, g_finals)

    def loss():
        out, finals = run()
        return float((out * g_out).sum() + sum((f * g).sum() for f, g in
                                                zip(finals, g_finals, strict=True)))

    names = ["hx", "cx"][:len(states)]
    errors = gradcheck(loss, {"x": x, **dict(zip(names, states, strict=True)), **model.params},
                       {"x": dx, **dict(zip(names, d_states, strict=True)), **model.grads})
    numpy_report.gradchecked(f"{name} layer, lengths={with_lengths}", errors)
    assert max(errors.values()) <= 1e-7, errors


def test_fast_gru_with_lengths_matches_gru():
    gru, fast = gn.GRU(D, H, num_layers=2, bidirectional=True, rng=0), gn.FastGRU(
        D, H, num_layers=2, bidirectional=True, rng=1)
    fast.load_state_dict(gru.state_dict())
    x = np.random.default_rng(0).standard_normal((T, 4, D))
    (o1, h1), (o2, h2) = gru(x, lengths=LENGTHS), fast(x, lengths=LENGTHS)
    np.testing.assert_allclose(o1, o2, atol=1e-13)
    np.testing.assert_allclose(h1, h2, atol=1e-13)


def test_unbatched_with_a_length():
    model = gn.GRU(D, H, rng=0)
    x = np.random.default_rng(0).standard_normal((T, D))
    out, h = model(x, lengths=[3])
    out3, h3 = model(x[:3])
    np.testing.assert_allclose(out[:3], out3, atol=1e-14)
    assert not out[3:].any()
    np.testing.assert_allclose(h, h3, atol=1e-14)


def test_padding_content_is_ignored():
    """NaN in the padding changes nothing, in the forward or in any gradient."""
    model = gn.LSTM(D, H, num_layers=2, bidirectional=True, rng=0)
    x = np.random.default_rng(0).standard_normal((T, 4, D))
    x_nan = x.copy()
    for b, n in enumerate(LENGTHS):
        x_nan[n:, b] = np.nan
    results = []
    for inp in (x, x_nan):
        out, (h, c) = model(inp, lengths=LENGTHS)
        dx, _ = model.backward(np.ones_like(out), (np.ones_like(h), None))
        results.append([out, h, c, dx, *model.grads.values()])
    for a, b in zip(*results, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(("lengths", "exc", "words"), [
    ([3, 2], ValueError, "one length per sequence, B=4"),
    ([3, 2, 0, 1], ValueError, "in [1, T] with T=5"),
    ([3, 2, 6, 1], ValueError, "in [1, T] with T=5"),
    (np.array([1.0, 2.0, 3.0, 4.0]), TypeError, "lengths of integers"),
    (None.__class__, TypeError, "sequence of B=4 ints"),
])
def test_bad_lengths(lengths, exc, words):
    with pytest.raises(exc) as info:
        gn.GRU(D, H)(np.zeros((T, 4, D)), lengths=lengths)
    assert words in str(info.value)


# ---------------------------------------------------------------- dropout
def test_dropout_zero_exact_eval_off_and_positional_order():
    plain = gn.GRU(D, H, 3, True, False, 0.0, True, rng=0)          # torch.nn's order
    assert plain.bidirectional and plain.dropout == 0.0
    dropped = gn.GRU(D, H, 3, True, False, 0.5, True, rng=1)
    dropped.load_state_dict(plain.state_dict())
    x = np.random.default_rng(0).standard_normal((T, 2, D))
    assert np.array_equal(dropped.eval()(x)[0], plain(x)[0])
    assert not dropped.training and dropped.train() is dropped and dropped.training
    assert not np.allclose(dropped(x)[0], plain(x)[0])
    assert repr(dropped) == "GRU(2, 3, num_layers=3, dropout=0.5, bidirectional=True)"


def test_dropout_mask_statistics():
    p = 0.3
    model = gn.RNN(D, H, num_layers=2, dropout=p, rng=0)
    keep = model._dropout_mask((200, 50, 10))
    n = keep.size
    assert abs((keep == 0).mean() - p) <= 5 * (p * (1 - p) / n) ** 0.5
    assert np.allclose(keep[keep != 0], 1 / (1 - p))
    assert not gn.RNN(D, H, num_layers=2, dropout=1.0, rng=0)._dropout_mask((3, 4)).any()


def test_dropout_validation_and_warning():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        gn.LSTM(D, H, dropout=0.2)
    with pytest.raises(ValueError, match=r"dropout must be a number in \[0, 1\]"):
        gn.GRU(D, H, 2, dropout=1.2)
    with pytest.raises(TypeError, match="dropout must be a number"):
        gn.GRU(D, H, 2, True, False, True)        # the old positional bidirectional


# ---------------------------------------------------------------- one API: hx
@pytest.mark.parametrize("cls", [gn.RNN, gn.GRU, gn.FastGRU])
def test_h0_keyword_still_works_with_a_future_warning(cls):
    model = cls(D, H, rng=0)
    x, h = np.ones((T, 2, D)), np.full((1, 2, H), 0.5)
    with pytest.warns(FutureWarning, match="h0= is now hx="):
        old = model(x, h0=h)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new, pos = model(x, hx=h), model(x, h)
    for a, b, c in zip(old, new, pos, strict=True):
        assert np.array_equal(a, b) and np.array_equal(a, c)
    with pytest.raises(TypeError, match="both hx= and h0="):
        model(x, hx=h, h0=h)
