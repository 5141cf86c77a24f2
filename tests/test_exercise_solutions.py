"""Every code solution in the book passes its checker (issue 13, item 6).

For each notebook in ``book/``, every code cell that calls a checker, ``check_xxx(name)``, names
the reader's function; the ``{solution}`` directive of that exercise (matched by the checker's
exercise label) holds the book's answer, as a fenced ``python`` block or an indented block. The
test runs the notebook's solution blocks in order in one namespace (so a solution may use an
earlier one, like the loop over time using the step), with the imports a chapter's first cell
provides, and asserts that the checker PASSES the solution's function.

The context a solution needs is rebuilt from the notebook itself: every top-level ``import`` of
its code cells, then the definitions (functions, classes, imports, constants) of the chapter's
solution blocks, in order; experiments on the chapter's trained models or data that follow a
function in its solution are left to the notebook. A solution written as an inline
expression (chapter 9) is wrapped in a function with the scaffold's signature.

It also asserts that every checked exercise in the book has a code solution, so a new exercise
cannot ship with an answer nobody ran.
"""

from __future__ import annotations

import ast
import importlib
import json
import math
import re
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

BOOK = Path(__file__).resolve().parent.parent / "book"
_MODULES = ("rnn", "bptt", "tbptt", "clip", "gating", "lstm", "gru", "bidirectional", "tasks",
            "lm", "seq2seq", "scan")


def _checkers() -> dict:
    """check function name -> (function, exercise label)."""
    out = {}
    for mod in _MODULES:
        m = importlib.import_module(f"gru_lib.exercises.{mod}")
        for name in dir(m):
            fn = getattr(m, name)
            if name.startswith("check_") and hasattr(fn, "exercise_label"):
                out[name] = (fn, fn.exercise_label)
    return out


_DIRECTIVE = re.compile(r"(`{3,}|:{3,})\{solution\}\s*(\S+)\s*\n(.*?)\n\1(?!`)", re.S)


def _code_blocks(body: str) -> list[str]:
    """Fenced python blocks, or else indented (4-space) blocks, of a solution's body."""
    fenced = re.findall(r"```(?:python|py|ipython3?)\s*\n(.*?)\n```", body, re.S)
    if fenced:
        return fenced
    blocks, current = [], []
    for line in body.splitlines():
        if line.startswith("    ") or (current and not line.strip()):
            current.append(line)
        else:
            if current:
                blocks.append(textwrap.dedent("\n".join(current)))
            current = []
    if current:
        blocks.append(textwrap.dedent("\n".join(current)))
    return [b for b in blocks if re.search(r"^(def |class |import |from |\w+ = )", b, re.M)]


def _inline_solutions(body: str, signature: str | None) -> list[str]:
    """Inline ``expr`` spans that use only the scaffold's parameters, as functions."""
    if signature is None:
        return []
    params = set(re.findall(r"\w+", signature.split("(", 1)[1]))
    out = []
    for expr in re.findall(r"`([^`\n]+)`", body):
        try:
            tree = ast.parse(expr, mode="eval")
        except SyntaxError:
            continue
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        if names and names <= params | {"np"} and names & params:
            out.append(f"{signature}\n    return {expr}\n")
    return out


def _imports(src: str) -> list[str]:
    try:
        tree = ast.parse(src)
    except SyntaxError:
        return []
    return [ast.unparse(n) for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]


def _notebook_cases():
    checkers = _checkers()
    cases = []
    for path in sorted(BOOK.glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        bodies = []          # (label, solution text) in reading order
        calls = []           # (checker name, reader's function name)
        imports, signatures = [], {}
        for cell in cells:
            src = "".join(cell["source"])
            if cell["cell_type"] == "markdown":
                bodies += [(m.group(2), m.group(3)) for m in _DIRECTIVE.finditer(src)]
            elif cell["cell_type"] == "code":
                calls += re.findall(r"^(check_\w+)\((\w+)\)\s*$", src, re.M)
                imports += _imports(src)
                signatures.update({m.group(1): m.group(0) for m in
                                   re.finditer(r"^def (\w+)\(.*?\):", src, re.M | re.S)})
        for check_name, fn_name in calls:
            if check_name not in checkers:
                continue
            solutions = []
            for label, body in bodies:
                code = _code_blocks(body)
                if not code and label == checkers[check_name][1]:
                    code = _inline_solutions(body, signatures.get(fn_name))
                solutions += [(label, c) for c in code]
            cases.append((path.name, check_name, fn_name, imports, solutions))
    return cases, checkers


_CASES, _CHECKERS = _notebook_cases()


def _namespace() -> dict:
    from gru_lib.numpy.functional import sigmoid

    return {"np": np, "torch": torch, "math": math, "sigmoid": sigmoid,
            "F": torch.nn.functional, "nn": torch.nn}


def test_the_book_has_checked_exercises():
    assert len(_CASES) >= 17, [c[:3] for c in _CASES]


def _run(code: str, ns: dict, where: str) -> None:
    """Run the definitions of a solution: functions, classes, imports and constants. The rest
    (experiments on the chapter's models and data, worked numbers) is the notebook's business."""
    for node in ast.parse(code).body:
        if isinstance(node, ast.FunctionDef | ast.Import | ast.ImportFrom):
            exec(compile(ast.Module([node], []), where, "exec"), ns)  # noqa: S102
        elif isinstance(node, ast.ClassDef):
            try:
                exec(compile(ast.Module([node], []), where, "exec"), ns)  # noqa: S102
            except NameError:  # a subclass of the chapter's own model (chapter 12's Seq2Seq)
                pass
        elif isinstance(node, ast.Assign) and not any(
                isinstance(n, ast.Call) for n in ast.walk(node.value)):
            try:
                exec(compile(ast.Module([node], []), where, "exec"), ns)  # noqa: S102
            except Exception:  # a constant computed from the chapter's state
                pass


@pytest.mark.parametrize(("notebook", "check_name", "fn_name", "imports", "solutions"), _CASES,
                         ids=[f"{c[0][:2]}-{c[1]}" for c in _CASES])
def test_book_solution_passes_its_checker(notebook, check_name, fn_name, imports, solutions):
    check, label = _CHECKERS[check_name]
    mine = [code for lab, code in solutions if lab == label]
    assert mine, f"{notebook}: exercise {label} has no code solution in a {{solution}} block"
    ns = _namespace()
    for line in imports:
        try:
            exec(line, ns)  # noqa: S102
        except Exception:  # an optional import of the chapter (plotting, glue)
            pass
    for lab, code in solutions:   # the chapter's solutions in order: later ones may use earlier
        _run(code, ns, f"<{notebook} solution {lab}>")
    assert fn_name in ns, f"{notebook}: the solution of {label} does not define {fn_name}"
    res = check(ns[fn_name])
    assert res.passed, f"{notebook}, {label}: {res}"


def _scaffold_cells():
    """(notebook, the scaffold's def, checker name, committed output) for each check cell."""
    out = []
    for path in sorted(BOOK.glob("*.ipynb")):
        defs = {}
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            src = "".join(cell["source"])
            try:
                tree = ast.parse(src)
            except SyntaxError:
                continue
            defs.update({n.name: ast.unparse(n) for n in tree.body
                         if isinstance(n, ast.FunctionDef)})
            m = re.search(r"^(check_\w+)\((\w+)\)\s*$", src, re.M)
            if m and m.group(1) in _CHECKERS:
                shown = [o.get("data", {}).get("text/plain", "") for o in cell.get("outputs", [])
                         if o.get("output_type") == "execute_result"]
                out.append((path.name, defs.get(m.group(2), ""), m.group(1), m.group(2),
                            "".join(shown[0]) if shown else None))
    return out


_SCAFFOLDS = _scaffold_cells()


@pytest.mark.parametrize(("notebook", "scaffold", "check_name", "fn_name", "shown"), _SCAFFOLDS,
                         ids=[f"{c[0][:2]}-{c[2]}" for c in _SCAFFOLDS])
def test_scaffold_cell_prints_what_the_notebook_shows(notebook, scaffold, check_name, fn_name,
                                                      shown):
    """nbval compares these outputs: the checkers' words for an untouched scaffold must not
    drift from the committed notebooks."""
    ns = _namespace()
    exec(compile(scaffold, notebook, "exec"), ns)  # noqa: S102
    res = _CHECKERS[check_name][0](ns[fn_name])
    assert shown is not None and repr(res) == shown.strip("'\""), (repr(res), shown)
