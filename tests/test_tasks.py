"""Tests of gru_lib.tasks: shapes, labels recomputed independently, baselines vs Monte Carlo."""

import math

import numpy as np
import pytest

from gru_lib import tasks


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


# ----------------------------------------------------------------------------- adding problem

def test_adding_shapes_and_layout(rng):
    x, y = tasks.adding_problem(rng, 5, 12)
    assert x.shape == (12, 5, 2) and y.shape == (5,)
    assert x.dtype == np.float32 and y.dtype == np.float32
    xb, yb = tasks.adding_problem(np.random.default_rng(0), 5, 12, batch_first=True)
    xt, yt = tasks.adding_problem(np.random.default_rng(0), 5, 12)
    np.testing.assert_array_equal(xb, np.swapaxes(xt, 0, 1))
    np.testing.assert_array_equal(yb, yt)


def test_adding_labels(rng):
    T = 9
    x, y = tasks.adding_problem(rng, 200, T)
    values, markers = x[..., 0], x[..., 1]
    assert set(np.unique(markers)) == {0.0, 1.0}
    assert np.all(markers.sum(axis=0) == 2)
    assert np.all(markers[: T // 2].sum(axis=0) == 1)  # one marker in each half
    assert np.all(markers[T // 2 :].sum(axis=0) == 1)
    assert np.all((values >= 0) & (values < 1))
    np.testing.assert_allclose(y, (values * markers).sum(axis=0), rtol=1e-6)


def test_adding_baseline_matches_monte_carlo(rng):
    assert tasks.adding_baseline() == pytest.approx(1 / 6)
    _, y = tasks.adding_problem(rng, 200_000, 4, dtype=np.float64)
    mse_of_mean_predictor = float(np.mean((y - 1.0) ** 2))  # predict the mean, 1
    assert mse_of_mean_predictor == pytest.approx(tasks.adding_baseline(), rel=0.02)
    assert tasks.adding_baseline(-1.0, 1.0) == pytest.approx(2 * 4 / 12)
    with pytest.raises(ValueError):
        tasks.adding_baseline(1.0, 1.0)


# ----------------------------------------------------------------------------- copy memory

def test_copy_shapes_and_labels(rng):
    T, n, K = 7, 4, 5
    x, y = tasks.copy_memory(rng, 30, T, n_symbols=K, n_copy=n)
    assert x.shape == y.shape == (T + 2 * n, 30)
    assert x.dtype == y.dtype == np.int64
    for b in range(30):
        seq, tgt = list(x[:, b]), list(y[:, b])
        data = seq[:n]
        assert all(1 <= s <= K for s in data)
        assert seq[n:] == [0] * (T - 1) + [K + 1] + [0] * n
        assert tgt == [0] * (T + n) + data
    xb, yb = tasks.copy_memory(np.random.default_rng(3), 4, T, batch_first=True)
    assert xb.shape == (4, T + 20)


def test_copy_baseline_formula_and_monte_carlo(rng):
    # Arjovsky et al. (2016): 10 log 8 / (T + 20)
    for T in (1, 100, 500):
        assert tasks.copy_baseline(T) == pytest.approx(10 * math.log(8) / (T + 20))
    # The memoryless strategy's cross-entropy, measured on samples: probability 1 on the blank
    # where the target is blank, 1/K on each symbol during recall.
    T, n, K = 30, 10, 8
    _, y = tasks.copy_memory(rng, 2000, T, n_symbols=K, n_copy=n)
    probs = np.zeros(y.shape + (K + 2,))
    probs[: T + n, :, 0] = 1.0
    probs[T + n :, :, 1 : K + 1] = 1.0 / K
    ce = -np.mean(np.log(np.take_along_axis(probs, y[..., None], axis=-1)))
    assert ce == pytest.approx(tasks.copy_baseline(T, K, n), rel=1e-12)
    # ...and no memoryless predictor beats it: the recalled symbols are uniform (entropy log K).
    counts = np.bincount(y[T + n :].ravel(), minlength=K + 1)[1:]
    p = counts / counts.sum()
    assert -np.sum(p * np.log(p)) == pytest.approx(math.log(K), rel=2e-3)


# ----------------------------------------------------------------------------- selective copy

def test_selective_copy_labels(rng):
    T, n, K = 15, 4, 6
    x, y = tasks.selective_copy(rng, 50, T, n_symbols=K, n_copy=n)
    assert x.shape == y.shape == (T + n, 50)
    for b in range(50):
        context = x[:T, b]
        data = [int(s) for s in context if s != 0]
        assert len(data) == n and all(1 <= s <= K for s in data)
        assert list(x[T:, b]) == [K + 1] * n
        assert list(y[:T, b]) == [-1] * T
        assert list(y[T:, b]) == data
    # positions are spread over the whole context, not clustered at one end
    pos = np.nonzero(x[:T] != 0)[0]
    assert pos.min() == 0 and pos.max() == T - 1


def test_selective_copy_baseline_monte_carlo(rng):
    K = 8
    base = tasks.selective_copy_baseline(K)
    assert base["cross_entropy"] == pytest.approx(math.log(K))
    assert base["accuracy"] == pytest.approx(1 / K)
    _, y = tasks.selective_copy(rng, 20000, 12, n_symbols=K, n_copy=3)
    recalled = y[12:].ravel()
    p = np.bincount(recalled, minlength=K + 1)[1:] / recalled.size
    assert -np.sum(p * np.log(p)) == pytest.approx(base["cross_entropy"], rel=2e-3)
    assert p.max() == pytest.approx(base["accuracy"], abs=0.01)  # best constant guess


# ----------------------------------------------------------------------------- embedded Reber

# The Reber automaton written out independently of the library, as arcs "state symbol next".
_ARCS = """0 T 1  0 P 2  1 S 1  1 X 3  2 T 2  2 V 4  3 X 2  3 S 5  4 P 3  4 V 5""".split()
_TABLE = {(int(a), s): int(b) for a, s, b in zip(_ARCS[::3], _ARCS[1::3], _ARCS[2::3], strict=True)}


def _is_reber(s: str) -> bool:
    if len(s) < 2 or s[0] != "B" or s[-1] != "E":
        return False
    state = 0
    for ch in s[1:-1]:
        if (state, ch) not in _TABLE:
            return False
        state = _TABLE[(state, ch)]
    return state == 5


def test_reber_strings_are_grammatical(rng):
    seen = set()
    for _ in range(500):
        s = tasks.embedded_reber_string(rng)
        seen.add(s[1])
        assert s[0] == "B" and s[-1] == "E" and s[1] == s[-2] and s[1] in "TP"
        assert _is_reber(s[2:-2]), s
    assert seen == {"T", "P"}
    assert not _is_reber("BTXXE") and _is_reber("BTSSXXTVVE") and _is_reber("BPVVE")


def test_reber_batch_fields(rng):
    batch = tasks.embedded_reber(rng, 40)
    L = batch.lengths.max()
    assert batch.x.shape == (L, 40, 7) and batch.legal.shape == (L, 40, 7)
    assert batch.y.shape == (L, 40)
    for b, s in enumerate(batch.strings):
        n = len(s)
        ids = [tasks.REBER_SYMBOLS.index(ch) for ch in s]
        np.testing.assert_array_equal(batch.x[:n, b].argmax(-1), ids)
        assert np.all(batch.x[n:, b] == 0)
        assert list(batch.y[: n - 1, b]) == ids[1:] and np.all(batch.y[n - 1 :, b] == -1)
        # the actual next symbol is always legal; nothing is legal after the end
        assert np.all(batch.legal[np.arange(n - 1), b, ids[1:]])
        assert not batch.legal[n - 1 :, b].any()
        # the critical step: the input is the inner E, the target repeats the second symbol
        c = batch.critical[b]
        assert s[c] == "E" and batch.y[c, b] == tasks.REBER_SYMBOLS.index(s[1])
        assert batch.legal[c, b].sum() == 1


def test_reber_legal_sets_match_sampling():
    """The grammar's 'legal next symbols' equal what follows each prefix in many samples."""
    rng = np.random.default_rng(7)
    strings = [tasks.embedded_reber_string(rng) for _ in range(20000)]
    followers: dict[str, set[str]] = {}
    count: dict[str, int] = {}
    for s in strings:
        for t in range(len(s) - 1):
            followers.setdefault(s[: t + 1], set()).add(s[t + 1])
            count[s[: t + 1]] = count.get(s[: t + 1], 0) + 1
    batch = tasks.embedded_reber(np.random.default_rng(8), 200)
    checked = 0
    for b, s in enumerate(batch.strings):
        for t in range(len(s) - 1):
            prefix = s[: t + 1]
            if count.get(prefix, 0) < 200:
                break  # too rare to have seen every follower
            legal = {tasks.REBER_SYMBOLS[i] for i in np.nonzero(batch.legal[t, b])[0]}
            assert legal == followers[prefix], (s, t)
            checked += 1
    assert checked > 500


def test_reber_baseline_monte_carlo():
    rng = np.random.default_rng(9)
    second = np.array([tasks.embedded_reber_string(rng)[1] == "T" for _ in range(20000)])
    # a memoryless predictor's best guess at the inner E is the more frequent branch
    best = max(second.mean(), 1 - second.mean())
    assert best == pytest.approx(tasks.reber_baseline(), abs=0.01)


# ----------------------------------------------------------------------------- validation

def test_bad_arguments():
    with pytest.raises(TypeError, match="Generator"):
        tasks.adding_problem(0, 2, 10)
    with pytest.raises(ValueError, match="T"):
        tasks.adding_problem(np.random.default_rng(0), 2, 1)
    with pytest.raises(ValueError, match="n_copy"):
        tasks.copy_memory(np.random.default_rng(0), 2, 5, n_copy=0)
    with pytest.raises(ValueError, match="T"):
        tasks.selective_copy(np.random.default_rng(0), 2, 3, n_copy=4)
