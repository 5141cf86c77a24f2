"""Checker for the exercise of chapter {ref}`ch-long-range` on the selective-copy task.

- :func:`check_selective_copy_targets`: ``fn(x, n_copy) -> y``. Given the token ids ``x`` of a
  selective-copy batch, time-major ``(T + n_copy, B)`` as :func:`gru_lib.tasks.selective_copy`
  returns them (``0`` blank, ``1..K`` symbols, ``K + 1`` the recall marker), return the targets
  ``y`` of the same shape: ``-1`` (not scored) at the ``T`` context steps, and at the ``n_copy``
  recall steps the non-blank context symbols in their order of appearance.

Writing the labels from the inputs is the quickest way to see what the task asks of a model: it
must find the symbols wherever they are (not at fixed positions, as in the copy task) and keep
their order.
"""

from __future__ import annotations

import numpy as np

from gru_lib.exercises._core import CheckResult, Layout, Mistake, run_check
from gru_lib.exercises._progress import checked
from gru_lib.tasks import selective_copy

__all__ = ["check_selective_copy_targets"]

# T >= 32: NumPy's default argsort (introsort) is stable on short arrays only (insertion sort up
# to 16 elements), so an unstable sort of the context passes at T = 12 and fails here.
_B, _T, _N, _K = 6, 64, 8, 6


def _make_inputs(rng: np.random.Generator) -> tuple:
    x, _ = selective_copy(rng, _B, _T, n_symbols=_K, n_copy=_N)
    return x, _N


def _targets(x: np.ndarray, n_copy: int, *, order=lambda d: d, blank_target: int = -1,
             pick=None) -> np.ndarray:
    """The targets, with a switch for each known mistake; the defaults are the reference."""
    T = x.shape[0] - n_copy
    y = np.full_like(x, blank_target)
    for b in range(x.shape[1]):
        context = x[:T, b]
        data = context[context != 0] if pick is None else pick(context, n_copy)
        y[T:, b] = order(data)
    return y


def _reference(x, n_copy):
    return _targets(x, n_copy)


_MISTAKES = [
    Mistake("reversed", "the symbols come back in reverse order: selective copy asks for them in "
            "their order of appearance (first seen, first recalled)",
            lambda x, n: _targets(x, n, order=lambda d: d[::-1])),
    Mistake("sorted", "the symbols are sorted by value: keep the order in which they appear in "
            "the context", lambda x, n: _targets(x, n, order=np.sort)),
    Mistake("blank_zero", "the context steps have target 0 (the blank): they should be -1, the "
            "'not scored' value passed as ignore_index to the cross-entropy; only the recall "
            "steps are scored", lambda x, n: _targets(x, n, blank_target=0)),
    Mistake("first_n", "you copied the first n_copy context tokens, as in the copy-memory task; "
            "in selective copy the symbols sit at random positions among blanks",
            lambda x, n: _targets(x, n, pick=lambda c, k: c[:k])),
    Mistake("unstable_sort", "the symbols come back in a scrambled order: np.argsort's default "
            "sort (quicksort) is not stable, so positions with equal keys (all the non-blank "
            "ones) are not kept in their order once the context is longer than 16 steps. Use "
            "np.argsort(..., kind='stable'), or simply np.flatnonzero(context) / "
            "context[context != 0]",
            lambda x, n: _targets(x, n, pick=lambda c, k: c[np.argsort(c == 0)[:k]])),
    Mistake("last_n", "you copied the last n_copy context tokens; the symbols sit at random "
            "positions among blanks, so find the non-blank ones",
            lambda x, n: _targets(x, n, pick=lambda c, k: c[-k:])),
]


@checked("ex-ch10-targets")
def check_selective_copy_targets(fn) -> CheckResult:
    """Check ``fn(x, n_copy) -> y`` against the selective-copy labels on random batches.

    The batches have T = 64 context steps and 8 symbols to recall, long enough for an unstable
    sort of the context to scramble the symbols (it passes at T ≤ 16).
    """
    return run_check("selective-copy targets", fn, _reference, _make_inputs, ("y",), _MISTAKES,
                     rtol=0, atol=0, layout=Layout(time_axis={"y": 0}, recurrent=False))
