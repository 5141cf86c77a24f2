"""Synthetic long-range benchmarks: the adding problem, copy memory, selective copy, embedded Reber.

Each task is a generator that takes an explicit ``rng`` (``np.random.Generator``) and returns NumPy
arrays, **time-major** like ``torch.nn`` (``(T, B, ...)``); pass ``batch_first=True`` for
``(B, T, ...)``. Each task also has a ``*_baseline`` function that computes, from the task's
distribution, the score of the best predictor that has *no memory of the distant past*. A model
that only matches the baseline has not used the long-range dependency at all; that is the line the
experiments of chapter {ref}`ch-long-range` measure against.

Token conventions for the categorical tasks (copy, selective copy): integer ids, ``0`` is the
blank (noise) token, ``1..n_symbols`` are data symbols, and ``n_symbols + 1`` is the marker that
asks the model to start recalling. So the vocabulary has ``n_symbols + 2`` tokens.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "REBER_SYMBOLS",
    "ReberBatch",
    "adding_baseline",
    "adding_problem",
    "copy_baseline",
    "copy_memory",
    "embedded_reber",
    "embedded_reber_string",
    "reber_baseline",
    "reber_string",
    "selective_copy",
    "selective_copy_baseline",
]


def _check_rng(rng, fn: str) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{fn}: rng must be a np.random.Generator (e.g. np.random.default_rng(0)), "
                        f"got {type(rng).__name__}")
    return rng


def _check_int(value, name: str, fn: str, minimum: int) -> int:
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{fn}: {name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _layout(a: np.ndarray, batch_first: bool) -> np.ndarray:
    """Arrays are built batch-major; return them time-major unless ``batch_first``."""
    return np.ascontiguousarray(a if batch_first else np.swapaxes(a, 0, 1))


# --------------------------------------------------------------------------------------------
# The adding problem (Hochreiter & Schmidhuber 1997; the form of Le et al. 2015, Arjovsky 2016)
# --------------------------------------------------------------------------------------------

def adding_problem(rng: np.random.Generator, batch_size: int, T: int, *, low: float = 0.0,
                   high: float = 1.0, batch_first: bool = False,
                   dtype=np.float32) -> tuple[np.ndarray, np.ndarray]:
    """A batch of the adding problem: add the two marked numbers of a length-``T`` sequence.

    Each step carries two input channels: a value drawn uniformly from ``[low, high)`` and a marker
    that is 1 at exactly two steps and 0 elsewhere. One marker falls in the first half of the
    sequence (steps ``0 .. T//2 - 1``), the other in the second half (``T//2 .. T-1``), so the
    first marked value is, on average, ``T/2`` steps behind the end, where the answer is read.

    Returns:
        x: ``(T, B, 2)`` (``(B, T, 2)`` if ``batch_first``): channel 0 the values, channel 1 the
            markers.
        y: ``(B,)``: the sum of the two marked values, the target for the last step's output.
    """
    rng = _check_rng(rng, "adding_problem")
    B = _check_int(batch_size, "batch_size", "adding_problem", 1)
    T = _check_int(T, "T", "adding_problem", 2)
    values = rng.uniform(low, high, size=(B, T))
    first = rng.integers(0, T // 2, size=B)
    second = rng.integers(T // 2, T, size=B)
    markers = np.zeros((B, T))
    rows = np.arange(B)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=-1).astype(dtype)
    y = (values[rows, first] + values[rows, second]).astype(dtype)
    return _layout(x, batch_first), y


def adding_baseline(low: float = 0.0, high: float = 1.0) -> float:
    """MSE of the best constant predictor for the adding problem: the variance of the target.

    The target is the sum of two independent ``U(low, high)`` values. A model that ignores the
    markers can do no better than predict its mean ``low + high``; its MSE is the variance of the
    sum, ``2 (high - low)^2 / 12``, i.e. 1/6 ≈ 0.167 for ``U(0, 1)``.
    """
    if not high > low:
        raise ValueError(f"adding_baseline: need high > low, got low={low}, high={high}")
    uniform_variance = (high - low) ** 2 / 12.0
    return 2.0 * uniform_variance


# --------------------------------------------------------------------------------------------
# Copy memory (Hochreiter & Schmidhuber 1997, in the form of Arjovsky, Shah & Bengio 2016)
# --------------------------------------------------------------------------------------------

def copy_memory(rng: np.random.Generator, batch_size: int, T: int, *, n_symbols: int = 8,
                n_copy: int = 10, batch_first: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """A batch of the copy-memory task: remember ``n_copy`` symbols across a delay of ``T`` steps.

    The input sequence has length ``T + 2 n_copy``: ``n_copy`` symbols drawn uniformly from
    ``1..n_symbols``, then ``T - 1`` blanks (``0``), then the marker ``n_symbols + 1``, then
    ``n_copy`` blanks. The target is blank for the first ``T + n_copy`` steps and the ``n_copy``
    symbols, in order, for the last ``n_copy`` steps. Every step is scored (Arjovsky et al. 2016).

    Returns:
        x: ``(T + 2 n_copy, B)`` int64 token ids (vocabulary ``n_symbols + 2``).
        y: ``(T + 2 n_copy, B)`` int64 target ids (``0`` or a data symbol).
    """
    rng = _check_rng(rng, "copy_memory")
    B = _check_int(batch_size, "batch_size", "copy_memory", 1)
    T = _check_int(T, "T", "copy_memory", 1)
    K = _check_int(n_symbols, "n_symbols", "copy_memory", 2)
    n = _check_int(n_copy, "n_copy", "copy_memory", 1)
    L = T + 2 * n
    symbols = rng.integers(1, K + 1, size=(B, n))
    x = np.zeros((B, L), dtype=np.int64)
    x[:, :n] = symbols
    x[:, T + n - 1] = K + 1  # the marker: the last of the T delay steps
    y = np.zeros((B, L), dtype=np.int64)
    y[:, T + n:] = symbols
    return _layout(x, batch_first), _layout(y, batch_first)


def copy_baseline(T: int, n_symbols: int = 8, n_copy: int = 10) -> float:
    """Cross-entropy per step (nats) of the memoryless strategy on :func:`copy_memory`.

    Predict the blank with certainty for the first ``T + n_copy`` steps (free: the marker's
    position is visible) and a uniform guess over the ``n_symbols`` for the last ``n_copy``,
    paying ``log n_symbols`` each. Averaged over all ``T + 2 n_copy`` scored steps this is
    ``n_copy log(n_symbols) / (T + 2 n_copy)``, i.e. ``10 log 8 / (T + 20)`` (Arjovsky et al. 2016).
    """
    T = _check_int(T, "T", "copy_baseline", 1)
    K = _check_int(n_symbols, "n_symbols", "copy_baseline", 2)
    n = _check_int(n_copy, "n_copy", "copy_baseline", 1)
    return n * math.log(K) / (T + 2 * n)


# --------------------------------------------------------------------------------------------
# Selective copy (Gu & Dao 2023, "Mamba"; studied for minimal RNNs by Feng et al. 2024)
# --------------------------------------------------------------------------------------------

def selective_copy(rng: np.random.Generator, batch_size: int, T: int, *, n_symbols: int = 8,
                   n_copy: int = 4, batch_first: bool = False,
                   ) -> tuple[np.ndarray, np.ndarray]:
    """A batch of selective copy: recall, in order, ``n_copy`` symbols scattered among noise.

    Unlike :func:`copy_memory`, the symbols sit at random positions of a length-``T`` stretch of
    blanks, so a model cannot count steps: it must decide, token by token, what to keep. Input:
    the ``T`` context steps, then ``n_copy`` marker tokens (``n_symbols + 1``) asking for the
    symbols back. The target is ``-1`` (ignore: the convention of ``ignore_index`` below) during
    the context and the symbols, in their order of appearance, during the ``n_copy`` recall steps.

    Returns:
        x: ``(T + n_copy, B)`` int64 token ids (vocabulary ``n_symbols + 2``).
        y: ``(T + n_copy, B)`` int64 targets, ``-1`` where nothing is scored. Pass
            ``ignore_index=-1`` to ``torch.nn.functional.cross_entropy``.
    """
    rng = _check_rng(rng, "selective_copy")
    B = _check_int(batch_size, "batch_size", "selective_copy", 1)
    n = _check_int(n_copy, "n_copy", "selective_copy", 1)
    T = _check_int(T, "T", "selective_copy", n)
    K = _check_int(n_symbols, "n_symbols", "selective_copy", 2)
    symbols = rng.integers(1, K + 1, size=(B, n))
    # n distinct positions per row, sorted: argsort of uniform keys is a uniform random subset.
    positions = np.sort(np.argsort(rng.random((B, T)), axis=1)[:, :n], axis=1)
    x = np.zeros((B, T + n), dtype=np.int64)
    np.put_along_axis(x, positions, symbols, axis=1)
    x[:, T:] = K + 1
    y = np.full((B, T + n), -1, dtype=np.int64)
    y[:, T:] = symbols
    return _layout(x, batch_first), _layout(y, batch_first)


def selective_copy_baseline(n_symbols: int = 8) -> dict[str, float]:
    """Scores of the memoryless predictor on the recall steps of :func:`selective_copy`.

    Without memory of the context, each recalled symbol is a uniform draw from ``n_symbols``:
    cross-entropy ``log n_symbols`` nats per recalled token and accuracy ``1 / n_symbols``.
    """
    K = _check_int(n_symbols, "n_symbols", "selective_copy_baseline", 2)
    return {"cross_entropy": math.log(K), "accuracy": 1.0 / K}


# --------------------------------------------------------------------------------------------
# Embedded Reber grammar (Hochreiter & Schmidhuber 1997, after Reber 1967 / Fahlman 1991)
# --------------------------------------------------------------------------------------------

REBER_SYMBOLS = "BTPSXVE"
_SYM = {s: i for i, s in enumerate(REBER_SYMBOLS)}
# The Reber automaton: state -> list of (symbol, next state); state 6 emits E and stops.
_REBER = {
    0: [("T", 1), ("P", 2)],
    1: [("S", 1), ("X", 3)],
    2: [("T", 2), ("V", 4)],
    3: [("X", 2), ("S", 5)],
    4: [("P", 3), ("V", 5)],
}
_EMBEDDED_BRANCHES = ("T", "P")


def reber_string(rng: np.random.Generator) -> str:
    """One string of the Reber grammar, e.g. ``'BTSSXXTVVE'`` (each branch taken with prob 1/2)."""
    rng = _check_rng(rng, "reber_string")
    out, state = ["B"], 0
    while state != 5:
        symbol, state = _REBER[state][rng.integers(2)]
        out.append(symbol)
    out.append("E")
    return "".join(out)


def embedded_reber_string(rng: np.random.Generator) -> str:
    """One string of the embedded Reber grammar: ``B c <Reber string> c E`` with ``c`` in {T, P}.

    The second symbol must be repeated as the second-to-last: the one long-lag dependency.
    """
    rng = _check_rng(rng, "embedded_reber_string")
    c = _EMBEDDED_BRANCHES[rng.integers(len(_EMBEDDED_BRANCHES))]
    return "B" + c + reber_string(rng) + c + "E"


def _legal_next(s: str) -> list[set[str]]:
    """For each step t of an embedded Reber string, the set of symbols allowed at step t + 1.

    Layout: ``s = B c B <inner> E c E``. The outer symbols have fixed successors; inside, walk
    the automaton and list the arcs leaving the current state.
    """
    c, n = s[1], len(s)
    legal = [set(_EMBEDDED_BRANCHES), {"B"}]  # after the outer B, after the branch symbol
    state = 0  # after the inner B
    legal.append({a for a, _ in _REBER[state]})
    for sym in s[3 : n - 3]:  # the inner symbols between the inner B and the inner E
        state = dict(_REBER[state])[sym]
        legal.append({a for a, _ in _REBER[state]} if state != 5 else {"E"})
    legal += [{c}, {"E"}, set()]  # after the inner E, after the repeated c, after the final E
    return legal


@dataclass
class ReberBatch:
    """A padded batch of embedded Reber strings for next-symbol prediction.

    Attributes:
        x: ``(L, B, 7)`` float32 one-hot inputs (``REBER_SYMBOLS`` order), zero after the string.
        y: ``(L, B)`` int64: the symbol that actually comes next, ``-1`` at the last symbol and
            in the padding (pass ``ignore_index=-1`` to the cross-entropy).
        legal: ``(L, B, 7)`` bool: which symbols the grammar allows next (all False where ``y``
            is ``-1``).
        lengths: ``(B,)`` int64 string lengths.
        strings: the strings themselves.
        critical: ``(B,)`` int64: index of the step whose next symbol is the long-lag one (the
            input is the inner ``E``, the target the repeated branch symbol).
    """

    x: np.ndarray
    y: np.ndarray
    legal: np.ndarray
    lengths: np.ndarray
    strings: list[str]
    critical: np.ndarray


def embedded_reber(rng: np.random.Generator, batch_size: int, *,
                   batch_first: bool = False) -> ReberBatch:
    """A batch of embedded Reber strings, padded to the longest, for next-symbol prediction."""
    rng = _check_rng(rng, "embedded_reber")
    B = _check_int(batch_size, "batch_size", "embedded_reber", 1)
    strings = [embedded_reber_string(rng) for _ in range(B)]
    L = max(len(s) for s in strings)
    V = len(REBER_SYMBOLS)
    x = np.zeros((B, L, V), dtype=np.float32)
    y = np.full((B, L), -1, dtype=np.int64)
    legal = np.zeros((B, L, V), dtype=bool)
    for b, s in enumerate(strings):
        ids = [_SYM[ch] for ch in s]
        x[b, np.arange(len(s)), ids] = 1.0
        y[b, : len(s) - 1] = ids[1:]
        for t, allowed in enumerate(_legal_next(s)):
            legal[b, t, [_SYM[a] for a in allowed]] = True
    lengths = np.array([len(s) for s in strings], dtype=np.int64)
    critical = lengths - 3  # ... inner E (critical), branch symbol, final E
    return ReberBatch(_layout(x, batch_first), _layout(y, batch_first),
                      _layout(legal, batch_first), lengths, strings, critical)


def reber_baseline() -> float:
    """Accuracy of a memoryless predictor on the long-lag step of the embedded Reber grammar.

    At the inner ``E`` every short-memory predictor knows the next symbol is one of the two
    branch symbols but not which: it is right with probability ``1 / 2``. All other steps can be
    predicted from the last few symbols, which is why even a simple RNN learns this task.
    """
    return 1.0 / len(_EMBEDDED_BRANCHES)
