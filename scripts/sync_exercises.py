"""Write the exercise headings and hints of the notebooks from the library's exercise table.

The single source of truth is ``gru_lib/exercises/_catalog.py`` (label, kind, ★ difficulty and
title of every exercise) with ``gru_lib/exercises/_hints.py`` (the hints of the code exercises).
For every ``{exercise}`` directive in the notebooks' markdown cells this script:

- rewrites the title line as ``{exercise} Title · kind · ★★`` (:attr:`Exercise.heading`);
- removes a leading ad-hoc label from the statement (``**(Conceptual.)**``, ``(Coding, longer.)``,
  ``Coding.``, or a bold run-in title such as ``**Why a sigmoid?**``): the heading now says it;
- replaces the hint blocks at the end of the exercise by the table's hints, one collapsed
  dropdown each (``:::{admonition} Hint k`` with ``:class: dropdown``), in order.

It touches nothing else: no code cell, no output, no solution, so a notebook need not be
re-executed after a sync. Running it twice changes nothing the second time.

    python scripts/sync_exercises.py                    # sync every notebook in book/
    python scripts/sync_exercises.py book/07_gru.ipynb  # only these
    python scripts/sync_exercises.py --check            # exit 1 and list what is out of sync

``--check`` also fails when a notebook has an exercise the table does not know, and (when it
checks the whole book) when the table lists an exercise that no notebook has.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gru_lib.exercises._catalog import CATALOG  # noqa: E402

BOOK = ROOT / "book"

# An exercise directive: its fence (``` or more, or ::::), the rest of the opening line, the body.
_EXERCISE = re.compile(
    r"^(?P<fence>`{3,}|:{4,})\{exercise\}(?P<title>[^\n]*)\n(?P<body>.*?)\n(?P=fence)[ \t]*$",
    re.M | re.S)
_OPTION = re.compile(r"^:(\w+):[ \t]*(.*)$")
_HINT = re.compile(r"\n*^:::\{admonition\} Hint \d+[ \t]*\n.*?^:::[ \t]*$", re.M | re.S)
_KIND_WORDS = r"(?:Conceptual|Concept|Derivation|Counting|Coding|Code|Experiment)"
_AD_HOC_LABEL = re.compile(
    rf"^(?:\*\*\({_KIND_WORDS}[^)\n]*\)\*\*"     # **(Conceptual.)**, **(Coding: the loop.)**
    rf"|\({_KIND_WORDS}[^)\n]*\)"                  # (Derivation.), (Coding, longer.)
    rf"|{_KIND_WORDS}\."                           # Coding.
    r"|\*\*[^*\n]{1,80}[.?!]\*\*)"                 # **Why a sigmoid?** (a run-in title)
    r"[ \t]+")


def hint_block(k: int, text: str) -> str:
    return f":::{{admonition}} Hint {k}\n:class: dropdown\n\n{text}\n:::"


def _sync_exercise(m: re.Match, problems: list[str], where: str) -> str:
    fence, body = m.group("fence"), m.group("body")
    lines = body.split("\n")
    n_opts = 0
    label = None
    while n_opts < len(lines) and (opt := _OPTION.match(lines[n_opts])):
        if opt.group(1) == "label":
            label = opt.group(2).strip()
        n_opts += 1
    if label is None or label not in CATALOG:
        problems.append(f"{where}: exercise {label or '(no label)'} is not in "
                        "gru_lib/exercises/_catalog.py")
        return m.group(0)
    ex = CATALOG[label]
    options, text = "\n".join(lines[:n_opts]), "\n".join(lines[n_opts:])
    text = _HINT.sub("", text).strip("\n")
    text = _AD_HOC_LABEL.sub("", text, count=1)
    if ex.hints:
        text += "\n\n" + "\n\n".join(hint_block(k, h) for k, h in enumerate(ex.hints, start=1))
    return f"{fence}{{exercise}} {ex.heading}\n{options}\n\n{text}\n{fence}"


def sync_source(src: str, problems: list[str], where: str) -> tuple[str, list[str]]:
    """The markdown ``src`` with its exercises synced, and the labels of the exercises in it."""
    labels: list[str] = []

    def one(m: re.Match) -> str:
        opt = re.search(r"^:label:[ \t]*(\S+)", m.group("body"), re.M)
        labels.append(opt.group(1) if opt else "(no label)")
        return _sync_exercise(m, problems, where)

    return _EXERCISE.sub(one, src), labels


def sync_notebook(path: Path, write: bool, problems: list[str]) -> tuple[list[str], list[str]]:
    """Sync one notebook; return (labels of its exercises, labels that were out of sync)."""
    text = path.read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=4)
    labels, stale = [], []
    for cell in nb.cells:
        if cell.cell_type != "markdown" or "{exercise}" not in cell.source:
            continue
        new, found = sync_source(cell.source, problems, path.name)
        labels += found
        if new != cell.source:
            old_parts = {m.group(0) for m in _EXERCISE.finditer(cell.source)}
            stale += [lab for lab, m in zip(found, _EXERCISE.finditer(new), strict=True)
                      if m.group(0) not in old_parts]
            cell.source = new
    if stale and write:
        path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")
    return labels, stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to sync (default: every book/*.ipynb)")
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 and list the notebooks out of sync")
    args = parser.parse_args(argv)
    whole_book = not args.notebooks
    paths = sorted(BOOK.glob("*.ipynb")) if whole_book else args.notebooks
    problems: list[str] = []
    seen: set[str] = set()
    out_of_sync = 0
    for path in paths:
        labels, stale = sync_notebook(path, write=not args.check, problems=problems)
        seen.update(labels)
        if stale:
            out_of_sync += 1
            verb = "out of sync" if args.check else "synced"
            print(f"{path.name}: {verb}: {', '.join(stale)}")
    if whole_book:
        problems += [f"{label} is in the table but in no notebook"
                     for label in CATALOG if label not in seen]
    for p in problems:
        print(f"error: {p}", file=sys.stderr)
    if args.check and out_of_sync:
        print(f"{out_of_sync} notebook(s) out of sync with gru_lib/exercises/_catalog.py; run "
              "python scripts/sync_exercises.py", file=sys.stderr)
    return 1 if problems or (args.check and out_of_sync) else 0


if __name__ == "__main__":
    sys.exit(main())
