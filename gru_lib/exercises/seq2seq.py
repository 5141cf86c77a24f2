"""Checker for the coding exercise of chapter {ref}`ch-translation`: greedy decoding.

- :func:`check_greedy_decode`: ``fn(step, g0, bos, max_len) -> ids``, the test-time loop of an
  encoder-decoder (equation ``eq-ch12-decoder``): start from the token ``bos`` for every sequence
  of the batch and the state ``g0`` (B, H); at each of ``max_len`` steps call
  ``logits, g = step(y, g)`` with the previous tokens ``y`` (B,) and feed back the most probable
  token, ``y = logits.argmax(axis=-1)``; return the ``max_len`` chosen tokens, shape
  ``(max_len, B)``, time-major (without ``bos``).

``step`` is a small fixed random decoder supplied by the checker (NumPy, integer token ids), which
also counts its calls: the loop must call it exactly ``max_len`` times (a greedy decoder needs one
decoder step per output token). At training time the decoder is fed the *true* previous token
(teacher forcing); this exercise is the other half, where the model reads its own output.

Float32 policy: not applicable (the answer is integer token ids, compared exactly).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gru_lib.exercises._core import CheckResult, Layout, Mistake, run_check
from gru_lib.exercises._progress import checked

__all__ = ["GREEDY_MISTAKES", "Decoder", "check_greedy_decode", "greedy_decode_reference"]

_B, _H, _V, _BOS = 5, 6, 9, 1
_LENGTHS = (7, 12, 33)


class Decoder:
    """A fixed random decoder step: ``step(y, g) -> (logits (B, V), g_new (B, H))``.

    ``g_new = tanh(E[y] + g W^T)``, ``logits = 3 g_new U^T``: a one-layer recurrent decoder with an
    embedding, as in chapter 12, small enough to read. ``calls`` counts the calls of the current
    run. Pure: the same (y, g) always gives the same result, so an extra call cannot change values,
    only the count.
    """

    def __init__(self, rng: np.random.Generator):
        self.E = rng.normal(size=(_V, _H))
        self.W = rng.normal(scale=0.9, size=(_H, _H))
        self.U = rng.normal(size=(_V, _H))
        self.calls = 0

    def __call__(self, y, g):
        y = np.asarray(y)
        if y.shape != (g.shape[0],) or y.dtype.kind not in "iu":
            hint = (" (logits has shape (B, V): take the argmax over the last axis, "
                    "axis=-1, one token per row)" if y.shape == (self.E.shape[0],) else "")
            raise ValueError(f"step(y, g): y must be integer token ids of shape (B,) = "
                             f"({g.shape[0]},), got {y.dtype} array of shape {y.shape}{hint}")
        self.calls += 1
        g_new = np.tanh(self.E[y] + g @ self.W.T)
        return 3.0 * g_new @ self.U.T, g_new

    def __deepcopy__(self, memo):  # every function gets the same decoder, with its own count
        twin = object.__new__(Decoder)
        twin.E, twin.W, twin.U, twin.calls = self.E, self.W, self.U, 0
        return twin


def _make_inputs_factory() -> Callable[[np.random.Generator], tuple]:
    calls = {"n": 0}

    def make(rng: np.random.Generator) -> tuple:
        max_len = _LENGTHS[calls["n"] % len(_LENGTHS)]
        calls["n"] += 1
        return Decoder(rng), rng.normal(size=(_B, _H)), _BOS, max_len

    return make


def _greedy(step, g0, bos, max_len, *, feed_back=True, carry=True, with_bos=False,
            batch_first=False, steps=None):
    """The greedy loop with a switch for each known mistake; the defaults are the right loop."""
    y = np.full(g0.shape[0], bos)
    g, out = g0, []
    for _ in range(max_len if steps is None else steps):
        logits, g_new = step(y, g if carry else g0)
        g = g_new
        chosen = logits.argmax(axis=-1)
        out.append(y if with_bos else chosen)
        if feed_back:
            y = chosen
    ids = np.stack(out)
    return ids.T if batch_first else ids


def greedy_decode_reference(step, g0, bos, max_len):
    """Greedy decoding: ``max_len`` steps, each fed the previous argmax; ids (max_len, B)."""
    return _greedy(step, g0, bos, max_len)


GREEDY_MISTAKES: tuple[Mistake, ...] = (
    Mistake("no_feedback", "every step is fed <bos>: at test time the decoder reads its own "
            "previous output, y = logits.argmax(axis=-1), fed back as the next step's input",
            lambda s, g, b, n: _greedy(s, g, b, n, feed_back=False)),
    Mistake("state_not_carried", "the decoder state is not carried: every step starts from g0. "
            "Keep the state step returns, `logits, g = step(y, g)`",
            lambda s, g, b, n: _greedy(s, g, b, n, carry=False)),
    Mistake("includes_bos", "the output starts with <bos> and is one token short at the end: "
            "return the max_len tokens the model CHOSE, not the inputs it was fed",
            lambda s, g, b, n: _greedy(s, g, b, n, with_bos=True)),
    Mistake("batch_first", "the result is batch-first, shape (B, max_len); the book keeps "
            "sequences time-major: stack the steps along axis 0, shape (max_len, B)",
            lambda s, g, b, n: _greedy(s, g, b, n, batch_first=True)),
)


def _count_calls(fn: Callable) -> Callable:
    """The reader's function, with a check that it called step exactly max_len times."""
    def wrapped(step, g0, bos, max_len):
        out = fn(step, g0, bos, max_len)
        if step.calls != max_len and out is not None:
            raise _CallCount(f"your function called step {step.calls} times for max_len = "
                             f"{max_len}; greedy decoding needs exactly one decoder step per "
                             f"output token, max_len calls")
        return out

    wrapped.__wrapped__ = fn
    return wrapped


class _CallCount(Exception):
    pass


@checked("ex-ch12-greedy")
def check_greedy_decode(fn: Callable) -> CheckResult:
    """Check a reader's greedy decoding loop, ``fn(step, g0, bos, max_len) -> ids``.

    ``step(y, g) -> (logits, g)`` with ``y`` (B,) integer ids, ``g`` (B, H), ``logits`` (B, V);
    ``ids`` (max_len, B) integer. Runs max_len = 7, 12, 33 on a fixed random decoder. Names the
    mistake when it recognises one (<bos> fed at every step, the state not carried, <bos> in the
    output, a batch-first result) and reports a number of decoder calls other than max_len.
    """
    title = "greedy decoding"
    res = run_check(title, _count_calls(fn), greedy_decode_reference, _make_inputs_factory(),
                    ("ids",), GREEDY_MISTAKES, rtol=0, atol=0,
                    layout=Layout(time_axis={"ids": 0}),
                    input_names=("step", "g0", "bos", "max_len"))
    prefix = "your function raised _CallCount: "
    if res.message.startswith(prefix):
        return CheckResult(title, False, res.message[len(prefix):].split(" (line")[0],
                           mistake="step_calls")
    return res
