"""gru_lib.stats: Wilson intervals against published values, the criterion, times, lr choice."""

import math

import numpy as np
import pytest

from gru_lib.stats import (
    Criterion,
    select_lr,
    solved,
    summarize_times,
    time_to_solve,
    wilson_interval,
)

# (k, n) -> 95 % Wilson interval, as given by statsmodels' proportion_confint(method="wilson")
# and Brown, Cai & DasGupta (2001); 0/10 and 10/10 are the cases a 10-seed atlas hits most.
KNOWN = {
    (0, 10): (0.0, 0.27753),
    (1, 10): (0.017876, 0.40415),
    (5, 10): (0.23659, 0.76341),
    (10, 10): (0.72247, 1.0),
    (81, 263): (0.25529, 0.36621),
}


@pytest.mark.parametrize(("k", "n"), list(KNOWN))
def test_wilson_known_values(k, n):
    lo, hi = wilson_interval(k, n)
    assert lo == pytest.approx(KNOWN[k, n][0], abs=2e-5)
    assert hi == pytest.approx(KNOWN[k, n][1], abs=2e-5)


def test_wilson_properties():
    for n in (1, 3, 10, 50):
        for k in range(n + 1):
            lo, hi = wilson_interval(k, n)
            assert 0 <= lo <= k / n <= hi <= 1
            assert wilson_interval(n - k, n) == pytest.approx((1 - hi, 1 - lo), abs=1e-12)
    assert wilson_interval(5, 10, 0.99)[0] < wilson_interval(5, 10, 0.95)[0]


@pytest.mark.parametrize(("args", "exc"), [((11, 10), ValueError), ((0, 0), ValueError),
                                           ((-1, 10), ValueError), ((1.5, 10), TypeError)])
def test_wilson_bad_input(args, exc):
    with pytest.raises(exc, match="wilson_interval"):
        wilson_interval(*args)


def test_criterion_and_time_to_solve():
    c = Criterion(0.1)
    np.testing.assert_array_equal(solved([0.01, 0.02, np.nan, 0.5], 0.2, c),
                                  [True, True, False, False])
    assert time_to_solve([100, 200, 300], [0.5, 0.01, 0.0], 0.2, c) == 200
    assert math.isnan(time_to_solve([100, 200], [0.5, 0.4], 0.2, c))
    with pytest.raises(ValueError, match="threshold"):
        Criterion(1.5)
    with pytest.raises(ValueError, match="one metric per evaluation step"):
        time_to_solve([100], [0.1, 0.2], 0.2, c)


def test_summarize_times_censors_unsolved():
    s = summarize_times([100, 300, np.nan, np.nan], budget=2000)
    assert s["solved"] == 2 and s["n"] == 4
    assert s["q25"] == 100 and s["median"] == 300 and s["q75"] == math.inf
    assert summarize_times([np.nan] * 3, 2000)["median"] == math.inf


def test_select_lr_uses_validation_counts_then_median():
    assert select_lr({1e-3: (4, [0.1] * 10), 1e-2: (7, [0.5] * 10)}) == 1e-2
    assert select_lr({1e-3: (7, [0.3] * 10), 1e-2: (7, [0.2] * 10)}) == 1e-2
    assert select_lr({1e-3: (7, [0.2] * 10), 1e-2: (7, [0.2] * 10)}) == 1e-3
    assert select_lr({1e-3: (0, [np.nan] * 10), 1e-2: (0, [0.9] * 10)}) == 1e-2
    with pytest.raises(ValueError, match="at least one"):
        select_lr({})
