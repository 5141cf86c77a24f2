"""The reader's progress over the book's checked exercises, and hints revealed one at a time.

Every public ``check_*`` function is registered here with :func:`checked` under the label of its
exercise in the book (``ex-ch07-4``), and records its verdict in a small JSON file on the reader's
own machine: ``$GRU_LIB_DATA/exercises.json``, or ``~/.cache/gru_lib/exercises.json`` when
``GRU_LIB_DATA`` is not set. Nothing goes over the network and nothing is written in the
repository; if the file cannot be written (a read-only home, CI) the check runs anyway.

- :func:`progress` prints one line per checked exercise of the book: PASSED, NOT YET or not tried.
- :func:`hint` prints the k-th hint of an exercise (``hint("ex-ch06-backward", 1)``); the hints are
  the same as in the book text, progressive: the first points to the idea, the last is nearly code.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gru_lib.exercises._hints import HINTS

__all__ = ["EXERCISES", "checked", "data_file", "hint", "progress", "record"]


@dataclass(frozen=True)
class Exercise:
    """A checked exercise: its label in the book, chapter, title, kind, difficulty and hints."""

    label: str
    chapter: int
    title: str
    kind: str = "code"
    stars: int = 1
    hints: tuple[str, ...] = ()


EXERCISES: dict[str, Exercise] = {}


def _register(label: str, chapter: int, title: str, stars: int) -> None:
    EXERCISES[label] = Exercise(label, chapter, title, "code", stars, HINTS.get(label, ()))


# The book's checked exercises, in reading order (label as in the notebooks), with ★ difficulty.
_register("ex-ch01-latch", 1, "Two consecutive ones (hand-set threshold RNN)", 2)
_register("ex-ch02-step", 2, "RNN step", 1)
_register("ex-ch02-forward", 2, "RNN forward over time", 1)
_register("ex-ch03-step", 3, "RNN step backward", 2)
_register("ex-ch03-loop", 3, "backpropagation through time", 2)
_register("ex-ch03-truncated", 3, "truncated backpropagation through time", 2)
_register("ex-ch04-clip", 4, "global-norm gradient clipping", 1)
_register("ex-ch05-gated", 5, "gated integrator step", 1)
_register("ex-ch06-4", 6, "LSTM step", 1)
_register("ex-ch06-backward", 6, "LSTM step backward", 3)
_register("ex-ch07-4", 7, "GRU step (PyTorch convention)", 2)
_register("ex-ch07-5", 7, "GRU step backward (PyTorch convention)", 3)
_register("ex-ch08-4", 8, "GRU over a sequence (torch.nn.GRU layout)", 1)
_register("ex-ch09-5", 9, "bidirectional GRU summary", 2)
_register("ex-ch10-targets", 10, "selective-copy targets", 1)
_register("ex-ch11-2", 11, "perplexity", 1)
_register("ex-ch11-4", 11, "temperature_probs", 1)
_register("ex-ch12-greedy", 12, "greedy decoding", 2)
_register("ex-ch13-4", 13, "weight gradient after the loop", 1)
_register("ex-ch14-3", 14, "linear recurrence, sequential", 1)
_register("ex-ch14-4", 14, "linear recurrence, doubling scan", 2)


def data_file() -> Path:
    """Where the progress is kept: ``$GRU_LIB_DATA/exercises.json`` or the user's cache dir."""
    root = os.environ.get("GRU_LIB_DATA") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "gru_lib")
    return Path(root) / "exercises.json"


def _load() -> dict:
    try:
        data = json.loads(data_file().read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def record(label: str, passed: bool, attempted: bool = True) -> None:
    """Record one verdict (never raises: progress is a convenience, not part of the check)."""
    if not attempted:
        return
    try:
        data = _load()
        entry = data.get(label, {})
        entry.update(status="PASSED" if passed else "NOT YET",
                     passed_once=bool(entry.get("passed_once")) or passed,
                     attempts=int(entry.get("attempts", 0)) + 1,
                     last=time.strftime("%Y-%m-%d %H:%M", time.localtime()))
        data[label] = entry
        path = data_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
        tmp.replace(path)
    except OSError:
        pass


def checked(label: str) -> Callable[[Callable], Callable]:
    """Decorator for a public checker: record its verdict under the exercise's label."""
    if label not in EXERCISES:
        raise KeyError(f"unknown exercise label {label!r}")

    def wrap(check: Callable) -> Callable:
        @functools.wraps(check)
        def run(*args, **kwargs):
            result = dataclasses.replace(check(*args, **kwargs), label=label)
            record(label, result.passed, attempted="not attempted yet" not in result.message)
            return result

        run.exercise_label = label
        return run

    return wrap


def progress() -> None:
    """Print the reader's status over every checked exercise of the book."""
    data = _load()
    done = sum(1 for ex in EXERCISES.values() if data.get(ex.label, {}).get("status") == "PASSED")
    where = ("$GRU_LIB_DATA/exercises.json" if os.environ.get("GRU_LIB_DATA")
             else str(data_file()).replace(os.path.expanduser("~"), "~", 1))
    print(f"Checked exercises: {done} of {len(EXERCISES)} passed  (kept in {where})")
    for ex in EXERCISES.values():
        entry = data.get(ex.label, {})
        status = entry.get("status", "not tried")
        if status == "NOT YET" and entry.get("passed_once"):
            status = "NOT YET (passed before)"
        print(f"  ch{ex.chapter:02d}  {'★' * ex.stars:<3}  {status:<24} {ex.title}  [{ex.label}]")


def hint(label: str, k: int = 1) -> None:
    """Print hint ``k`` (1, 2, 3: progressively more explicit) of exercise ``label``."""
    if label not in EXERCISES:
        raise KeyError(f"unknown exercise {label!r}; known: {', '.join(EXERCISES)}")
    hints = EXERCISES[label].hints
    if not isinstance(k, int) or not 1 <= k <= len(hints):
        raise ValueError(f"{label} has hints 1..{len(hints)}, got k={k!r}")
    print(f"Hint {k} of {len(hints)} ({label}): {hints[k - 1]}")
