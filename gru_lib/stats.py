"""Statistics a sceptical reviewer accepts for many-seed training results (issue 11).

- :func:`wilson_interval`: the Wilson score interval for a success rate (Wilson 1927). Unlike the
  textbook ``p ± 1.96 √(p(1−p)/n)`` it never leaves ``[0, 1]`` and is not zero-width at 0/10 or
  10/10, which is exactly where small seed counts live (Brown, Cai & DasGupta 2001).
- :class:`Criterion` and :func:`solved`: a success criterion fixed *before* the runs: a model
  solves a task when its error is at most ``threshold`` times the error of the best memoryless
  predictor (``metric / baseline <= threshold``).
- :func:`time_to_solve` and :func:`summarize_times`: the first evaluation step at which the
  criterion holds on validation data, and its distribution over seeds (unsolved seeds are
  censored at the budget, never dropped).
- :func:`select_lr`: the learning rate chosen per model on the *validation* split.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Criterion", "select_lr", "solved", "summarize_times", "time_to_solve",
           "wilson_interval"]


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval for a binomial proportion.

    With ``p̂ = k/n`` and ``z`` the two-sided normal quantile of ``confidence`` (1.96 for 95 %)::

        centre = (p̂ + z²/2n) / (1 + z²/n),  half = z √(p̂(1−p̂)/n + z²/4n²) / (1 + z²/n)

    Args:
        successes: ``k``, an int in ``[0, n]``.
        n: number of trials (seeds), a positive int.
        confidence: in ``(0, 1)``.

    Returns:
        ``(low, high)``, with ``0 <= low <= k/n <= high <= 1``.
    """
    for name, v in (("successes", successes), ("n", n)):
        if not isinstance(v, int | np.integer) or isinstance(v, bool):
            raise TypeError(f"wilson_interval: {name} must be an int, got {type(v).__name__}")
    if n < 1 or not 0 <= successes <= n:
        raise ValueError(f"wilson_interval: need 0 <= successes <= n and n >= 1, got "
                         f"successes={successes}, n={n}")
    if not 0 < confidence < 1:
        raise ValueError(f"wilson_interval: confidence must be in (0, 1), got {confidence}")
    z = _normal_quantile(0.5 + confidence / 2)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = 0.0 if successes == 0 else max(0.0, centre - half)     # exact ends, not 1e-17
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


def _normal_quantile(q: float) -> float:
    """The standard normal quantile, by bisection on ``erf`` (exact to ~1e-12; no SciPy)."""
    lo, hi = -10.0, 10.0
    for _ in range(100):
        mid = (lo + hi) / 2
        if 0.5 * (1 + math.erf(mid / math.sqrt(2))) < q:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


@dataclass(frozen=True)
class Criterion:
    """Success: ``metric <= threshold * baseline`` (errors and MSEs: lower is better).

    The default 0.1 means "removes 90 % of the error the best memoryless predictor makes"; it is
    fixed before any run and stored with the results.
    """

    threshold: float = 0.1

    def __post_init__(self):
        if not (isinstance(self.threshold, int | float) and 0 < self.threshold < 1):
            raise ValueError(f"Criterion: threshold must be in (0, 1), got {self.threshold!r}")


def solved(metric, baseline: float, criterion: Criterion = Criterion()) -> np.ndarray:
    """Element-wise success: ``metric <= criterion.threshold * baseline`` (NaN: not solved)."""
    if not baseline > 0:
        raise ValueError(f"solved: baseline must be positive, got {baseline!r}")
    m = np.asarray(metric, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(np.isnan(m), False, m <= criterion.threshold * baseline)


def time_to_solve(eval_steps: Sequence[int], metrics, baseline: float,
                  criterion: Criterion = Criterion()) -> float:
    """The first evaluation step whose validation ``metric`` meets the criterion; NaN if none.

    ``eval_steps`` ``(E,)`` and ``metrics`` ``(E,)``: one model's validation curve.
    """
    ok = solved(metrics, baseline, criterion)
    if len(eval_steps) != len(ok):
        raise ValueError(f"time_to_solve: expected one metric per evaluation step "
                         f"({len(eval_steps)}), got {len(ok)}")
    hits = np.flatnonzero(ok)
    return float(eval_steps[hits[0]]) if hits.size else math.nan


def summarize_times(times, budget: int) -> dict:
    """Distribution of times to solve over seeds, with unsolved seeds censored at ``budget``.

    Returns ``{"n", "solved", "median", "q25", "q75"}``: quantiles of the censored sample
    (``math.inf`` where a quantile falls among the unsolved seeds, so a median is never claimed
    when half the seeds did not solve).
    """
    t = np.asarray(times, dtype=float)
    if t.ndim != 1 or t.size == 0:
        raise ValueError(f"summarize_times: expected a non-empty 1-D array of times, "
                         f"got shape {t.shape}")
    censored = np.where(np.isnan(t), math.inf, t)
    qs = {}
    for name, q in (("q25", 0.25), ("median", 0.5), ("q75", 0.75)):
        v = float(np.quantile(censored, q, method="inverted_cdf"))
        qs[name] = v if v <= budget else math.inf
    return {"n": int(t.size), "solved": int(np.sum(~np.isnan(t))), **qs}


def select_lr(val_results: dict) -> float:
    """The learning rate to report, chosen on validation data only.

    ``val_results`` maps each learning rate to ``(n_solved, final_metrics)``: the number of seeds
    that met the criterion on the validation split and their final validation metrics. The rule,
    fixed in advance: most seeds solved; among ties, the lowest median final validation metric;
    among ties, the smaller learning rate.
    """
    if not val_results:
        raise ValueError("select_lr: need results for at least one learning rate")

    def key(lr):
        n_solved, metrics = val_results[lr]
        m = np.asarray(metrics, dtype=float)
        med = float(np.median(np.where(np.isnan(m), np.inf, m)))
        return (-int(n_solved), med, float(lr))

    return min(val_results, key=key)
