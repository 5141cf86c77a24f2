"""gru_lib.exercises.progress() and hint(): verdicts recorded locally under $GRU_LIB_DATA (a tmp
dir here), never for an untouched scaffold; an unwritable location never breaks a check."""

import json

import numpy as np
import pytest

from gru_lib import exercises
from gru_lib.exercises import _progress
from gru_lib.exercises.rnn import check_rnn_step


def _scaffold(x, h, W_ih, W_hh, b_ih, b_hh):
    raise NotImplementedError


def _right(x, h, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)


def test_progress_records_and_prints(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GRU_LIB_DATA", str(tmp_path))
    check_rnn_step(_scaffold)
    assert not (tmp_path / "exercises.json").exists()    # not attempted: nothing recorded
    check_rnn_step(lambda *a: _right(*a) * 2)
    check_rnn_step(_right)
    data = json.loads((tmp_path / "exercises.json").read_text())
    assert data["ex-ch02-step"]["status"] == "PASSED" and data["ex-ch02-step"]["attempts"] == 2
    check_rnn_step(lambda *a: _right(*a) * 2)
    exercises.progress()
    out = capsys.readouterr().out
    assert f"0 of {len(exercises.EXERCISES)} passed" in out
    assert "NOT YET (passed before)" in out and "RNN step" in out
    assert out.count("not tried") == len(exercises.EXERCISES) - 1


def test_every_checker_is_registered():
    import importlib

    labels = set()
    for mod in ("rnn", "bptt", "tbptt", "clip", "gating", "lstm", "gru", "bidirectional",
                "tasks", "lm", "seq2seq", "scan"):
        m = importlib.import_module(f"gru_lib.exercises.{mod}")
        labels |= {getattr(m, n).exercise_label for n in dir(m)
                   if n.startswith("check_") and hasattr(getattr(m, n), "exercise_label")}
    assert labels == set(exercises.EXERCISES)


def test_unwritable_location_does_not_break_a_check(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("GRU_LIB_DATA", str(blocker / "sub"))   # a path under a file
    assert check_rnn_step(_right).passed


def test_hints(capsys):
    exercises.hint("ex-ch06-backward", 1)
    assert "Hint 1 of 3" in capsys.readouterr().out
    with pytest.raises(ValueError, match="hints 1..3"):
        exercises.hint("ex-ch06-backward", 4)
    with pytest.raises(KeyError):
        exercises.hint("ex-ch99-1")
    for ex in exercises.EXERCISES.values():
        assert ex.kind == "code" and 1 <= ex.stars <= 3
        assert 2 <= len(ex.hints) <= 3, ex.label


def test_default_location_is_the_user_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("GRU_LIB_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert _progress.data_file() == tmp_path / "gru_lib" / "exercises.json"
