"""The clipping checker of chapter 4 (gru_lib.exercises.clip): the reference agrees with
torch.nn.utils.clip_grad_norm_ and gru_lib.analysis, every known mistake is named, a dict changed in
place is reported."""

import numpy as np
import pytest
import torch

from gru_lib.analysis import clip_global_norm
from gru_lib.exercises import clip as ex
from gru_lib.exercises.bptt import check_clip_global_norm

# -- global-norm clipping --------------------------------------------------------------------

def test_clip_reference_matches_torch():
    make = ex._make_clip_inputs_factory()
    rng = np.random.default_rng(6)
    for _ in range(3):
        grads, max_norm = make(rng)
        got = ex._reference_clip(grads, max_norm)
        ps = []
        for k in ex._CLIP_KEYS:
            p = torch.nn.Parameter(torch.zeros(grads[k].shape, dtype=torch.float64))
            p.grad = torch.tensor(grads[k])
            ps.append(p)
        n = torch.nn.utils.clip_grad_norm_(ps, max_norm)
        for g, p in zip(got[:-1], ps, strict=True):
            np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-12)
        assert float(got[-1]) == pytest.approx(float(n), rel=1e-12)


def test_clip_reference_and_library_pass():
    assert check_clip_global_norm(lambda g, m: (dict(zip(ex._CLIP_KEYS, ex._reference_clip(g, m),
                                                         strict=False)),
                                                ex._reference_clip(g, m)[-1])).passed
    res = check_clip_global_norm(clip_global_norm)
    assert res.passed, res.message


def test_clip_plan_covers_both_sides():
    make = ex._make_clip_inputs_factory()
    rng = np.random.default_rng(0)
    ratios = []
    for _ in range(3):
        grads, m = make(rng)
        n = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
        ratios.append(m / n)
    assert ratios[0] < 1 < ratios[1] and ratios[2] < 1


def _as_reader(mistake):
    """A mistake (which returns a flat tuple) in the reader's form (dict, norm)."""
    def fn(grads, max_norm):
        flat = mistake.fn(grads, max_norm)
        return dict(zip(ex._CLIP_KEYS, flat[:-1], strict=True)), float(flat[-1])
    return fn


@pytest.mark.parametrize("mistake", ex._CLIP_MISTAKES, ids=lambda m: m.name)
def test_clip_mistake_is_named(mistake):
    res = check_clip_global_norm(_as_reader(mistake))
    assert not res.passed
    assert res.mistake == mistake.name, (res.mistake, res.message)
    assert res.message == mistake.message


def test_clip_mistakes_are_distinct():
    make = ex._make_clip_inputs_factory()
    rng = np.random.default_rng(7)
    outs = {m.name: [] for m in ex._CLIP_MISTAKES}
    refs = []
    for _ in range(3):
        args = make(rng)
        refs.append(ex._reference_clip(*args))
        for m in ex._CLIP_MISTAKES:
            outs[m.name].append(m.fn(*args))

    def same(a, b):
        return all(all(np.allclose(p, q) for p, q in zip(x, y, strict=True))
                   for x, y in zip(a, b, strict=True))

    names = list(outs)
    for i, a in enumerate(names):
        assert not same(outs[a], refs), a
        for b in names[i + 1:]:
            assert not same(outs[a], outs[b]), (a, b)


def test_clip_stub_bad_return_and_input_untouched():
    def stub(grads, max_norm):
        raise NotImplementedError

    res = check_clip_global_norm(stub)
    assert not res.passed and "not attempted" in res.message
    res = check_clip_global_norm(lambda g, m: g)
    assert not res.passed and "return a pair" in res.message
    res = check_clip_global_norm(lambda g, m: ({"weight_ih_l0": g["weight_ih_l0"]}, 1.0))
    assert not res.passed and "keys" in res.message

    def in_place(grads, max_norm):  # the caller's gradients must survive (issue 13)
        clipped, n = clip_global_norm(grads, max_norm)
        for k in grads:
            grads[k] *= 0
        return clipped, n

    res = check_clip_global_norm(in_place)
    assert not res.passed and res.mistake == "in_place" and "`grads`" in res.message


def test_clip_failure_classes():
    """Issue 13's classes for the clipping checker: float32 accepted, others named."""
    def in_float32(grads, max_norm):
        return clip_global_norm({k: v.astype(np.float32) for k, v in grads.items()}, max_norm)

    assert check_clip_global_norm(in_float32).passed
    for wrong, words in [(lambda g, m: None, "return a pair"),
                         (lambda g, m: clip_global_norm(g, m)[0], "return a pair"),
                         (lambda g, m: (list(clip_global_norm(g, m)[0].values()), 1.0),
                          "return a pair"),
                         (lambda g, m: 1 / 0, "ZeroDivisionError")]:
        res = check_clip_global_norm(wrong)
        assert not res.passed and words in res.message, res.message
