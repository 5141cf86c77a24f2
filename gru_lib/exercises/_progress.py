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

import functools
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

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


def _register(label: str, chapter: int, title: str, stars: int, *hints: str) -> None:
    EXERCISES[label] = Exercise(label, chapter, title, "code", stars, tuple(hints))


# The book's checked exercises, in reading order (label as in the notebooks).
_register("ex-ch01-latch", 1, "Two consecutive ones (hand-set threshold RNN)", 2)
_register("ex-ch02-step", 2, "RNN step", 1)
_register("ex-ch02-forward", 2, "RNN forward over time", 1)
_register("ex-ch03-step", 3, "RNN step backward", 2)
_register("ex-ch03-loop", 3, "backpropagation through time", 2)
_register(
    "ex-ch03-truncated", 3, "truncated backpropagation through time", 2,
    "Run the forward over the WHOLE sequence first: truncation cuts the gradient, not the state. "
    "The chunk starting at step s begins from the true state h_s.",
    "For each chunk [s, s + k) call your BPTT of this chapter on xs[s:s+k], with the state h_s "
    "before the chunk and d_out[s:s+k]; the gradient that would flow into h_s is dropped.",
    "Add the four weight gradients of every chunk (the same weights serve every chunk); the last "
    "chunk is shorter when k does not divide T: `for s in range(0, T, k)`.")
_register("ex-ch04-clip", 4, "global-norm gradient clipping", 1)
_register(
    "ex-ch05-gated", 5, "gated integrator step", 1,
    "Two affine maps of the same [x, h]: one for the gate z (sigmoid), one for the candidate "
    "(tanh). Rows of a batch: x @ W_iz.T + h @ W_hz.T + b_z.",
    "The gate decides how much of the OLD state stays: z * h, and the rest, 1 - z, comes from the "
    "candidate.",
    "h_next = z * h + (1 - z) * np.tanh(x @ W_in.T + h @ W_hn.T + b_n)")
_register("ex-ch06-4", 6, "LSTM step", 1)
_register(
    "ex-ch06-backward", 6, "LSTM step backward", 3,
    "Recompute the forward first (a, then i, f, g, o, c_next, tanh(c_next)); then go through its "
    "lines in reverse order, one derivative per line.",
    "h_next = o * tanh(c_next) gives do = dh_next * tanh(c_next) and adds "
    "dh_next * o * (1 - tanh(c_next)**2) to dc_next: the cell receives gradient from both.",
    "c_next = f * c + i * g gives dc = dc_total * f, df = dc_total * c, di = dc_total * g, "
    "dg = dc_total * i; through the activations da = [di*i*(1-i), df*f*(1-f), dg*(1-g**2), "
    "do*o*(1-o)] stacked i|f|g|o, then dW_ih = da.T @ x, dW_hh = da.T @ h, dx = da @ W_ih, "
    "dh = da @ W_hh, db = da.sum(axis=0).")
_register("ex-ch07-4", 7, "GRU step (PyTorch convention)", 2)
_register("ex-ch07-5", 7, "GRU step backward (PyTorch convention)", 3)
_register("ex-ch08-4", 8, "GRU over a sequence (torch.nn.GRU layout)", 1)
_register("ex-ch09-5", 9, "bidirectional GRU summary", 2)
_register("ex-ch10-targets", 10, "selective-copy targets", 1)
_register("ex-ch11-2", 11, "perplexity", 1)
_register("ex-ch11-4", 11, "temperature_probs", 1)
_register(
    "ex-ch12-greedy", 12, "greedy decoding", 2,
    "The decoder's first input is <bos> for every sequence of the batch; after that, each step's "
    "input is what the model chose at the previous step (no true target at test time).",
    "Carry the decoder state: `logits, g = step(y, g)`, then feed back "
    "`y = logits.argmax(axis=-1)` (the most probable token of each row, shape (B,)).",
    "Collect the max_len chosen tokens (not <bos>) and return np.stack(...) of shape "
    "(max_len, B); call step exactly max_len times.")
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
            result = check(*args, **kwargs)
            record(label, result.passed, attempted="not attempted yet" not in result.message)
            return result

        run.exercise_label = label
        return run

    return wrap


def progress() -> None:
    """Print the reader's status over every checked exercise of the book."""
    data = _load()
    done = sum(1 for ex in EXERCISES.values() if data.get(ex.label, {}).get("status") == "PASSED")
    print(f"Checked exercises: {done} of {len(EXERCISES)} passed  (kept in {data_file()})")
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
    if not hints:
        print(f"{label}: the hints for this exercise are in the book, below its statement")
        return
    if not isinstance(k, int) or not 1 <= k <= len(hints):
        raise ValueError(f"{label} has hints 1..{len(hints)}, got k={k!r}")
    print(f"Hint {k} of {len(hints)} ({label}): {hints[k - 1]}")
