"""Checkers for the exercises of chapters 3 and 4: backpropagation through time and clipping.

Three exercises, all on the tanh (Elman) RNN in the library's layout (rows are batch elements,
weights in ``torch.nn.RNN``'s shapes, ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``):

- :func:`check_rnn_step_backward` (chapter {ref}`ch-bptt`): the backward of one step,
  ``fn(dh_next, x, h, W_ih, W_hh, b_ih, b_hh) -> (dx, dh, dW_ih, dW_hh, db_ih, db_hh)``. It takes
  the step's inputs instead of a cache, so the reader recomputes ``h_next`` and no cache format has
  to be agreed on.
- :func:`check_rnn_bptt` (chapter {ref}`ch-bptt`): the whole backward pass over a sequence,
  ``fn(xs, h0, W_ih, W_hh, b_ih, b_hh, d_out) -> (dxs, dh0, dW_ih, dW_hh, db_ih, db_hh)``, where
  ``d_out[t]`` is the gradient of the loss with respect to the *output* ``h_t`` (the partial
  derivative, holding later states fixed). The point of the exercise is the loop: the total
  gradient ``δ_t = d_out[t] + (∂h_{t+1}/∂h_t)^T δ_{t+1}`` and weight gradients summed over time.
- :func:`check_clip_global_norm` (chapter {ref}`ch-vanishing`), re-exported from
  :mod:`gru_lib.exercises.clip`: global-norm clipping of a dict of gradients.

Float32 policy: accepted, with a float32 tolerance.

Shapes of the random test problems: ``x`` (B, D), ``h`` (B, H), ``W_ih`` (H, D), ``W_hh`` (H, H),
with D != H and B > 1, so that a transposed weight gradient or an unsummed bias gradient has a
recognisably wrong shape. Each known mistake is a complete wrong implementation built from one
parametrised function, so that it differs from the reference in exactly the place its message
names.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gru_lib.exercises._core import CheckResult, Layout, Mistake, cycle_lengths, run_check
from gru_lib.exercises._progress import checked
from gru_lib.exercises.clip import check_clip_global_norm  # chapter 4 imports it from here

__all__ = ["check_clip_global_norm", "check_rnn_bptt", "check_rnn_step_backward"]

_B, _D, _H, _T = 4, 5, 3, 6
_GRAD_NAMES = ("dx", "dh", "dW_ih", "dW_hh", "db_ih", "db_hh")
_STEP_LAYOUT = Layout(bias_args=("b_ih", "b_hh"), sizes=lambda a: {"B": a[1].shape[0]})
_BPTT_LAYOUT = Layout(time_axis={"dxs": 0}, bias_args=("b_ih", "b_hh"),
                      sizes=lambda a: {"T": a[0].shape[0], "B": a[0].shape[1]})


# --------------------------------------------------------------------------------------------
# One step backward
# --------------------------------------------------------------------------------------------

def _make_weights(rng: np.random.Generator) -> tuple:
    W_ih = rng.normal(scale=0.7, size=(_H, _D))
    W_hh = rng.normal(scale=0.7, size=(_H, _H))
    b_ih = rng.normal(scale=0.5, size=_H)
    b_hh = rng.normal(scale=0.5, size=_H)
    return W_ih, W_hh, b_ih, b_hh


def _make_step_inputs(rng: np.random.Generator) -> tuple:
    """Random (dh_next, x, h, W_ih, W_hh, b_ih, b_hh); states away from 0 so h**2 matters."""
    dh_next = rng.normal(size=(_B, _H))
    x = rng.normal(size=(_B, _D))
    h = rng.uniform(-0.9, 0.9, size=(_B, _H))
    return (dh_next, x, h, *_make_weights(rng))


def _step_backward(dh_next, x, h, W_ih, W_hh, b_ih, b_hh, *, deriv: str = "h_next",
                   t_ih: bool = True, t_hh: bool = True, dh_weight: str = "W_hh",
                   db: str = "sum") -> tuple:
    """Backward of one tanh RNN step with a switch for each known mistake (defaults: correct).

    ``deriv`` says what the tanh derivative was computed from: ``"h_next"`` (right,
    ``1 - h_next**2``), ``"none"``, ``"h"`` (the previous state), ``"a"`` (the pre-activation),
    ``"unsquared"`` (``1 - h_next``).
    """
    a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    h_next = np.tanh(a)
    fprime = {"h_next": 1.0 - h_next**2, "none": 1.0, "h": 1.0 - h**2, "a": 1.0 - a**2,
              "unsquared": 1.0 - h_next}[deriv]
    da = dh_next * fprime
    db_ = {"sum": da.sum(axis=0), "none": da, "mean": da.mean(axis=0)}[db]
    dW_hh = da.T @ h if t_hh else h.T @ da
    dh = {"W_hh": da @ W_hh, "W_hh.T": da @ W_hh.T, "none": da}[dh_weight]
    dW_ih = da.T @ x if t_ih else x.T @ da
    dx = da @ W_ih
    return dx, dh, dW_ih, dW_hh, db_, db_.copy()


def _reference_step_backward(dh_next, x, h, W_ih, W_hh, b_ih, b_hh):
    """The gradients of one tanh RNN step, as autograd (and ``rnn_step_backward``) computes them."""
    return _step_backward(dh_next, x, h, W_ih, W_hh, b_ih, b_hh)


_TRANSPOSE = ("a weight gradient is transposed: {name} must have the shape of {w}, {shape}, "
              "which is da^T {v} (rows of da are batch elements), not {v}^T da")

_STEP_MISTAKES: list[Mistake] = [
    Mistake(
        name="missing_tanh_prime",
        message=("the derivative of tanh is missing: h_next = tanh(a), so the gradient at the "
                 "pre-activation is da = dh_next * (1 - h_next**2), not dh_next"),
        fn=lambda *a: _step_backward(*a, deriv="none"),
    ),
    Mistake(
        name="tanh_prime_of_previous_state",
        message=("the tanh derivative is taken at the wrong state: it is 1 - h_next**2, the "
                 "square of this step's OUTPUT, not of the previous state h it read"),
        fn=lambda *a: _step_backward(*a, deriv="h"),
    ),
    Mistake(
        name="tanh_prime_of_preactivation",
        message=("the tanh derivative is written 1 - a**2 with the pre-activation a; "
                 "tanh'(a) = 1 - tanh(a)**2 = 1 - h_next**2"),
        fn=lambda *a: _step_backward(*a, deriv="a"),
    ),
    Mistake(
        name="tanh_prime_unsquared",
        message="the tanh derivative is 1 - h_next**2 (squared), not 1 - h_next",
        fn=lambda *a: _step_backward(*a, deriv="unsquared"),
    ),
    Mistake(
        name="dW_ih_transposed",
        message=_TRANSPOSE.format(name="dW_ih", w="W_ih", shape="(H, D)", v="x"),
        fn=lambda *a: _step_backward(*a, t_ih=False),
    ),
    Mistake(
        name="dW_hh_transposed",
        message=(_TRANSPOSE.format(name="dW_hh", w="W_hh", shape="(H, H)", v="h")
                 + "; W_hh is square, so the shape alone does not reveal this one"),
        fn=lambda *a: _step_backward(*a, t_hh=False),
    ),
    Mistake(
        name="dh_transposed_weight",
        message=("dh uses W_hh^T: the forward computes h @ W_hh.T, so the gradient flowing to "
                 "h is da @ W_hh (the transpose of the transpose), not da @ W_hh.T"),
        fn=lambda *a: _step_backward(*a, dh_weight="W_hh.T"),
    ),
    Mistake(
        name="dh_missing_weight",
        message=("dh forgets the recurrent matrix: h enters through h @ W_hh.T, so "
                 "dh = da @ W_hh, not da"),
        fn=lambda *a: _step_backward(*a, dh_weight="none"),
    ),
    Mistake(
        name="bias_not_summed",
        message=("the bias gradients are not summed over the batch: the same bias is added to "
                 "every row, so its gradient is da.sum(axis=0), shape (H,), not da, shape (B, H)"),
        fn=lambda *a: _step_backward(*a, db="none"),
    ),
    Mistake(
        name="bias_averaged",
        message=("the bias gradients are averaged over the batch: they are summed, "
                 "da.sum(axis=0), like the weight gradients da^T x (which sum over rows too)"),
        fn=lambda *a: _step_backward(*a, db="mean"),
    ),
]


@checked("ex-ch03-step")
def check_rnn_step_backward(fn: Callable) -> CheckResult:
    """Check a reader's backward of one tanh RNN step.

    ``fn(dh_next, x, h, W_ih, W_hh, b_ih, b_hh) -> (dx, dh, dW_ih, dW_hh, db_ih, db_hh)`` with
    ``dh_next`` (B, H) = dL/dh_next, ``x`` (B, D), ``h`` (B, H) the previous state, ``W_ih``
    (H, D), ``W_hh`` (H, H), ``b_ih``, ``b_hh`` (H,); every output has the shape of the matching
    input. Names the mistake when it recognises one (tanh derivative missing or taken at the wrong
    place, transposed weight gradients, wrong weight in dh, bias gradient not summed).
    """
    return run_check("RNN step backward", fn, _reference_step_backward, _make_step_inputs,
                     _GRAD_NAMES, _STEP_MISTAKES, layout=_STEP_LAYOUT)


# --------------------------------------------------------------------------------------------
# Backpropagation through a whole sequence
# --------------------------------------------------------------------------------------------

def _make_bptt_inputs(rng: np.random.Generator, T: int = _T) -> tuple:
    """Random (xs, h0, W_ih, W_hh, b_ih, b_hh, d_out), xs (T, B, D), d_out (T, B, H)."""
    xs = rng.normal(size=(T, _B, _D))
    h0 = rng.uniform(-0.9, 0.9, size=(_B, _H))
    d_out = rng.normal(size=(T, _B, _H))
    return (xs, h0, *_make_weights(rng), d_out)


def _forward_states(xs, h0, W_ih, W_hh, b_ih, b_hh) -> list[np.ndarray]:
    """[h_0, h_1, ..., h_T] of the tanh RNN."""
    hs = [h0]
    for x in xs:
        hs.append(np.tanh(x @ W_ih.T + b_ih + hs[-1] @ W_hh.T + b_hh))
    return hs


def _bptt(xs, h0, W_ih, W_hh, b_ih, b_hh, d_out, *, carry: bool = True,
          accumulate: bool = True, local: str = "all", order: str = "backward",
          late: bool = False, time_average: bool = False, dW_hh_state: str = "previous",
          return_dh0: bool = True) -> tuple:
    """BPTT for the tanh RNN with a switch for each known mistake (defaults: correct).

    The loop runs t = T..1 (index t-1 here): the total gradient at h_t is the loss's own
    gradient ``d_out[t]`` plus what comes back from h_{t+1}; each step's weight gradients are
    added to running sums.
    """
    T = xs.shape[0]
    hs = _forward_states(xs, h0, W_ih, W_hh, b_ih, b_hh)
    dxs = np.zeros_like(xs)
    sums = [np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros_like(b_ih), np.zeros_like(b_hh)]
    delta_next = np.zeros_like(h0)  # (dh_{t+1}/dh_t)^T δ_{t+1}, nothing beyond the last step
    steps = range(T - 1, -1, -1) if order == "backward" else range(T)
    for t in steps:
        own = d_out[t] if (local == "all" or t == T - 1) else np.zeros_like(h0)
        if late:  # the loss gradient of h_t enters one step too late (after the step backward)
            delta = delta_next
        else:
            delta = own + (delta_next if carry else 0.0)
        prev = hs[t] if dW_hh_state == "previous" else hs[t + 1]
        dx, dh, dW_ih, _, db_ih, db_hh = _step_backward(delta, xs[t], hs[t], W_ih, W_hh, b_ih,
                                                        b_hh)
        da = delta * (1.0 - hs[t + 1] ** 2)
        dW_hh = da.T @ prev
        dxs[t] = dx
        for i, g in enumerate((dW_ih, dW_hh, db_ih, db_hh)):
            sums[i] = sums[i] + g if accumulate else g
        delta_next = dh + (own if late else 0.0)
    if time_average:
        sums = [s / T for s in sums]
    dh0 = delta_next if return_dh0 else np.zeros_like(h0)
    return (dxs, dh0, *sums)


def _reference_bptt(xs, h0, W_ih, W_hh, b_ih, b_hh, d_out):
    """Full BPTT of the tanh RNN, as ``gru_lib.numpy.RNN.backward`` and autograd compute it."""
    return _bptt(xs, h0, W_ih, W_hh, b_ih, b_hh, d_out)


_BPTT_MISTAKES: list[Mistake] = [
    Mistake(
        name="no_carry",
        message=("the gradient is not carried back through the states: at step t you used only "
                 "the loss's own gradient d_out[t], the partial derivative. The total gradient "
                 "also contains the path through h_{t+1}: delta_t = d_out[t] + dh, where dh is "
                 "what the backward of step t+1 returned for its input state"),
        fn=lambda *a: _bptt(*a, carry=False),
    ),
    Mistake(
        name="not_accumulated",
        message=("the weight gradients are not accumulated over time: each step overwrote them, "
                 "so only step 1's contribution is left. The same W_ih, W_hh, b are used at "
                 "every step, so their gradient is the SUM of the per-step gradients"),
        fn=lambda *a: _bptt(*a, accumulate=False),
    ),
    Mistake(
        name="last_loss_only",
        message=("only the last step's loss gradient d_out[T-1] is used: every output h_t "
                 "contributes to the loss, so d_out[t] must be added at every step t"),
        fn=lambda *a: _bptt(*a, local="last"),
    ),
    Mistake(
        name="forward_order",
        message=("the loop runs forward in time (t = 0, 1, ...): the gradient at h_t needs the "
                 "gradient at h_{t+1} first, so backpropagation runs from t = T-1 down to 0"),
        fn=lambda *a: _bptt(*a, order="forward"),
    ),
    Mistake(
        name="loss_gradient_one_step_late",
        message=("d_out[t] is added one step too late: it was added to the gradient handed to "
                 "step t-1 after step t's backward, instead of to the gradient entering step t "
                 "(delta_t = d_out[t] + carried gradient, then step t's backward)"),
        fn=lambda *a: _bptt(*a, late=True),
    ),
    Mistake(
        name="dW_hh_with_new_state",
        message=("dW_hh pairs step t's gradient with the state it produced, h_t; the recurrent "
                 "weights multiply the state the step READ, h_{t-1}: dW_hh += da_t^T h_{t-1}"),
        fn=lambda *a: _bptt(*a, dW_hh_state="new"),
    ),
    Mistake(
        name="time_averaged",
        message=("the weight gradients are averaged over time: the loss sums the per-step "
                 "contributions, so the gradients are summed over t, not divided by T"),
        fn=lambda *a: _bptt(*a, time_average=True),
    ),
    Mistake(
        name="dh0_missing",
        message=("dh0 is zero: it is the gradient that the backward of the FIRST step returns "
                 "for its input state h0, i.e. the carried gradient left when the loop ends"),
        fn=lambda *a: _bptt(*a, return_dh0=False),
    ),
]


@checked("ex-ch03-loop")
def check_rnn_bptt(fn: Callable) -> CheckResult:
    """Check a reader's backpropagation through time for a whole tanh-RNN sequence.

    ``fn(xs, h0, W_ih, W_hh, b_ih, b_hh, d_out) -> (dxs, dh0, dW_ih, dW_hh, db_ih, db_hh)`` with
    ``xs`` (T, B, D), ``h0`` (B, H), ``d_out`` (T, B, H) the gradient of the loss with respect to
    each output ``h_t`` (holding later states fixed). The outputs have the shapes of ``xs``,
    ``h0`` and the parameters. Names the mistake when it recognises one (gradient not carried
    through the states, weight gradients overwritten or averaged instead of summed, a loss term
    dropped or added a step late, the loop in the wrong direction, the wrong state in dW_hh,
    dh0 missing).
    """
    return run_check("backpropagation through time (gradient accumulated over time)", fn,
                     _reference_bptt, cycle_lengths(_make_bptt_inputs, (_T, 33, 5)),
                     ("dxs", "dh0", "dW_ih", "dW_hh", "db_ih", "db_hh"), _BPTT_MISTAKES,
                     layout=_BPTT_LAYOUT)
