"""Sphinx extension: myst-nb's "show code" toggles in the single-page build (used for the PDF).

myst-nb registers the visitor of its ``HideCodeCellNode`` (a ``hide-input`` cell) for the
``html`` builder. Sphinx looks a node's visitors up by the builder's *name* first and falls back
to its format only when that name has none; sphinx-exercise registers visitors under
``singlehtml``, so the single-page build that ``make pdf`` prints found no visitor for a
``hide-input`` cell and stopped. This registers myst-nb's own visitors under ``singlehtml`` too
(the print style then leaves the hidden code out of the PDF, as the HTML book hides it).
"""

from __future__ import annotations

from myst_nb.sphinx_ import HideCodeCellNode, depart_HideCellInput, visit_HideCellInput
from sphinx.application import Sphinx


def setup(app: Sphinx) -> dict:
    app.registry.add_translation_handlers(
        HideCodeCellNode, singlehtml=(visit_HideCellInput, depart_HideCellInput))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
