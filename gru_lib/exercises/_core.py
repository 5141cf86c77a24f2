"""The machinery behind every auto-checked exercise in the book.

A checker runs the reader's function and the reference on the same random inputs. If they agree,
the exercise passes. If they do not, the checker does not stop at "fail": it runs a list of known
mistakes (each a deliberately wrong implementation with a sentence explaining the error) on the
same inputs, and if the reader's output matches one of them, it reports that sentence. So a reader
who wrote ``(1 - z) * h + z * n`` is told that the roles of ``z`` and ``1 - z`` are swapped, not
just that a number is off. When no known mistake matches, the difference is localised
(:mod:`gru_lib.exercises._explain`): which output, which time step, which gate block, a constant
factor, a sign, a transpose, a bias.

What a checker guards against, in the order :func:`run_check` tests it:

1. *The reader's function changing its inputs.* Every function (reader, reference, each known
   mistake) is called on its own deep copy of pristine inputs, and the reader's copies are compared
   with the pristine ones afterwards: ``np.tanh(a, out=h)`` or ``c *= f`` is reported as "your
   function changed ``h`` in place", and the mistakes are diagnosed on inputs nobody touched.
2. *Exceptions*, reported with the line of the reader's code that raised and a plain explanation
   (a shape mismatch in ``A @ B`` names both shapes and the likely transpose).
3. *The form of the answer*: ``None`` (a missing ``return``), a list where an array is expected,
   the wrong number of returned values, a wrong shape, NaN.
4. *Precision.* :class:`Float32` is the per-exercise policy: either float32 results are compared
   with a tolerance for float32, or they are refused with the reason the exercise needs float64.
5. *The values*, against the reference, then the known mistakes, then localisation.

A topic module (``gru_lib.exercises.rnn``, ``.gru``, ...) defines, per exercise, a reference, an
input generator and the list of :class:`Mistake` objects, and calls :func:`run_check`.
Every mistake is also a test case: ``tests/`` feeds each one to its checker and asserts that the
checker names it.
"""

from __future__ import annotations

import copy
import inspect
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from gru_lib.exercises._explain import describe_exception, localise

__all__ = ["CheckResult", "Float32", "Layout", "Mistake", "compare_outputs", "cycle_lengths",
           "run_check"]

# float32 carries ~7 significant digits: a correct float32 computation of a few dozen operations
# lands within a few hundred units of roundoff of the float64 reference.
_EPS32 = float(np.finfo(np.float32).eps)
_RTOL32, _ATOL32 = 200 * _EPS32, 200 * _EPS32


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
class Float32:
    """An exercise's float32 policy.

    ``Float32()`` accepts a float32 answer, compared with a tolerance scaled to float32's unit
    roundoff (relative and absolute ``200 u32 ≈ 2.4e-5``, the absolute part times the reference's
    largest magnitude). ``Float32(reason="...")`` refuses it and tells the reader why this exercise
    checks in float64.
    """

    reason: str | None = None

    @property
    def accepted(self) -> bool:
        return self.reason is None


@dataclass(frozen=True)
class Layout:
    """What the localiser needs to know about an exercise's arrays (all optional).

    ``time_axis``: output name -> the axis that is time (a difference is reported by time step).
    ``blocks``: output name -> (axis, gate letters), e.g. ``(0, "rzn")`` for ``dW_ih`` (3H, D).
    ``bias_args``: names of the bias inputs; when the difference disappears with zero biases it is
    reported as a bias error. ``sizes(args)``: named sizes (``{"B": 4, "T": 6}``) for naming a
    constant factor (1/B, 1/T). ``order``: output names in the order to compare them (the root
    quantity first, e.g. the norm before the arrays clipped with it). ``recurrent``: whether a
    difference that starts at some step suggests a wrongly carried state (not for labels).
    """

    time_axis: dict[str, int] = field(default_factory=dict)
    blocks: dict[str, tuple[int, str]] = field(default_factory=dict)
    bias_args: tuple[str, ...] = ()
    sizes: Callable[[tuple], dict[str, int]] | None = None
    order: tuple[str, ...] = ()
    recurrent: bool = True  # time-step words point at what is carried from step to step


@dataclass(frozen=True)
class CheckResult:
    """The verdict of a checker: ``passed`` and a message in words. Displays itself readably."""

    exercise: str
    passed: bool
    message: str
    mistake: str | None = None  # the name of the diagnosed Mistake (or failure class), if any
    label: str | None = None    # the exercise's label in the book, for hint()

    def __str__(self) -> str:
        mark = "PASSED" if self.passed else "NOT YET"
        text = f"[{mark}] {self.exercise}: {self.message}"
        if not self.passed and self.label and self.message != _NOT_ATTEMPTED:
            text += f" (stuck? gru_lib.exercises.hint({self.label!r}, 1))"
        return text

    def __repr__(self) -> str:  # notebooks show repr; keep it the same readable line
        return str(self)

    def __bool__(self) -> bool:
        return self.passed


# ------------------------------------------------------------------------------------------------
# Values: conversion, equality, inputs changed in place
# ------------------------------------------------------------------------------------------------

def _is_tensor(a) -> bool:
    return hasattr(a, "detach") and hasattr(a, "dtype")


def _to_numpy(a):
    if _is_tensor(a):  # torch tensor
        a = a.detach().cpu().numpy()
    return a


def _as_tuple(out, n_expected: int = 0) -> tuple:
    """The returned values as a tuple. A list counts as several values only when several are
    expected and the lengths agree (a list of rows is one wrong value, not many)."""
    if isinstance(out, tuple):
        return out
    if isinstance(out, list) and n_expected > 1 and len(out) == n_expected:
        return tuple(out)
    return (out,)


def _same(a, b) -> bool:
    """Exact equality of nested inputs (arrays, tensors, dicts, sequences, numbers)."""
    if _is_tensor(a) or isinstance(a, np.ndarray):
        a, b = _to_numpy(a), _to_numpy(b)
        return (isinstance(b, np.ndarray) and a.shape == b.shape and a.dtype == b.dtype
                and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")))
    if isinstance(a, dict):
        return (isinstance(b, dict) and a.keys() == b.keys()
                and all(_same(a[k], b[k]) for k in a))
    if isinstance(a, list | tuple):
        return (type(a) is type(b) and len(a) == len(b)
                and all(_same(p, q) for p, q in zip(a, b, strict=True)))
    if isinstance(a, int | float | complex | str | bytes | np.number) or a is None:
        return bool(a == b) or (a != a and b != b)  # NaN == NaN here
    return True  # another object (a model, a callable): not compared


def _arg_names(fns: Sequence[Callable], n: int) -> list[str]:
    """Names for the n positional inputs: the reader's own parameter names if they fit."""
    for fn in fns:
        try:
            params = [p for p in inspect.signature(fn).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        except (TypeError, ValueError):
            continue
        if len(params) >= n:
            return [p.name for p in params[:n]]
    return [f"argument {k + 1}" for k in range(n)]


def _changed_inputs(before: tuple, after: tuple, names: Sequence[str]) -> str | None:
    changed = [name for name, p, q in zip(names, before, after, strict=True) if not _same(p, q)]
    if not changed:
        return None
    shown = ", ".join(f"`{c}`" for c in changed)
    first = changed[0]
    if isinstance(before[list(names).index(first)], dict):
        how = f"`{first}[key] *= ...` or `{first}[key] = ...`"
        fix = "build a new dict (`{k: g * scale for k, g in grads.items()}`) and return it"
    else:
        how = f"`np.tanh(a, out={first})`, `{first} *= ...`, `{first}[...] = ...`, `+=`"
        fix = "compute into a new array and return it"
    return (f"your function changed {shown} in place (for example {how}); the caller still needs "
            f"its inputs: {fix}")


# ------------------------------------------------------------------------------------------------
# The form of the answer, and its values
# ------------------------------------------------------------------------------------------------

def _form_problem(got, want: tuple, names: Sequence[str]) -> str | None:
    """Words for an answer of the wrong form (None, a list, too few or too many values)."""
    k = len(want)
    listed = ", ".join(names)
    if got is None and not (k == 1 and want[0] is None):
        ret = f"return {listed}" if k > 1 else f"return {names[0]}"
        return (f"your function returned None: it has no `return` statement (or one path "
                f"through it returns nothing); end it with `{ret}`")
    if k > 1 and not isinstance(got, tuple | list):
        return (f"your function returned one {type(got).__name__}, expected {k} values "
                f"({listed}): return them as a tuple, `return {listed}`")
    if k > 1 and isinstance(got, list) and len(got) != k:
        return (f"your function returned a list of {len(got)} items, expected {k} values "
                f"({listed}): return them as a tuple, `return {listed}`")
    if k > 1 and isinstance(got, tuple) and len(got) != k:
        return f"your function returned {len(got)} value(s), expected {k}: ({listed})"
    if k == 1 and isinstance(got, tuple) and want[0] is not None:
        what = "array" if np.ndim(_to_numpy(want[0])) > 0 else "number"
        return (f"your function returned a tuple of {len(got)} value(s), expected one {what} "
                f"{names[0]}: return the {what} itself, not a tuple")
    return None


def _value_form(name: str, g, w) -> str | None:
    """Words for one value of the wrong type or shape, or None."""
    if w is None:
        return f"{name} should be None here" if g is not None else None
    shape = tuple(np.shape(_to_numpy(w)))
    if g is None:
        return f"{name} is None: compute it and return it (expected an array of shape {shape})"
    if isinstance(g, list | tuple):
        return (f"{name} is a Python {type(g).__name__}, expected a NumPy array of shape {shape}: "
                f"convert it with np.array(...) or build it with np.stack(...)")
    g = _to_numpy(g)
    if not shape and isinstance(g, int | float | np.number):
        return None
    if not isinstance(g, np.ndarray):
        return f"{name} should be an array of shape {shape}, got {type(g).__name__}"
    if g.shape != shape:
        return f"{name} has shape {g.shape}, expected {shape}"
    return None


def _tolerance(w, rtol: float, atol: float, float32: bool) -> tuple[float, float]:
    if not float32:
        return rtol, atol
    scale = float(np.max(np.abs(w))) if np.size(w) else 1.0
    return max(rtol, _RTOL32), max(atol, _ATOL32 * max(scale, 1.0))


def compare_outputs(got, want, names: Sequence[str], rtol: float = 1e-6,
                    atol: float = 1e-8, *, float32: bool = False,
                    order: Sequence[str] = ()) -> str | None:
    """Compare a candidate's outputs with the reference's. Return ``None`` if equal, else words.

    Checks, in order: the form of the answer (None, a list, the number of values), each value's
    type (an array) and shape (the most common first mistake, reported with the expected and actual
    shapes), then its values. ``names`` names each returned value as the exercise text does
    ("h_next", "dW_hh", ...); ``order`` lists names to compare first (the root quantity).
    ``float32`` widens the tolerance to float32's roundoff.
    """
    want = _as_tuple(want)
    problem = _form_problem(got, want, names)
    if problem:
        return problem
    got = _as_tuple(got, len(want))
    for name, g, w in zip(names, got, want, strict=True):
        problem = _value_form(name, g, w)
        if problem:
            return problem
    idx = sorted(range(len(want)), key=lambda i: (names[i] not in order,
                                                  order.index(names[i]) if names[i] in order
                                                  else i))
    for i in idx:
        if want[i] is None:
            continue
        g = np.asarray(_to_numpy(got[i]), dtype=np.float64)
        w = np.asarray(_to_numpy(want[i]), dtype=np.float64)
        if not np.all(np.isfinite(g)) and np.all(np.isfinite(w)):
            return f"{names[i]} contains NaN or infinity"
        r, a = _tolerance(w, rtol, atol, float32)
        if not np.allclose(g, w, rtol=r, atol=a):
            err = float(np.max(np.abs(g - w)))
            return f"{names[i]} differs from the reference (largest absolute difference {err:.3g})"
    return None


def _matches(got, want, rtol: float, atol: float, float32: bool = False) -> bool:
    want = _as_tuple(want)
    if _form_problem(got, want, ["v"] * len(want)):
        return False
    got = _as_tuple(got, len(want))
    for g, w in zip(got, want, strict=True):
        if w is None or g is None:
            if (w is None) != (g is None):
                return False
            continue
        g, w = _to_numpy(g), _to_numpy(w)
        if not isinstance(g, np.ndarray | int | float | np.number) or np.shape(g) != np.shape(w):
            return False
        r, a = _tolerance(w, rtol, atol, float32)
        if not np.allclose(np.asarray(g, dtype=np.float64), np.asarray(w, dtype=np.float64),
                           rtol=r, atol=a):
            return False
    return True


def _has_float32(got) -> bool:
    vals = got if isinstance(got, tuple | list) else (got,)
    return any(str(getattr(v, "dtype", "")) in ("float32", "torch.float32") for v in vals)


def cycle_lengths(make: Callable, lengths: Sequence[int]) -> Callable[[np.random.Generator], tuple]:
    """An input generator whose successive trials use sequence lengths ``lengths`` in turn.

    Mistakes in how time is indexed (a hard-coded length, an off-by-one, an unstable sort) may
    only show on long sequences, so every checker that indexes time includes a T >= 32 trial.
    """
    k = itertools.count()
    return lambda rng: make(rng, lengths[next(k) % len(lengths)])


# ------------------------------------------------------------------------------------------------
# The check
# ------------------------------------------------------------------------------------------------

_NOT_ATTEMPTED = ("not attempted yet: replace the `raise NotImplementedError` with your "
                  "implementation")


def call_reader(exercise: str, candidate: Callable, args: tuple, names: Sequence[str]
                ) -> tuple[object, CheckResult | None]:
    """Call the reader's function on a deep copy of ``args``: (its output, or a verdict).

    The verdict is set when the function raised (reported with the reader's line) or changed an
    input in place; otherwise it is ``None`` and the output is the function's return value.
    """
    mine = copy.deepcopy(args)
    try:
        got = candidate(*mine)
    except NotImplementedError:
        return None, CheckResult(exercise, False, _NOT_ATTEMPTED)
    except Exception as exc:  # the reader's code: report it, never crash the notebook
        return None, CheckResult(exercise, False, describe_exception(exc))
    changed = _changed_inputs(args, mine, names)
    if changed:
        return got, CheckResult(exercise, False, changed, mistake="in_place")
    return got, None


def run_check(exercise: str, candidate: Callable, reference: Callable,
              make_inputs: Callable[[np.random.Generator], tuple],
              output_names: Sequence[str], mistakes: Sequence[Mistake] = (), *,
              trials: int = 3, seed: int = 0, rtol: float = 1e-6,
              atol: float = 1e-8, float32: Float32 = Float32(),
              layout: Layout = Layout(), input_names: Sequence[str] | None = None
              ) -> CheckResult:
    """Run ``candidate`` against ``reference`` on ``trials`` random inputs; explain any mismatch.

    ``make_inputs(rng)`` returns the positional arguments for one call. Every function runs on its
    own deep copy of them. A candidate that raises ``NotImplementedError`` (the scaffold the book
    hands out) is reported as not attempted, so an unsolved exercise never breaks a notebook; any
    other exception is reported with the line of the reader's code and a plain explanation.
    ``float32`` is the exercise's float32 policy, ``layout`` what the localiser may use.
    """
    if not callable(candidate):
        raise TypeError(f"{exercise}: expected a function to check, got {type(candidate).__name__}")
    rng = np.random.default_rng(seed)
    for _ in range(trials):
        args = make_inputs(rng)
        names = list(input_names) if input_names else _arg_names((candidate, reference),
                                                                 len(args))
        want = reference(*copy.deepcopy(args))
        got, verdict = call_reader(exercise, candidate, args, names)
        if verdict is not None:
            return verdict
        is32 = _has_float32(got)
        if is32 and not float32.accepted:
            return CheckResult(exercise, False, f"your function computed in float32; this "
                               f"exercise checks in float64 because {float32.reason}. Keep the "
                               f"inputs' dtype (float64): no np.float32, no torch.tensor(list) "
                               f"(float32 by default)", mistake="float32")
        problem = compare_outputs(got, want, output_names, rtol=rtol, atol=atol,
                                  float32=is32 and float32.accepted, order=layout.order)
        if problem is None:
            continue
        for m in mistakes:
            try:
                wrong = m.fn(*copy.deepcopy(args))
            except Exception:  # a mistake that cannot run on these inputs cannot match
                continue
            if _matches(got, wrong, rtol, atol, float32=is32):
                return CheckResult(exercise, False, m.message, mistake=m.name)
        if not is32 and _matches(got, want, rtol, atol, float32=True):
            return CheckResult(exercise, False, (
                "your values agree with the reference only to float32 precision (about 7 "
                "digits): somewhere your function computes in float32 (np.float32, "
                "torch.tensor(list), .float()) and converts back. "
                + ("Compute in float64 throughout, or return float32 arrays, which this "
                   "exercise accepts" if float32.accepted else
                   f"This exercise checks in float64 because {float32.reason}")),
                mistake="float32")
        if problem.startswith(tuple(f"{n} differs" for n in output_names)):
            problem = localise(candidate, reference, args, got, want, output_names, names,
                               layout, rtol, atol, default=problem)
        return CheckResult(exercise, False, problem)
    return CheckResult(exercise, True, f"matches the reference on {trials} random inputs")
