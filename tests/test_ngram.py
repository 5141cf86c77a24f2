"""gru_lib.ngram: normalisation, a perplexity computed by hand, and the input checks."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import torch

from gru_lib.ngram import NGramLM

METHODS = ["absolute", "kneser-ney"]


def _random_text(rng, V, L):
    # a Markov chain with a few likely successors per symbol, so higher orders have structure;
    # the last symbol never occurs in training (an unseen character)
    succ = rng.integers(0, V - 1, size=(V, 3))
    ids = [0]
    for _ in range(L - 1):
        ids.append(int(succ[ids[-1], rng.integers(0, 3)]) if rng.random() < 0.9
                   else int(rng.integers(0, V - 1)))
    return np.array(ids)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("order", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("discount", [None, 0.3, 0.9])
def test_distributions_sum_to_one_at_random_contexts(order, method, discount):
    rng = np.random.default_rng(order)
    V = 7
    train = _random_text(rng, V, 3000)
    lm = NGramLM(order, V, discount=discount, method=method).fit(train)
    contexts = [train[i:i + order - 1] for i in rng.integers(0, 2990, 10)]     # seen
    contexts += [rng.integers(0, V, order - 1) for _ in range(10)]             # mostly unseen
    contexts += [np.array([V - 1] * (order - 1)), np.array([], dtype=int)]     # unseen char, none
    for ctx in contexts:
        p = lm.prob_dist(ctx)
        assert p.shape == (V,)
        assert np.all(p > 0)                       # every character, even one never seen
        assert abs(p.sum() - 1.0) < 1e-12
        # the vectorised scorer gives the same numbers as the distribution
        for w in range(V):
            lp = lm.log_probs([w], context=ctx)
            assert abs(lp[0] - math.log(p[w])) < 1e-12


def _hand_perplexity(probs):
    prod = math.prod(Fraction(p) for p in probs)
    return float(prod) ** (-1 / len(probs))


def test_perplexity_of_a_tiny_corpus_by_hand():
    # Vocabulary a, b, c; training text "aab"; bigram; discount 1/2. Counts: a 2, b 1, c 0 (N = 3,
    # 2 types); bigrams aa 1, ab 1 (context a: total 2, 2 types; context b never a context).
    #   absolute: P1(w) = max(c(w) - 1/2, 0)/3 + (1/2 * 2/3) * 1/3  ->  a 11/18, b 5/18, c 1/9
    #             P2(w|a) = max(c(aw) - 1/2, 0)/2 + (1/2 * 2/2) * P1(w)  ->  b 7/18; P2(.|b) = P1
    #   "abc": P(a) = P1(a) (no context) = 11/18, P(b|a) = 7/18, P(c|b) = P1(c) = 1/9.
    #   Kneser-Ney: order 1 counts continuations, N1+(.a) = N1+(.b) = 1: P1 a 5/12, b 5/12,
    #   c 1/6; P2(b|a) = 1/4 + 1/2 * 5/12 = 11/24; "abc": 5/12, 11/24, 1/6.
    chars = "abc"
    absolute = NGramLM(2, chars, discount=0.5, method="absolute").fit("aab")
    np.testing.assert_allclose(absolute.prob_dist(""), [11 / 18, 5 / 18, 1 / 9], rtol=1e-15)
    np.testing.assert_allclose(absolute.prob_dist("a"), [5 / 9, 7 / 18, 1 / 18], rtol=1e-15)
    expected = _hand_perplexity([Fraction(11, 18), Fraction(7, 18), Fraction(1, 9)])
    assert abs(absolute.perplexity("abc") - expected) < 1e-12
    assert abs(absolute.bits_per_char("abc") - math.log2(expected)) < 1e-12
    kn = NGramLM(2, chars, discount=0.5, method="kneser-ney").fit("aab")
    np.testing.assert_allclose(kn.prob_dist(""), [5 / 12, 5 / 12, 1 / 6], rtol=1e-15)
    expected = _hand_perplexity([Fraction(5, 12), Fraction(11, 24), Fraction(1, 6)])
    assert abs(kn.perplexity("abc") - expected) < 1e-12
    # context: the first character conditions the rest and is not scored
    assert abs(absolute.perplexity("bc", context="a")
               - _hand_perplexity([Fraction(7, 18), Fraction(1, 9)])) < 1e-12


def test_uniform_and_unigram_limits():
    # a unigram model with the uniform floor: (max(c - d, 0) + d * types / V) / N
    text = "abracadabra"
    chars = sorted(set(text)) + ["z"]
    lm = NGramLM(1, chars, discount=0.25, method="absolute").fit(text)
    counts = np.array([text.count(c) for c in chars], float)
    expected = (np.maximum(counts - 0.25, 0) + 0.25 * 5 / 6) / len(text)
    np.testing.assert_allclose(lm.prob_dist(), expected, rtol=1e-15)
    assert lm.discounts == [0.25]


def test_higher_orders_help_on_structured_text_and_inputs_agree():
    rng = np.random.default_rng(0)
    V = 7
    text = _random_text(rng, V, 22000)                 # one first-order chain: a bigram's world
    train, valid = text[:20000], text[20000:]
    ppl = [NGramLM(n, V).fit(train).perplexity(valid) for n in (1, 2, 3)]
    assert ppl[1] < 0.8 * ppl[0] and ppl[2] <= ppl[1] * 1.02
    lm = NGramLM(3, V).fit(torch.as_tensor(train))           # tensors and lists are ids too
    assert lm.perplexity(list(valid)) == lm.perplexity(valid)
    assert len(lm.discounts) == 3 and all(0 < d < 1 for d in lm.discounts)
    assert repr(lm) == "NGramLM(order=3, V=7, method='kneser-ney')"


@pytest.mark.parametrize("d", [0, 1, 1.5, -0.1, float("nan")])
def test_discount_must_be_in_open_unit_interval(d):
    with pytest.raises(ValueError, match=r"discount must be in the open interval \(0, 1\)"):
        NGramLM(3, 5, discount=d)


BAD = [
    (lambda: NGramLM(0, 5), ValueError, "order must be >= 1, got 0"),
    (lambda: NGramLM(2.0, 5), TypeError, "order must be an int, got float"),
    (lambda: NGramLM(2, 5, method="witten-bell"), ValueError, "method must be one of"),
    (lambda: NGramLM(2, 5, discount=[0.5]), ValueError, "expected 2 discounts.*got 1"),
    (lambda: NGramLM(2, 5, discount="0.5"), TypeError, "discount must be None, a float"),
    (lambda: NGramLM(2, "abca"), ValueError, r"repeated characters \['a'\]"),
    (lambda: NGramLM(2, ["ab", "c"]), TypeError, "1-character strings"),
    (lambda: NGramLM(2, 2.5), TypeError, "vocab must be a size"),
    (lambda: NGramLM(12, 5000), ValueError, "does not fit the int64"),
    (lambda: NGramLM(2, 5).fit([0, 1, 5]), ValueError, r"expected ids in \[0, 5\).*got 5"),
    (lambda: NGramLM(2, 5).fit([0, -1]), ValueError, "got -1"),
    (lambda: NGramLM(2, 5).fit(np.zeros((2, 3), int)), ValueError, r"1-D sequence.*\(2, 3\)"),
    (lambda: NGramLM(2, 5).fit([0.0, 1.0]), TypeError, "integer ids, got dtype float64"),
    (lambda: NGramLM(2, 5).fit("abc"), TypeError, "a string needs a character vocabulary"),
    (lambda: NGramLM(2, "ab").fit("abx"), ValueError, "'x' at position 2 is not in"),
    (lambda: NGramLM(2, "ab").fit(""), ValueError, "non-empty training sequence"),
    (lambda: NGramLM(2, "ab").perplexity("ab"), RuntimeError, r"call fit\(...\)"),
    (lambda: NGramLM(2, "ab").fit("ab").perplexity(""), ValueError, "non-empty sequence"),
]


@pytest.mark.parametrize("call,error,words", BAD, ids=range(len(BAD)))
def test_bad_input_is_named(call, error, words):
    with pytest.raises(error, match=words):
        call()
