"""Shared test fixtures, and the summary the issue asks for.

``numpy_report`` is a session-wide tally that the ``tests/numpy`` suites fill in: how many
configurations were compared with ``torch.nn`` and the largest difference seen, the worst
finite-difference relative error, and how many bad-input cases were checked. It is printed at the
end of every pytest run that recorded anything (no ``-s`` needed).
"""

import pytest

_REPORT = {"configurations": 0, "max_abs_diff": 0.0, "worst_gradcheck": 0.0,
           "worst_gradcheck_name": "", "bad_input_cases": 0}


class Report:
    """Collects the numbers a run of the NumPy suite reports."""

    def __init__(self, store):
        self.store = store

    def compared(self, max_abs_diff: float) -> None:
        """One more configuration compared with a reference, and its largest |Δ|."""
        self.store["configurations"] += 1
        self.store["max_abs_diff"] = max(self.store["max_abs_diff"], float(max_abs_diff))

    def gradchecked(self, name: str, errors: dict) -> None:
        """Record a gradcheck's relative errors (a dict name -> error)."""
        worst = max(errors.values())
        if worst >= self.store["worst_gradcheck"]:
            self.store["worst_gradcheck"] = float(worst)
            self.store["worst_gradcheck_name"] = f"{name}: {max(errors, key=errors.get)}"

    def bad_input(self) -> None:
        self.store["bad_input_cases"] += 1


@pytest.fixture(scope="session")
def numpy_report():
    return Report(_REPORT)


def pytest_terminal_summary(terminalreporter):
    r = _REPORT
    if not (r["configurations"] or r["bad_input_cases"] or r["worst_gradcheck_name"]):
        return
    tr = terminalreporter
    tr.section("gru_lib.numpy report")
    tr.write_line(f"configurations compared (torch.nn layers, torch autograd of each cell, "
                  f"Cho 2014 transcription): {r['configurations']}, "
                  f"max |diff| = {r['max_abs_diff']:.3e}")
    tr.write_line(f"worst finite-difference relative error: {r['worst_gradcheck']:.3e} "
                  f"({r['worst_gradcheck_name']})")
    tr.write_line(f"bad-input cases checked: {r['bad_input_cases']}")


@pytest.fixture(autouse=True, scope="session")
def _exercise_progress_in_tmp(tmp_path_factory):
    """Checkers record the reader's progress (gru_lib.exercises._progress): in the tests, and in the
    notebook kernels they start, that goes to a temporary directory, never to ~/.cache."""
    import os

    old = os.environ.get("GRU_LIB_DATA")
    os.environ["GRU_LIB_DATA"] = str(tmp_path_factory.mktemp("gru_lib_data"))
    yield
    if old is None:
        os.environ.pop("GRU_LIB_DATA", None)
    else:
        os.environ["GRU_LIB_DATA"] = old
