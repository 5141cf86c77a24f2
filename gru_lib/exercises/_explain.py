"""Words for what went wrong when no known mistake matches (used by :mod:`._core`).

- :func:`describe_exception`: an exception raised inside the reader's code, with the reader's line
  (found by walking the traceback past NumPy, torch and the checker itself) and a plain explanation
  of the common NumPy/torch errors. For a shape mismatch in ``A @ B`` the operands of the failing
  line are evaluated in the reader's frame (only names, attributes, ``.T`` and subscripts, nothing
  that could run code) so that both shapes and the likely transpose can be named.
- :func:`localise`: a wrong value, narrowed down: which output (the others are said to be right),
  a sign, a constant factor (named 1/B, 1/T, 2 when it is one), a transpose, a difference that
  vanishes when the biases are zero, which gate block (rows ``r|z|n`` or ``i|f|g|o``), which time
  steps.
"""

from __future__ import annotations

import ast
import copy
import linecache
import os
import re
import sysconfig
from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["describe_exception", "localise"]

_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the gru_lib package
_LIBRARY_DIRS = tuple({os.path.abspath(p) + os.sep for p in (
    sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"],
    sysconfig.get_paths()["platlib"], os.path.dirname(os.path.dirname(np.__file__)))})


_MACHINERY = tuple(os.path.join(_HERE, "exercises", f) for f in
                   ("_core.py", "_explain.py", "_behaviour.py", "_progress.py"))


def is_library_file(filename: str, *, gru_lib: bool = True) -> bool:
    """True for NumPy, torch, the standard library and gru_lib itself; False for reader code.

    With ``gru_lib=False`` only the checkers' own machinery counts as gru_lib: the library's
    models and the exercises' references and known mistakes then count as code that runs (the
    tests feed them to the checkers as if a reader had written them).
    """
    path = os.path.abspath(filename)
    if path.startswith(_HERE + os.sep):
        return gru_lib or path in _MACHINERY
    return path.startswith(_LIBRARY_DIRS)


# ------------------------------------------------------------------------------------------------
# Exceptions
# ------------------------------------------------------------------------------------------------

def _reader_frame(exc: BaseException):
    """The innermost traceback entry in the reader's code: (frame, line number) or None."""
    tb, found = exc.__traceback__, None
    while tb is not None:
        if not is_library_file(tb.tb_frame.f_code.co_filename):
            found = (tb.tb_frame, tb.tb_lineno)
        tb = tb.tb_next
    return found


def _where(frame, lineno: int) -> str:
    name = frame.f_code.co_filename
    cell = "ipykernel" in name or name.startswith("<ipython")
    src = linecache.getline(name, lineno).strip()
    place = (f"line {lineno} of your cell" if cell
             else f"line {lineno} of {os.path.basename(name)}")
    return place + (f": `{src}`" if src else "")


_SAFE = (ast.Name, ast.Attribute, ast.Subscript, ast.Slice, ast.Constant, ast.Tuple, ast.Load,
         ast.UnaryOp, ast.USub, ast.Index if hasattr(ast, "Index") else ast.Load)


def _safe_eval(node: ast.AST, frame):
    """Evaluate a side-effect-free operand (names, attributes, subscripts) in the reader's frame."""
    if not all(isinstance(n, _SAFE) for n in ast.walk(node)):
        return None
    try:
        return eval(compile(ast.Expression(node), "<operand>", "eval"),  # noqa: S307
                    frame.f_globals, dict(frame.f_locals))
    except Exception:
        return None


def _products(line: str):
    """(left, right) operand nodes of every ``@``, ``np.dot``/``np.matmul`` in a line."""
    try:
        tree = ast.parse(line.strip().rstrip(":").removeprefix("return ").removeprefix("yield "))
    except SyntaxError:
        try:
            tree = ast.parse(line.split("=", 1)[-1].strip())
        except SyntaxError:
            return
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            yield node.left, node.right
        elif (isinstance(node, ast.Call) and len(node.args) == 2
              and isinstance(node.func, ast.Attribute) and node.func.attr in ("dot", "matmul")):
            yield node.args[0], node.args[1]


def _explain_product(frame, lineno: int) -> str | None:
    line = linecache.getline(frame.f_code.co_filename, lineno)
    for left, right in _products(line):
        a, b = _safe_eval(left, frame), _safe_eval(right, frame)
        sa, sb = np.shape(a) if a is not None else None, np.shape(b) if b is not None else None
        if not sa or not sb or len(sa) < 2 and len(sb) < 2:
            continue
        inner_b = sb[-2] if len(sb) >= 2 else sb[0]
        if sa[-1] == inner_b:
            continue
        A, B = ast.unparse(left), ast.unparse(right)
        words = (f"in `{A} @ {B}`, `{A}` has shape {tuple(sa)} and `{B}` has shape {tuple(sb)}: "
                 f"a product needs the last size of the left operand to equal the first size of "
                 f"the right one ({sa[-1]} ≠ {inner_b})")
        if len(sb) >= 2 and sa[-1] == sb[-1]:
            words += (f". Did you mean `{A} @ {B}.T`? Weights are stored as in torch.nn, one row "
                      f"per output unit, so row-vector batches multiply by the transpose")
        elif len(sa) >= 2 and sa[-2] == inner_b:
            words += f". Did you mean `{A}.T @ {B}`?"
        return words
    return None


_PLAIN = [
    (r"could not be broadcast|must match the size of tensor",
     "element-wise operations (+, -, *, /) need arrays of the same shape, or a size of 1 where "
     "they differ: one operand probably needs a transpose, a sum over an axis, or the other "
     "block of a stacked weight"),
    (r"out of bounds|index \d+ is out of range",
     "an index past the end: an axis of size T has indices 0 .. T-1 (range(T)), and -1 for the "
     "last"),
    (r"too many indices", "the array has fewer axes than your index has entries: print its shape"),
    (r"'list'|list indices|can't multiply sequence",
     "one of the values is a Python list: convert it with np.array(...) or np.stack(...) before "
     "doing arithmetic on it"),
    (r"is not defined", "a name your function uses is not defined: a typo, or a variable from "
     "another cell that was not run (a function should use only its arguments)"),
    (r"referenced before assignment", "a variable is used before it is given a value: "
     "initialise it before the loop"),
    (r"cannot reshape", "reshape keeps the number of entries: the product of the new sizes must "
     "equal the product of the old ones"),
    (r"mat1 and mat2|not aligned|mismatch in its core dimension",
     "in a matrix product A @ B the last size of A must equal the first size of B; a weight in "
     "torch.nn's layout usually needs a .T"),
]


def describe_exception(exc: BaseException) -> str:
    """``your function raised X: msg (line N of your cell: `code`). Plain explanation.``"""
    text = f"your function raised {type(exc).__name__}: {exc}"
    found = _reader_frame(exc)
    explanation = None
    if found is not None:
        frame, lineno = found
        text += f" ({_where(frame, lineno)})"
        if isinstance(exc, ValueError | RuntimeError | TypeError):
            explanation = _explain_product(frame, lineno)
    if explanation is None:
        for pattern, words in _PLAIN:
            if re.search(pattern, str(exc)):
                explanation = words
                break
    return text + (f". {explanation[0].upper()}{explanation[1:]}" if explanation else "")


# ------------------------------------------------------------------------------------------------
# Localising a wrong value
# ------------------------------------------------------------------------------------------------

_SIZE_WORDS = {"B": "the batch size", "T": "the number of time steps", "H": "the hidden size",
               "D": "the input size", "V": "the vocabulary size", "N": "the number of rows"}
_GATES = {"r": "reset gate r", "z": "update gate z", "n": "candidate n", "i": "input gate i",
          "f": "forget gate f", "g": "candidate g", "o": "output gate o"}


def _np(a) -> np.ndarray:
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    return np.asarray(a, dtype=np.float64)


def _close(g, w, rtol, atol) -> bool:
    return g.shape == w.shape and bool(np.allclose(g, w, rtol=rtol, atol=atol))


def _factor_words(name: str, c: float, sizes: dict[str, int]) -> str:
    for label, n in sizes.items():
        what = _SIZE_WORDS.get(label, label)
        if n > 1 and np.isclose(c, 1.0 / n, rtol=1e-6):
            return (f"{name} is the reference divided by {label} = {n} ({what}): you averaged "
                    f"where the chain rule sums")
        if n > 1 and np.isclose(c, float(n), rtol=1e-6):
            return (f"{name} is the reference multiplied by {label} = {n} ({what}): a sum or a "
                    f"factor too many")
    if np.isclose(c, 2.0, rtol=1e-6) or np.isclose(c, 0.5, rtol=1e-6):
        return (f"{name} is the reference times {c:g}: a factor of 2 (the derivative of a square, "
                f"or a term counted twice or once too few)")
    return f"{name} is the reference times {c:.4g}: the direction is right, the scale is not"


def _steps_words(name: str, bad: list[int], n: int, recurrent: bool = True) -> str | None:
    if not bad or len(bad) == n:
        return None
    if len(bad) == 1:
        return f"{name} differs only at time step t = {bad[0]} (of 0 .. {n - 1})"
    if bad == list(range(bad[0], n)):
        return (f"{name} is right for time steps 0 .. {bad[0] - 1} and wrong from t = {bad[0]} "
                f"on" + (": look at what is carried from one step to the next" if recurrent
                         else ""))
    if bad == list(range(0, bad[-1] + 1)):
        return (f"{name} is right for time steps {bad[-1] + 1} .. {n - 1} and wrong for "
                f"t ≤ {bad[-1]}" + (": backwards in time, look at what is carried from step "
                                    "t+1 to t" if recurrent else ""))
    shown = ", ".join(map(str, bad[:6])) + (", ..." if len(bad) > 6 else "")
    return f"{name} differs at time steps {shown}"


def _blocks_words(name: str, g, w, axis: int, letters: str, rtol, atol) -> str | None:
    n = g.shape[axis]
    if n % len(letters):
        return None
    H = n // len(letters)
    bad = [k for k in range(len(letters))
           if not _close(np.take(g, range(k * H, (k + 1) * H), axis=axis),
                         np.take(w, range(k * H, (k + 1) * H), axis=axis), rtol, atol)]
    if not bad or len(bad) == len(letters):
        return None
    parts = [f"{_GATES.get(letters[k], letters[k])} (rows {k * H}..{(k + 1) * H - 1})"
             for k in bad]
    ok = [_GATES.get(letters[k], letters[k]) for k in range(len(letters)) if k not in bad]
    return (f"in {name} only the block of the {' and the '.join(parts)} is wrong; the "
            f"{', '.join(ok)} block{'s are' if len(ok) > 1 else ' is'} right "
            f"(blocks stacked {'|'.join(letters)})")


def _bias_words(name, candidate, reference, args, idx, bias_pos, rtol, atol) -> str | None:
    zeroed = list(copy.deepcopy(args))
    for p in bias_pos:
        if zeroed[p] is not None:
            zeroed[p] = zeroed[p] * 0
    try:
        g = candidate(*copy.deepcopy(zeroed))
        w = reference(*copy.deepcopy(zeroed))
        g = g if isinstance(g, tuple | list) else (g,)
        w = w if isinstance(w, tuple) else (w,)
        same = len(g) == len(w) and _close(_np(g[idx]), _np(w[idx]), rtol, atol)
    except Exception:
        return None
    if same:
        return (f"{name} is right when the biases are zero and wrong otherwise: the error is in "
                f"how the biases enter (which bias, which block, inside or outside a product, "
                f"summed over the batch)")
    return None


def localise(candidate: Callable, reference: Callable, args: tuple, got, want,
             output_names: Sequence[str], arg_names: Sequence[str], layout, rtol: float,
             atol: float, default: str) -> str:
    """Narrow a value mismatch down to words; falls back to ``default`` (the plain difference)."""
    got = got if isinstance(got, tuple | list) and len(output_names) > 1 else (got,)
    want = want if isinstance(want, tuple) else (want,)
    names = list(output_names)
    first = list(layout.order)
    order = sorted(range(len(names)),
                   key=lambda i: (names[i] not in first,
                                  first.index(names[i]) if names[i] in first else i))
    bad = [i for i in order if want[i] is not None
           and not _close(_np(got[i]), _np(want[i]), rtol, atol)]
    if not bad:
        return default
    i = bad[0]
    name, g, w = names[i], _np(got[i]), _np(want[i])
    right = [names[k] for k in range(len(names)) if k not in bad and want[k] is not None]
    tail = (f" ({', '.join(right)} {'is' if len(right) == 1 else 'are'} right)"
            if right and len(names) > 1 else "")
    diff = float(np.max(np.abs(g - w)))
    where = np.unravel_index(int(np.argmax(np.abs(g - w))), g.shape) if g.ndim else ()
    if np.any(w) and _close(g, -w, rtol, atol):
        return (f"{name} has the wrong sign: it is minus the reference (check the sign of a "
                f"derivative, or the order of a difference such as h - n){tail}")
    ww = float(np.sum(w * w))
    if ww > 0:
        c = float(np.sum(g * w)) / ww
        if abs(c - 1) > 1e-3 and _close(g, c * w, rtol, atol):
            sizes = layout.sizes(args) if layout.sizes else {}
            return _factor_words(name, c, sizes) + tail
    if g.ndim == 2 and g.shape[0] == g.shape[1] and _close(g.T, w, rtol, atol):
        return (f"{name} is the transpose of the reference (a square matrix, so its shape "
                f"could not warn you): swap the order of the product, e.g. dA.T @ h, not "
                f"h.T @ dA{tail}")
    pieces = []
    ref_names = _ref_names(reference, len(args))
    bias_pos = [ref_names.index(b) for b in layout.bias_args if b in ref_names]
    if bias_pos:
        words = _bias_words(name, candidate, reference, args, i, bias_pos, rtol, atol)
        if words:
            pieces.append(words)
    if name in layout.blocks:
        axis, letters = layout.blocks[name]
        words = _blocks_words(name, g, w, axis, letters, rtol, atol)
        if words:
            pieces.append(words)
    if name in layout.time_axis:
        ax = layout.time_axis[name]
        steps = [t for t in range(g.shape[ax])
                 if not _close(np.take(g, t, axis=ax), np.take(w, t, axis=ax), rtol, atol)]
        words = _steps_words(name, steps, g.shape[ax], layout.recurrent)
        if words:
            pieces.append(words)
    if not pieces and g.ndim >= 2 and name not in layout.time_axis:
        rows = [r for r in range(g.shape[0]) if not _close(g[r], w[r], rtol, atol)]
        if len(rows) < g.shape[0]:
            shown = ", ".join(map(str, rows[:6])) + (", ..." if len(rows) > 6 else "")
            pieces.append(f"{name} differs only in row{'s' if len(rows) > 1 else ''} {shown} "
                          f"(of 0 .. {g.shape[0] - 1}; largest absolute difference {diff:.3g}): "
                          f"the other rows are right")
    if not pieces:
        at = f" at index {tuple(int(k) for k in where)}" if where else ""
        pieces.append(f"{name} differs from the reference (largest absolute difference "
                      f"{diff:.3g}{at})")
    return "; ".join(pieces) + tail


def _ref_names(reference: Callable, n: int) -> list[str]:
    import inspect

    try:
        params = [p.name for p in inspect.signature(reference).parameters.values()
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return []
    return params[:n]
