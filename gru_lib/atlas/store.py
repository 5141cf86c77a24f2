"""Atlas result files: where they live, what provenance they carry, when they are stale.

One JSON file per atlas cell, ``book/atlas/<grid>/<cell key>.json``, holding the cell's exact
configuration, its results (:func:`gru_lib.atlas.grid.run_cell`) and its provenance: the git
commit, the library version, a hash of the library source the results depend on
(:func:`source_hash`), torch/NumPy/Python versions, the CPU, the thread count, wall and CPU time.

A file is *stale* when the source hash it records differs from the library's current one: its
numbers came from other code. :func:`load_result` rejects such a file and names the command that
regenerates it. The hash is taken over the code's syntax tree with docstrings removed, so editing
prose or comments does not invalidate results, while any change of what is computed does.
"""

from __future__ import annotations

import ast
import hashlib
import inspect
import json
import math
import os
import platform
import subprocess
from pathlib import Path

import numpy as np
import torch

import gru_lib
from gru_lib.atlas.grids import grid_cells

__all__ = ["FORMAT", "ROOT", "StaleResultError", "cell_path", "load_grid", "load_result",
           "provenance", "regenerate_command", "source_hash", "write_result"]

FORMAT = 1
ROOT = Path(__file__).resolve().parents[2] / "book" / "atlas"
LIB = Path(gru_lib.__file__).resolve().parent

# What the results depend on: whole modules, or single objects of modules shared with chapters
# (so that an unrelated change elsewhere in them does not invalidate the atlas).
_DEPENDS_MODULES = ("tasks.py", "stats.py", "ensemble/specs.py", "ensemble/init.py",
                    "ensemble/batched.py", "ensemble/core.py", "atlas/grid.py")
_DEPENDS_OBJECTS = (("gru_lib.train", ("make_core", "make_model", "SequenceModel",
                                       "_model_size", "hidden_size_for_budget")),
                    ("gru_lib.torch.mingru", ("g", "MinGRU")))


class StaleResultError(RuntimeError):
    """A result file produced by other code than the library now holds."""


def _normalised(src: str) -> str:
    """The syntax tree of ``src`` without docstrings, as text: prose edits do not count."""
    tree = ast.parse(src)
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree, annotate_fields=False, include_attributes=False)


def source_hash() -> str:
    """SHA-256 (first 16 hex digits) of the normalised source the atlas results depend on."""
    import importlib
    h = hashlib.sha256()
    for rel in _DEPENDS_MODULES:
        h.update(rel.encode())
        h.update(_normalised((LIB / rel).read_text()).encode())
    for module, names in _DEPENDS_OBJECTS:
        mod = importlib.import_module(module)
        for name in names:
            h.update(f"{module}.{name}".encode())
            h.update(_normalised(inspect.getsource(getattr(mod, name))).encode())
    return h.hexdigest()[:16]


def _git(*args: str) -> str | None:
    try:
        return subprocess.run(["git", *args], cwd=LIB.parent, capture_output=True, text=True,
                              check=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def provenance() -> dict:
    """Where and with what a result was computed (everything but the timings)."""
    files = [str(Path("gru_lib") / rel) for rel in _DEPENDS_MODULES] + ["gru_lib/train.py",
                                                                        "gru_lib/torch/mingru.py"]
    dirty = _git("status", "--porcelain", "--", *files)
    return {"git_commit": _git("rev-parse", "HEAD"), "source_dirty": bool(dirty),
            "gru_lib_version": gru_lib.__version__, "source_hash": source_hash(),
            "torch": torch.__version__, "numpy": np.__version__,
            "python": platform.python_version(), "cpu": _cpu(), "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(), "platform": platform.platform()}


def cell_path(grid: str, key: str, root: Path | None = None) -> Path:
    return Path(root or ROOT) / grid / f"{key}.json"


def regenerate_command(grid: str, key: str | None = None) -> str:
    only = f" --only {key}" if key else ""
    return f"python -m gru_lib.atlas run --grid {grid}{only} --force"


def _clean(x):
    """JSON without NaN/Infinity: non-finite floats become null."""
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if isinstance(x, float | np.floating):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def write_result(grid: str, config: dict, results: dict, prov: dict,
                 root: Path | None = None) -> Path:
    path = cell_path(grid, results_key(config), root)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"format": FORMAT, "grid": grid, "key": results_key(config), "config": config,
           "provenance": prov, "results": results}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(_clean(doc), indent=1, allow_nan=False) + "\n")
    tmp.replace(path)
    return path


def results_key(config: dict) -> str:
    from gru_lib.atlas.grid import CellConfig
    return CellConfig.from_json(config).key


def load_result(path: Path, *, check_hash: bool = True, expected_config: dict | None = None
                ) -> dict:
    """Read a result file; raise :class:`StaleResultError` if its code is not the library's, or
    if ``expected_config`` is given and differs from the configuration the file records."""
    doc = json.loads(Path(path).read_text())
    if doc.get("format") != FORMAT:
        raise StaleResultError(f"{path}: result format {doc.get('format')!r}, this library "
                               f"reads format {FORMAT}; regenerate it with: "
                               f"{regenerate_command(doc.get('grid', '?'), doc.get('key'))}")
    if check_hash:
        stored, now = doc["provenance"]["source_hash"], source_hash()
        if stored != now:
            raise StaleResultError(
                f"{path}: produced by older code than the library it describes (source hash "
                f"{stored}, library {now}); regenerate it with: "
                f"{regenerate_command(doc['grid'], doc['key'])}")
    if expected_config is not None and _clean(expected_config) != doc["config"]:
        raise StaleResultError(
            f"{path}: computed for another configuration than the grid now defines; "
            f"regenerate it with: {regenerate_command(doc['grid'], doc['key'])}")
    return doc


def load_grid(grid: str, root: Path | None = None) -> dict[str, dict]:
    """Every stored result of ``grid``, checked like :func:`load_result` against the library and
    the grid's current configuration: ``{cell key: document}`` in the grid's priority order.
    Cells not computed yet are absent; a stale file raises :class:`StaleResultError`."""
    docs = {}
    for cfg in grid_cells(grid):
        path = cell_path(grid, cfg.key, root)
        if path.exists():
            docs[cfg.key] = load_result(path, expected_config=cfg.to_json())
    return docs
