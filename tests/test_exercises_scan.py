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
