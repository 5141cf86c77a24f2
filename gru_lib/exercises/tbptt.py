"""Checker for truncated backpropagation through time (chapter {ref}`ch-bptt`).

- :func:`check_truncated_bptt`:
  ``fn(xs, h0, W_ih, W_hh, b_ih, b_hh, d_out, k) -> (dW_ih, dW_hh, db_ih, db_hh)``, the weight
  gradients of the tanh RNN under truncated BPTT with chunks of ``k`` steps (``k1 = k2 = k`` in
  Williams and Peng's notation): the forward runs over the whole sequence, carrying the state; the
  backward runs inside each chunk ``[s, s + k)`` only, starting from zero at the chunk's end, and
  the gradient that would flow into the state before the chunk is dropped. The four gradients are
  summed over the chunks (the same weights serve every chunk). ``d_out[t]`` is dL/dh_t (the
  partial derivative, as in :func:`gru_lib.exercises.bptt.check_rnn_bptt`); the last chunk is
  shorter when ``k`` does not divide ``T``.

The test sequences have T = 10 and k = 3, 4, 3 (so the last chunk is short), and the known mistakes
include the full, untruncated gradient, chunks restarted from h0 or from zero (the STATE must be
carried, only the gradient is cut), the short last chunk dropped, only one chunk kept, an average
over chunks, and the other common truncation (every loss back-propagated through its own window of
k steps).

Float32 policy: accepted, with a float32 tolerance.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gru_lib.exercises._core import CheckResult, Layout, Mistake, run_check
from gru_lib.exercises._progress import checked
from gru_lib.exercises.bptt import _bptt, _forward_states, _make_weights

__all__ = ["TRUNCATED_MISTAKES", "check_truncated_bptt", "truncated_bptt_reference"]

_T, _B, _D = 10, 4, 5
_KS = (3, 4, 3)
_NAMES = ("dW_ih", "dW_hh", "db_ih", "db_hh")


def _make_inputs_factory() -> Callable[[np.random.Generator], tuple]:
    calls = {"n": 0}

    def make(rng: np.random.Generator) -> tuple:
        k = _KS[calls["n"] % len(_KS)]
        calls["n"] += 1
        W_ih, W_hh, b_ih, b_hh = _make_weights(rng)
        H = W_hh.shape[0]
        xs = rng.normal(size=(_T, _B, _D))
        h0 = rng.uniform(-0.9, 0.9, size=(_B, H))
        d_out = rng.normal(size=(_T, _B, H))
        return xs, h0, W_ih, W_hh * 1.6, b_ih, b_hh, d_out, k  # a strong W_hh: chunks matter

    return make


def _truncated(xs, h0, W_ih, W_hh, b_ih, b_hh, d_out, k, *, start="carried", chunks="all",
               window=False, average=False, full=False):
    """Chunked truncated BPTT with a switch for each known mistake (defaults: correct)."""
    T = xs.shape[0]
    if full:
        return _bptt(xs, h0, W_ih, W_hh, b_ih, b_hh, d_out)[2:]
    hs = _forward_states(xs, h0, W_ih, W_hh, b_ih, b_hh)  # h_0 .. h_T, the state carried
    sums = [np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros_like(b_ih), np.zeros_like(b_hh)]
    if window:  # every loss through its own window of k steps (k1 = 1, k2 = k)
        for t in range(T):
            s = max(0, t - k + 1)
            d = np.zeros_like(d_out[s:t + 1])
            d[-1] = d_out[t]
            grads = _bptt(xs[s:t + 1], hs[s], W_ih, W_hh, b_ih, b_hh, d)[2:]
            sums = [a + g for a, g in zip(sums, grads, strict=True)]
        return tuple(sums)
    starts = list(range(0, T, k))
    if chunks == "whole_only":
        starts = [s for s in starts if s + k <= T]
    elif chunks == "last":
        starts = starts[-1:]
    for s in starts:
        e = min(s + k, T)
        h_start = {"carried": hs[s], "h0": h0, "zero": np.zeros_like(h0)}[start]
        grads = _bptt(xs[s:e], h_start, W_ih, W_hh, b_ih, b_hh, d_out[s:e])[2:]
        sums = [a + g for a, g in zip(sums, grads, strict=True)]
    if average:
        sums = [a / len(starts) for a in sums]
    return tuple(sums)


def truncated_bptt_reference(xs, h0, W_ih, W_hh, b_ih, b_hh, d_out, k):
    """Weight gradients of chunked truncated BPTT(k): forward carried, backward cut at chunks."""
    return _truncated(xs, h0, W_ih, W_hh, b_ih, b_hh, d_out, k)


def _m(name: str, message: str, **switches) -> Mistake:
    return Mistake(name, message, lambda *a: _truncated(*a, **switches))


TRUNCATED_MISTAKES: tuple[Mistake, ...] = (
    _m("not_truncated", "these are the gradients of FULL backpropagation through time: the "
       "gradient is carried across chunk boundaries. Truncation runs the backward inside each "
       "chunk of k steps only, starting from zero at the chunk's end", full=True),
    _m("restart_from_h0", "each chunk starts its forward from h0: truncation cuts the GRADIENT, "
       "not the state. Run the forward over the whole sequence and start chunk [s, s+k) from the "
       "true state h_s", start="h0"),
    _m("restart_from_zero", "each chunk starts its forward from a zero state: truncation cuts "
       "the gradient, not the state. Start chunk [s, s+k) from the true state h_s, computed by "
       "the forward over the whole sequence", start="zero"),
    _m("short_chunk_dropped", "the last, shorter chunk is missing: when k does not divide T the "
       "final chunk has T mod k steps and its gradients count too (`range(0, T, k)`)",
       chunks="whole_only"),
    _m("last_chunk_only", "only the last chunk's gradients are returned: the same weights serve "
       "every chunk, so the gradients of all chunks are added", chunks="last"),
    _m("averaged_over_chunks", "the gradients are averaged over the chunks: they are summed, like "
       "the per-step gradients inside a chunk", average=True),
    _m("window_per_loss", "this is the other truncation, where every loss d_out[t] is "
       "back-propagated through its own window of k steps (k1 = 1, k2 = k). The exercise asks "
       "for chunks: cut the sequence into [0, k), [k, 2k), ... and run one backward per chunk",
       window=True),
)


@checked("ex-ch03-truncated")
def check_truncated_bptt(fn: Callable) -> CheckResult:
    """Check ``fn(xs, h0, W_ih, W_hh, b_ih, b_hh, d_out, k) -> (dW_ih, dW_hh, db_ih, db_hh)``.

    Shapes as in :func:`gru_lib.exercises.bptt.check_rnn_bptt`; ``k`` the chunk length. Names the
    mistake when it recognises one (see :data:`TRUNCATED_MISTAKES`).
    """
    return run_check("truncated backpropagation through time", fn, truncated_bptt_reference,
                     _make_inputs_factory(), _NAMES, TRUNCATED_MISTAKES,
                     layout=Layout(sizes=lambda a: {"T": a[0].shape[0], "B": a[0].shape[1]}))
