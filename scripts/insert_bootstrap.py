"""Insert or refresh the bootstrap cell (``scripts/bootstrap_cell.py``) in the book's chapters.

Usage:
    python scripts/insert_bootstrap.py [NOTEBOOK ...]          # dry run: says what would change
    python scripts/insert_bootstrap.py --write [NOTEBOOK ...]  # changes the notebooks

Without NOTEBOOK arguments it takes every ``book/*.ipynb``. The cell is rendered from the one
template, ``scripts/bootstrap_cell.py``, with

- the repository address and branch of ``_config.yml`` (via ``scripts/repo_address.py``); while
  the address is a placeholder, the cell gets an empty address and, on Colab or Binder, prints how
  to install ``gru_lib`` by hand instead of installing from a dead address;
- ``corpus=True`` for the chapters whose code uses :mod:`gru_lib.corpus`.

Idempotent: a notebook that already has the cell (recognised by its first line) gets its source
refreshed in place; a notebook without it gets it just before its first code cell, with the tag
``remove-cell`` (the HTML book does not show it; JupyterLab, Colab and Binder do) and no output.
A notebook whose cell is current is left byte-for-byte unchanged. A notebook that was run top to
bottom gets the counts a fresh run would give (the cell is count 1, every later count one higher:
locally the cell does nothing); any other must be re-executed (``make execute NB=...``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from repo_address import read_repository, repository_url  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "scripts" / "bootstrap_cell.py"
MARKER = "# gru_lib bootstrap cell"
CELL_ID = "gru-lib-bootstrap"
TAGS = ["remove-cell"]
SIGNATURE = 'def _gru_lib_bootstrap(repo="", ref="main", corpus=False):'
CORPUS_USES = ("gru_lib.corpus", "gru_lib import corpus")


def render(repo: str | None, ref: str = "main", corpus: bool = False) -> str:
    """The cell's source: the template with the repository, ref and corpus flag filled in."""
    text = TEMPLATE.read_text(encoding="utf-8")
    if not text.startswith(MARKER) or text.count(SIGNATURE) != 1:
        raise ValueError(f"{TEMPLATE}: expected it to start with {MARKER!r} and to contain "
                         f"{SIGNATURE!r} once")
    filled = (f"def _gru_lib_bootstrap(repo={json.dumps(repo or '')}, ref={json.dumps(ref)}, "
              f"corpus={corpus}):")
    return text.replace(SIGNATURE, filled).rstrip("\n")


def _source_lines(text: str) -> list[str]:
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + [lines[-1]]


def needs_corpus(nb: dict) -> bool:
    """True if a code cell of the notebook (other than the bootstrap) uses the corpus."""
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "code" and not src.startswith(MARKER):
            if any(use in src for use in CORPUS_USES):
                return True
    return False


def update(nb: dict, repo: str | None, ref: str) -> str:
    """Insert or refresh the cell in ``nb`` (in place); return 'inserted', 'refreshed' or
    'current'."""
    source = render(repo, ref, needs_corpus(nb))
    cells = nb["cells"]
    for cell in cells:
        if cell["cell_type"] == "code" and "".join(cell["source"]).startswith(MARKER):
            if "".join(cell["source"]) == source:
                return "current"
            cell["source"] = _source_lines(source)
            return "refreshed"
    first_code = next((i for i, c in enumerate(cells) if c["cell_type"] == "code"), len(cells))
    cell = {"cell_type": "code", "execution_count": None, "id": CELL_ID,
            "metadata": {"tags": list(TAGS)}, "outputs": [], "source": _source_lines(source)}
    if nb.get("nbformat", 4) == 4 and nb.get("nbformat_minor", 0) < 5:
        del cell["id"]  # cell ids exist from nbformat 4.5 on
    cells.insert(first_code, cell)
    _renumber_after_insert(cells, cell)
    return "inserted"


def _renumber_after_insert(cells: list[dict], new: dict) -> None:
    """Give the new cell execution count 1 and shift every later count by one.

    Locally the cell returns at once, prints nothing and leaves no names behind (tests/
    test_bootstrap.py), so a fresh top-to-bottom run of the notebook produces exactly the committed
    outputs with every count one higher: this writes that result without spending the CPU time.
    Only a notebook that was itself run top to bottom (counts 1, 2, 3, ...) is renumbered; any other
    keeps ``None`` and must be re-executed.
    """
    code = [c for c in cells if c["cell_type"] == "code" and c is not new]
    if [c.get("execution_count") for c in code] != list(range(1, len(code) + 1)):
        return
    for c in code:
        c["execution_count"] += 1
        for out in c.get("outputs", []):
            if out.get("execution_count") is not None:
                out["execution_count"] += 1
    new["execution_count"] = 1


def dumps(nb: dict) -> str:
    """A notebook as nbformat writes it (one-space indent, non-ASCII kept, final newline)."""
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--write", action="store_true", help="change the notebooks (default: "
                        "only say what would change)")
    parser.add_argument("--config", type=Path, default=ROOT / "_config.yml")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((ROOT / "book").glob("*.ipynb"))
    repo = repository_url(args.config)
    ref = read_repository(args.config).get("branch") or "main"
    if repo is None:
        print(f"{args.config.name}: repository.url is a placeholder: the cell gets no address "
              "(on Colab/Binder it explains how to install gru_lib by hand)")
    changed = 0
    for path in notebooks:
        nb = json.loads(path.read_text(encoding="utf-8"))
        what = update(nb, repo, ref)
        if what != "current":
            changed += 1
            if args.write:
                path.write_text(dumps(nb), encoding="utf-8")
        verb = what if args.write or what == "current" else f"would be {what}"
        print(f"{path.name}: {verb}{' (corpus)' if needs_corpus(nb) else ''}")
    if changed and not args.write:
        print(f"{changed} notebook(s) would change; run again with --write to change them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
