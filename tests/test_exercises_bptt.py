"""The BPTT and clipping exercise checkers: references agree with torch and with gru_lib, every
known mistake is named, an untouched scaffold is reported as not attempted."""

import numpy as np
import pytest
import torch

from gru_lib.exercises import bptt as ex
from gru_lib.exercises.bptt import check_rnn_bptt, check_rnn_step_backward
from gru_lib.numpy import RNN
from gru_lib.numpy.rnn import rnn_step, rnn_step_backward

_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def _cell(W_ih, W_hh, b_ih, b_hh):
    cell = torch.nn.RNNCell(W_ih.shape[1], W_ih.shape[0]).double()
    return {n: torch.tensor(v, requires_grad=True)
            for n, v in zip(_NAMES, (W_ih, W_hh, b_ih, b_hh), strict=True)}, cell


# -- step backward ---------------------------------------------------------------------------

def test_step_reference_matches_autograd_and_library():
    dh_next, x, h, *w = ex._make_step_inputs(np.random.default_rng(1))
    params, cell = _cell(*w)
    xt, ht = torch.tensor(x, requires_grad=True), torch.tensor(h, requires_grad=True)
    out = torch.func.functional_call(cell, params, (xt, ht))
    out.backward(torch.from_numpy(dh_next))
    want = (xt.grad, ht.grad, *(params[n].grad for n in _NAMES))
    got = ex._reference_step_backward(dh_next, x, h, *w)
    _, cache = rnn_step(x, h, *w)
    lib = rnn_step_backward(dh_next, cache)
    for g, lb, t in zip(got, lib, want, strict=True):
        np.testing.assert_allclose(g, t.numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(lb, t.numpy(), rtol=0, atol=1e-12)


def test_step_reference_and_library_pass():
    assert check_rnn_step_backward(ex._reference_step_backward).passed

    def library(dh_next, x, h, W_ih, W_hh, b_ih, b_hh):
        return rnn_step_backward(dh_next, rnn_step(x, h, W_ih, W_hh, b_ih, b_hh)[1])

    res = check_rnn_step_backward(library)
    assert res.passed, res.message
    assert str(res).startswith("[PASSED]")


@pytest.mark.parametrize("mistake", ex._STEP_MISTAKES, ids=lambda m: m.name)
def test_step_mistake_is_named(mistake):
    res = check_rnn_step_backward(mistake.fn)
    assert not res.passed
    assert res.mistake == mistake.name, (res.mistake, res.message)
    assert res.message == mistake.message


def _distinct(fns, ref, args):
    def same(a, b):
        return all(np.shape(p) == np.shape(q) and np.allclose(p, q)
                   for p, q in zip(a, b, strict=True))

    outs = [f(*args) for f in fns]
    for i, a in enumerate(outs):
        assert not same(a, ref), i
        for b in outs[i + 1:]:
            assert not same(a, b)


def test_step_mistakes_are_distinct():
    args = ex._make_step_inputs(np.random.default_rng(3))
    _distinct([m.fn for m in ex._STEP_MISTAKES], ex._reference_step_backward(*args), args)


def test_step_stub_and_errors():
    def stub(dh_next, x, h, W_ih, W_hh, b_ih, b_hh):
        raise NotImplementedError

    res = check_rnn_step_backward(stub)
    assert not res.passed and "not attempted" in res.message
    assert str(res).startswith("[NOT YET] RNN step backward: not attempted yet")
    res = check_rnn_step_backward(lambda *a: ex._reference_step_backward(*a)[:5])
    assert not res.passed and "returned 5 value(s)" in res.message
    res = check_rnn_step_backward(lambda *a: tuple(g + 0.1 for g in
                                                   ex._reference_step_backward(*a)))
    assert not res.passed and res.mistake is None and "differs" in res.message


# -- whole-sequence BPTT ---------------------------------------------------------------------

def test_bptt_reference_matches_autograd_and_library():
    xs, h0, W_ih, W_hh, b_ih, b_hh, d_out = ex._make_bptt_inputs(np.random.default_rng(4))
    got = ex._reference_bptt(xs, h0, W_ih, W_hh, b_ih, b_hh, d_out)
    # autograd through torch.nn.RNN
    rnn = torch.nn.RNN(xs.shape[2], h0.shape[1]).double()
    with torch.no_grad():
        for n, v in zip(_NAMES, (W_ih, W_hh, b_ih, b_hh), strict=True):
            getattr(rnn, n + "_l0").copy_(torch.from_numpy(v))
    xt = torch.tensor(xs, requires_grad=True)
    h0t = torch.tensor(h0[None], requires_grad=True)
    out, _ = rnn(xt, h0t)
    out.backward(torch.from_numpy(d_out))
    want = (xt.grad, h0t.grad[0], *(getattr(rnn, n + "_l0").grad for n in _NAMES))
    for g, t in zip(got, want, strict=True):
        np.testing.assert_allclose(g, t.numpy(), rtol=0, atol=1e-11)
    # gru_lib.numpy.RNN's backward
    model = RNN(xs.shape[2], h0.shape[1])
    model.load_state_dict({n + "_l0": v for n, v in zip(_NAMES, (W_ih, W_hh, b_ih, b_hh),
                                                         strict=True)})
    model.forward(xs, h0[None])
    dx, dh0 = model.backward(d_out)
    np.testing.assert_allclose(dx, got[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(dh0[0], got[1], rtol=0, atol=1e-12)
    for n, g in zip(_NAMES, got[2:], strict=True):
        np.testing.assert_allclose(model.grads[n + "_l0"], g, rtol=0, atol=1e-12)


def test_bptt_reference_and_library_pass():
    assert check_rnn_bptt(ex._reference_bptt).passed

    def with_library_steps(xs, h0, W_ih, W_hh, b_ih, b_hh, d_out):
        caches, h = [], h0
        for x in xs:
            h, cache = rnn_step(x, h, W_ih, W_hh, b_ih, b_hh)
            caches.append(cache)
        grads = [np.zeros_like(w) for w in (W_ih, W_hh, b_ih, b_hh)]
        dxs, dh = np.zeros_like(xs), np.zeros_like(h0)
        for t in reversed(range(len(xs))):
            dxs[t], dh, *g = rnn_step_backward(d_out[t] + dh, caches[t])
            grads = [a + b for a, b in zip(grads, g, strict=True)]
        return (dxs, dh, *grads)

    res = check_rnn_bptt(with_library_steps)
    assert res.passed, res.message


@pytest.mark.parametrize("mistake", ex._BPTT_MISTAKES, ids=lambda m: m.name)
def test_bptt_mistake_is_named(mistake):
    res = check_rnn_bptt(mistake.fn)
    assert not res.passed
    assert res.mistake == mistake.name, (res.mistake, res.message)
    assert res.message == mistake.message


def test_bptt_mistakes_are_distinct():
    args = ex._make_bptt_inputs(np.random.default_rng(5))
    _distinct([m.fn for m in ex._BPTT_MISTAKES], ex._reference_bptt(*args), args)


def test_bptt_stub():
    def stub(xs, h0, W_ih, W_hh, b_ih, b_hh, d_out):
        raise NotImplementedError

    res = check_rnn_bptt(stub)
    assert not res.passed and "not attempted" in res.message
