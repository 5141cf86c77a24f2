"""The parts of scripts/lab_check.py that need no browser: what it expects from a notebook.

The check itself (JupyterLab + Chromium) runs as its own stage (`make lab-check`), not here.
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import lab_check  # noqa: E402

sys.path.remove(str(ROOT / "scripts"))


def _notebook(tmp_path, *markdown):
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": [m]} for m in markdown]
          + [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 1,
              "source": ["glue('in_code', 1)  # {glue:text}`not_markdown`"]}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    return path


def test_glue_keys_are_read_from_markdown_roles_only(tmp_path):
    path = _notebook(tmp_path, "a {glue:text}`k1` b {glue}`k2` c {glue:text}`k1:.2f`",
                     "```{glue:figure} fig_key\n:name: f\n```")
    assert lab_check.glue_keys(path) == ["k1", "k2"]


def test_directive_counts(tmp_path):
    path = _notebook(tmp_path, "```{exercise}\n:label: e1\nx\n```\n\n````{solution} e1\n```py\n"
                     "```\n````", ":::{exercise}\ny\n:::\n\nnot a directive: {exercise}")
    assert lab_check.directive_counts(path) == {"exercise": 2, "solution": 1}


def test_default_chapters_exist():
    for rel in lab_check.DEFAULT_NOTEBOOKS:
        assert (ROOT / rel).is_file(), rel


def test_figure_count_counts_cell_metadata_and_directives(tmp_path):
    path = _notebook(tmp_path, "```{glue:figure} k\n:name: fig-a\n\nCaption.\n```",
                     "````{figure} a.png\n:name: fig-b\n\nCaption.\n````\n\nNot {figure} here.")
    nb = json.loads(path.read_text())
    nb["cells"].append({"cell_type": "code", "execution_count": 2, "outputs": [],
                        "metadata": {"mystnb": {"figure": {"name": "fig-c", "caption": "C."}}},
                        "source": ["display(fig)"]})
    path.write_text(json.dumps(nb))
    assert lab_check.figure_count(path) == 3


def test_every_chapter_defines_its_figures():
    # Every chapter has at least one figure; the lab check needs them counted to compare.
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        assert lab_check.figure_count(path) >= 1, path.name
