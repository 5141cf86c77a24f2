"""The machinery behind every auto-checked exercise in the book.

A checker runs the reader's function and the reference on the same random inputs. If they agree,
the exercise passes. If they do not, the checker does not stop at "fail": it runs a list of known
mistakes (each a deliberately wrong implementation with a sentence explaining the error) on the
same inputs, and if the reader's output matches one of them, it reports that sentence. So a reader
who wrote ``(1 - z) * h + z * n`` is told that the roles of ``z`` and ``1 - z`` are swapped, not
just that a number is off.

A topic module (``gru_lib.exercises.rnn``, ``.gru``, ...) defines, per exercise, a reference, an
input generator and the list of :class:`Mistake` objects, and calls :func:`run_check`.
Every mistake is also a test case: ``tests/`` feeds each one to its checker and asserts that the
checker names it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["CheckResult", "Mistake", "compare_outputs", "run_check"]


@dataclass(frozen=True)
class Mistake:
    """A known wrong implementation and the explanation a reader should get when they make it.

    ``fn`` has the same signature as the reference. ``message`` is a full sentence in the reader's
    terms ("the reset gate is applied to h before the matrix product (Cho et al. 2014), but this
    exercise asks for PyTorch's convention: after it").
    """

    name: str
    message: str
    fn: Callable


@dataclass(frozen=True)
class CheckResult:
    """The verdict of a checker: ``passed`` and a message in words. Displays itself readably."""

    exercise: str
    passed: bool
    message: str
    mistake: str | None = None  # the name of the diagnosed Mistake, if any

    def __str__(self) -> str:
        mark = "PASSED" if self.passed else "NOT YET"
        return f"[{mark}] {self.exercise}: {self.message}"

    def __repr__(self) -> str:  # notebooks show repr; keep it the same readable line
        return str(self)

    def __bool__(self) -> bool:
        return self.passed


def _as_tuple(out) -> tuple:
    return tuple(out) if isinstance(out, tuple | list) else (out,)


def _to_numpy(a):
    if hasattr(a, "detach"):  # torch tensor
        a = a.detach().cpu().numpy()
    return a


def compare_outputs(got, want, names: Sequence[str], rtol: float = 1e-6,
                    atol: float = 1e-8) -> str | None:
    """Compare a candidate's outputs with the reference's. Return ``None`` if equal, else words.

    Checks, in order: the number of returned values, each value's type (an array), its shape (the
    most common first mistake, reported with the expected and actual shapes), then its values.
    ``names`` names each returned value as the exercise text does ("h_next", "dW_hh", ...).
    """
    got, want = _as_tuple(got), _as_tuple(want)
    if len(got) != len(want):
        return (f"your function returned {len(got)} value(s), expected {len(want)}: "
                f"({', '.join(names)})")
    for name, g, w in zip(names, got, want, strict=True):
        if w is None:
            if g is not None:
                return f"{name} should be None here"
            continue
        g = _to_numpy(g)
        if not isinstance(g, np.ndarray):
            return (f"{name} should be an array of shape {tuple(np.shape(w))}, "
                    f"got {type(g).__name__}")
        if g.shape != np.shape(w):
            return f"{name} has shape {g.shape}, expected {tuple(np.shape(w))}"
        if not np.all(np.isfinite(g)):
            return f"{name} contains NaN or infinity"
        if not np.allclose(g, _to_numpy(w), rtol=rtol, atol=atol):
            err = float(np.max(np.abs(g - _to_numpy(w))))
            return f"{name} differs from the reference (largest absolute difference {err:.3g})"
    return None


def _matches(got, want, rtol: float, atol: float) -> bool:
    got, want = _as_tuple(got), _as_tuple(want)
    if len(got) != len(want):
        return False
    for g, w in zip(got, want, strict=True):
        if w is None or g is None:
            if (w is None) != (g is None):
                return False
            continue
        g, w = _to_numpy(g), _to_numpy(w)
        if not isinstance(g, np.ndarray) or g.shape != np.shape(w):
            return False
        if not np.allclose(g, w, rtol=rtol, atol=atol):
            return False
    return True


def run_check(exercise: str, candidate: Callable, reference: Callable,
              make_inputs: Callable[[np.random.Generator], tuple],
              output_names: Sequence[str], mistakes: Sequence[Mistake] = (), *,
              trials: int = 3, seed: int = 0, rtol: float = 1e-6,
              atol: float = 1e-8) -> CheckResult:
    """Run ``candidate`` against ``reference`` on ``trials`` random inputs; explain any mismatch.

    ``make_inputs(rng)`` returns the positional arguments for one call. A candidate that raises
    ``NotImplementedError`` (the scaffold the book hands out) is reported as not attempted, so an
    unsolved exercise never breaks a notebook. Any other exception is reported by type and message.
    """
    if not callable(candidate):
        raise TypeError(f"{exercise}: expected a function to check, got {type(candidate).__name__}")
    rng = np.random.default_rng(seed)
    for _ in range(trials):
        args = make_inputs(rng)
        want = reference(*args)
        try:
            got = candidate(*args)
        except NotImplementedError:
            return CheckResult(exercise, False, "not attempted yet: replace the "
                               "`raise NotImplementedError` with your implementation")
        except Exception as exc:  # the reader's code: report it, never crash the notebook
            return CheckResult(exercise, False,
                               f"your function raised {type(exc).__name__}: {exc}")
        problem = compare_outputs(got, want, output_names, rtol=rtol, atol=atol)
        if problem is None:
            continue
        for m in mistakes:
            try:
                wrong = m.fn(*args)
            except Exception:  # a mistake that cannot run on these inputs cannot match
                continue
            if _matches(got, wrong, rtol, atol):
                return CheckResult(exercise, False, m.message, mistake=m.name)
        return CheckResult(exercise, False, problem)
    return CheckResult(exercise, True, f"matches the reference on {trials} random inputs")
