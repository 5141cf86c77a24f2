"""Small helpers every chapter uses: seeding, the book's figure style, showing library source.

They live in one place so that a chapter never re-implements them and every figure in the book
looks the same (one colour per model, everywhere).
"""

from __future__ import annotations

import inspect
import os
import random
import textwrap
import time
import warnings
from collections.abc import Iterable

import numpy as np

from gru_lib._optional import missing_extra

__all__ = [
    "MODEL_COLORS",
    "PALETTE",
    "best_time",
    "compare_times",
    "model_color",
    "progress",
    "seed_everything",
    "show_source",
    "use_book_style",
]

# Okabe & Ito's colour-blind-safe palette. The first four are reserved for the four models the book
# compares, so that "GRU" is the same green in every chapter.
PALETTE = {
    "vermillion": "#D55E00",
    "blue": "#0072B2",
    "green": "#009E73",
    "purple": "#CC79A7",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
    "grey": "#7F7F7F",
}

MODEL_COLORS = {
    "RNN": PALETTE["vermillion"],
    "LSTM": PALETTE["blue"],
    "GRU": PALETTE["green"],
    "minGRU": PALETTE["purple"],
    "baseline": PALETTE["grey"],
}


def model_color(name: str) -> str:
    """Return the book's colour for a model name ('RNN', 'lstm', 'GRU', 'minGRU', 'baseline').

    Names are matched case-insensitively and by prefix of a known model, so 'GRU (reset before)'
    or 'gru-2layer' get the GRU colour. Any other name raises a ``ValueError`` listing the known
    ones, so a typo cannot silently produce an off-palette figure.
    """
    if not isinstance(name, str):
        raise TypeError(f"model_color: expected a str, got {type(name).__name__}")
    key = name.strip().lower()
    # Longest names first so that 'mingru' is not taken for 'gru'... it does not start with it,
    # but 'lstm' and 'rnn' could be prefixes of longer names in the future.
    for known in sorted(MODEL_COLORS, key=len, reverse=True):
        if key.startswith(known.lower()):
            return MODEL_COLORS[known]
    raise ValueError(f"model_color: unknown model {name!r}; expected one of {sorted(MODEL_COLORS)}")


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python's ``random``, NumPy's global generator and PyTorch in one call.

    Every notebook calls this once, at the top, so that a fresh-kernel run reproduces the committed
    outputs exactly. It returns a fresh ``np.random.Generator`` seeded with the same value, for code
    that prefers an explicit generator (the book's preferred style).
    """
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool):
        raise TypeError(f"seed_everything: expected an int seed, got {type(seed).__name__}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - the legacy global generator is what readers' code uses
    try:
        import torch
    except ImportError:  # the NumPy half of the library works without torch
        pass
    else:
        torch.manual_seed(seed)
    return np.random.default_rng(seed)


def use_book_style() -> None:
    """Apply the book's matplotlib style: readable font sizes, light grid, the shared palette."""
    try:
        import matplotlib as mpl
        from cycler import cycler  # installed with matplotlib
    except ImportError as exc:
        raise missing_extra("matplotlib", "use_book_style") from exc

    mpl.rcParams.update(
        {
            "figure.figsize": (6.4, 3.8),
            "figure.dpi": 100,
            "savefig.dpi": 150,
            "savefig.bbox": "tight",
            "font.size": 11,
            "axes.titlesize": 12,
            "axes.labelsize": 11,
            "legend.fontsize": 10,
            "xtick.labelsize": 10,
            "ytick.labelsize": 10,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
            "lines.linewidth": 1.8,
            "axes.prop_cycle": cycler(
                color=[PALETTE[k] for k in ("blue", "vermillion", "green", "purple",
                                            "orange", "sky", "black", "yellow")]
            ),
        }
    )


def show_source(obj, *, dedent: bool = True):
    """Display the source code of a library object as highlighted Python in a notebook.

    Chapters show the real ``gru_lib`` code with this instead of pasting a copy that could drift:
    if the library changes, the committed notebook output no longer matches and nbval fails until
    the chapter is re-executed (and re-read).

    Returns an ``IPython.display.Markdown`` object holding a fenced code block, which myst-nb
    renders with the book's code highlighting.
    """
    try:
        from IPython.display import Markdown
    except ImportError as exc:
        raise missing_extra("IPython", "show_source") from exc

    try:
        src = inspect.getsource(obj)
    except (TypeError, OSError) as exc:
        raise TypeError(f"show_source: cannot get the source of {obj!r}: {exc}") from None
    if dedent:
        src = textwrap.dedent(src)
    return Markdown(f"```python\n{src.rstrip()}\n```")


def progress(iterable: Iterable, **kwargs) -> Iterable:
    """Wrap a long loop in a tqdm progress bar when a person is watching, and in nothing otherwise.

    Bars are switched off when the environment variable ``GRU_LIB_NO_PROGRESS`` is set (the
    Makefile sets it when it executes notebooks and when nbval runs them) or when ``CI`` is set,
    so committed outputs and the HTML book carry no progress-bar noise.

    Without tqdm (a dependency of ``gru-lib``, but a reader may have removed it) the loop runs
    without a bar. In a notebook without ``ipywidgets``, tqdm falls back to a text bar; the
    warning it would print about that is silenced (the guide allows no warnings in outputs).
    """
    if os.environ.get("GRU_LIB_NO_PROGRESS") or os.environ.get("CI"):
        return iterable
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tqdm's "IProgress not found" TqdmWarning
            from tqdm.auto import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, **kwargs)


def best_time(fn, repeats: int = 3, warmup: int = 1) -> float:
    """Fastest CPU time of ``fn()`` in seconds over ``repeats`` calls, after ``warmup`` untimed
    calls. CPU time of this process (``time.process_time``): with one thread, the time the
    computation took, which other programs on the machine do not inflate as they do wall time."""
    _check_timing_args("best_time", repeats, warmup)
    return compare_times({"fn": fn}, repeats, warmup)["fn"]


def compare_times(fns: dict, repeats: int = 3, warmup: int = 1, reduce=min) -> dict:
    """CPU time (s) of each function in a dict, reduced over ``repeats`` runs (``reduce=min``:
    the fastest; ``statistics.median`` for the median). The functions take turns, round after
    round, so that a burst of load from other programs slows all of them alike instead of one."""
    _check_timing_args("compare_times", repeats, warmup)
    if not isinstance(fns, dict) or not fns or not all(callable(f) for f in fns.values()):
        raise TypeError("compare_times: fns must be a non-empty dict of name -> callable")
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.process_time()
            fn()
            times[name].append(time.process_time() - t0)
    return {name: reduce(ts) for name, ts in times.items()}


def _check_timing_args(owner: str, repeats, warmup) -> None:
    for name, value, low in (("repeats", repeats, 1), ("warmup", warmup, 0)):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ValueError(f"{owner}: {name} must be an int >= {low}, got {value!r}")
