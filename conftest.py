"""The notebook comparison policy: what nbval compares strictly and what it leaves to asserts.

This is the one place where the policy is implemented (the README's Contributing section states
it in words). ``make test`` runs nbval over ``book/*.ipynb`` twice, once as the machine is and once
under a second floating-point path (``scripts/float_path.py``), and both runs must pass:

* Compared strictly (byte for byte, after ``tests/nbval_sanitize.cfg``): every text output —
  shapes, counts, exact fractions, float64 library checks printed at their tolerance, prose-like
  text, glued values from cells that compute something hardware-independent.
* Never compared: images (figures are displayed by the cell that draws them, as ``image/png``):
  the last bits of a training run change the PNG. nbval already skips plain ``image/png``; the
  hook below adds vector formats and glued images (``application/papermill.record/image/png``,
  which the book no longer makes: ``gru_lib.notebook.glue`` refuses figures).
* Not compared, but checked: outputs of cells tagged ``nbval-ignore-output`` (training logs,
  timings, glued numbers from training or timing). Such a cell is run like every other cell, and
  it or the code cell right after it asserts what the prose claims, with a tolerance that holds
  across seeds and CPUs; ``tests/test_notebooks.py`` fails on a tagged cell without that assert.
"""

from __future__ import annotations

import pytest

# Outputs nbval must not compare, in addition to its own skip list (which has image/png and
# image/jpeg). Glued figures (the old convention) were stored under a papermill.record/<mime> key.
NOT_COMPARED = (
    "image/svg+xml",
    "application/pdf",
    "application/papermill.record/image/png",
    "application/papermill.record/image/jpeg",
    "application/papermill.record/image/svg+xml",
    "application/papermill.record/application/pdf",
)


def pytest_collection_modifyitems(items):
    """Extend each notebook's skip list (nbval reads ``item.parent.skip_compare``)."""
    for item in items:
        parent = getattr(item, "parent", None)
        skip = getattr(parent, "skip_compare", None)
        if isinstance(skip, tuple) and NOT_COMPARED[-1] not in skip:
            parent.skip_compare = skip + NOT_COMPARED


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing notebook cell names the notebook and the two ways to fix it."""
    outcome = yield
    report = outcome.get_result()
    path = report.nodeid.split("::", 1)[0]
    if report.failed and path.endswith(".ipynb"):
        report.sections.append((
            "how to fix",
            f"If {path} was edited, or its outputs came from a partial run, re-execute it from a "
            f"fresh kernel:\n    make execute NB={path}\nIf it fails only under the second "
            "floating-point path (nbval portable), the cell compares a number that depends on the "
            "CPU: move it into a cell tagged nbval-ignore-output and assert it with a tolerance "
            "(README, Contributing).",
        ))


# --- per-notebook times in the summary (the test stage reports them) ---------------------------

_NOTEBOOK_SECONDS: dict[str, float] = {}


def pytest_runtest_logreport(report):
    """Add up the time of every cell (setup, call, teardown) per notebook; works under xdist."""
    path = report.nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        _NOTEBOOK_SECONDS[path] = _NOTEBOOK_SECONDS.get(path, 0.0) + report.duration


def pytest_terminal_summary(terminalreporter):
    if not _NOTEBOOK_SECONDS:
        return
    tr = terminalreporter
    tr.section("time per notebook (kernel start and every cell)")
    for path, seconds in sorted(_NOTEBOOK_SECONDS.items()):
        tr.write_line(f"{seconds:7.1f} s  {path}")
    tr.write_line(f"{sum(_NOTEBOOK_SECONDS.values()):7.1f} s  in all (workers run in parallel)")
