"""gru_lib.utils without its optional dependencies: progress bars, figure style, show_source."""

import sys

import pytest

from gru_lib import progress, seed_everything, show_source, use_book_style
from gru_lib._optional import missing_extra


@pytest.fixture
def interactive(monkeypatch):
    """Progress bars on, as for a reader (the test run switches them off)."""
    monkeypatch.delenv("GRU_LIB_NO_PROGRESS", raising=False)
    monkeypatch.delenv("CI", raising=False)


def test_progress_is_a_bar_when_interactive(interactive):
    bar = progress(range(3), disable=True)
    assert type(bar).__module__.startswith("tqdm")
    assert list(bar) == [0, 1, 2]


def test_progress_without_tqdm_runs_the_loop_plainly(interactive, monkeypatch):
    for name in [m for m in sys.modules if m == "tqdm" or m.startswith("tqdm.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm -> ImportError
    items = range(4)
    assert progress(items) is items


def test_progress_off_when_asked(monkeypatch):
    monkeypatch.setenv("GRU_LIB_NO_PROGRESS", "1")
    items = [1, 2]
    assert progress(items) is items


@pytest.mark.parametrize(("module", "call", "extra"), [
    ("matplotlib", use_book_style, "gru-lib[plot]"),
    ("IPython", lambda: show_source(seed_everything), "gru-lib[book]"),
])
def test_missing_optional_dependency_names_the_extra(monkeypatch, module, call, extra):
    for name in [m for m in sys.modules if m == module or m.startswith(module + ".")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ImportError) as info:
        call()
    assert f"pip install '{extra}'" in str(info.value)


def test_missing_extra_message_and_name():
    err = missing_extra("torch", "gru_lib.train")
    assert isinstance(err, ImportError) and err.name == "torch"
    assert str(err).startswith("gru_lib.train needs PyTorch (torch), which is not installed.")
    assert "pip install 'gru-lib[torch]'" in str(err)
    assert "--index-url https://download.pytorch.org/whl/cpu" in str(err)
    with pytest.raises(ValueError, match="unknown optional module 'jax'"):
        missing_extra("jax", "x")
