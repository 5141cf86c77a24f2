"""The chapter 5 checker (gru_lib.exercises.gating): the reference is the chapter's gated step
(and torch agrees), every known mistake is named, the scaffold is 'not attempted'."""

import numpy as np
import pytest
import torch

from gru_lib.exercises import gating as ex


def test_reference_matches_the_chapter_formula_in_torch():
    x, h, p = ex._make_inputs(np.random.default_rng(0))
    t = {k: torch.from_numpy(v) for k, v in p.items()}
    for b in range(x.shape[0]):  # the chapter's gated_step, column vectors, one at a time
        xb, hb = torch.from_numpy(x[b]), torch.from_numpy(h[b])
        z = torch.sigmoid(t["W_iz"] @ xb + t["W_hz"] @ hb + t["b_z"])
        n = torch.tanh(t["W_in"] @ xb + t["W_hn"] @ hb + t["b_n"])
        want = z * hb + (1 - z) * n
        np.testing.assert_allclose(ex.gated_step_reference(x, h, p)[b], want.numpy(), atol=1e-14)


def test_reference_passes_and_scaffold_not_attempted():
    assert ex.check_gated_step(ex.gated_step_reference).passed

    def gated_step(x, h, p):
        raise NotImplementedError

    res = ex.check_gated_step(gated_step)
    assert str(res) == ("[NOT YET] gated integrator step: not attempted yet: replace the "
                        "`raise NotImplementedError` with your implementation")


@pytest.mark.parametrize("mistake", ex.GATED_STEP_MISTAKES, ids=lambda m: m.name)
def test_each_mistake_is_named(mistake):
    res = ex.check_gated_step(mistake.fn)
    assert not res.passed and res.mistake == mistake.name, res.message
    assert res.message == mistake.message


def test_mistakes_are_distinct():
    args = ex._make_inputs(np.random.default_rng(5))
    outs = [np.asarray(m.fn(*args)) for m in ex.GATED_STEP_MISTAKES]
    ref = ex.gated_step_reference(*args)
    for i, a in enumerate(outs):
        assert a.shape != ref.shape or not np.allclose(a, ref)
        for b in outs[i + 1:]:
            assert a.shape != b.shape or not np.allclose(a, b)


def test_changing_the_parameter_dict_is_reported():
    def gated_step(x, h, p):
        p["W_hz"] = p["W_hz"].T.copy()     # "fixing" the layout in the caller's dict
        return ex._gated(x, h, p, t_hz=False)

    res = ex.check_gated_step(gated_step)
    assert res.mistake == "in_place" and "`p`" in res.message


def test_solution_for_the_book_passes():
    def my_gated_step(x, h, p):
        z = 1 / (1 + np.exp(-(x @ p["W_iz"].T + h @ p["W_hz"].T + p["b_z"])))
        n = np.tanh(x @ p["W_in"].T + h @ p["W_hn"].T + p["b_n"])
        return z * h + (1 - z) * n

    assert ex.check_gated_step(my_gated_step).passed
