"""Structural checks of the book's sources: the table of contents and the committed notebooks.

nbval (run by `make test`) re-executes every notebook and compares outputs; these checks catch
what nbval cannot see: a notebook that was edited but not re-run top to bottom, a warning or an
error left in a committed output, a machine-specific path, a chapter missing from the table of
contents, a citation key that is not in the bibliography.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
BIB = BOOK / "references.bib"

# An absolute path of this or any machine (POSIX system folders, home folders, Windows drives).
ABS_PATH = re.compile(
    r"(?<![\w.~-])/(?:work|home|root|tmp|Users|usr|opt|var|etc|mnt|srv|private|proc)/"
    r"|(?<![\w])[A-Za-z]:\\[\w .-]+\\|file://"
)
# An object's memory address, as in "<Foo object at 0x7f3a2c1b9d30>": different on every run.
MEMORY_ADDRESS = re.compile(r"\bat 0x[0-9a-fA-F]{6,}\b")
# {cite}`a,b`, {cite:p}`a`, {cite:t}`a`, ... in Markdown.
CITE = re.compile(r"\{cite(?::[a-z]+)?\}`([^`]*)`")
BIB_KEY = re.compile(r"^\s*@\w+\s*\{\s*([^,\s]+)\s*,", re.M)
TEXT_MIME = ("text/plain", "text/html", "text/markdown", "text/latex", "application/json")


def toc_files() -> list[str]:
    """Every file named in _toc.yml (root, chapters, sections), in order, without suffix."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return files


def resolve(entry: str) -> Path | None:
    """The source file for a TOC entry (the entry may omit the suffix)."""
    path = ROOT / entry
    if path.suffix in (".md", ".ipynb") and path.is_file():
        return path
    for suffix in (".ipynb", ".md"):
        if path.with_suffix(suffix).is_file():
            return path.with_suffix(suffix)
    return None


TOC = toc_files()
TOC_NOTEBOOKS = [p for p in map(resolve, TOC) if p is not None and p.suffix == ".ipynb"]


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def output_texts(output) -> list[str]:
    """The text of one output, as it would be compared or shown (images excluded)."""
    if output.output_type == "stream":
        return [output.get("text", "")]
    if output.output_type in ("execute_result", "display_data"):
        texts = []
        for mime in TEXT_MIME:
            value = output.get("data", {}).get(mime)
            if value is not None:
                texts.append(value if isinstance(value, str) else str(value))
        return texts
    if output.output_type == "error":
        return [output.get("ename", ""), output.get("evalue", ""), *output.get("traceback", [])]
    return []


def code_cells(nb):
    return [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()]


# --- the table of contents ---------------------------------------------------------------------


def test_toc_has_the_root_and_appendices():
    assert TOC[0] == "book/intro"
    assert "book/notation" in TOC and "book/bibliography" in TOC


@pytest.mark.parametrize("entry", TOC)
def test_toc_entry_exists(entry):
    assert resolve(entry) is not None, f"_toc.yml lists {entry}, but no {entry}.md/.ipynb exists"


def test_toc_has_no_duplicates():
    dupes = sorted({e for e in TOC if TOC.count(e) > 1})
    assert not dupes, f"listed more than once in _toc.yml: {dupes}"


def test_every_notebook_is_in_the_toc():
    listed = {resolve(e) for e in TOC}
    missing = [p.relative_to(ROOT).as_posix() for p in sorted(BOOK.glob("*.ipynb"))
               if p not in listed]
    assert not missing, f"notebooks in book/ but not in _toc.yml (add each to its part): {missing}"


# --- every notebook in the TOC -----------------------------------------------------------------


def nb_id(path: Path) -> str:
    return path.name


@pytest.mark.parametrize("path", TOC_NOTEBOOKS, ids=nb_id)
def test_notebook_is_valid_with_python3_kernel(path):
    nb = read(path)
    nbformat.validate(nb)
    spec = nb.metadata.get("kernelspec", {})
    assert spec.get("name") == "python3", (
        f"{path.name}: kernelspec is {spec.get('name')!r}; re-execute with "
        "`make execute NB=...` (kernel python3)"
    )


@pytest.mark.parametrize("path", TOC_NOTEBOOKS, ids=nb_id)
def test_notebook_was_executed_top_to_bottom(path):
    cells = code_cells(read(path))
    assert cells, f"{path.name} has no code cell"
    counts = [c.execution_count for _, c in cells]
    never = [i for (i, c) in cells if c.execution_count is None]
    assert not never, f"{path.name}: code cells never executed (cell indices {never[:10]})"
    expected = list(range(1, len(cells) + 1))
    assert counts == expected, (
        f"{path.name}: execution counts {counts[:20]}... are not 1, 2, 3, ... - the notebook was "
        "not run top to bottom in a fresh kernel; re-execute it with `make execute NB=...`"
    )


@pytest.mark.parametrize("path", TOC_NOTEBOOKS, ids=nb_id)
def test_notebook_has_no_error_or_stderr_output(path):
    problems = []
    for i, cell in code_cells(read(path)):
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                evalue = out.get("evalue", "")[:100]
                problems.append(f"cell {i}: error {out.get('ename')}: {evalue}")
            elif out.output_type == "stream" and out.get("name") == "stderr":
                problems.append(f"cell {i}: stderr: {out.get('text', '')[:100]!r}")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", TOC_NOTEBOOKS, ids=nb_id)
def test_notebook_outputs_have_no_paths_or_addresses(path):
    problems = []
    for i, cell in code_cells(read(path)):
        for out in cell.get("outputs", []):
            for text in output_texts(out):
                for rx, what in ((ABS_PATH, "absolute path"), (MEMORY_ADDRESS, "memory address")):
                    m = rx.search(text)
                    if m:
                        start = max(m.start() - 40, 0)
                        problems.append(f"cell {i}: {what}: ...{text[start:m.end() + 40]!r}")
    assert not problems, f"{path.name}:\n" + "\n".join(problems[:20])


IGNORE_TAG = "nbval-ignore-output"
ASSERTS = re.compile(r"^\s*assert\b|\bcheck_\w+\(|\bassert_\w+\(", re.M)


@pytest.mark.parametrize("path", TOC_NOTEBOOKS, ids=nb_id)
def test_uncompared_outputs_are_asserted(path):
    """The comparison policy (conftest.py): a cell whose output nbval does not compare is checked.

    A cell tagged ``nbval-ignore-output`` (training, timing) still runs, but nothing compares what
    it prints or glues; the claims the prose makes from it must be asserts, in that cell or in
    the code cell right after it.
    """
    cells = code_cells(read(path))
    unchecked = []
    for k, (i, cell) in enumerate(cells):
        if IGNORE_TAG not in cell.metadata.get("tags", []):
            continue
        following = cells[k + 1][1].source if k + 1 < len(cells) else ""
        if not (ASSERTS.search(cell.source) or ASSERTS.search(following)):
            unchecked.append(i)
    assert not unchecked, (
        f"{path.name}: cells {unchecked} are tagged {IGNORE_TAG} but neither they nor the next "
        "code cell assert anything; add an assert with a tolerance that holds across seeds and "
        "CPUs (README, Contributing: what nbval compares)"
    )


# --- citations --------------------------------------------------------------------------------


def markdown_sources() -> list[tuple[str, str]]:
    sources = []
    for entry in TOC:
        path = resolve(entry)
        if path is None:
            continue
        if path.suffix == ".md":
            sources.append((path.name, path.read_text(encoding="utf-8")))
        else:
            for cell in read(path).cells:
                if cell.cell_type == "markdown":
                    sources.append((path.name, cell.source))
    return sources


def test_bibliography_keys_are_unique():
    keys = BIB_KEY.findall(BIB.read_text(encoding="utf-8"))
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    assert keys, "book/references.bib has no entries"
    assert not dupes, f"duplicate keys in book/references.bib: {dupes}"


def test_every_cited_key_is_in_the_bibliography():
    known = set(BIB_KEY.findall(BIB.read_text(encoding="utf-8")))
    missing = []
    for name, text in markdown_sources():
        for group in CITE.findall(text):
            missing += [f"{name}: {k.strip()}" for k in group.split(",")
                        if k.strip() and k.strip() not in known]
    assert not missing, "cited but not in book/references.bib:\n" + "\n".join(sorted(set(missing)))
