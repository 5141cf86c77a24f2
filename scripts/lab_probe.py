"""What does JupyterLab + jupyterlab-myst show for each MyST construct the book might use?

Usage:  python scripts/lab_probe.py [--jupyter PATH]

Writes a small probe notebook to ``_build/lab-probe/probe.ipynb`` (one markdown cell per
construct: citations, references, equations, glue, figures, exercises, solutions with and
without ``:class: dropdown``, hints, dropdowns, and a code cell carrying myst-nb's figure metadata
and a ``hide-input`` tag), opens it in JupyterLab in headless Chromium as
``scripts/lab_check.py`` does, and prints, per construct, the text a reader sees, whether it is an
error box, and whether its body is hidden until clicked. A screenshot of the whole probe goes to
``_build/lab-probe/``. Use it to choose notebook conventions, and again after upgrading
JupyterLab or jupyterlab-myst.
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lab_check  # noqa: E402
from browser_check import Chromium  # noqa: E402

ROOT = lab_check.ROOT
OUT = ROOT / "_build" / "lab-probe"

# A 1x1 grey PNG: enough for an <img> to exist.
PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5"
       "ErkJggg==")

# (name, markdown) — each in its own cell, so each can be read on its own.
CONSTRUCTS = [
    ("H1 label + {ref} to it", "(ch-probe)=\n# Probe chapter\n\nSee {ref}`ch-probe`."),
    ("H2 label + {ref} to it", "(sec-probe)=\n## Probe section\n\nSee {ref}`sec-probe`."),
    ("{ref} from another cell (H1, H2)", "See {ref}`ch-probe` and {ref}`sec-probe`."),
    ("{ref} to another chapter", "See {ref}`ch-gru`."),
    ("{cite:p} / {cite:t}", "As shown {cite:p}`cho2014`; {cite:t}`cho2014` showed."),
    ("labelled equation + {eq}", "$$\nx = 1\n$$ (eq-probe)\n\nBy {eq}`eq-probe`."),
    ("{math} directive + {eq}", "```{math}\n:label: eq-probe2\ny = 2\n```\n\nBy {eq}`eq-probe2`."),
    ("{glue:text} / {glue}", "Value {glue:text}`probe_value` and {glue}`probe_value`."),
    ("{glue:figure}", "```{glue:figure} probe_fig\n:name: fig-glue\n\nGlue caption.\n```"),
    ("{figure} (markdown) + {numref}",
     f"```{{figure}} data:image/png;base64,{PNG}\n:name: fig-md\n\nMarkdown caption.\n```\n\n"
     "See {numref}`fig-md`."),
    ("{numref} to code-cell figure metadata", "See {numref}`fig-cell`."),
    ("{exercise}", "```{exercise}\n:label: ex-probe\n\nExercise body.\n```"),
    ("{solution} :class: dropdown",
     "```{solution} ex-probe\n:class: dropdown\n\nDropdown body.\n```"),
    ("{solution} (no class)", "```{solution} ex-probe\n\nPlain solution body.\n```"),
    ("{hint} :class: dropdown", "```{hint}\n:class: dropdown\n\nHint body.\n```"),
    ("{admonition} :class: dropdown",
     "```{admonition} Hint 1\n:class: dropdown\n\nAdmonition body.\n```"),
    ("{dropdown}", "```{dropdown} Dropdown title\nDropdown directive body.\n```"),
    ("{toggle}", "```{toggle}\nToggle body.\n```"),
    ("{doc}", "See {doc}`intro`."),
]

READ_JS = r"""
(() => {
  const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
  const hidden = el => !!el.closest('details:not([open])') ||
      !(el.checkVisibility ? el.checkVisibility({visibilityProperty: true}) : true);
  return [...nb.querySelectorAll('.jp-Cell')].map(c => {
    const md = c.classList.contains('jp-MarkdownCell');
    const root = md ? (c.querySelector('.myst, .jp-RenderedMarkdown') || c) :
                      c.querySelector('.jp-Cell-outputArea');
    const details = [...root.querySelectorAll('details')];
    return {
      markdown: md,
      text: root.innerText.replace(/\s+/g, ' ').trim().slice(0, 140),
      errorBox: /Unknown (Directive|Role)/.test(root.innerText),
      collapsible: details.length, collapsedNow: details.filter(d => !d.open).length,
      imgs: root.querySelectorAll('img').length,
      codeVisible: md ? null : !hidden(c.querySelector('.jp-InputArea')),
    };
  });
})()
"""


def probe_notebook() -> dict:
    def md(i: int, text: str) -> dict:
        return {"cell_type": "markdown", "id": f"m{i}", "metadata": {}, "source": text}

    cells = [md(i, text) for i, (_, text) in enumerate(CONSTRUCTS)]
    cells.append({
        "cell_type": "code", "execution_count": 1, "id": "fig-cell",
        "metadata": {"mystnb": {"figure": {"caption": "Cell-metadata caption.",
                                           "name": "fig-cell"}},
                     "tags": ["hide-input"]},
        "outputs": [{"data": {"image/png": PNG, "text/plain": ["<Figure>"]}, "metadata": {},
                     "output_type": "display_data"}],
        "source": ["plot()  # a code cell with myst-nb figure metadata and a hide-input tag"]})
    cells.append({
        "cell_type": "code", "execution_count": 2, "id": "glue-cell", "metadata": {},
        "outputs": [{"data": {"application/papermill.record/image/png": PNG,
                              "application/papermill.record/text/plain": "<Figure>"},
                     "metadata": {"scrapbook": {"mime_prefix": "application/papermill.record/",
                                                "name": "probe_fig"}},
                     "output_type": "display_data"}],
        "source": ["glue('probe_fig', fig, display=False)  # papermill record output"]})
    return {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)",
                                        "language": "python", "name": "python3"}}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jupyter", default=str(Path(sys.executable).parent / "jupyter"))
    ap.add_argument("--chromium", default="chromium")
    args = ap.parse_args(argv)
    binary = shutil.which(args.chromium)
    if binary is None:
        print(f"lab probe: {args.chromium!r} not found", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "probe.ipynb").write_text(json.dumps(probe_notebook(), indent=1) + "\n")
    lab = lab_check.Lab(args.jupyter, ROOT, OUT / "jupyterlab.log")
    try:
        browser = Chromium(binary)
        try:
            browser.send("Page.enable")
            browser.send("Runtime.enable")
            browser.send("Emulation.setDeviceMetricsOverride", width=1280, height=2400,
                         deviceScaleFactor=1, mobile=False)
            browser.send("Page.navigate", url=lab.url("_build/lab-probe/probe.ipynb"))
            browser.wait_for("Page.loadEventFired", lab_check.START_TIMEOUT_S)
            lab_check.wait_rendered(browser)
            lab_check.evaluate(browser, lab_check.SCROLL_THROUGH_JS)
            lab_check.wait_rendered(browser)
            cells = lab_check.evaluate(browser, READ_JS)
            time.sleep(0.5)
            png = browser.send("Page.captureScreenshot", format="png")["data"]
            (OUT / "probe.png").write_bytes(base64.b64decode(png))
        finally:
            browser.close()
    finally:
        lab.close()
    names = [name for name, _ in CONSTRUCTS] + ["code cell: figure metadata + hide-input",
                                                "code cell: glue(display=False) output"]
    for name, cell in zip(names, cells, strict=True):
        flags = []
        if cell["errorBox"]:
            flags.append("ERROR BOX")
        if cell["collapsible"]:
            flags.append(f"{cell['collapsedNow']}/{cell['collapsible']} collapsed")
        if cell["imgs"]:
            flags.append(f"{cell['imgs']} img")
        if cell["codeVisible"] is not None:
            flags.append("code visible" if cell["codeVisible"] else "code hidden")
        print(f"{name:42s} [{', '.join(flags)}] {cell['text']!r}")
    print(f"screenshot: {OUT / 'probe.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
