r"""Character n-gram language models: the counting baseline a recurrent model has to beat.

Chapter {ref}`ch-char-lm` compares recurrent language models with the strongest cheap baseline,
an n-gram model: the probability of the next character given only the previous ``n − 1``. Raw
relative frequencies give probability zero to every continuation not seen in training, so the
estimate is smoothed by **interpolation with discounting** (Ney, Essen & Kneser, 1994; Chen &
Goodman, 1999). For a context :math:`h` of ``k − 1`` characters and its shortening :math:`h'`
(the last ``k − 2``),

.. math::
    P_k(w \mid h) = \frac{\max(c_k(h w) - d_k, 0)}{c_k(h)}
        + \frac{d_k \, N_{1+}(h\,\cdot)}{c_k(h)} \, P_{k-1}(w \mid h'),
    \qquad P_0(w) = \frac{1}{V},

where :math:`c_k(h) = \sum_w c_k(h w)` and :math:`N_{1+}(h\,\cdot)` is the number of distinct
characters seen after :math:`h`: every seen continuation gives up ``d`` of its count, and the
mass saved is shared out by the shorter context. A context never seen (:math:`c_k(h) = 0`) uses
:math:`P_{k-1}` unchanged. Ending the recursion at the uniform :math:`P_0` gives every character
of the vocabulary, seen in training or not, a positive probability, and every :math:`P_k(\cdot
\mid h)` sums to one exactly (in real arithmetic).

Two choices of the counts :math:`c_k`:

- ``method="absolute"`` (interpolated absolute discounting): every order uses raw counts;
- ``method="kneser-ney"`` (interpolated Kneser–Ney, the default; Kneser & Ney, 1995): the top
  order ``n`` uses raw counts, lower orders the *continuation counts*
  :math:`N_{1+}(\cdot\, h w)`, the number of distinct characters seen *before* :math:`h w`:
  a lower order is only consulted when the longer context has little evidence, so it should
  predict how readily a string follows new contexts, not how often it occurs.

One discount per order (not Chen & Goodman's three-discount "modified" Kneser–Ney). By default
it is Ney et al.'s estimate :math:`d_k = n_1 / (n_1 + 2 n_2)` from the order's counts of counts
(0.5 where a count of 1 or 2 never occurs), so the baseline needs no tuning. Characters at the
start of a text, with fewer than ``n − 1`` predecessors, use the lower orders' estimates as they
are. Counts are kept as sorted NumPy arrays of k-gram codes (base ``V``), so fitting a 5 MB
corpus takes a few ``np.unique`` calls per order and scoring is vectorised over positions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["NGramLM"]

METHODS = ("kneser-ney", "absolute")


def _lookup(keys: np.ndarray, values: np.ndarray, query: np.ndarray) -> np.ndarray:
    """``values[i]`` where ``keys[i] == query`` (keys sorted, unique), 0 where absent."""
    if keys.size == 0:
        return np.zeros(query.shape, dtype=values.dtype)
    idx = np.minimum(np.searchsorted(keys, query), keys.size - 1)
    return np.where(keys[idx] == query, values[idx], 0)


class _Order:
    """The counts of one order ``k``: k-gram codes and counts, and per-context totals/types."""

    def __init__(self, codes: np.ndarray, counts: np.ndarray, V: int):
        self.codes, self.counts = codes, counts.astype(np.float64)
        ctx, inverse = np.unique(codes // V, return_inverse=True)
        self.ctx_codes = ctx
        self.ctx_total = np.bincount(inverse, weights=self.counts, minlength=ctx.size)
        self.ctx_types = np.bincount(inverse, minlength=ctx.size).astype(np.float64)

    def estimate_discount(self) -> float:
        n1, n2 = np.sum(self.counts == 1), np.sum(self.counts == 2)
        return float(n1 / (n1 + 2 * n2)) if n1 > 0 and n2 > 0 else 0.5


class NGramLM:
    r"""Character n-gram model with interpolated Kneser–Ney or absolute discounting.

    Args:
        order: ``n`` ≥ 1: the model conditions on the previous ``n − 1`` characters.
        vocab: the vocabulary: a size ``V`` (data are then integer ids in ``[0, V)``), or the
            characters themselves as a string or sequence of distinct 1-character strings (data
            may then be strings, encoded in that order; e.g. the chapter's ``chars``).
        discount: None (estimate each order's from the counts), a float in (0, 1) for all
            orders, or a sequence of ``order`` floats in (0, 1), lowest order first.
        method: ``"kneser-ney"`` (default) or ``"absolute"``; see the module docstring.

    After :meth:`fit`: :meth:`log_probs` (natural log of the probability of each character),
    :meth:`prob_dist` (the next-character distribution ``(V,)`` after a context),
    :meth:`perplexity` and :meth:`bits_per_char`, and ``discounts`` (one per order).

    Example (chapter 11's split; the recurrent models predict ``ids[1:]`` from ``ids[:-1]``, so
    the baseline scores the same targets with the first character as context)::

        lm = NGramLM(5, chars).fit(train_text)
        lm.perplexity(valid_ids[1:], context=valid_ids[:1])
    """

    def __init__(self, order: int, vocab, discount=None, method: str = "kneser-ney"):
        if isinstance(order, bool) or not isinstance(order, int | np.integer):
            raise TypeError(f"NGramLM: order must be an int, got {type(order).__name__}")
        if order < 1:
            raise ValueError(f"NGramLM: order must be >= 1, got {order}")
        if method not in METHODS:
            raise ValueError(f"NGramLM: method must be one of {METHODS}, got {method!r}")
        self.order, self.method = int(order), method
        if isinstance(vocab, int | np.integer) and not isinstance(vocab, bool):
            self.chars, self.V = None, int(vocab)
        elif isinstance(vocab, str | Sequence):
            chars = list(vocab)
            bad = [c for c in chars if not (isinstance(c, str) and len(c) == 1)]
            if bad:
                raise TypeError(f"NGramLM: vocab characters must be 1-character strings, got "
                                f"{bad[:3]!r}")
            if len(set(chars)) != len(chars):
                dup = sorted({c for c in chars if chars.count(c) > 1})
                raise ValueError(f"NGramLM: vocab has repeated characters {dup!r}")
            self.chars, self.V = chars, len(chars)
            self._index = {c: i for i, c in enumerate(chars)}
        else:
            raise TypeError(f"NGramLM: vocab must be a size (int) or the characters (str or "
                            f"sequence), got {type(vocab).__name__}")
        if self.V < 1:
            raise ValueError(f"NGramLM: vocabulary size must be >= 1, got {self.V}")
        if self.V ** self.order >= 2 ** 62:
            raise ValueError(f"NGramLM: V**order = {self.V}**{self.order} does not fit the int64 "
                             "k-gram codes; use a smaller order or vocabulary")
        self._discount_arg = self._check_discount(discount)
        self._orders: list[_Order] | None = None
        self.discounts: list[float] | None = None

    def _check_discount(self, discount):
        if discount is None:
            return None
        values = ([discount] * self.order if isinstance(discount, int | float | np.floating)
                  and not isinstance(discount, bool) else discount)
        if not isinstance(values, Sequence | np.ndarray) or isinstance(values, str):
            raise TypeError(f"NGramLM: discount must be None, a float or a sequence of "
                            f"{self.order} floats, got {type(discount).__name__}")
        if len(values) != self.order:
            raise ValueError(f"NGramLM: expected {self.order} discounts (one per order), got "
                             f"{len(values)}")
        for d in values:
            if isinstance(d, bool) or not isinstance(d, int | float | np.floating):
                raise TypeError(f"NGramLM: discount must be a float, got {type(d).__name__}")
            if not 0.0 < float(d) < 1.0:
                raise ValueError(f"NGramLM: discount must be in the open interval (0, 1), got {d}")
        return [float(d) for d in values]

    def __repr__(self) -> str:
        return f"NGramLM(order={self.order}, V={self.V}, method={self.method!r})"

    # ------------------------------------------------------------------ data
    def encode(self, data) -> np.ndarray:
        """A string (with a character vocabulary) or 1-D integer ids → ``int64`` ids ``(L,)``."""
        if isinstance(data, str):
            if self.chars is None:
                raise TypeError("NGramLM: a string needs a character vocabulary (vocab=chars); "
                                "this model was built with a size, so pass integer ids")
            try:
                return np.fromiter((self._index[c] for c in data), np.int64, len(data))
            except KeyError as e:
                pos = next(i for i, c in enumerate(data) if c not in self._index)
                raise ValueError(f"NGramLM: character {e.args[0]!r} at position {pos} is not in "
                                 f"the vocabulary of {self.V} characters") from None
        if hasattr(data, "detach"):                      # a torch tensor
            data = data.detach().cpu().numpy()
        ids = np.asarray(data)
        if ids.ndim != 1:
            raise ValueError(f"NGramLM: expected a 1-D sequence of ids (L,), got shape "
                             f"{ids.shape}")
        if ids.size and ids.dtype.kind not in "iu":
            raise TypeError(f"NGramLM: expected integer ids, got dtype {ids.dtype}")
        ids = ids.astype(np.int64)
        if ids.size and (ids.min() < 0 or ids.max() >= self.V):
            bad = ids[(ids < 0) | (ids >= self.V)][0]
            raise ValueError(f"NGramLM: expected ids in [0, {self.V}) (V = {self.V}), got {bad}")
        return ids

    def _windows(self, ids: np.ndarray) -> list[np.ndarray]:
        """``e[k-1][p]``: the code of the k-gram ending at position ``p`` (valid for p ≥ k−1)."""
        e = [ids.copy()]
        for k in range(2, self.order + 1):
            nxt = np.full_like(ids, -1)
            nxt[k - 1:] = ids[:ids.size - k + 1] * self.V ** (k - 1) + e[-1][k - 1:]
            e.append(nxt)
        return e

    # ------------------------------------------------------------------ fit
    def fit(self, data) -> NGramLM:
        """Count the k-grams of ``data`` (string or ids ``(L,)``) for k = 1..n; returns self."""
        ids = self.encode(data)
        if ids.size == 0:
            raise ValueError("NGramLM.fit: expected a non-empty training sequence")
        windows = self._windows(ids)
        raw = [np.unique(windows[k - 1][k - 1:], return_counts=True)
               for k in range(1, self.order + 1)]
        tables = []
        for k in range(1, self.order + 1):
            codes, counts = raw[k - 1]
            if self.method == "kneser-ney" and k < self.order:
                # continuation count of a k-gram: distinct characters seen before it
                codes, counts = np.unique(raw[k][0] % self.V ** k, return_counts=True)
            tables.append(_Order(codes, counts, self.V))
        self._orders = tables
        self.discounts = (self._discount_arg if self._discount_arg is not None
                          else [t.estimate_discount() for t in tables])
        return self

    # ------------------------------------------------------------------ probabilities
    def _interpolate(self, kgrams: list[np.ndarray]) -> np.ndarray:
        """Probabilities from the k-gram codes of each order (−1: order not applicable)."""
        if self._orders is None:
            raise RuntimeError("NGramLM: call fit(...) before asking for probabilities")
        p = np.full(kgrams[0].shape, 1.0 / self.V)
        for k, (table, d) in enumerate(zip(self._orders, self.discounts, strict=True), 1):
            codes = kgrams[k - 1]
            ok = codes >= 0
            ctx = np.where(ok, codes // self.V, -1)
            total = _lookup(table.ctx_codes, table.ctx_total, ctx)
            seen = ok & (total > 0)
            if not seen.any():
                continue
            c = _lookup(table.codes, table.counts, codes[seen])
            types = _lookup(table.ctx_codes, table.ctx_types, ctx[seen])
            p[seen] = (np.maximum(c - d, 0.0) + d * types * p[seen]) / total[seen]
        return p

    def log_probs(self, data, context=()) -> np.ndarray:
        """``log P(x_t | context, x_1..x_{t-1})`` (natural log) for every character ``(L,)``.

        ``context`` (string or ids) precedes ``data`` and is not scored: e.g. to score the same
        targets as a recurrent model fed ``ids[:-1]``, call ``log_probs(ids[1:], ids[:1])``.
        """
        ctx, ids = self.encode(context), self.encode(data)
        full = np.concatenate([ctx, ids])
        windows = self._windows(full)
        return np.log(self._interpolate([w[ctx.size:] for w in windows]))

    def prob_dist(self, context=()) -> np.ndarray:
        """``P(· | context)`` over the whole vocabulary, ``(V,)``: the next character's law."""
        ctx = self.encode(context)[-(self.order - 1):] if self.order > 1 else np.zeros(0, int)
        w = np.arange(self.V, dtype=np.int64)
        kgrams = []
        for k in range(1, self.order + 1):
            if k - 1 > ctx.size:
                kgrams.append(np.full(self.V, -1, dtype=np.int64))
                continue
            code = 0
            for c in ctx[ctx.size - (k - 1):] if k > 1 else ():
                code = code * self.V + int(c)
            kgrams.append(code * self.V + w)
        return self._interpolate(kgrams)

    def perplexity(self, data, context=()) -> float:
        """``exp(−mean log P)`` over the characters of ``data`` (eq. ``eq-ch11-ppl``)."""
        lp = self.log_probs(data, context)
        if lp.size == 0:
            raise ValueError("NGramLM.perplexity: expected a non-empty sequence to score")
        return math.exp(-float(lp.mean()))

    def bits_per_char(self, data, context=()) -> float:
        """Mean ``−log₂ P`` per character: ``log₂`` of the perplexity."""
        return math.log2(self.perplexity(data, context))
