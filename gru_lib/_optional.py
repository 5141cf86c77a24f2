"""Optional dependencies: the clear error a pip user gets when an extra is not installed.

``pip install gru-lib`` brings only NumPy and tqdm: the NumPy half, the tasks, the corpus, the
analysis helpers and the exercise checkers work with that alone. PyTorch, matplotlib and IPython
are extras (see ``pyproject.toml``):

- ``gru-lib[torch]``: :mod:`gru_lib.torch`, :mod:`gru_lib.train`, the language-model checkers;
- ``gru-lib[plot]``: :func:`gru_lib.utils.use_book_style` (matplotlib);
- ``gru-lib[book]``: everything a chapter needs, including :func:`gru_lib.utils.show_source`
  (IPython).

A module that needs an extra calls :func:`missing_extra` when its import fails, so the message
names the extra and the command, not only the missing module.
"""

from __future__ import annotations

__all__ = ["CPU_TORCH_HINT", "EXTRAS", "missing_extra"]

# Which pip distribution each importable module comes from, and the extra that declares it.
EXTRAS = {
    "torch": ("torch", "torch"),
    "matplotlib": ("matplotlib", "plot"),
    "IPython": ("ipython", "book"),
}

# PyTorch's own index for CPU-only wheels: without it, pip on Linux installs the CUDA build (GBs).
CPU_TORCH_HINT = (
    "For a CPU-only PyTorch (a much smaller download), install it first with: "
    "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu "
    "(2.13.0 is the version the book was run with)"
)


def missing_extra(module: str, feature: str) -> ImportError:
    """The ``ImportError`` to raise when ``feature`` needs the optional ``module``.

    Args:
        module: the top-level module that failed to import (a key of :data:`EXTRAS`).
        feature: what the reader tried to use, e.g. ``"gru_lib.train"``.
    Returns:
        An ``ImportError`` (with ``name`` set to ``module``) whose message names the extra, e.g.
        ``gru_lib.train needs PyTorch (torch), which is not installed. Install it with:
        pip install 'gru-lib[torch]'``. The caller raises it ``from`` the original error.
    """
    if module not in EXTRAS:
        raise ValueError(f"missing_extra: unknown optional module {module!r}; "
                         f"expected one of {sorted(EXTRAS)}")
    dist, extra = EXTRAS[module]
    label = {"torch": "PyTorch (torch)", "matplotlib": "matplotlib", "IPython": "IPython"}[module]
    msg = (f"{feature} needs {label}, which is not installed. "
           f"Install it with: pip install 'gru-lib[{extra}]'")
    if extra != "book":
        msg += f" (or 'gru-lib[book]' for everything the chapters use; or: pip install {dist})"
    if module == "torch":
        msg += f". {CPU_TORCH_HINT}"
    return ImportError(msg, name=module)
