"""Auto-checked exercises: each checker runs the reader's function against the reference on random
inputs and explains a mismatch in words (see :mod:`gru_lib.exercises._core`).

Topic modules (``rnn``, ``bptt``, ``tbptt``, ``clip``, ``gating``, ``lstm``, ``gru``,
``bidirectional``, ``tasks``, ``lm``, ``seq2seq``, ``scan``) hold one ``check_*`` function per
exercise; the machinery is in ``_core`` (copies, float32 policy, forms), ``_explain`` (exceptions,
localisation) and ``_behaviour`` (rules about how to compute, checked by a line tracer). Two
helpers for the reader:

- :func:`progress` prints the status of every checked exercise of the book (PASSED, NOT YET or not
  tried), kept in a small JSON file on the reader's machine (``$GRU_LIB_DATA`` or
  ``~/.cache/gru_lib``; never in the repository, never over the network);
- :func:`hint` prints the hints of an exercise one at a time: ``hint("ex-ch06-backward", 1)``.
"""

from gru_lib.exercises._core import (
    CheckResult,
    Float32,
    Layout,
    Mistake,
    compare_outputs,
    run_check,
)
from gru_lib.exercises._progress import EXERCISES, hint, progress

__all__ = ["EXERCISES", "CheckResult", "Float32", "Layout", "Mistake", "compare_outputs", "hint",
           "progress", "run_check"]
