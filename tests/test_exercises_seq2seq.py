"""The chapter 12 checker (gru_lib.exercises.seq2seq): greedy decoding against a fixed decoder;
every known mistake is named, the number of decoder calls is checked, a wrong argmax axis is
explained."""

import numpy as np
import pytest

from gru_lib.exercises import seq2seq as ex


def test_reference_passes_and_scaffold_not_attempted():
    assert ex.check_greedy_decode(ex.greedy_decode_reference).passed

    def greedy_decode(step, g0, bos, max_len):
        raise NotImplementedError

    assert "not attempted yet" in ex.check_greedy_decode(greedy_decode).message


def test_reference_feeds_back_its_own_choices():
    rng = np.random.default_rng(0)
    step, g0 = ex.Decoder(rng), rng.normal(size=(3, ex._H))
    ids = ex.greedy_decode_reference(step, g0, ex._BOS, 6)
    y, g = np.full(3, ex._BOS), g0
    for u in range(6):  # one step at a time, by hand
        logits, g = step(y, g)
        y = logits.argmax(axis=1)
        np.testing.assert_array_equal(ids[u], y)
    assert len(set(ids.ravel().tolist())) > 2  # the decoder is not stuck on one token


@pytest.mark.parametrize("mistake", ex.GREEDY_MISTAKES, ids=lambda m: m.name)
def test_each_mistake_is_named(mistake):
    res = ex.check_greedy_decode(mistake.fn)
    assert not res.passed and res.mistake == mistake.name, res.message


def test_extra_decoder_call_is_reported():
    def greedy_decode(step, g0, bos, max_len):
        step(np.full(g0.shape[0], bos), g0)     # a warm-up call that changes nothing
        return ex.greedy_decode_reference(step, g0, bos, max_len)

    res = ex.check_greedy_decode(greedy_decode)
    assert not res.passed and res.mistake == "step_calls"
    assert "called step 8 times for max_len = 7" in res.message


def test_argmax_over_the_wrong_axis_is_explained():
    def greedy_decode(step, g0, bos, max_len):
        y, g, out = np.full(g0.shape[0], bos), g0, []
        for _ in range(max_len):
            logits, g = step(y, g)
            y = logits.argmax(axis=0)
            out.append(y)
        return np.stack(out)

    res = ex.check_greedy_decode(greedy_decode)
    assert not res.passed and "axis=-1" in res.message and "line" in res.message


def test_solution_for_the_book_passes():
    def greedy_decode(step, g0, bos, max_len):
        y, g, chosen = np.full(g0.shape[0], bos), g0, []
        for _ in range(max_len):
            logits, g = step(y, g)
            y = logits.argmax(axis=-1)          # feed back the model's own choice
            chosen.append(y)
        return np.stack(chosen)                 # (max_len, B), time-major

    assert ex.check_greedy_decode(greedy_decode).passed
