"""Sphinx extension: serve MathJax from the built book itself, so math renders offline.

MathJax is a build-time dependency, installed by the Makefile's setup step with
``npm install --prefix .cache/npm mathjax@3.2.2`` (never committed). ``_config.yml`` points
``mathjax_path`` at ``mathjax/tex-chtml.js``, a path relative to the book's ``_static/``; when an
HTML build finishes, this extension copies MathJax's ``es5/`` bundle there.

The copy is not made through ``html_static_path``: Jupyter Book adds every ``*.js`` file found on
the static path to every page as a script, which would load all of MathJax's components at once.

The source folder is ``.cache/npm/node_modules/mathjax/es5`` under the book root, or
``$MATHJAX_ES5`` if set. A build without it fails with the command that installs it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

INSTALL_HINT = "make setup   (or: npm install --prefix .cache/npm mathjax@3.2.2)"


def _source(app: Sphinx) -> Path:
    env = os.environ.get("MATHJAX_ES5")
    if env:
        return Path(env)
    return Path(app.confdir) / ".cache" / "npm" / "node_modules" / "mathjax" / "es5"


def _target_name(app: Sphinx) -> str:
    """The folder under _static that mathjax_path names ('mathjax' for mathjax/tex-chtml.js)."""
    path = app.config.mathjax_path
    if "://" in path or path.startswith("/") or "/" not in path:
        raise ExtensionError(
            f"offline_mathjax: mathjax_path must be a relative path like 'mathjax/tex-chtml.js' "
            f"(relative to _static/), got {path!r}"
        )
    return path.split("/", 1)[0]


def _check(app: Sphinx) -> None:
    if app.builder.format != "html":
        return
    _target_name(app)
    entry = _source(app) / app.config.mathjax_path.split("/", 1)[1]
    if not entry.is_file():
        raise ExtensionError(f"offline_mathjax: MathJax is not installed ({entry} is missing). "
                             f"Install it with: {INSTALL_HINT}")


def _copy(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    dest = Path(app.outdir) / "_static" / _target_name(app)
    shutil.copytree(_source(app), dest, dirs_exist_ok=True)


def setup(app: Sphinx) -> dict:
    app.connect("builder-inited", _check)
    app.connect("build-finished", _copy)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
