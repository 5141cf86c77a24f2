"""Auto-checked exercises: each checker runs the reader's function against the reference on random
inputs and explains a mismatch in words (see :mod:`gru_lib.exercises._core`).

Topic modules (``rnn``, ``gru``, ``lstm``, ...) hold one ``check_*`` function per exercise.
"""

from gru_lib.exercises._core import CheckResult, Mistake, compare_outputs, run_check

__all__ = ["CheckResult", "Mistake", "compare_outputs", "run_check"]
