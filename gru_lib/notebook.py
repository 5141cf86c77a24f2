"""Numbers for the prose: the chapters' ``glue``, readable in JupyterLab as well as in the book.

A chapter quotes a computed number by gluing it in a code cell, ``glue("ch07_key", value,
display=False)``, and writing ``{glue:text}`ch07_key``` in the markdown. The HTML and PDF book
(myst-nb) paste the value into the sentence. JupyterLab (jupyterlab-myst) cannot: its reader sees
the key. So this ``glue`` records the value exactly as ``myst_nb.glue`` does *and* shows
``ch07_key = value`` in the output of the cell that computed it, where a notebook reader finds it.

How the line stays out of the book: myst-nb drops from the rendered page every output whose
``scrapbook`` metadata has a non-empty ``mime_prefix`` (a glue record made with
``display=False``), and it strips that prefix from the record's keys to get the glued value. The
line is an extra ``text/plain`` entry of that same output: JupyterLab shows it (it renders the
richest mime type it knows, and it knows no ``application/papermill.record/...``), the book never
renders the output at all, and the glued value under the prefixed key is unchanged. (Inside
myst-nb the extra entry becomes the empty mime type ``""``, which ``{glue:text}`` never reads; the
book uses only ``{glue:text}``.)

Figures are not glued: the cell that draws a figure displays it (``display(fig)``) and carries the
figure's name and caption in its metadata (``{"mystnb": {"figure": {"name": ..., "caption":
...}}}``), which myst-nb turns into a numbered, captioned figure. ``glue`` refuses figures with
``display=False``, so that the old convention cannot creep back.

IPython is needed only when ``glue`` is called (the ``book`` extra), not to import this module.
"""

from __future__ import annotations

import sys
from ast import literal_eval
from typing import Any

from gru_lib._optional import missing_extra

__all__ = ["GLUE_PREFIX", "glue", "glue_line"]

# myst-nb's (and papermill's) prefix for the mime types of a glue record that is not displayed.
GLUE_PREFIX = "application/papermill.record/"


def glue_line(name: str, text_plain: str) -> str:
    """The line a notebook reader sees for a glued value: ``name = value``.

    The value is shown as ``{glue:text}`name``` pastes it without a format spec: myst-nb
    evaluates the ``text/plain`` record as a Python literal (which removes a string's quotes) and
    falls back to the text itself.
    """
    try:
        value = str(literal_eval(text_plain))
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError):
        value = text_plain
    return f"{name} = {value}"


def glue(name: str, variable: Any, display: bool = True) -> None:
    """Record ``variable`` under ``name`` for the prose, as ``myst_nb.glue`` does; show it too.

    With ``display=False`` (what the chapters use) the value is not shown in the book, but the
    cell's output shows ``name = value`` in a notebook (JupyterLab, Colab). With
    ``display=True`` the value is shown everywhere, as with ``myst_nb.glue``. Figures cannot be
    glued with ``display=False``: display them in the cell that draws them instead.
    """
    try:
        from IPython.core.formatters import format_display_data
        from IPython.display import display as ipy_display
    except ImportError as exc:
        raise missing_extra("IPython", "gru_lib.notebook.glue") from exc

    if not isinstance(name, str) or not name:
        raise TypeError(f"glue: the name must be a non-empty str, got {name!r}")
    mimebundle, metadata = format_display_data(variable)
    if display:
        metadata["scrapbook"] = {"name": name, "mime_prefix": ""}
        ipy_display(mimebundle, raw=True, metadata=metadata)
        return
    figure_type = getattr(sys.modules.get("matplotlib.figure"), "Figure", ())
    if isinstance(variable, figure_type) or any(m.startswith("image/") for m in mimebundle):
        raise TypeError(
            f"glue({name!r}, ...): figures are not glued. Display the figure in the cell that "
            "draws it (display(fig); plt.close(fig)) and give that cell the figure's name and "
            'caption in its metadata: {"mystnb": {"figure": {"name": ..., "caption": ...}}} '
            "(README, Contributing)."
        )
    data = {GLUE_PREFIX + mime: value for mime, value in mimebundle.items()}
    if "text/plain" in mimebundle:
        data["text/plain"] = glue_line(name, mimebundle["text/plain"])
    metadata["scrapbook"] = {"name": name, "mime_prefix": GLUE_PREFIX}
    ipy_display(data, raw=True, metadata=metadata)
