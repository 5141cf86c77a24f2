"""The notebooks' exercise headings and hints agree with the library's table
(``gru_lib/exercises/_catalog.py`` and ``_hints.py``), as written by ``scripts/sync_exercises.py``.

If a test here fails, run ``python scripts/sync_exercises.py`` and commit the notebooks (only
markdown cells change: no re-execution needed)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from gru_lib.exercises import hint
from gru_lib.exercises._catalog import CATALOG, KINDS

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))

_spec = importlib.util.spec_from_file_location("sync_exercises",
                                               ROOT / "scripts" / "sync_exercises.py")
sync = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sync)

# Chapters being edited on other branches when the convention was introduced; the lead runs the
# sync on them after merging, then removes them from this set.
PENDING: set[str] = set()


@pytest.mark.parametrize("path", [
    pytest.param(p, marks=pytest.mark.xfail(reason="sync pending after merge", strict=False))
    if p.name in PENDING else p for p in NOTEBOOKS], ids=[p.name[:2] for p in NOTEBOOKS])
def test_notebook_exercises_are_in_sync(path):
    problems: list[str] = []
    labels, stale = sync.sync_notebook(path, write=False, problems=problems)
    assert not problems, problems
    assert not stale, f"{path.name}: out of sync: {stale}; run python scripts/sync_exercises.py"


def test_every_exercise_of_the_table_is_in_the_book():
    seen: list[str] = []
    for path in NOTEBOOKS:
        seen += sync.sync_notebook(path, write=False, problems=[])[0]
    assert len(seen) == len(set(seen)), "an exercise label is used twice"
    assert set(seen) == set(CATALOG), (set(CATALOG) - set(seen), set(seen) - set(CATALOG))


def test_the_table_is_consistent(capsys):
    for ex in CATALOG.values():
        assert ex.kind in KINDS and ex.stars in (1, 2, 3), ex.label
        assert ex.label.startswith(f"ex-ch{ex.chapter:02d}-")
        if ex.kind == "code":                   # every code exercise has progressive hints
            assert 2 <= len(ex.hints) <= 3, ex.label
        else:
            assert not ex.hints and not ex.checked, ex.label
        for text in ex.hints:                   # rendered as Markdown in the book
            assert "$" not in text and text.count("`") % 2 == 0, (ex.label, text)
    hint("ex-ch05-4", 2)                        # unchecked code exercises have hints too
    assert "Hint 2 of 3 (ex-ch05-4)" in capsys.readouterr().out


_RAW = """Some text.

```{exercise}
:label: ex-ch06-4

**(Coding.)** Implement the step.

:::{admonition} Hint 1
:class: dropdown

an old hint
:::
```

````{exercise} An old title
:label: ex-ch05-1

**Why a sigmoid?** A gate multiplies.
````
"""


def test_sync_rewrites_titles_and_hints_and_is_idempotent():
    problems: list[str] = []
    once, labels = sync.sync_source(_RAW, problems, "raw")
    assert labels == ["ex-ch06-4", "ex-ch05-1"] and not problems
    assert "```{exercise} LSTM step · code · ★\n:label: ex-ch06-4\n\nImplement the step." in once
    assert "an old hint" not in once and once.count(":::{admonition} Hint") == 3
    assert sync.hint_block(3, CATALOG["ex-ch06-4"].hints[2]) in once
    assert "````{exercise} Why a sigmoid? · concept · ★\n:label: ex-ch05-1\n\nA gate" in once
    assert once.startswith("Some text.\n\n```{exercise}")
    assert sync.sync_source(once, problems, "raw")[0] == once


def test_unknown_label_is_reported():
    problems: list[str] = []
    src = "```{exercise}\n:label: ex-ch99-nothing\n\nText.\n```"
    assert sync.sync_source(src, problems, "raw")[0] == src
    assert problems and "ex-ch99-nothing" in problems[0]
