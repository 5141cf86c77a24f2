"""Convert chapters from glued figures to figures shown by their own cell, without re-executing.

Usage:
    python scripts/lab_convert.py [NOTEBOOK ...] [--check]

Default: every ``book/*.ipynb``. Idempotent: a converted notebook is left as it is, so it can be
re-run after a merge brings in notebooks written the old way. ``--check`` changes nothing and
exits 1 if some notebook would change (and says which).

The old convention (which JupyterLab cannot show: jupyterlab-myst has no ``glue``):

* a hidden code cell draws a figure and ends ``glue("chNN_fig_x", fig, display=False)`` then
  ``plt.close(fig)``; a markdown cell places it with a fenced ``{glue:figure} chNN_fig_x``
  directive (option ``:name: fig-chNN-x``, body: the caption);
* numbers: ``from myst_nb import glue``; ``glue("chNN_key", value, display=False)``; the prose
  quotes them with ``{glue:text}`chNN_key```.

The new one (README, Contributing):

* the drawing cell displays its figure (``display(fig)`` then ``plt.close(fig)``: one image
  output) and carries ``{"mystnb": {"figure": {"name": "fig-chNN-x", "caption": "..."}}}`` in its
  metadata: myst-nb makes the numbered, captioned figure from it, exactly where the cell is; the
  ``{glue:figure}`` block is removed from the markdown (a cell it leaves empty is removed);
* a cell that drew several figures is split after each figure's ``plt.close`` line, one figure
  per cell (its outputs split with it);
* numbers: ``from gru_lib.notebook import glue``, which records the value as before and adds the
  line ``chNN_key = value`` (``text/plain``) to the record's output, shown by JupyterLab and
  never by the book (:mod:`gru_lib.notebook`).

Sources *and* outputs are converted, so that the result is what a fresh execution of the
converted notebook gives: the glued PNG becomes the cell's ``display_data`` ``image/png``, each
number's record gets its line, and execution counts are renumbered when cells are split (if they
were those of one fresh run, 1, 2, 3, ...). Anything the script cannot convert safely (a figure
glued inside a loop or function, a ``{glue:figure}`` with options other than ``:name:``, a figure
never placed) stops it with a message, before any file is written.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from gru_lib.notebook import GLUE_PREFIX, glue_line  # noqa: E402

OLD_IMPORT = "from myst_nb import glue"
NEW_IMPORT = "from gru_lib.notebook import glue"

# A fenced {glue:figure} directive in markdown: ```{glue:figure} key ... ``` (or ::: fences).
GLUE_FIGURE = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{glue:figure\}[ \t]*(?P<key>\S+)[ \t]*\n(?P<body>.*?)^(?P=fence)"
    r"[ \t]*(?:\n|\Z)", re.M | re.S)


class ConvertError(Exception):
    """The notebook cannot be converted safely; the message says where and why."""


def _text(source) -> str:
    return source if isinstance(source, str) else "".join(source)


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _parse_figure_block(match: re.Match, where: str) -> tuple[str, str, str]:
    """(key, name, caption) of one {glue:figure} block."""
    key, body = match["key"], match["body"]
    lines = body.split("\n")
    options = {}
    while lines and lines[0].startswith(":"):
        m = re.match(r":(\w[\w-]*):[ \t]*(.*)$", lines.pop(0))
        if not m:
            raise ConvertError(f"{where}: cannot read the options of {{glue:figure}} {key}")
        options[m[1]] = m[2].strip()
    unknown = sorted(set(options) - {"name"})
    if unknown:
        raise ConvertError(f"{where}: {{glue:figure}} {key} has options {unknown} that the "
                           "converter does not carry over; only :name: is supported")
    if not options.get("name"):
        raise ConvertError(f"{where}: {{glue:figure}} {key} has no :name: (no figure number)")
    caption = "\n".join(lines).strip("\n")
    if not caption.strip():
        raise ConvertError(f"{where}: {{glue:figure}} {key} has no caption")
    return key, options["name"], caption


def _remove_blocks(text: str) -> str:
    """The markdown with every {glue:figure} block removed, paragraphs kept apart by one blank
    line."""
    while (m := GLUE_FIGURE.search(text)) is not None:
        before, after = text[:m.start()].rstrip("\n"), text[m.end():].lstrip("\n")
        text = before + ("\n\n" if before.strip() and after.strip() else "") + after
    return text.strip("\n") if not text.strip() else text


def _is_figure_record(output: dict) -> bool:
    return any(k.startswith(GLUE_PREFIX + "image/") for k in output.get("data", {}))


def _glue_meta(output: dict) -> dict | None:
    return output.get("metadata", {}).get("scrapbook")


def as_written(output: dict) -> dict:
    """The output as nbformat writes it: ``text/*`` values as lists of lines."""
    out = copy.deepcopy(output)
    for key, value in out.get("data", {}).items():
        if isinstance(value, str) and key.startswith("text/"):
            out["data"][key] = value.splitlines(True)
    return out


def _figure_output(output: dict) -> dict:
    """The display_data of ``display(fig)`` made from the figure's glue record."""
    meta = {k: v for k, v in output.get("metadata", {}).items() if k != "scrapbook"}
    data = {k[len(GLUE_PREFIX):] if k.startswith(GLUE_PREFIX) else k: v
            for k, v in output["data"].items()}
    return as_written({"data": data, "metadata": meta, "output_type": "display_data"})


def _text_glue_output(output: dict) -> dict:
    """The record of ``gru_lib.notebook.glue(..., display=False)``: the old one plus its line."""
    sb = _glue_meta(output)
    out = copy.deepcopy(output)
    plain = out["data"].get(GLUE_PREFIX + "text/plain")
    if plain is not None and sb.get("mime_prefix"):
        out["data"]["text/plain"] = glue_line(sb["name"], _text(plain))
    return as_written(out)


def _convert_figure_source(lines: list[str], key: str, where: str) -> tuple[list[str], int]:
    """Replace the line ``glue("key", fig, display=False)`` by ``display(fig)``; return the new
    lines and the index of the line after which the cell may be split (the ``plt.close`` that
    follows, or the display line itself)."""
    pat = re.compile(r"^glue\(\s*([\"'])" + re.escape(key) + r"\1\s*,\s*(\w+)\s*,\s*"
                     r"display\s*=\s*False\s*\)\s*(#.*)?$")
    hits = [i for i, line in enumerate(lines) if pat.match(line.rstrip("\n"))]
    if len(hits) != 1:
        indented = any(re.search(r"glue\(\s*[\"']" + re.escape(key), line) for line in lines)
        why = ("is not a top-level statement of its own (in a loop, a function or an expression?)"
               if indented else "is not in the cell's source")
        raise ConvertError(f"{where}: the glue call of figure {key!r} {why}; convert this cell "
                           "by hand (display the figure, add the mystnb.figure metadata)")
    i = hits[0]
    var = pat.match(lines[i].rstrip("\n"))[2]
    end = "\n" if lines[i].endswith("\n") else ""
    lines = lines[:i] + [f"display({var}){end}"] + lines[i + 1:]
    split_after = i
    if i + 1 < len(lines) and re.match(r"^plt\.close\(\s*" + re.escape(var) + r"\s*\)\s*$",
                                       lines[i + 1].rstrip("\n")):
        split_after = i + 1
    return lines, split_after


def convert(nb: dict, where: str = "notebook") -> tuple[dict, dict]:
    """Return (converted notebook, counts). Raises ConvertError; ``nb`` is not modified."""
    nb = copy.deepcopy(nb)
    counts = {"figures": 0, "split": 0, "keys": 0, "blocks": 0, "imports": 0}

    # 1. The {glue:figure} blocks: key -> (name, caption); removed from the markdown.
    placed: dict[str, tuple[str, str]] = {}
    cells = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown":
            text = _text(cell["source"])
            blocks = list(GLUE_FIGURE.finditer(text))
            for m in blocks:
                key, name, caption = _parse_figure_block(m, f"{where}, cell {i}")
                if key in placed:
                    raise ConvertError(f"{where}: figure {key!r} is placed twice")
                placed[key] = (name, caption)
            if blocks:
                counts["blocks"] += len(blocks)
                text = _remove_blocks(text)
                if not text.strip():
                    continue  # the cell held only the directive
                cell["source"] = _lines(text)
            if re.search(r"\{glue:figure\}", text):
                raise ConvertError(f"{where}, cell {i}: a {{glue:figure}} the converter could "
                                   "not read (is its fence closed?)")
        cells.append(cell)

    # 2. Code cells: imports, figure records -> figures (split one per cell), text records.
    out_cells = []
    used: set[str] = set()
    renumber = False
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            out_cells.append(cell)
            continue
        here = f"{where}, code cell {cell.get('id', i)}"
        lines = _lines(_text(cell["source"]))
        for j, line in enumerate(lines):
            if line.rstrip("\n").strip() == OLD_IMPORT:
                lines[j] = line.replace(OLD_IMPORT, NEW_IMPORT)
                counts["imports"] += 1
        if any(re.search(r"\bmyst_nb\b", line) for line in lines):
            raise ConvertError(f"{here}: imports myst_nb in a way the converter does not know; "
                               f"use `{NEW_IMPORT}`")
        outputs = []
        fig_at = []  # (output index, key) of each figure record
        for output in cell.get("outputs", []):
            sb = _glue_meta(output)
            if sb and sb.get("mime_prefix") and _is_figure_record(output):
                fig_at.append((len(outputs), sb["name"]))
                outputs.append(_figure_output(output))
            elif sb and sb.get("mime_prefix"):
                outputs.append(_text_glue_output(output))
                counts["keys"] += 1
            else:
                outputs.append(output)
        if not fig_at:
            cell["source"] = lines
            cell["outputs"] = outputs
            out_cells.append(cell)
            continue

        # Convert each figure's glue line; split the cell after every figure but the last.
        split_points = []
        for _, key in fig_at:
            if key not in placed:
                raise ConvertError(f"{here}: figure {key!r} is glued but no {{glue:figure}} "
                                   "places it (no name, no caption)")
            if key in used:
                raise ConvertError(f"{here}: figure {key!r} is glued twice")
            used.add(key)
            lines, after = _convert_figure_source(lines, key, here)
            split_points.append(after)
        if len(fig_at) > 1 and split_points != sorted(split_points):
            raise ConvertError(f"{here}: the figures are glued out of source order")
        pieces, start = [], 0
        for n, ((out_idx, key), after) in enumerate(zip(fig_at, split_points, strict=True)):
            last = n == len(fig_at) - 1
            src = lines[start:] if last else lines[start:after + 1]
            outs = outputs[fig_at[n - 1][0] + 1 if n else 0:] if last else \
                outputs[fig_at[n - 1][0] + 1 if n else 0:out_idx + 1]
            start = after + 1
            new = copy.deepcopy(cell) if n else cell
            if n:
                new["id"] = f"{cell['id']}-{n + 1}" if "id" in cell else None
                if new["id"] is None:
                    del new["id"]
            if src and not last:
                src[-1] = src[-1].rstrip("\n")
            while n and src and not src[0].strip():
                src = src[1:]  # the blank line(s) that separated the two figures' code
            new["source"] = src
            new["outputs"] = outs
            name, caption = placed[key]
            new.setdefault("metadata", {}).setdefault("mystnb", {})["figure"] = {
                "caption": caption, "name": name}
            pieces.append(new)
            counts["figures"] += 1
        if len(pieces) > 1:
            counts["split"] += len(pieces) - 1
            renumber = True
        out_cells.extend(pieces)

    unused = sorted(set(placed) - used)
    if unused:
        raise ConvertError(f"{where}: {{glue:figure}} block(s) for {unused}, but no code cell "
                           "glues such a figure (already converted by hand? then remove the "
                           "block)")
    if renumber:
        code = [c for c in cells if c["cell_type"] == "code"]
        if [c.get("execution_count") for c in code] == list(range(1, len(code) + 1)):
            n = 0
            for c in out_cells:
                if c["cell_type"] == "code":
                    n += 1
                    c["execution_count"] = n
                    for o in c.get("outputs", []):
                        if o.get("output_type") == "execute_result":
                            o["execution_count"] = n
    nb["cells"] = out_cells
    return nb, counts


def dumps(nb: dict) -> str:
    """As nbformat (and nbconvert --inplace) writes a notebook."""
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", type=Path)
    ap.add_argument("--check", action="store_true",
                    help="change nothing; exit 1 if some notebook would change")
    args = ap.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "book").glob("*.ipynb"))
    results = []
    try:
        for path in paths:
            old = path.read_text(encoding="utf-8")
            new_nb, counts = convert(json.loads(old), str(path))
            results.append((path, old, dumps(new_nb), counts))
    except ConvertError as exc:
        print(f"lab_convert: {exc}", file=sys.stderr)
        return 2
    changed = 0
    for path, old, new, c in results:
        same = old == new
        changed += not same
        what = ("already converted" if same else
                f"{c['figures']} figure(s) now shown by their cell ({c['split']} cell split(s), "
                f"{c['blocks']} {{glue:figure}} block(s) removed), {c['keys']} glued value(s) "
                f"printed, {c['imports']} import(s)")
        if not same and not args.check:
            path.write_text(new, encoding="utf-8")
        print(f"{'would change' if args.check and not same else 'ok' if same else 'converted'}"
              f"  {path}: {what}")
    if args.check and changed:
        print(f"lab_convert --check: {changed} notebook(s) still use the old convention; run "
              "python scripts/lab_convert.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
