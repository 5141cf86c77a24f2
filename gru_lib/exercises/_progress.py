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
from pathlib import Path

from gru_lib.exercises._catalog import CATALOG, Exercise

__all__ = ["CATALOG", "EXERCISES", "Exercise", "checked", "data_file", "hint", "progress", "record"]


# The checked exercises, in reading order: every public ``check_*`` function is registered under one
# of these labels. The table of all exercises (kind, ★, title) is in ``_catalog``.
EXERCISES: dict[str, Exercise] = {label: ex for label, ex in CATALOG.items() if ex.checked}


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
    with_hints = [lab for lab, ex in CATALOG.items() if ex.hints]
    if label not in with_hints:
        raise KeyError(f"no hints for exercise {label!r}; exercises with hints: "
                       f"{', '.join(with_hints)}")
    hints = CATALOG[label].hints
    if not isinstance(k, int) or not 1 <= k <= len(hints):
        raise ValueError(f"{label} has hints 1..{len(hints)}, got k={k!r}")
    print(f"Hint {k} of {len(hints)} ({label}): {hints[k - 1]}")
