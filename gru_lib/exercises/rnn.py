"""Checkers for the exercises of Part I: a hand-set recurrence ({ref}`ch-sequences`), the simple
RNN step and its loop over time ({ref}`ch-simple-rnn`).

- :func:`check_pattern_11_weights`: the reader sets, by hand, the weights of a recurrent network
  of threshold units that outputs 1 at time t exactly when two consecutive ones have occurred in
  the input at or before t (chapter 1, the latch exercise).
- :func:`check_rnn_step`: ``fn(x, h, W_ih, W_hh, b_ih, b_hh) -> h_next``, one step of the Elman
  RNN as ``torch.nn.RNN`` computes it, ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)``
  (chapter 2, equation ``eq-ch02-rnn``).
- :func:`check_rnn_forward`: ``fn(x, h0, W_ih, W_hh, b_ih, b_hh) -> (output, h_n)``, the loop of
  that step over a time-major sequence ``x`` of shape (T, B, D).

Shapes (row-major batches, as in the rest of the library): ``x`` (B, D), ``h`` (B, H), ``W_ih``
(H, D), ``W_hh`` (H, H), ``b_ih`` and ``b_hh`` (H,).

A transposed input weight, ``x @ W_ih`` instead of ``x @ W_ih.T``, cannot run when D != H: NumPy
raises a shape error before any number can be compared. The step checker therefore runs in two
stages. It first tests on inputs with D != H (so that a wrong shape cannot pass by accident); if
the reader's function raises there, it runs the reader's function again on square inputs
(D == H), where the transposed product runs and produces numbers, and tries to recognise the
mistake from them.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gru_lib.exercises._core import CheckResult, Layout, Mistake, cycle_lengths, run_check
from gru_lib.exercises._progress import checked
from gru_lib.numpy.functional import sigmoid

__all__ = ["check_pattern_11_weights", "check_rnn_forward", "check_rnn_step", "heaviside"]

# Sizes of the random test problems: B, D and H all different, so that a transposed weight or a
# transposed result has a shape of its own; T != B so that time and batch axes cannot be confused.
_B, _D, _H, _T = 4, 5, 3, 6
_BIASES = ("b_ih", "b_hh")
_STEP_LAYOUT = Layout(bias_args=_BIASES)
_FORWARD_LAYOUT = Layout(time_axis={"output": 0}, bias_args=_BIASES)



# ------------------------------------------------------------------------------------------------
# Chapter 2: one step of the Elman RNN
# ------------------------------------------------------------------------------------------------

def _make_step_inputs(rng: np.random.Generator, D: int = _D) -> tuple:
    """Random (x, h, W_ih, W_hh, b_ih, b_hh), with pre-activations of order 1 so that tanh is
    neither linear nor saturated and every mistake changes the result visibly."""
    x = rng.normal(size=(_B, D))
    h = rng.uniform(-0.9, 0.9, size=(_B, _H))
    W_ih = rng.normal(scale=0.6, size=(_H, D))
    W_hh = rng.normal(scale=0.6, size=(_H, _H))
    b_ih = rng.normal(scale=0.6, size=_H)
    b_hh = rng.normal(scale=0.6, size=_H)
    return x, h, W_ih, W_hh, b_ih, b_hh


def _make_square_step_inputs(rng: np.random.Generator) -> tuple:
    """The same, with D == H: a transposed W_ih runs here instead of raising."""
    return _make_step_inputs(rng, D=_H)


def _step(x, h, W_ih, W_hh, b_ih, b_hh, *, act: Callable = np.tanh, t_ih: bool = True,
          t_hh: bool = True, swap: bool = False, use_b_ih: bool = True, use_b_hh: bool = True,
          use_h: bool = True) -> np.ndarray:
    """One RNN step with a switch for each known mistake; the defaults are ``torch.nn.RNN``'s."""
    if swap:  # the input multiplied by the recurrent matrix and the state by the input matrix
        x, h = h, x
    a = x @ (W_ih.T if t_ih else W_ih)
    if use_h:
        a = a + h @ (W_hh.T if t_hh else W_hh)
    if use_b_ih and b_ih is not None:
        a = a + b_ih
    if use_b_hh and b_hh is not None:
        a = a + b_hh
    return act(a)


def _reference_step(x, h, W_ih, W_hh, b_ih, b_hh):
    """One step of the Elman RNN exactly as ``torch.nn.RNN`` (tanh) computes it."""
    return _step(x, h, W_ih, W_hh, b_ih, b_hh)


def _column_convention(x, h, W_ih, W_hh, b_ih, b_hh):
    """The right numbers in column-vector layout: (H, B) instead of (B, H)."""
    return np.tanh(W_ih @ x.T + W_hh @ h.T + (b_ih + b_hh)[:, None])


_TRANSPOSE_IH = ("the input weight is used transposed: W_ih has shape (H, D) (PyTorch's layout, "
                 "one row per hidden unit), so with row-vector batches the product is "
                 "x @ W_ih.T, not x @ W_ih")
_TRANSPOSE_HH = ("the recurrent weight is used transposed: W_hh[i, j] is the weight from unit j "
                 "of the old state to unit i of the new one, so the product is h @ W_hh.T, not "
                 "h @ W_hh (W_hh is square, so no shape error warns you)")

_STEP_MISTAKES: list[Mistake] = [
    Mistake(
        name="no_nonlinearity",
        message=("the nonlinearity is missing: h_next = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh); "
                 "without tanh the state is a linear function of the inputs and can grow "
                 "without bound"),
        fn=lambda *a: _step(*a, act=lambda v: v),
    ),
    Mistake(
        name="sigmoid",
        message=("the sigmoid is used instead of tanh: the Elman RNN of torch.nn.RNN uses tanh, "
                 "whose values lie in (-1, 1) and are centred on 0; the sigmoid's lie in (0, 1)"),
        fn=lambda *a: _step(*a, act=sigmoid),
    ),
    Mistake(
        name="relu",
        message=("ReLU is used instead of tanh: torch.nn.RNN uses tanh unless it is built with "
                 "nonlinearity='relu'; this exercise asks for tanh"),
        fn=lambda *a: _step(*a, act=lambda v: np.maximum(v, 0.0)),
    ),
    Mistake(
        name="transposed_W_hh",
        message=_TRANSPOSE_HH,
        fn=lambda *a: _step(*a, t_hh=False),
    ),
    Mistake(
        name="transposed_W_ih",
        message=_TRANSPOSE_IH,
        fn=lambda *a: _step(*a, t_ih=False),
    ),
    Mistake(
        name="transposed_both",
        message=("both weight matrices are used transposed: W_ih is (H, D) and W_hh is (H, H), "
                 "one row per hidden unit, so the products are x @ W_ih.T and h @ W_hh.T"),
        fn=lambda *a: _step(*a, t_ih=False, t_hh=False),
    ),
    Mistake(
        name="swapped_weights",
        message=("the two weight matrices are swapped: W_ih multiplies the input x and W_hh "
                 "multiplies the previous state h, not the other way round"),
        fn=lambda *a: _step(*a, swap=True),
    ),
    Mistake(
        name="no_recurrence",
        message=("the previous state h is not used: without the term h W_hh^T the network has "
                 "no memory, each step sees only its own input"),
        fn=lambda *a: _step(*a, use_h=False),
    ),
    Mistake(
        name="no_bias",
        message="both biases are missing: add b_ih and b_hh inside the tanh",
        fn=lambda *a: _step(*a, use_b_ih=False, use_b_hh=False),
    ),
    Mistake(
        name="no_b_hh",
        message=("the recurrent bias b_hh is missing: torch.nn.RNN has two biases, b_ih and "
                 "b_hh, and adds both (their sum is what matters, but both are parameters)"),
        fn=lambda *a: _step(*a, use_b_hh=False),
    ),
    Mistake(
        name="no_b_ih",
        message=("the input bias b_ih is missing: torch.nn.RNN has two biases, b_ih and b_hh, "
                 "and adds both"),
        fn=lambda *a: _step(*a, use_b_ih=False),
    ),
    Mistake(
        name="column_layout",
        message=("the result is transposed, shape (H, B): the numbers are right for column "
                 "vectors, but the library keeps a batch as rows, so h_next must have shape "
                 "(B, H), like h"),
        fn=_column_convention,
    ),
]


@checked("ex-ch02-step")
def check_rnn_step(fn: Callable) -> CheckResult:
    """Check a reader's Elman RNN step against ``torch.nn.RNN``'s (tanh, two biases).

    ``fn(x, h, W_ih, W_hh, b_ih, b_hh) -> h_next`` with ``x`` (B, D), ``h`` (B, H), ``W_ih``
    (H, D), ``W_hh`` (H, H), ``b_ih``, ``b_hh`` (H,) and ``h_next`` (B, H). Returns a
    :class:`~gru_lib.exercises._core.CheckResult` that names the mistake when it recognises one:
    a transposed weight, the two weights swapped, a missing nonlinearity or the wrong one
    (sigmoid, ReLU), a missing bias, the previous state ignored, a result in column layout.
    """
    title = "RNN step"
    res = run_check(title, fn, _reference_step, _make_step_inputs, ("h_next",), _STEP_MISTAKES,
                    layout=_STEP_LAYOUT)
    if res.passed or not res.message.startswith("your function raised"):
        return res
    # It crashed on D != H. Mistakes that only type-check on square matrices show up on D == H.
    square = run_check(title, fn, _reference_step, _make_square_step_inputs, ("h_next",),
                       _STEP_MISTAKES, layout=_STEP_LAYOUT)
    if square.mistake is not None:
        return CheckResult(title, False, square.message + f" (on D = H = {_H}; with D = {_D} "
                           f"your function raised an error)", mistake=square.mistake)
    return res


# ------------------------------------------------------------------------------------------------
# Chapter 2: the loop over time
# ------------------------------------------------------------------------------------------------

def _make_forward_inputs(rng: np.random.Generator, T: int = _T) -> tuple:
    x = rng.normal(size=(T, _B, _D))
    h0 = rng.uniform(-0.9, 0.9, size=(_B, _H))
    _, _, W_ih, W_hh, b_ih, b_hh = _make_step_inputs(rng)
    return x, h0, W_ih, W_hh, b_ih, b_hh


def _forward(x, h0, W_ih, W_hh, b_ih, b_hh, *, carry: bool = True, shift: bool = False,
             ) -> tuple[np.ndarray, np.ndarray]:
    """The loop over time, with a switch for each known mistake; defaults are torch's."""
    h, outs = h0, []
    for t in range(x.shape[0]):
        h_new = _reference_step(x[t], h if carry else h0, W_ih, W_hh, b_ih, b_hh)
        outs.append(h if shift else h_new)
        h = h_new
    return np.stack(outs), h


def _reference_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    """``torch.nn.RNN``'s forward for one layer: all states h_1..h_T, and h_T."""
    return _forward(x, h0, W_ih, W_hh, b_ih, b_hh)


_FORWARD_MISTAKES: list[Mistake] = [
    Mistake(
        name="state_not_carried",
        message=("the state is not carried from one step to the next: every step starts from "
                 "h0, so the network forgets everything but the current input. Assign the new "
                 "state to h inside the loop"),
        fn=lambda *a: _forward(*a, carry=False),
    ),
    Mistake(
        name="output_shifted",
        message=("output[t] holds the state *before* step t (h0, h_1, ..., h_{T-1}); "
                 "torch.nn.RNN returns the states after each step, h_1, ..., h_T, so that "
                 "output[-1] equals h_n"),
        fn=lambda *a: _forward(*a, shift=True),
    ),
    Mistake(
        name="batch_first",
        message=("the time and batch axes are confused: x is time-major, shape (T, B, D), so "
                 "the loop runs over x[t] for t in range(T), and output has shape (T, B, H)"),
        fn=lambda x, *a: tuple(np.swapaxes(v, 0, 1) if v.ndim == 3 else v
                               for v in _forward(x, *a)),
    ),
]


@checked("ex-ch02-forward")
def check_rnn_forward(fn: Callable) -> CheckResult:
    """Check a reader's loop of the RNN step over a time-major sequence.

    ``fn(x, h0, W_ih, W_hh, b_ih, b_hh) -> (output, h_n)`` with ``x`` (T, B, D), ``h0`` (B, H),
    ``output`` (T, B, H) holding h_1..h_T and ``h_n`` (B, H) equal to h_T. Names the mistake when
    it recognises one: the state not carried across steps, the outputs shifted by one step, the
    time and batch axes confused.
    """
    return run_check("RNN forward over time", fn, _reference_forward,
                     cycle_lengths(_make_forward_inputs, (_T, 33, 7)),
                     ("output", "h_n"), _FORWARD_MISTAKES, layout=_FORWARD_LAYOUT)


# ------------------------------------------------------------------------------------------------
# Chapter 1: a recurrence set by hand
# ------------------------------------------------------------------------------------------------

def heaviside(a: np.ndarray) -> np.ndarray:
    """The threshold unit of chapter 1: 1.0 where ``a > 0``, else 0.0 (so step(0) = 0)."""
    return (np.asarray(a) > 0).astype(float)


def _run_threshold_rnn(weights, x: np.ndarray) -> np.ndarray:
    """Run the reader's threshold network on binary sequences ``x`` of shape (T, B).

    ``h_t = step(W_hh h_{t-1} + W_ih x_t + b)``, ``h_0 = 0``, ``y_t = step(w_out . h_t + b_out)``.
    """
    try:
        W_ih, W_hh, b, w_out, b_out = weights
    except (TypeError, ValueError):
        raise ValueError("return five things: W_ih, W_hh, b, w_out, b_out") from None
    W_ih = np.asarray(W_ih, dtype=float)
    W_hh = np.asarray(W_hh, dtype=float)
    b = np.asarray(b, dtype=float).reshape(-1)
    w_out = np.asarray(w_out, dtype=float).reshape(-1)
    b_out = float(np.asarray(b_out, dtype=float).reshape(()))
    H = W_hh.shape[0] if W_hh.ndim == 2 else -1
    if W_hh.ndim != 2 or W_hh.shape != (H, H):
        raise ValueError(f"W_hh must be a square (H, H) matrix, got shape {W_hh.shape}")
    if W_ih.shape != (H, 1):
        raise ValueError(f"W_ih must have shape (H, 1) = ({H}, 1), got {W_ih.shape}")
    if b.shape != (H,) or w_out.shape != (H,):
        raise ValueError(f"b and w_out must have H = {H} entries, got {b.shape} and "
                         f"{w_out.shape}")
    h = np.zeros((x.shape[1], H))
    ys = []
    for t in range(x.shape[0]):
        h = heaviside(h @ W_hh.T + x[t][:, None] @ W_ih.T + b)
        ys.append(heaviside(h @ w_out + b_out))
    return np.stack(ys)


def _pairs_now(x: np.ndarray) -> np.ndarray:
    """1 where x_{t-1} = x_t = 1 (the pattern ends at t), shape (T, B)."""
    prev = np.vstack([np.zeros((1, x.shape[1])), x[:-1]])
    return prev * x


def _seen_11(x: np.ndarray) -> np.ndarray:
    """The target: 1 from the first time two consecutive ones have occurred, onwards."""
    return np.maximum.accumulate(_pairs_now(x), axis=0)


def _delayed(x: np.ndarray) -> np.ndarray:
    target = _seen_11(x)
    return np.vstack([np.zeros((1, x.shape[1])), target[:-1]])


def _make_binary_inputs(rng: np.random.Generator) -> tuple:
    """A batch of random binary sequences, shape (T, B), plus every sequence of length 8."""
    T = 12
    rand = rng.integers(0, 2, size=(T, 256)).astype(float)
    every = (np.arange(2 ** 8)[None, :] >> np.arange(8)[:, None]) & 1
    every = np.vstack([every, rng.integers(0, 2, size=(T - 8, 2 ** 8))]).astype(float)
    return (np.hstack([rand, every]),)


_PATTERN_MISTAKES: list[Mistake] = [
    Mistake(
        name="delayed",
        message=("your network is right, but one step late: it reports the pattern at t + 1 "
                 "instead of t. A unit can only see the *previous* values of the other units, "
                 "so a chain 'pair detector -> latch' costs one step. Let the latch read the "
                 "previous input and the current input directly"),
        fn=_delayed,
    ),
    Mistake(
        name="not_latched",
        message=("your network detects two consecutive ones when they happen, but forgets them "
                 "afterwards: once the pattern has occurred the output must stay 1 for ever. "
                 "Give the output unit a strong positive weight to itself"),
        fn=_pairs_now,
    ),
]


@checked("ex-ch01-latch")
def check_pattern_11_weights(fn: Callable) -> CheckResult:
    """Check hand-set weights of a threshold RNN that detects two consecutive ones.

    ``fn() -> (W_ih, W_hh, b, w_out, b_out)`` with ``W_ih`` (H, 1), ``W_hh`` (H, H), ``b``
    (H,), ``w_out`` (H,) and a scalar ``b_out``, for the network (zero initial state)

        h_t = step(W_hh h_{t-1} + W_ih x_t + b),   y_t = step(w_out . h_t + b_out),

    where step(a) = 1 if a > 0 else 0 and x_t is 0 or 1. The network must output y_t = 1 exactly
    when x_{s-1} = x_s = 1 for some s <= t. It is run on every binary sequence of length 8 (and
    random longer ones); the checker recognises an answer that is one step late and one that
    detects the pattern but does not remember it.
    """
    if not callable(fn):
        raise TypeError("check_pattern_11_weights: expected a function returning the weights, "
                        f"got {type(fn).__name__}")
    return run_check("Two consecutive ones (hand-set threshold RNN)",
                     lambda x: _run_threshold_rnn(fn(), x), _seen_11, _make_binary_inputs,
                     ("y",), _PATTERN_MISTAKES, trials=2)
