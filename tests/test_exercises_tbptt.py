"""The truncated-BPTT checker of chapter 3 (gru_lib.exercises.tbptt): the reference equals torch
autograd with the state detached at chunk boundaries; every known mistake is named."""

import numpy as np
import pytest
import torch

from gru_lib.exercises import tbptt as ex


def _autograd_truncated(xs, h0, W_ih, W_hh, b_ih, b_hh, d_out, k):
    params = [torch.tensor(v, requires_grad=True) for v in (W_ih, W_hh, b_ih, b_hh)]
    Wi, Wh, bi, bh = params
    h = torch.from_numpy(h0)
    loss = 0.0
    for t in range(xs.shape[0]):
        if t % k == 0:
            h = h.detach()             # the state is carried, its gradient is cut
        h = torch.tanh(torch.from_numpy(xs[t]) @ Wi.T + bi + h @ Wh.T + bh)
        loss = loss + (h * torch.from_numpy(d_out[t])).sum()
    loss.backward()
    return tuple(p.grad.numpy() for p in params)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_equals_autograd_with_detach(seed):
    args = ex._make_inputs_factory()(np.random.default_rng(seed))
    for k in (1, 3, 4, 10):
        a = (*args[:-1], k)
        for got, want in zip(ex.truncated_bptt_reference(*a), _autograd_truncated(*a),
                             strict=True):
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_reference_passes_and_scaffold_not_attempted():
    assert ex.check_truncated_bptt(ex.truncated_bptt_reference).passed

    def my_truncated_bptt(xs, h0, W_ih, W_hh, b_ih, b_hh, d_out, k):
        raise NotImplementedError

    assert "not attempted yet" in ex.check_truncated_bptt(my_truncated_bptt).message


@pytest.mark.parametrize("mistake", ex.TRUNCATED_MISTAKES, ids=lambda m: m.name)
def test_each_mistake_is_named(mistake):
    res = ex.check_truncated_bptt(mistake.fn)
    assert not res.passed and res.mistake == mistake.name, res.message
    assert res.message == mistake.message


def test_solution_built_on_the_chapter_bptt_passes():
    from gru_lib.exercises.bptt import _reference_bptt as my_bptt

    def my_truncated_bptt(xs, h0, W_ih, W_hh, b_ih, b_hh, d_out, k):
        hs = [h0]
        for x in xs:
            hs.append(np.tanh(x @ W_ih.T + b_ih + hs[-1] @ W_hh.T + b_hh))
        total = [np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros_like(b_ih),
                 np.zeros_like(b_hh)]
        for s in range(0, xs.shape[0], k):
            grads = my_bptt(xs[s:s + k], hs[s], W_ih, W_hh, b_ih, b_hh, d_out[s:s + k])[2:]
            total = [a + g for a, g in zip(total, grads, strict=True)]
        return tuple(total)

    res = ex.check_truncated_bptt(my_truncated_bptt)
    assert res.passed, res.message


def test_solution_for_the_book_passes():
    """The solution proposed for the chapter 3 exercise (uses the chapter's my_bptt)."""
    from gru_lib.exercises.bptt import _reference_bptt as my_bptt

    def my_truncated_bptt(xs, h0, W_ih, W_hh, b_ih, b_hh, d_out, k):
        hs = [h0]                                   # the forward over the whole sequence
        for x in xs:
            hs.append(np.tanh(x @ W_ih.T + b_ih + hs[-1] @ W_hh.T + b_hh))
        total = [np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros_like(b_ih),
                 np.zeros_like(b_hh)]
        for s in range(0, xs.shape[0], k):          # one backward per chunk, from the true h_s
            grads = my_bptt(xs[s:s + k], hs[s], W_ih, W_hh, b_ih, b_hh, d_out[s:s + k])[2:]
            total = [a + g for a, g in zip(total, grads, strict=True)]
        return tuple(total)

    assert ex.check_truncated_bptt(my_truncated_bptt).passed
