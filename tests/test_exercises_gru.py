"""The GRU exercise checkers: the reference passes (and agrees with torch), every known mistake is
named, an untouched scaffold is reported as not attempted."""

import numpy as np
import pytest
import torch

from gru_lib.exercises import gru as ex
from gru_lib.exercises.gru import (
    check_gru_sequence,
    check_gru_step,
    check_gru_step_backward,
)


def _inputs(seed=1):
    return ex._make_forward_inputs(np.random.default_rng(seed))


def test_reference_step_matches_torch_grucell():
    x, h, W_ih, W_hh, b_ih, b_hh = _inputs()
    cell = torch.nn.GRUCell(x.shape[1], h.shape[1]).double()
    with torch.no_grad():
        for name, val in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"),
                             (W_ih, W_hh, b_ih, b_hh), strict=True):
            getattr(cell, name).copy_(torch.from_numpy(val))
        want = cell(torch.from_numpy(x), torch.from_numpy(h)).numpy()
    np.testing.assert_allclose(ex._reference_step(x, h, W_ih, W_hh, b_ih, b_hh), want,
                               rtol=0, atol=1e-13)


def test_reference_backward_matches_autograd():
    rng = np.random.default_rng(2)
    dh_next, *args = ex._make_backward_inputs(rng)
    x, h, W_ih, W_hh, b_ih, b_hh = (torch.tensor(a, requires_grad=True) for a in args)
    cell = torch.nn.GRUCell(x.shape[1], h.shape[1]).double()
    out = torch.func.functional_call(
        cell, {"weight_ih": W_ih, "weight_hh": W_hh, "bias_ih": b_ih, "bias_hh": b_hh}, (x, h))
    out.backward(torch.from_numpy(dh_next))
    got = ex._reference_step_backward(dh_next, *args)
    for g, t in zip(got, (x, h, W_ih, W_hh, b_ih, b_hh), strict=True):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=0, atol=1e-12)


def test_step_reference_passes():
    res = check_gru_step(ex._reference_step)
    assert res.passed, res.message
    assert str(res).startswith("[PASSED]")


def test_step_reference_passes_with_torch_tensors():
    def torch_step(x, h, W_ih, W_hh, b_ih, b_hh):
        cell = torch.nn.GRUCell(x.shape[1], h.shape[1]).double()
        sd = {k: torch.from_numpy(v) for k, v in
              zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), (W_ih, W_hh, b_ih, b_hh),
                  strict=True)}
        cell.load_state_dict(sd)
        with torch.no_grad():
            return cell(torch.from_numpy(x), torch.from_numpy(h))

    assert check_gru_step(torch_step).passed


@pytest.mark.parametrize("mistake", ex._STEP_MISTAKES, ids=lambda m: m.name)
def test_step_mistake_is_named(mistake):
    res = check_gru_step(mistake.fn)
    assert not res.passed
    assert res.mistake == mistake.name, (res.mistake, res.message)
    assert res.message == mistake.message


def test_step_mistakes_are_distinct():
    args = _inputs(3)
    ref = ex._reference_step(*args)
    outs = [m.fn(*args) for m in ex._STEP_MISTAKES]
    for i, a in enumerate(outs):
        assert not np.allclose(a, ref)
        for b in outs[i + 1:]:
            assert not np.allclose(a, b)


def test_step_stub_not_attempted():
    def stub(x, h, W_ih, W_hh, b_ih, b_hh):
        raise NotImplementedError

    res = check_gru_step(stub)
    assert not res.passed and "not attempted" in res.message
    assert str(res) == ("[NOT YET] GRU step (PyTorch convention): not attempted yet: replace the "
                        "`raise NotImplementedError` with your implementation")


def test_step_unknown_error_and_exception():
    res = check_gru_step(lambda *a: ex._reference_step(*a) + 0.1)
    assert not res.passed and res.mistake is None and "differs" in res.message
    res = check_gru_step(lambda *a: 1 / 0)
    assert not res.passed and "ZeroDivisionError" in res.message
    res = check_gru_step(lambda *a: ex._reference_step(*a)[:, :2])
    assert not res.passed and "shape" in res.message


def test_backward_reference_passes():
    res = check_gru_step_backward(ex._reference_step_backward)
    assert res.passed, res.message


@pytest.mark.parametrize("mistake", ex._BACKWARD_MISTAKES, ids=lambda m: m.name)
def test_backward_mistake_is_named(mistake):
    res = check_gru_step_backward(mistake.fn)
    assert not res.passed
    assert res.mistake == mistake.name, (res.mistake, res.message)
    assert res.message == mistake.message


def test_backward_stub_not_attempted():
    def stub(dh_next, x, h, W_ih, W_hh, b_ih, b_hh):
        raise NotImplementedError

    res = check_gru_step_backward(stub)
    assert not res.passed and "not attempted" in res.message


def test_sequence_reference_matches_torch_gru():
    x, h0, W_ih, W_hh, b_ih, b_hh = ex._make_sequence_inputs(np.random.default_rng(4))
    gru = torch.nn.GRU(x.shape[2], h0.shape[2], dtype=torch.float64)
    gru.load_state_dict({k: torch.from_numpy(v) for k, v in zip(
        ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"), (W_ih, W_hh, b_ih, b_hh),
        strict=True)})
    with torch.no_grad():
        out, h_n = gru(torch.from_numpy(x), torch.from_numpy(h0))
    got_out, got_h = ex._reference_sequence(x, h0, W_ih, W_hh, b_ih, b_hh)
    np.testing.assert_allclose(got_out, out.numpy(), rtol=0, atol=1e-13)
    np.testing.assert_allclose(got_h, h_n.numpy(), rtol=0, atol=1e-13)


def test_sequence_reference_passes_and_stub():
    assert check_gru_sequence(ex._reference_sequence).passed

    def stub(x, h0, W_ih, W_hh, b_ih, b_hh):
        raise NotImplementedError

    assert "not attempted" in check_gru_sequence(stub).message


@pytest.mark.parametrize("mistake", ex._SEQUENCE_MISTAKES, ids=lambda m: m.name)
def test_sequence_mistake_is_named(mistake):
    res = check_gru_sequence(mistake.fn)
    assert not res.passed and res.mistake == mistake.name, (res.mistake, res.message)
