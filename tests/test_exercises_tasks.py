"""The chapter 10 checker: the reference passes and agrees with gru_lib.tasks, every mistake is
named, the scaffold is reported as not attempted."""

import numpy as np
import pytest

from gru_lib import tasks
from gru_lib.exercises import tasks as ex
from gru_lib.exercises.tasks import check_selective_copy_targets


def test_reference_matches_generator():
    x, y = tasks.selective_copy(np.random.default_rng(0), 7, 15, n_symbols=5, n_copy=4)
    np.testing.assert_array_equal(ex._reference(x, 4), y)


def test_reference_passes():
    result = check_selective_copy_targets(ex._reference)
    assert result.passed and "PASSED" in str(result)


@pytest.mark.parametrize("mistake", ex._MISTAKES, ids=lambda m: m.name)
def test_every_mistake_is_named(mistake):
    result = check_selective_copy_targets(mistake.fn)
    assert not result.passed
    assert result.mistake == mistake.name
    assert result.message == mistake.message


def test_scaffold_is_not_attempted():
    def scaffold(x, n_copy):
        raise NotImplementedError

    result = check_selective_copy_targets(scaffold)
    assert not result.passed and "not attempted" in str(result)


def test_wrong_shape_is_reported():
    result = check_selective_copy_targets(lambda x, n: x.T)
    assert not result.passed and "shape" in result.message


def test_unstable_argsort_is_rejected_at_large_T():
    """Issue 13: np.argsort's default sort is stable only up to 16 elements; at T = 64 it is not."""
    def unstable(x, n_copy):
        T = x.shape[0] - n_copy
        y = np.full_like(x, -1)
        for b in range(x.shape[1]):
            ctx = x[:T, b]
            y[T:, b] = ctx[np.argsort(ctx == 0)[:n_copy]]
        return y

    def stable(x, n_copy):
        T = x.shape[0] - n_copy
        y = np.full_like(x, -1)
        for b in range(x.shape[1]):
            ctx = x[:T, b]
            y[T:, b] = ctx[np.argsort(ctx == 0, kind="stable")[:n_copy]]
        return y

    assert ex._make_inputs(np.random.default_rng(0))[0].shape[0] - ex._N >= 32
    res = check_selective_copy_targets(unstable)
    assert not res.passed and res.mistake == "unstable_sort", res.message
    assert check_selective_copy_targets(stable).passed
