"""gru_lib.utils.best_time / compare_times: what they call, how often, and bad input."""

import statistics

import pytest

from gru_lib.utils import best_time, compare_times


def test_compare_times_calls_each_function_warmup_plus_repeats_times_in_turn():
    calls = []
    fns = {"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}
    out = compare_times(fns, repeats=3, warmup=2)
    assert set(out) == {"a", "b"} and all(t >= 0 for t in out.values())
    assert calls == ["a", "a", "b", "b"] + ["a", "b"] * 3     # warm-up, then rounds in turn


def test_reduce_and_best_time():
    n = {"k": 0}

    def f():
        n["k"] += 1
        sum(range(2000 * n["k"]))          # later calls take longer
    t_min = compare_times({"f": f}, repeats=5, warmup=0)["f"]
    n["k"] = 0
    t_med = compare_times({"f": f}, repeats=5, warmup=0, reduce=statistics.median)["f"]
    assert 0 <= t_min <= t_med
    assert best_time(lambda: None, repeats=2, warmup=0) >= 0


@pytest.mark.parametrize("call, match", [
    (lambda: compare_times({}, 3), "non-empty dict"),
    (lambda: compare_times({"a": 1}, 3), "non-empty dict"),
    (lambda: compare_times({"a": print}, 0), "repeats must be an int >= 1"),
    (lambda: best_time(print, 2, -1), "warmup must be an int >= 0"),
    (lambda: best_time(print, 2.0), "repeats must be an int >= 1"),
])
def test_bad_input(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
