"""Checkers for the exercises of Part IV: what an RNN costs ({ref}`ch-cost`) and the parallel scan
({ref}`ch-mingru`).

- :func:`check_weight_gradient`: ``fn(d_g, x) -> (dW, db)``, the weight and bias gradients of
  the input projection ``g_t = x_t W^T + b`` summed over all time steps, as *one* matrix product
  over the ``T·B`` rows (chapter 13, the restructuring behind FastGRU). ``d_g`` (T, B, K),
  ``x`` (T, B, D) → ``dW`` (K, D), ``db`` (K,).
- :func:`check_linear_scan`: ``fn(a, b, h0) -> h``, all states of the linear recurrence
  ``h_t = a_t ⊙ h_{t−1} + b_t`` by a loop over time (chapter 14, equation ``eq-ch14-linrec``).
  ``a``, ``b`` (T, B, H), ``h0`` (B, H) → ``h`` (T, B, H) (``h_1 … h_T``, without ``h_0``).
- :func:`check_doubling_scan`: the same contract, computed by the doubling (Hillis–Steele)
  prefix scan with the associative operator ``(a, b) ∘ (a', b') = (a a', a' b + b')``
  in ``⌈log2 T⌉`` vectorised rounds. Besides the values, the checker verifies that the reader's
  function does not loop over time, by behaviour: the number of Python lines it executes at
  T = 64, 256, 1024 must not grow like T (:mod:`gru_lib.exercises._behaviour`), so a loop is
  caught however it indexes time (``a[t]``, ``a[t, ...]``, ``a[t:t+1]``, ``np.take``, torch).

Float32 policy: the scans are checked in float64 only (the chapter measures float32's error
separately); the weight gradient accepts float32 with a float32 tolerance.
"""

from __future__ import annotations

import math

import numpy as np

from gru_lib.exercises._behaviour import grows_with_T
from gru_lib.exercises._core import (
    CheckResult,
    Float32,
    Layout,
    Mistake,
    cycle_lengths,
    run_check,
)
from gru_lib.exercises._explain import describe_exception
from gru_lib.exercises._progress import checked

__all__ = ["check_doubling_scan", "check_linear_scan", "check_weight_gradient",
           "reference_doubling_scan", "reference_linear_scan"]

_T, _B, _K, _D, _H = 7, 3, 6, 4, 5


# ------------------------------------------------------------------------------------------------
# Chapter 13: weight gradients after the loop
# ------------------------------------------------------------------------------------------------

def _make_grad_inputs(rng: np.random.Generator, T: int = _T) -> tuple:
    return rng.normal(size=(T, _B, _K)), rng.normal(size=(T, _B, _D))


def _reference_weight_gradient(d_g, x):
    T, B, K = d_g.shape
    rows_g, rows_x = d_g.reshape(T * B, K), x.reshape(T * B, -1)
    return rows_g.T @ rows_x, rows_g.sum(axis=0)


def _wg_last_step_only(d_g, x):
    return d_g[-1].T @ x[-1], d_g[-1].sum(axis=0)


def _wg_first_step_only(d_g, x):
    return d_g[0].T @ x[0], d_g[0].sum(axis=0)


def _wg_mean(d_g, x):
    dW, db = _reference_weight_gradient(d_g, x)
    n = d_g.shape[0] * d_g.shape[1]
    return dW / n, db / n


def _wg_bias_time_only(d_g, x):
    dW, _ = _reference_weight_gradient(d_g, x)
    return dW, d_g.sum(axis=(0, 1)) / d_g.shape[1]


def _wg_time_mismatch(d_g, x):
    """Pairs the gradient of step t with the input of step t − 1 (an off-by-one shift)."""
    T, B, K = d_g.shape
    xs = np.roll(x, 1, axis=0)
    return d_g.reshape(T * B, K).T @ xs.reshape(T * B, -1), d_g.reshape(T * B, K).sum(axis=0)


_WG_MISTAKES = (
    Mistake("last_step_only", "only the last time step's gradient is used: the weights are shared "
            "by all T steps, so dW sums the contributions of every step (reshape d_g and x to "
            "(T·B, ·) rows first)", _wg_last_step_only),
    Mistake("first_step_only", "only the first time step's gradient is used: the weights are "
            "shared by all T steps, so dW sums the contributions of every step",
            _wg_first_step_only),
    Mistake("mean_not_sum", "the gradient is averaged over the T·B rows; the chain rule sums them "
            "(any averaging belongs in the loss, not here)", _wg_mean),
    Mistake("bias_not_summed_over_batch", "dW is right but db is averaged over the batch: the bias "
            "is added to every row, so its gradient is the plain sum over time and batch",
            _wg_bias_time_only),
    Mistake("time_shift", "step t's gradient is paired with the input of another step: row t of "
            "d_g must meet row t of x (reshape both the same way)", _wg_time_mismatch),
)


@checked("ex-ch13-4")
def check_weight_gradient(fn) -> CheckResult:
    """Check ``fn(d_g, x) -> (dW, db)`` against ``dW = Σ_t d_g[t]^T x[t]``, ``db = Σ_{t,b} d_g``.

    Besides the values (at T = 7 and T = 64), the exercise's rule "one product, not a loop over t"
    is checked by behaviour: ``fn`` runs at T = 8, 64 and 512 under a line tracer, and a number of
    executed Python lines that grows with T is reported as a loop over time.
    """
    name = "weight gradient after the loop"
    layout = Layout(sizes=lambda a: {"T": a[0].shape[0], "B": a[0].shape[1]})
    for T in (_T, 64):
        res = run_check(name, fn, _reference_weight_gradient,
                        lambda rng, n=T: _make_grad_inputs(rng, n), ("dW", "db"), _WG_MISTAKES,
                        layout=layout, seed=T, trials=3 if T == _T else 1)
        if not res.passed:
            return res
    try:
        loops, counts = grows_with_T(
            fn, lambda n: _make_grad_inputs(np.random.default_rng(n), n), (8, 64, 512))
    except Exception as exc:
        return CheckResult(name, False, describe_exception(exc))
    if loops:
        return CheckResult(name, False, _loop_message(
            counts, "Reshape d_g to (T·B, K) and x to (T·B, D) and use ONE product, "
                    "rows_g.T @ rows_x: the same sum, computed by one large matrix product"),
            mistake="loops_over_time")
    return CheckResult(name, True, "matches the reference at T = 7 and T = 64, with no loop over "
                       "time")


# ------------------------------------------------------------------------------------------------
# Chapter 14: the linear recurrence, sequentially and by the doubling scan
# ------------------------------------------------------------------------------------------------

def _make_scan_inputs(rng: np.random.Generator, T: int = _T) -> tuple:
    a = rng.uniform(0.2, 0.95, size=(T, _B, _H))
    b = rng.normal(size=(T, _B, _H))
    h0 = rng.normal(size=(_B, _H))          # negative entries too: a real initial state
    return a, b, h0


def reference_linear_scan(a, b, h0):
    """``h_t = a_t h_{t−1} + b_t`` for t = 1..T, by a loop (the definition)."""
    h, out = h0, np.empty_like(b)
    for t in range(a.shape[0]):
        h = a[t] * h + b[t]
        out[t] = h
    return out


def reference_doubling_scan(a, b, h0):
    """The same states in ⌈log2 T⌉ rounds of the doubling scan (Hillis & Steele; Blelloch 1990).

    After the round with offset d, ``(A[t], Bc[t])`` composes the steps ``t−2d+1 … t`` (clipped at
    the start): ``h_t = A[t] h_{t−2d} + Bc[t]``. When ``2d ≥ T`` every prefix is complete.
    """
    A, Bc = a.copy(), b.copy()
    T, d = a.shape[0], 1
    while d < T:
        # compose (A[t-d], Bc[t-d]) (earlier) with (A[t], Bc[t]) (later): (a a', a' b + b')
        Bc = np.concatenate([Bc[:d], A[d:] * Bc[:-d] + Bc[d:]])
        A = np.concatenate([A[:d], A[d:] * A[:-d]])
        d *= 2
    return A * h0 + Bc


def _scan_ignores_h0(a, b, h0):
    return reference_linear_scan(a, b, np.zeros_like(h0))


def _scan_b_inside(a, b, h0):
    h, out = h0, np.empty_like(b)
    for t in range(a.shape[0]):
        h = a[t] * (h + b[t])
        out[t] = h
    return out


def _scan_shifted_a(a, b, h0):
    h, out = h0, np.empty_like(b)
    for t in range(a.shape[0]):
        h = (a[t - 1] if t > 0 else 1.0) * h + b[t]
        out[t] = h
    return out


def _scan_convex(a, b, h0):
    h, out = h0, np.empty_like(b)
    for t in range(a.shape[0]):
        h = a[t] * h + (1 - a[t]) * b[t]
        out[t] = h
    return out


def _scan_exclusive(a, b, h0):
    """Returns h_0 … h_{T−1} (an exclusive scan) instead of h_1 … h_T."""
    full = reference_linear_scan(a, b, h0)
    return np.concatenate([h0[None], full[:-1]])


_SCAN_MISTAKES = (
    Mistake("ignores_h0", "the initial state h0 is ignored (the recurrence starts from zero); "
            "h0 enters as A_t h0 with A_t the product a_1 ⋯ a_t", _scan_ignores_h0),
    Mistake("b_inside", "b_t is multiplied by a_t: the recurrence is a_t h_{t−1} + b_t, "
            "with b_t added after the product", _scan_b_inside),
    Mistake("shifted_a", "step t uses a_{t−1}: a_t and b_t belong to the same step t",
            _scan_shifted_a),
    Mistake("convex", "b_t is scaled by 1 − a_t: that is the minGRU form with b_t = z_t v_t "
            "already folded in; here b_t is added as it is", _scan_convex),
    Mistake("exclusive", "the output is h_0 … h_{T−1} (shifted by one step): return h_1 … h_T, "
            "the state after each input, as torch.nn does", _scan_exclusive),
)


def _doubling_no_a_update(a, b, h0):
    A, Bc = a.copy(), b.copy()
    T, d = a.shape[0], 1
    while d < T:
        Bc = np.concatenate([Bc[:d], A[d:] * Bc[:-d] + Bc[d:]])
        d *= 2
    return A * h0 + Bc


def _doubling_wrong_order(a, b, h0):
    A, Bc = a.copy(), b.copy()
    T, d = a.shape[0], 1
    while d < T:
        Bc = np.concatenate([Bc[:d], A[:-d] * Bc[d:] + Bc[:-d]])
        A = np.concatenate([A[:d], A[d:] * A[:-d]])
        d *= 2
    return A * h0 + Bc


def _doubling_one_round_short(a, b, h0):
    A, Bc = a.copy(), b.copy()
    T, d = a.shape[0], 1
    while 2 * d < T:
        Bc = np.concatenate([Bc[:d], A[d:] * Bc[:-d] + Bc[d:]])
        A = np.concatenate([A[:d], A[d:] * A[:-d]])
        d *= 2
    return A * h0 + Bc


def _doubling_no_h0(a, b, h0):
    return reference_doubling_scan(a, b, np.zeros_like(h0))


_DOUBLING_MISTAKES = (
    Mistake("no_a_update", "the combined a is not updated between rounds: after each round A[t] "
            "must become A[t] · A[t−d], the product of all a's the segment spans",
            _doubling_no_a_update),
    Mistake("wrong_order", "the operator is applied in the wrong order: the earlier segment "
            "(t−d) is the one multiplied by the later segment's a, (a, b) ∘ (a', b') = "
            "(a a', a' b + b')", _doubling_wrong_order),
    Mistake("one_round_short", "the loop stops one round early: keep doubling while d < T, so "
            "that the last round reaches back to step 1", _doubling_one_round_short),
    Mistake("no_h0", "the initial state is left out: add A_t ⊙ h0, with A_t the full prefix "
            "product, after the scan", _doubling_no_h0),
) + tuple(m for m in _SCAN_MISTAKES if m.name != "ignores_h0")


@checked("ex-ch14-3")
def check_linear_scan(fn) -> CheckResult:
    """Check ``fn(a, b, h0) -> h`` (T, B, H) against the loop ``h_t = a_t h_{t−1} + b_t``."""
    return run_check("linear recurrence, sequential", fn, reference_linear_scan,
                     cycle_lengths(_make_scan_inputs, (_T, 40, 8)), ("h",), _SCAN_MISTAKES,
                     rtol=1e-9, atol=1e-12,
                     float32=_NEEDS_FLOAT64, layout=Layout(time_axis={"h": 0}))


_NEEDS_FLOAT64 = Float32(
    reason="chapter 14 compares its scans with this loop to float64 rounding (1e-9 here); "
           "float32's error, which grows with T for a scan, is measured separately in the chapter")

_SCAN_LENGTHS = (64, 256, 1024)


def _loop_message(counts: dict[int, int], what: str) -> str:
    items = list(counts.items())
    shown = ", ".join([f"{items[0][1]} lines of Python for T = {items[0][0]}"]
                      + [f"{n} for T = {T}" for T, n in items[1:]])
    return (f"the values are right, but your function runs a loop over time: it executed {shown}, "
            f"growing with T as a loop over t does, however it is written "
            f"(a[t], a[t, ...], a[t:t+1], np.take, a comprehension, torch). {what}")


@checked("ex-ch14-4")
def check_doubling_scan(fn, T: int = 1024) -> CheckResult:
    """Check ``fn(a, b, h0) -> h`` against the loop, and that it takes O(log T) vectorised rounds.

    Values are checked on random inputs of several lengths (7, 8 and 9 steps, so a power of two and
    its neighbours, then 33 and ``T``). Then ``fn`` runs at T = 64, 256 and 1024 under a line
    tracer (:mod:`gru_lib.exercises._behaviour`): a loop over time executes its body once per step,
    so the number of Python lines it runs grows like T, whatever the indexing; the doubling scan
    runs ``⌈log2 T⌉`` rounds of whole-array operations, a few lines more per doubling of T.
    """
    name = "linear recurrence, doubling scan"
    for T_small in (_T, 8, 9, 33, T):
        res = run_check(name, fn, reference_linear_scan,
                        lambda rng, n=T_small: _make_scan_inputs(rng, n), ("h",),
                        _DOUBLING_MISTAKES, rtol=1e-9, atol=1e-12, seed=T_small,
                        trials=3 if T_small < 64 else 1, float32=_NEEDS_FLOAT64,
                        layout=Layout(time_axis={"h": 0}))
        if not res.passed:
            return res
    try:
        loops, counts = grows_with_T(
            fn, lambda n: _make_scan_inputs(np.random.default_rng(n), n), _SCAN_LENGTHS)
    except Exception as exc:  # the values were right above; report rather than crash
        return CheckResult(name, False, describe_exception(exc))
    if loops:
        rounds = ", ".join(f"{math.ceil(math.log2(n))}" for n in _SCAN_LENGTHS)
        return CheckResult(name, False, _loop_message(
            counts, f"The doubling scan needs only ⌈log2 T⌉ = {rounds} vectorised rounds: "
                    f"combine whole slices, A[d:] * A[:-d], once per round"),
            mistake="loops_over_time")
    return CheckResult(name, True, "matches the loop on 5 lengths, in O(log T) vectorised rounds")
