"""Every chapter is readable in JupyterLab as well as in the HTML book (no browser needed).

The convention (README, Contributing; :mod:`gru_lib.notebook`; ``scripts/lab_convert.py``):

* a figure is shown by the cell that draws it (exactly one image output) and named and captioned
  by that cell's ``mystnb.figure`` metadata; no ``{glue:figure}`` (an error box in JupyterLab);
* a number quoted in the prose with ``{glue:text}`key``` is glued by ``gru_lib.notebook.glue``,
  whose output shows ``key = value`` in JupyterLab (where the prose shows only the key);
* every ``{numref}`` to a figure names a figure that exists.

``make lab-check`` checks what JupyterLab really shows for two chapters; this test checks every
chapter's JSON, quickly, and the wrapper and the converter themselves.
"""

from __future__ import annotations

import copy
import json
import re
import sys
from pathlib import Path

import pytest

from gru_lib.notebook import GLUE_PREFIX, glue, glue_line

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
NOTEBOOKS = sorted(BOOK.glob("*.ipynb"))

sys.path.insert(0, str(ROOT / "scripts"))
import lab_convert  # noqa: E402

sys.path.remove(str(ROOT / "scripts"))

GLUE_ROLE_OR_DIRECTIVE = re.compile(r"\{glue(?::(\w*))?\}")
GLUE_TEXT = re.compile(r"\{glue:text\}`([^`]+)`")
NUMREF = re.compile(r"\{numref\}`([^`]+)`")
MD_FIGURE_NAME = re.compile(r"^(?:`{3,}|:{3,})\{figure\}[^\n]*\n(?:[^\n]*\n)*?:name:\s*(\S+)", re.M)


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _src(cell: dict) -> str:
    return "".join(cell["source"])


def _figure_meta(cell: dict) -> dict | None:
    return cell.get("metadata", {}).get("mystnb", {}).get("figure")


def _images(cell: dict) -> int:
    return sum(any(k.startswith("image/") for k in o.get("data", {}))
               for o in cell.get("outputs", []))


def _figure_names(nb: dict) -> list[str]:
    names = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and _figure_meta(cell):
            names.append(_figure_meta(cell).get("name"))
        elif cell["cell_type"] == "markdown":
            names += MD_FIGURE_NAME.findall(_src(cell))
    return names


def test_there_are_chapters():
    assert len(NOTEBOOKS) >= 14


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_figures_are_shown_by_their_cell(path):
    nb = _load(path)
    problems = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown":
            for kind in GLUE_ROLE_OR_DIRECTIVE.findall(_src(cell)):
                if kind != "text":
                    problems.append(f"cell {i}: {{glue{':' + kind if kind else ''}}} (only "
                                    "{glue:text} is used; JupyterLab cannot show the others)")
            continue
        if cell["cell_type"] != "code":
            continue
        if re.search(r"^\s*(from|import)\s+myst_nb\b", _src(cell), re.M):
            problems.append(f"cell {i}: imports myst_nb (use `from gru_lib.notebook import glue`)")
        for o in cell.get("outputs", []):
            if any(k.startswith(GLUE_PREFIX + "image/") for k in o.get("data", {})):
                problems.append(f"cell {i}: a glued figure (display it in its cell instead)")
        meta = _figure_meta(cell)
        if meta is None:
            continue
        if not str(meta.get("name", "")).startswith("fig-"):
            problems.append(f"cell {i}: figure metadata without a fig-... name: {meta}")
        if not str(meta.get("caption", "")).strip():
            problems.append(f"cell {i}: figure {meta.get('name')} has no caption")
        if _images(cell) != 1:
            problems.append(f"cell {i}: figure {meta.get('name')} has {_images(cell)} image "
                            "outputs (exactly one: myst-nb wraps each in the figure)")
        others = [o for o in cell.get("outputs", []) if o["output_type"] in
                  ("display_data", "execute_result") and not any(
                      k.startswith("image/") for k in o.get("data", {}))
                  and not o.get("metadata", {}).get("scrapbook", {}).get("mime_prefix")]
        if others:
            problems.append(f"cell {i}: figure {meta.get('name')} has other rich outputs, which "
                            "the book would show as more figures with the same name")
    names = _figure_names(nb)
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        problems.append(f"figure names used twice: {dup}")
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_every_quoted_number_is_printed_by_the_cell_that_glues_it(path):
    nb = _load(path)
    records = {}  # key -> the glue record's output
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            sb = o.get("metadata", {}).get("scrapbook")
            if sb and sb.get("mime_prefix"):
                records[sb["name"]] = o
    problems = []
    for key, o in sorted(records.items()):
        plain = o["data"].get(GLUE_PREFIX + "text/plain")
        if plain is None:
            continue
        want = glue_line(key, "".join(plain))
        if "".join(o["data"].get("text/plain", "")) != want:
            problems.append(f"{key}: the output does not print {want!r} (glued with "
                            "myst_nb.glue? use gru_lib.notebook.glue, or run "
                            "scripts/lab_convert.py)")
    texts = [_src(c) for c in nb["cells"] if c["cell_type"] == "markdown"]
    texts += [str(_figure_meta(c).get("caption", "")) for c in nb["cells"] if _figure_meta(c)]
    for text in texts:
        for ref in GLUE_TEXT.findall(text):
            key = ref.rsplit(":", 1)[0] if ":" in ref else ref
            key = key.split("::", 1)[-1]
            if key not in records:
                problems.append(f"{{glue:text}}`{ref}`: no cell glues {key!r}")
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)


def test_every_figure_reference_names_a_figure():
    names = set()
    for path in NOTEBOOKS:
        names.update(_figure_names(_load(path)))
    missing = []
    for path in [*NOTEBOOKS, *sorted(BOOK.glob("*.md"))]:
        if path.suffix == ".ipynb":
            nb = _load(path)
            texts = [_src(c) for c in nb["cells"] if c["cell_type"] == "markdown"]
            texts += [str(_figure_meta(c).get("caption", "")) for c in nb["cells"]
                      if _figure_meta(c)]
        else:
            texts = [path.read_text(encoding="utf-8")]
        for text in texts:
            for ref in NUMREF.findall(text):
                m = re.search(r"<([^>]+)>\s*$", ref)
                label = m[1] if m else ref
                if label.startswith("fig-") and label not in names:
                    missing.append(f"{path.name}: {{numref}}`{ref}`")
    assert not missing, "references to figures that do not exist:\n  " + "\n  ".join(missing)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_the_converter_has_nothing_left_to_do(path):
    old = path.read_text(encoding="utf-8")
    new, _ = lab_convert.convert(json.loads(old), path.name)
    assert lab_convert.dumps(new) == old, (
        f"{path.name} still uses the old glue convention: run python scripts/lab_convert.py "
        f"{path.relative_to(ROOT)}")


# --- the wrapper and the converter ---------------------------------------------------------------

def _capture(monkeypatch, module, attr):
    shown = []

    def fake_display(data, raw=False, metadata=None):
        assert raw
        shown.append({"data": dict(data), "metadata": copy.deepcopy(metadata or {}),
                      "output_type": "display_data"})

    monkeypatch.setattr(module, attr, fake_display)
    return shown


@pytest.mark.parametrize("value", [0.25, "9.49", 14, "a 'quoted' word", [1, 2]])
def test_glue_records_like_myst_nb_and_prints_the_line(monkeypatch, value):
    IPython_display = pytest.importorskip("IPython.display")
    mine = _capture(monkeypatch, IPython_display, "display")
    glue("ch00_key", value, display=False)
    myst_glue = pytest.importorskip("myst_nb.ext.glue")
    theirs = _capture(monkeypatch, myst_glue, "ipy_display")
    myst_glue.glue("ch00_key", value, display=False)
    # What the converter makes of myst_nb's record is exactly what the wrapper displays.
    assert lab_convert._text_glue_output(theirs[0]) == lab_convert.as_written(mine[0])
    data = mine[0]["data"]
    assert data[GLUE_PREFIX + "text/plain"] == theirs[0]["data"][GLUE_PREFIX + "text/plain"]
    from myst_nb.core.variables import format_plain_text
    assert data["text/plain"] == "ch00_key = " + format_plain_text(
        data[GLUE_PREFIX + "text/plain"], "s")
    # myst-nb drops the output from the page and reads the value from the prefixed key only.
    nb_cell = {"cell_type": "code", "outputs": copy.deepcopy(mine)}
    from nbformat import from_dict
    cell = from_dict(nb_cell)
    [(key, out)] = myst_glue.extract_glue_data_cell(cell)
    assert key == "ch00_key" and cell.outputs == []
    assert out["data"]["text/plain"] == data[GLUE_PREFIX + "text/plain"]


def test_glue_refuses_figures(monkeypatch):
    IPython_display = pytest.importorskip("IPython.display")
    plt = pytest.importorskip("matplotlib.pyplot")
    _capture(monkeypatch, IPython_display, "display")
    fig = plt.figure()
    try:
        with pytest.raises(TypeError, match="figures are not glued"):
            glue("ch00_fig", fig, display=False)
    finally:
        plt.close(fig)


def _old_notebook() -> dict:
    png = {"application/papermill.record/image/png": "iVBORw0KGgo=",
           "application/papermill.record/text/plain": "<Figure size 640x380 with 1 Axes>"}

    def record(name, data):
        return {"data": data, "metadata": {"scrapbook": {"mime_prefix": GLUE_PREFIX,
                                                         "name": name}},
                "output_type": "display_data"}

    def code(cid, n, src, outputs, tags=None):
        return {"cell_type": "code", "execution_count": n, "id": cid,
                "metadata": {"tags": tags} if tags else {}, "outputs": outputs,
                "source": lab_convert._lines(src)}

    def md(cid, src):
        return {"cell_type": "markdown", "id": cid, "metadata": {},
                "source": lab_convert._lines(src)}

    return {"cells": [
        code("imp", 1, "import matplotlib.pyplot as plt\nfrom myst_nb import glue", []),
        code("two", 2, "fig, ax = plt.subplots()\nglue(\"c_fig_a\", fig, display=False)\n"
             "plt.close(fig)\n\nx = 3\nglue(\"c_x\", f\"{x}\", display=False)\n"
             "fig, ax = plt.subplots()\nglue('c_fig_b', fig, display=False)\nplt.close(fig)",
             [record("c_fig_a", dict(png)), record("c_x", {GLUE_PREFIX + "text/plain": "'3'"}),
              record("c_fig_b", dict(png))], tags=["hide-input"]),
        md("m1", "Text before.\n\n```{glue:figure} c_fig_a\n:name: fig-c-a\n\nCaption A with "
           "{glue:text}`c_x` and $x$.\n```\n\nText after, {numref}`fig-c-a`."),
        md("m2", "````{glue:figure} c_fig_b\n:name: fig-c-b\n\nCaption B.\n````"),
        code("last", 3, "print(1)", [{"name": "stdout", "output_type": "stream",
                                      "text": ["1\n"]}]),
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def test_converter_converts_sources_and_outputs_and_splits():
    old = _old_notebook()
    new, counts = lab_convert.convert(old)
    assert counts == {"figures": 2, "split": 1, "keys": 1, "blocks": 2, "imports": 1}
    cells = new["cells"]
    assert [c["id"] for c in cells] == ["imp", "two", "two-2", "m1", "last"]
    assert _src(cells[0]) == "import matplotlib.pyplot as plt\nfrom gru_lib.notebook import glue"
    a, b = cells[1], cells[2]
    assert _src(a) == "fig, ax = plt.subplots()\ndisplay(fig)\nplt.close(fig)"
    assert _src(b) == ("x = 3\nglue(\"c_x\", f\"{x}\", display=False)\n"
                       "fig, ax = plt.subplots()\ndisplay(fig)\nplt.close(fig)")
    assert a["metadata"] == {"tags": ["hide-input"], "mystnb": {"figure": {
        "name": "fig-c-a", "caption": "Caption A with {glue:text}`c_x` and $x$."}}}
    assert b["metadata"]["mystnb"]["figure"] == {"name": "fig-c-b", "caption": "Caption B."}
    assert a["outputs"] == [{"data": {"image/png": "iVBORw0KGgo=",
                                      "text/plain": ["<Figure size 640x380 with 1 Axes>"]},
                             "metadata": {}, "output_type": "display_data"}]
    assert [o["data"].get("text/plain") for o in b["outputs"]] == [
        ["c_x = 3"], ["<Figure size 640x380 with 1 Axes>"]]
    assert [c.get("execution_count") for c in cells if c["cell_type"] == "code"] == [1, 2, 3, 4]
    assert _src(cells[3]) == "Text before.\n\nText after, {numref}`fig-c-a`."
    # Idempotent: a second run changes nothing; the input was not modified.
    again, _ = lab_convert.convert(new)
    assert lab_convert.dumps(again) == lab_convert.dumps(new)
    assert old == _old_notebook()


def test_converter_refuses_what_it_cannot_convert_safely():
    nb = _old_notebook()
    nb["cells"][1]["source"] = lab_convert._lines(
        "for fig in figs:\n    glue(\"c_fig_a\", fig, display=False)")
    with pytest.raises(lab_convert.ConvertError, match="not a top-level statement"):
        lab_convert.convert(nb)
    nb = _old_notebook()
    nb["cells"][2]["source"] = lab_convert._lines(
        "```{glue:figure} c_fig_a\n:name: fig-c-a\n:width: 50%\n\nCaption.\n```")
    with pytest.raises(lab_convert.ConvertError, match="options"):
        lab_convert.convert(nb)
    nb = _old_notebook()
    del nb["cells"][3]
    with pytest.raises(lab_convert.ConvertError, match="no {glue:figure} places it"):
        lab_convert.convert(nb)


def test_glue_needs_ipython_only_when_called():
    import subprocess
    code = ("import sys; sys.modules['IPython'] = None; sys.modules['myst_nb'] = None\n"
            "from gru_lib.notebook import glue\n"
            "try:\n    glue('k', 1, display=False)\nexcept ImportError as e:\n"
            "    assert \"gru-lib[book]\" in str(e), e\n    print('ok')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert out.stdout.strip() == "ok", out.stderr
