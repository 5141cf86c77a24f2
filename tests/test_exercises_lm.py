"""The language-model exercise checkers (chapter 11): the reference passes and agrees with an
independent computation, every known mistake is named, an untouched scaffold is reported as not
attempted."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gru_lib.exercises import lm as ex
from gru_lib.exercises.lm import check_perplexity, check_temperature_probs


def test_reference_perplexity_matches_cross_entropy():
    logits, targets = ex._make_ppl_inputs(np.random.default_rng(5))
    want = math.exp(F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                    targets.reshape(-1)).item())
    assert abs(ex._reference_perplexity(logits, targets) - want) < 1e-10


def test_uniform_logits_give_vocabulary_size():
    logits = torch.zeros(5, 3, 17, dtype=torch.float64)
    targets = torch.randint(0, 17, (5, 3))
    assert abs(ex._reference_perplexity(logits, targets) - 17) < 1e-10


def test_perplexity_reference_passes_and_float_return_is_fine():
    res = check_perplexity(ex._reference_perplexity)
    assert res.passed and str(res).startswith("[PASSED]")
    res = check_perplexity(lambda lg, tg: torch.tensor(ex._reference_perplexity(lg, tg)))
    assert res.passed


@pytest.mark.parametrize("mistake", ex._PPL_MISTAKES, ids=lambda m: m.name)
def test_perplexity_mistake_is_named(mistake):
    res = check_perplexity(mistake.fn)
    assert not res.passed
    assert res.mistake == mistake.name, (res.mistake, res.message)
    assert res.message == mistake.message


def test_perplexity_mistakes_are_distinct():
    args = ex._make_ppl_inputs(np.random.default_rng(3))
    ref = ex._reference_perplexity(*args)
    outs = [m.fn(*args) for m in ex._PPL_MISTAKES]
    for i, a in enumerate(outs):
        assert not np.isclose(a, ref)
        for b in outs[i + 1:]:
            assert not np.isclose(a, b)


def test_perplexity_scaffold_not_attempted():
    def scaffold(logits, targets):
        raise NotImplementedError

    res = check_perplexity(scaffold)
    assert not res.passed and "not attempted" in res.message


def test_reference_temperature_is_tempered_softmax():
    logits = torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.float64)
    p = ex._reference_temperature(logits, 0.5).numpy()
    e = np.exp(np.array([2.0, 4.0, 6.0]) - 6.0)
    np.testing.assert_allclose(p[0], e / e.sum(), rtol=1e-12)


def test_temperature_reference_passes():
    assert check_temperature_probs(ex._reference_temperature).passed

    def numpy_version(logits, tau):
        a = logits.numpy() / tau
        a = np.exp(a - a.max(axis=-1, keepdims=True))
        return a / a.sum(axis=-1, keepdims=True)

    assert check_temperature_probs(numpy_version).passed


@pytest.mark.parametrize("mistake", ex._TEMP_MISTAKES, ids=lambda m: m.name)
def test_temperature_mistake_is_named(mistake):
    res = check_temperature_probs(mistake.fn)
    assert not res.passed
    assert res.mistake == mistake.name, (res.mistake, res.message)


def test_temperature_overflow_is_named():
    def naive(logits, tau):
        e = torch.exp(logits / tau)
        return e / e.sum(-1, keepdim=True)

    res = check_temperature_probs(naive)
    assert not res.passed
    assert "overflows" in res.message and "maximum" in res.message


def test_temperature_scaffold_not_attempted():
    def scaffold(logits, tau):
        raise NotImplementedError

    res = check_temperature_probs(scaffold)
    assert not res.passed and "not attempted" in res.message
