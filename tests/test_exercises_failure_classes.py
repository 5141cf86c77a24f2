"""Every checker against the failure classes of issue 13, built from its own correct answer.

For each checked exercise of the book, wrong implementations are derived from a correct one:

- ``in_place``: the right answer, but an input is changed in place (the realistic way for that
  exercise: ``np.tanh(a, out=h)``, ``c *= f``, accumulating into ``d_out``, writing states into
  ``b``, ``logits /= tau``, a dict of gradients scaled in place); must be reported as such, naming
  the input;
- ``float32``: the right formula computed in float32; accepted or refused with the exercise's
  reason, per its float32 policy;
- ``list``: the right numbers as a Python list; ``none``: no ``return``; ``count``: one value too
  few (or a tuple where one array is expected); ``raises``: a shape error in the reader's code,
  reported with the reader's line and both shapes;
- ``scaled``, ``negated``: unlisted numeric mistakes, which must be rejected and localised.

Loops spelled differently, large T, and the unstable sort have their own tests below. ``python
tests/test_exercises_failure_classes.py`` prints the per-checker tally the issue's closing note
asks for (wrong implementations tested, named diagnosis vs localised).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from gru_lib.exercises import (
    bidirectional,
    bptt,
    gating,
    gru,
    lm,
    lstm,
    rnn,
    scan,
    seq2seq,
    tasks,
    tbptt,
)


@dataclass(frozen=True)
class Case:
    label: str
    check: object
    correct: object
    n_out: int
    float32: str            # "accept", "reject" or "n/a" (integer answers)
    mutate: int | None      # the input a realistic in-place mistake overwrites
    mistakes: tuple = ()


def _mutate(v):
    """Change an input in place, the way a reader's code would."""
    if isinstance(v, torch.Tensor):
        v.sub_(v.max())                       # e.g. logits -= logits.max() (softmax unchanged)
    elif isinstance(v, dict):
        for k in v:
            v[k] *= 0.5                       # grads[k] *= scale
    elif isinstance(v, seq2seq.Decoder):
        v.E *= 1.0
    elif v.dtype.kind == "f":
        np.tanh(v, out=v)                     # np.tanh(a, out=h)
    else:
        v[...] = 0                            # writing into the token array


def _latch():
    return (np.array([[1.0], [1.0]]), np.array([[0.0, 0.0], [1.0, 2.0]]),
            np.array([-0.5, -1.5]), np.array([0.0, 1.0]), -0.5)


CASES = [
    Case("ex-ch02-step", rnn.check_rnn_step, rnn._reference_step, 1, "accept", 1,
         tuple(rnn._STEP_MISTAKES)),
    Case("ex-ch02-forward", rnn.check_rnn_forward, rnn._reference_forward, 2, "accept", 0,
         tuple(rnn._FORWARD_MISTAKES)),
    Case("ex-ch03-step", bptt.check_rnn_step_backward, bptt._reference_step_backward, 6,
         "accept", 0, tuple(bptt._STEP_MISTAKES)),
    Case("ex-ch03-loop", bptt.check_rnn_bptt, bptt._reference_bptt, 6, "accept", 6,
         tuple(bptt._BPTT_MISTAKES)),
    Case("ex-ch03-truncated", tbptt.check_truncated_bptt, tbptt.truncated_bptt_reference, 4,
         "accept", 6, tbptt.TRUNCATED_MISTAKES),
    Case("ex-ch05-gated", gating.check_gated_step, gating.gated_step_reference, 1, "accept", 2,
         gating.GATED_STEP_MISTAKES),
    Case("ex-ch06-4", lstm.check_lstm_step, lstm.lstm_step_reference, 2, "accept", 2,
         lstm.LSTM_STEP_MISTAKES),
    Case("ex-ch06-backward", lstm.check_lstm_step_backward, lstm.lstm_step_backward_reference, 7,
         "accept", 1, lstm.LSTM_BACKWARD_MISTAKES),
    Case("ex-ch07-4", gru.check_gru_step, gru._reference_step, 1, "accept", 1,
         tuple(gru._STEP_MISTAKES)),
    Case("ex-ch07-5", gru.check_gru_step_backward, gru._reference_step_backward, 6, "accept", 0,
         tuple(gru._BACKWARD_MISTAKES)),
    Case("ex-ch08-4", gru.check_gru_sequence, gru._reference_sequence, 2, "accept", 1,
         tuple(gru._SEQUENCE_MISTAKES)),
    Case("ex-ch09-5", bidirectional.check_bidirectional_summary, bidirectional._reference_summary,
         1, "accept", 1, tuple(bidirectional._SUMMARY_MISTAKES)),
    Case("ex-ch10-targets", tasks.check_selective_copy_targets, tasks._reference, 1, "n/a", 0,
         tuple(tasks._MISTAKES)),
    Case("ex-ch11-2", lm.check_perplexity, lm._reference_perplexity, 1, "accept", 0,
         tuple(lm._PPL_MISTAKES)),
    Case("ex-ch11-4", lm.check_temperature_probs, lm._reference_temperature, 1, "accept", 0,
         tuple(lm._TEMP_MISTAKES)),
    Case("ex-ch12-greedy", seq2seq.check_greedy_decode, seq2seq.greedy_decode_reference, 1, "n/a",
         1, seq2seq.GREEDY_MISTAKES),
    Case("ex-ch13-4", scan.check_weight_gradient, scan._reference_weight_gradient, 2, "accept", 0,
         tuple(scan._WG_MISTAKES)),
    Case("ex-ch14-3", scan.check_linear_scan, scan.reference_linear_scan, 1, "reject", 1,
         tuple(scan._SCAN_MISTAKES)),
    Case("ex-ch14-4", scan.check_doubling_scan, scan.reference_doubling_scan, 1, "reject", 0,
         tuple(scan._DOUBLING_MISTAKES)),
]
_IDS = [c.label for c in CASES]


def _to32(v):
    if isinstance(v, torch.Tensor) and v.dtype == torch.float64:
        return v.float()
    if isinstance(v, np.ndarray) and v.dtype == np.float64:
        return v.astype(np.float32)
    if isinstance(v, dict):
        return {k: _to32(x) for k, x in v.items()}
    return v


def _first_array(out):
    return 0 if not isinstance(out, tuple) else next(
        i for i, v in enumerate(out) if isinstance(v, np.ndarray | torch.Tensor))


def wrong_implementations(case: Case) -> dict:
    """The generic wrong variants of one correct answer: name -> function."""
    ref = case.correct

    def in_place(*args):
        mine = list(args)
        mine[case.mutate] = copy.deepcopy(args[case.mutate])
        out = ref(*mine)
        _mutate(args[case.mutate])
        return out

    def in_float32(*args):
        return ref(*(_to32(a) for a in args))

    def as_list(*args):
        out = ref(*args)
        if isinstance(out, tuple):
            k = _first_array(out)
            return (*out[:k], np.asarray(out[k]).tolist(), *out[k + 1:])
        return np.asarray(out).tolist()

    def no_return(*args):
        ref(*args)

    def wrong_count(*args):
        out = ref(*args)
        return out[:-1] if case.n_out > 1 else (out, out)

    def raises(*args):
        a, b = np.ones((2, 3)), np.ones((4, 5))
        return a @ b

    def scaled(*args):
        out = ref(*args)
        if isinstance(out, tuple):
            return (out[0] * 2, *out[1:])
        return out * 2

    def negated(*args):
        out = ref(*args)
        if isinstance(out, tuple):
            return (-out[0], *out[1:])
        return -out

    def last_row_off(*args):           # right everywhere except the last time step / row
        out = ref(*args)
        first = out[0] if isinstance(out, tuple) else out
        first = first.clone() if isinstance(first, torch.Tensor) else np.array(first, copy=True)
        integer = str(first.dtype).removeprefix("torch.").startswith(("int", "uint"))
        first[-1] = first[-1] + (1 if integer else 0.25)
        return (first, *out[1:]) if isinstance(out, tuple) else first

    fns = {"in_place": in_place, "none": no_return, "count": wrong_count, "raises": raises}
    if case.label != "ex-ch11-2":  # a perplexity is a number, not an array: no list to return
        fns["list"] = as_list
    if case.float32 != "n/a":
        fns["float32"] = in_float32
    if case.float32 != "n/a" and case.label != "ex-ch09-5":  # integer answers are not scaled
        fns["scaled"] = scaled
        fns["negated"] = negated
    if case.label != "ex-ch11-2":          # a number has no last row
        fns["last_row_off"] = last_row_off
    return fns


_EXPECT = {
    "in_place": lambda r: r.mistake == "in_place" and "in place" in r.message,
    "list": lambda r: "list" in r.message,
    "none": lambda r: "returned None" in r.message,
    "count": lambda r: "value" in r.message or "tuple" in r.message,
    "raises": lambda r: "line" in r.message and "(2, 3)" in r.message and "(4, 5)" in r.message,
    "scaled": lambda r: r.mistake is not None or "times 2" in r.message
    or "multiplied" in r.message or "differs" in r.message,
    "negated": lambda r: r.mistake is not None or "sign" in r.message,
    "last_row_off": lambda r: r.mistake is not None or "differs only" in r.message,
}

_PAIRS = [(c, name) for c in CASES for name in wrong_implementations(c)]


@pytest.mark.parametrize(("case", "variant"), _PAIRS,
                         ids=[f"{c.label}-{n}" for c, n in _PAIRS])
def test_failure_class_is_named(case, variant):
    fn = wrong_implementations(case)[variant]
    res = case.check(fn)
    if variant == "float32":
        if case.float32 == "accept":
            assert res.passed, res.message
        else:
            assert not res.passed and res.mistake == "float32", res.message
            assert "float32" in res.message and "because" in res.message
        return
    assert not res.passed, res.message
    assert _EXPECT[variant](res), res.message


@pytest.mark.parametrize("case", CASES, ids=_IDS)
def test_correct_answer_passes_and_is_recorded(case, tmp_path, monkeypatch):
    from gru_lib.exercises import _progress as progress

    monkeypatch.setenv("GRU_LIB_DATA", str(tmp_path))
    res = case.check(case.correct)
    assert res.passed, res.message
    assert progress._load()[case.label]["status"] == "PASSED"


def test_in_place_names_the_input():
    def my_rnn_step(x, h, W_ih, W_hh, b_ih, b_hh):
        np.tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh, out=h)
        return h

    res = rnn.check_rnn_step(my_rnn_step)
    assert res.mistake == "in_place" and "`h`" in res.message

    def my_lstm_step(x, h, c, W_ih, W_hh, b_ih, b_hh):
        h_next, c_next = lstm.lstm_step_reference(x, h, c.copy(), W_ih, W_hh, b_ih, b_hh)
        c *= 0.0
        c += c_next
        return h_next, c

    res = lstm.check_lstm_step(my_lstm_step)
    assert res.mistake == "in_place" and "`c`" in res.message

    def my_bptt(xs, h0, W_ih, W_hh, b_ih, b_hh, d_out):
        out = bptt._reference_bptt(xs, h0, W_ih, W_hh, b_ih, b_hh, d_out.copy())
        d_out[:-1] += 1.0                 # accumulating the carried gradient into d_out
        return out

    res = bptt.check_rnn_bptt(my_bptt)
    assert res.mistake == "in_place" and "`d_out`" in res.message

    def linear_scan(a, b, h0):            # writes the states into b
        h = h0
        for t in range(a.shape[0]):
            h = a[t] * h + b[t]
            b[t] = h
        return b

    res = scan.check_linear_scan(linear_scan)
    assert res.mistake == "in_place" and "`b`" in res.message


def test_diagnosis_runs_on_pristine_inputs():
    """A wrong AND in-place function: the in-place change is what is reported, and a known
    mistake that changes nothing is still diagnosed on untouched inputs."""
    swap = next(m for m in gru._STEP_MISTAKES if m.name == "swap_z")

    def my_gru_step(x, h, W_ih, W_hh, b_ih, b_hh):
        return swap.fn(x, h, W_ih, W_hh, b_ih, b_hh)

    assert gru.check_gru_step(my_gru_step).mistake == "swap_z"


def tally():
    """Per checker: wrong implementations tested; how many get a named diagnosis (a known mistake,
    or a named failure class: in place, float32, None, a list, a value count, an exception with its
    line, a loop) and how many a localised one (which output, step, block, factor, sign)."""
    rows = []
    for case in CASES:
        named = localised = 0
        wrongs = [m.fn for m in case.mistakes] + [
            f for k, f in wrong_implementations(case).items()
            if not (k == "float32" and case.float32 == "accept")]
        for fn in wrongs:
            res = case.check(fn)
            assert not res.passed
            value_words = any(w in res.message for w in (
                "differs", "times", "sign", "transpose", "is right", "block", "divided",
                "multiplied", "biases are zero", "differs only"))
            if res.mistake is None and value_words and "raised" not in res.message:
                localised += 1
            else:
                named += 1
        rows.append((case.label, len(wrongs), named, localised))
    return rows


if __name__ == "__main__":  # the tally for the closing note
    import os
    import tempfile

    os.environ["GRU_LIB_DATA"] = tempfile.mkdtemp()   # not the reader's progress file
    total = [0, 0, 0]
    for label, n, named, loc in tally():
        total = [total[0] + n, total[1] + named, total[2] + loc]
        print(f"{label:<20} wrong implementations {n:3d}   named {named:3d}   localised {loc:3d}")
    print(f"{'all':<20} wrong implementations {total[0]:3d}   named {total[1]:3d}   "
          f"localised {total[2]:3d}")
