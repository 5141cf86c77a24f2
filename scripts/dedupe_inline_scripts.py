"""Sphinx extension: write each inline ``<script>`` into a page once.

Sphinx 7.4 re-adds the extensions' scripts to the HTML builder just before writing; an inline
script (``app.add_js_file(None, body=...)``) registered after the builder started is then stored
once with the file name ``None`` and once with ``''``, which do not compare equal, so it appears
twice in every page. For sphinx-thebe's ``const THEBE_JS_URL = ...`` the second copy is a
``SyntaxError`` in the browser console of every page. This handler drops such exact duplicates
from each page's script list before the page is rendered; nothing else changes.
"""

from __future__ import annotations

from sphinx.application import Sphinx


def _dedupe(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen = set()
    unique = []
    for js in scripts:
        attrs = getattr(js, "attributes", {})
        key = (getattr(js, "filename", js) or "", tuple(sorted(attrs.items())))
        if key in seen:
            continue
        seen.add(key)
        unique.append(js)
    scripts[:] = unique  # in place: the builder restores the list after each page


def setup(app: Sphinx) -> dict:
    app.connect("html-page-context", _dedupe)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
