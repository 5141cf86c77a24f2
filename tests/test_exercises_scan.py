"""Part IV checkers (gru_lib.exercises.scan): references pass and agree with the library, every
listed mistake is named, scaffolds are 'not attempted', a loop passes the sequential checker but
not the doubling one."""

import numpy as np
import pytest
import torch

from gru_lib.exercises import scan as ex
from gru_lib.torch.mingru import parallel_scan_log


def _not_implemented(*args):
    raise NotImplementedError


def test_weight_gradient_reference_matches_autograd():
    d_g, x = ex._make_grad_inputs(np.random.default_rng(0))
    W = torch.randn(d_g.shape[-1], x.shape[-1], dtype=torch.float64, requires_grad=True)
    b = torch.randn(d_g.shape[-1], dtype=torch.float64, requires_grad=True)
    (torch.from_numpy(x) @ W.T + b).backward(torch.from_numpy(d_g))
    dW, db = ex._reference_weight_gradient(d_g, x)
    np.testing.assert_allclose(dW, W.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(db, b.grad.numpy(), atol=1e-12)


def test_weight_gradient_reference_passes():
    assert ex.check_weight_gradient(ex._reference_weight_gradient).passed


@pytest.mark.parametrize("mistake", ex._WG_MISTAKES, ids=lambda m: m.name)
def test_weight_gradient_names_each_mistake(mistake):
    res = ex.check_weight_gradient(mistake.fn)
    assert not res.passed and res.mistake == mistake.name


def test_scaffolds_not_attempted():
    for check in (ex.check_weight_gradient, ex.check_linear_scan, ex.check_doubling_scan):
        res = check(_not_implemented)
        assert not res.passed and "not attempted" in str(res)


def test_scan_references_agree_with_log_space_scan():
    a, b, h0 = ex._make_scan_inputs(np.random.default_rng(3), 33)
    b = np.abs(b)      # the log-space scan needs b > 0; h0 may be any sign
    want = ex.reference_linear_scan(a, b, h0)
    np.testing.assert_allclose(ex.reference_doubling_scan(a, b, h0), want, rtol=1e-12)
    got = parallel_scan_log(*(torch.from_numpy(np.log(v)) for v in (a, b)), torch.from_numpy(h0))
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10)


def test_linear_scan_reference_passes():
    assert ex.check_linear_scan(ex.reference_linear_scan).passed
    assert ex.check_linear_scan(ex.reference_doubling_scan).passed


@pytest.mark.parametrize("mistake", ex._SCAN_MISTAKES, ids=lambda m: m.name)
def test_linear_scan_names_each_mistake(mistake):
    res = ex.check_linear_scan(mistake.fn)
    assert not res.passed and res.mistake == mistake.name


def test_doubling_reference_passes():
    assert ex.check_doubling_scan(ex.reference_doubling_scan).passed


@pytest.mark.parametrize("mistake", ex._DOUBLING_MISTAKES, ids=lambda m: m.name)
def test_doubling_names_each_mistake(mistake):
    res = ex.check_doubling_scan(mistake.fn)
    assert not res.passed and res.mistake == mistake.name


def test_doubling_rejects_a_loop():
    res = ex.check_doubling_scan(ex.reference_linear_scan)
    assert not res.passed and res.mistake == "loops_over_time"


# -- issue 13: the no-loop rules are checked by behaviour, however the loop is spelled ----------

def _loop_slices(a, b, h0):
    h, out = h0, []
    for t in range(a.shape[0]):
        h = a[t, :, :] * h + b[t, ...]
        out.append(h)
    return np.stack(out)


def _loop_ranges(a, b, h0):
    h, out = h0, np.empty_like(b)
    for t in range(len(a)):
        h = a[t:t + 1][0] * h + np.take(b, t, axis=0)
        out[t:t + 1] = h
    return out


def _loop_after_asarray(a, b, h0):
    a, b = np.asarray(a), np.asarray(b)
    hs = [h0]
    [hs.append(a[t] * hs[-1] + b[t]) for t in range(a.shape[0])]
    return np.stack(hs[1:])


def _loop_torch(a, b, h0):
    h, outs = torch.from_numpy(h0), []
    for at, bt in zip(torch.from_numpy(a), torch.from_numpy(b), strict=True):
        h = at * h + bt
        outs.append(h)
    return torch.stack(outs).numpy()


def _loop_reduce(a, b, h0):
    import functools

    def f(acc, t):
        return [*acc, a[t] * acc[-1] + b[t]]

    return np.stack(functools.reduce(f, range(len(a)), [h0])[1:])


def _loop_generator(a, b, h0):
    def states():
        h = h0
        for at, bt in zip(a, b, strict=True):
            h = at * h + bt
            yield h

    return np.stack(list(states()))


@pytest.mark.parametrize("fn", [_loop_slices, _loop_ranges, _loop_after_asarray, _loop_torch,
                                _loop_reduce, _loop_generator], ids=lambda f: f.__name__)
def test_doubling_rejects_loops_however_spelled(fn):
    assert ex.check_linear_scan(fn).passed           # the values are right
    res = ex.check_doubling_scan(fn)
    assert not res.passed and res.mistake == "loops_over_time", res.message
    assert "T = 1024" in res.message


def test_doubling_in_torch_passes():
    def doubling_torch(a, b, h0):
        A, Bc = torch.from_numpy(a).clone(), torch.from_numpy(b).clone()
        T, d = A.shape[0], 1
        while d < T:
            Bc = torch.cat([Bc[:d], A[d:] * Bc[:-d] + Bc[d:]])
            A = torch.cat([A[:d], A[d:] * A[:-d]])
            d *= 2
        return (A * torch.from_numpy(h0) + Bc).numpy()

    res = ex.check_doubling_scan(doubling_torch)
    assert res.passed, res.message


def test_doubling_float32_refused_with_reason():
    res = ex.check_doubling_scan(
        lambda a, b, h0: ex.reference_doubling_scan(a.astype(np.float32), b, h0))
    assert not res.passed and res.mistake == "float32"
    assert "checks in float64 because" in res.message


def test_weight_gradient_rejects_a_loop_over_t():
    def summed(d_g, x):
        return sum(d_g[t].T @ x[t] for t in range(d_g.shape[0])), d_g.sum(axis=(0, 1))

    def looped(d_g, x):
        dW = np.zeros((d_g.shape[2], x.shape[2]))
        for t in range(d_g.shape[0]):
            dW += np.einsum("bk,bd->kd", d_g[t, ...], x[t, ...])
        return dW, d_g.sum(axis=(0, 1))

    for fn in (summed, looped):
        assert ex.run_check("values", fn, ex._reference_weight_gradient, ex._make_grad_inputs,
                            ("dW", "db")).passed
        res = ex.check_weight_gradient(fn)
        assert not res.passed and res.mistake == "loops_over_time", res.message
        assert "ONE product" in res.message


def test_weight_gradient_one_product_passes_in_any_spelling():
    def einsum(d_g, x):
        return np.einsum("tbk,tbd->kd", d_g, x), d_g.sum(axis=(0, 1))

    def tensordot(d_g, x):
        return np.tensordot(d_g, x, axes=([0, 1], [0, 1])), d_g.sum(axis=(0, 1))

    for fn in (einsum, tensordot):
        res = ex.check_weight_gradient(fn)
        assert res.passed, res.message


def test_weight_gradient_average_is_localised_to_1_over_B():
    def mean_over_batch(d_g, x):
        T, B, K = d_g.shape
        return d_g.reshape(T * B, K).T @ x.reshape(T * B, -1) / B, d_g.sum(axis=(0, 1))

    res = ex.check_weight_gradient(mean_over_batch)
    assert not res.passed and "divided by B" in res.message and "(db is right)" in res.message
