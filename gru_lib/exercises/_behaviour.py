"""Rules about *how* an answer computes, checked by what the code does, not how it is spelled.

"No loop over time" cannot be checked by looking for ``a[t]``: the same loop can be written
``a[t, :, :]``, ``a[t, ...]``, ``a[t:t+1]``, ``np.take(a, t, 0)``, after ``np.asarray``, in
torch, in a comprehension or a generator. What every such loop has in common is that the
reader's Python runs once per time step. :func:`python_lines` runs a function under
:func:`sys.settrace` and counts the lines of Python it executes *outside* NumPy, torch, the
standard library and the checkers' machinery (so the reader's own helpers count, the libraries'
internals do not); :func:`grows_with_T` runs it at several lengths and says whether that count
grows like ``T``. A vectorised answer executes the same number of lines for every ``T`` (or
``⌈log2 T⌉`` rounds' worth); a loop over time executes ``T`` times more.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable, Sequence

from gru_lib.exercises._explain import is_library_file

__all__ = ["grows_with_T", "python_lines"]


def python_lines(fn: Callable, *args) -> tuple[object, int]:
    """Run ``fn(*args)``; return its result and the number of reader-code lines it executed.

    Lines and calls (a generator resumed once per item counts once per item) are counted in frames
    whose file is not a library file. The tracer that was active before (a debugger, coverage) is
    restored afterwards. Exceptions propagate.
    """
    count = 0
    cache: dict[str, bool] = {}

    def local(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return local

    def global_(frame, event, arg):
        nonlocal count
        name = frame.f_code.co_filename
        lib = cache.get(name)
        if lib is None:
            lib = cache[name] = is_library_file(name, gru_lib=False)
        if lib:
            return None
        count += 1
        return local

    previous = sys.gettrace()
    sys.settrace(global_)
    try:
        out = fn(*args)
    finally:
        sys.settrace(previous)
    return out, count


def grows_with_T(fn: Callable, make_args: Callable[[int], tuple], lengths: Sequence[int]
                 ) -> tuple[bool, dict[int, int]]:
    """Whether the reader-code line count of ``fn`` grows like T over ``lengths`` (short to long).

    Returns ``(loops, counts)``. ``loops`` is True when the count at the longest length exceeds
    twice the count at the shortest plus 16: a loop over time multiplies it by the ratio of the
    lengths (16 for 64 -> 1024), ``⌈log2 T⌉`` vectorised rounds add a few lines per doubling.
    """
    counts = {}
    for T in lengths:
        _, counts[T] = python_lines(fn, *copy.deepcopy(make_args(T)))
    lo, hi = counts[lengths[0]], counts[lengths[-1]]
    return hi > 2 * lo + 16, counts
