"""Open chapters in JupyterLab + jupyterlab-myst in headless Chromium; check what a reader sees.

Usage:
    python scripts/lab_check.py [NOTEBOOK ...] [--lenient] [--screenshots DIR] [--jupyter PATH]

Default notebooks: book/07_gru.ipynb and book/04_vanishing_gradients.ipynb. It starts JupyterLab
headless on a free port of 127.0.0.1 with a random token, a fresh settings folder (windowing off,
so every cell is rendered, not only those in view; no news or update checks) and a fresh
workspace, opens each chapter in Debian's Chromium (driven over the DevTools protocol, as
``scripts/browser_check.py`` does, every host but 127.0.0.1 unresolvable), waits until the
rendered cells stop changing, takes screenshots and checks:

* the jupyterlab-myst extension is active (markdown is rendered by MyST, not by JupyterLab's
  own renderer);
* no raw MyST directive text (e.g. a fenced exercise or solution directive) is left visible;
* every exercise/solution directive rendered; every solution's body is hidden before its toggle
  is clicked and visible after;
* no "Unknown Directive" / "Unknown Role" error box at all (a ``{glue:figure}`` left in the
  markdown makes one);
* every figure the notebook defines (code cells with myst-nb's ``mystnb.figure`` metadata,
  markdown ``{figure}`` and ``{glue:figure}`` directives) is there: at least that many ``img``
  elements in the cells' outputs and markdown;
* every glued number the prose quotes (``{glue:text}`key```), which jupyterlab-myst shows as its
  raw key, is printed with its value, ``key = value``, in some cell's output (what
  ``gru_lib.notebook.glue`` writes), so that the reader can find it.

The glue checks (error boxes of glue directives, figures, unprinted keys) are reported without
failing the check only with ``--lenient``. (``--strict``, once needed to fail on them, is now the
default and still accepted.)

Screenshots go to ``_build/lab-screenshots/`` (one of the top of each chapter, its first figure,
the output that prints its first glued value, and its first solution before and after the click).
Exit status 0 when every check passed.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from base64 import b64decode
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from browser_check import Chromium  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_NOTEBOOKS = ["book/07_gru.ipynb", "book/04_vanishing_gradients.ipynb"]
START_TIMEOUT_S = 120
RENDER_TIMEOUT_S = 120

# JupyterLab settings for the check's own, fresh settings folder.
SETTINGS = {
    # Render every cell (JupyterLab 4 renders only the cells in view by default).
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    # No news fetch, no update check (offline; no notification over the page).
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
}

# Runs in the page once the notebook has rendered. GLUE_KEYS is replaced by the keys of the
# chapter's glue roles ({glue:text}`key`, {glue}`key`), whose raw key a reader would see, and
# which must then be printed as "key = value" in some output.
PROBE_JS = r"""
(() => {
  const glueKeys = GLUE_KEYS;
  // Hidden: not laid out, invisible, or inside a closed <details> (whose content Chromium keeps
  // laid out but does not paint).
  const visible = el => !!el && !el.closest('details:not([open])') &&
      (el.checkVisibility ? el.checkVisibility({visibilityProperty: true, opacityProperty: true})
                          : el.getClientRects().length > 0);
  const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
  if (!nb) return {error: 'no notebook panel'};
  const cells = nb.querySelectorAll('.jp-Cell');
  const md = [...nb.querySelectorAll('.jp-MarkdownCell')];
  const mystRoots = md.map(c => c.querySelector('.myst')).filter(Boolean);
  const mdText = md.map(c => {
    const r = c.querySelector('.myst, .jp-RenderedMarkdown');
    return r ? r.innerText : '';
  }).join('\n');
  const boxes = [...nb.querySelectorAll('.myst-exercise')];
  const title = b => (b.querySelector('.myst-exercise-title') || b).innerText.trim();
  const unknown = boxes.filter(b => /Unknown (Directive|Role)/.test(title(b)))
      .map(b => title(b).replace(/\s+/g, ' '));
  const exercises = boxes.filter(b => /^Exercise\b/.test(title(b)));
  const solutions = boxes.filter(b => /^Solution\b/.test(title(b)));
  const rawDirectives = (mdText.match(/(`{3,}|:{3,})\s*\{[A-Za-z][\w:-]*\}[^\n]*/g) || []);
  const rawRoles = (mdText.match(/\{[a-z][\w:-]*\}`[^`]*`/g) || []);
  const gluedRaw = glueKeys.filter(k => mdText.includes(k));
  const outText = [...nb.querySelectorAll('.jp-OutputArea-output')].map(o => o.innerText)
      .join('\n');
  const printed = glueKeys.filter(k => outText.includes(k + ' = '));
  const rawUnprinted = gluedRaw.filter(k => !printed.includes(k));
  return {
    cells: cells.length, markdownCells: md.length, mystRendered: mystRoots.length,
    katex: nb.querySelectorAll('.katex').length,
    mathjax: nb.querySelectorAll('mjx-container').length,
    outputImages: nb.querySelectorAll('.jp-OutputArea-output img').length,
    markdownImages: nb.querySelectorAll('.jp-MarkdownCell img').length,
    unknown, rawDirectives: rawDirectives.slice(0, 20), rawRoles: rawRoles.slice(0, 20),
    nRawDirectives: rawDirectives.length, nRawRoles: rawRoles.length,
    exercises: exercises.length,
    solutions: solutions.map(s => ({
      title: title(s), tag: s.tagName.toLowerCase(),
      bodyVisible: visible(s.querySelector('.myst-exercise-body')),
    })),
    glueKeys: glueKeys.length, gluedRaw, printed: printed.length, rawUnprinted,
  };
})()
"""

# Marks the element first matching SELECTOR (in the open notebook) and scrolls it to the top.
SCROLL_JS = r"""
(() => {
  const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
  const all = nb ? [...nb.querySelectorAll(SELECTOR)] : [];
  const el = all.find(e => FILTER);
  if (!el) return false;
  el.scrollIntoView({block: 'start'});
  return true;
})()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def glue_keys(notebook: Path) -> list[str]:
    """The keys of the glue roles in the notebook's markdown (what a reader sees raw)."""
    import re

    nb = json.loads(notebook.read_text(encoding="utf-8"))
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    return sorted(set(re.findall(r"\{glue(?::text)?\}`([^`:]+)", text)))


def figure_count(notebook: Path) -> int:
    """How many figures the notebook defines: code cells with myst-nb's figure metadata, and
    markdown {figure} and {glue:figure} directives."""
    import re

    nb = json.loads(notebook.read_text(encoding="utf-8"))
    n = 0
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            n += bool(cell.get("metadata", {}).get("mystnb", {}).get("figure"))
        elif cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            n += len(re.findall(r"^(?:`{3,}|:{3,})\{(?:glue:)?figure\}", text, re.M))
    return n


def directive_counts(notebook: Path) -> dict[str, int]:
    """How many exercise and solution directives the notebook's markdown holds."""
    import re

    nb = json.loads(notebook.read_text(encoding="utf-8"))
    text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    return {kind: len(re.findall(r"^(?:`{3,}|:{3,})\{" + kind + r"\}", text, re.M))
            for kind in ("exercise", "solution")}


class Lab:
    """A JupyterLab server on 127.0.0.1 with a token and fresh settings, stopped by close()."""

    def __init__(self, jupyter: str, root: Path, log: Path):
        self.tmp = Path(tempfile.mkdtemp(prefix="lab-check-"))
        for rel, value in SETTINGS.items():
            path = self.tmp / "settings" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(value))
        self.port, self.token = free_port(), secrets.token_hex(24)
        env = dict(os.environ, JUPYTER_CONFIG_DIR=str(self.tmp / "config"),
                   JUPYTER_RUNTIME_DIR=str(self.tmp / "runtime"))
        cmd = [jupyter, "lab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}",
               f"--LabApp.user_settings_dir={self.tmp / 'settings'}",
               f"--LabApp.workspaces_dir={self.tmp / 'workspaces'}",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        if hasattr(os, "getuid") and os.getuid() == 0:
            cmd.append("--allow-root")  # containers and CI machines often run as root
        self.log = open(log, "w")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env)
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(f"{self.base}/api/status?token={self.token}",
                                            timeout=5):
                    break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError(f"JupyterLab did not start (see {log})") from None
                time.sleep(0.5)

    def url(self, notebook: str) -> str:
        return f"{self.base}/lab/tree/{notebook}?token={self.token}&reset"

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def evaluate(browser: Chromium, expression: str):
    result = browser.send("Runtime.evaluate", expression=expression, returnByValue=True,
                          awaitPromise=True)
    if "exceptionDetails" in result:
        raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
    return result["result"].get("value")


def screenshot(browser: Chromium, path: Path) -> None:
    time.sleep(0.5)  # let scrolling and layout settle
    path.write_bytes(b64decode(browser.send("Page.captureScreenshot", format="png")["data"]))


def scroll_to(browser: Chromium, selector: str, condition: str = "true") -> bool:
    js = SCROLL_JS.replace("SELECTOR", json.dumps(selector)).replace("FILTER", condition)
    return bool(evaluate(browser, js))


# Scrolls the open notebook from top to bottom a screen at a time, as a reader would, so that
# cells rendered only when they come into view (JupyterLab's windowing) are rendered; then back.
SCROLL_THROUGH_JS = r"""
(async () => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  const sc = panel && (panel.querySelector('.jp-WindowedPanel-outer') ||
                       panel.querySelector('.jp-Notebook'));
  if (!sc) return 0;
  let steps = 0;
  for (let last = -1; sc.scrollTop !== last && steps < 500; steps++) {
    last = sc.scrollTop;
    sc.scrollTop += Math.max(sc.clientHeight * 0.8, 200);
    await new Promise(r => setTimeout(r, 150));
  }
  sc.scrollTop = 0;
  return steps;
})()
"""


def wait_rendered(browser: Chromium) -> None:
    """Until the open notebook's cells, text and images stop changing (3 polls, 1 s apart)."""
    probe = ("(() => { const nb = document.querySelector("
             "'.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook'); if (!nb) return null;"
             " return [nb.querySelectorAll('.jp-Cell').length, nb.innerText.length,"
             " nb.querySelectorAll('img, .katex, .myst').length]; })()")
    deadline, last, stable = time.monotonic() + RENDER_TIMEOUT_S, None, 0
    while time.monotonic() < deadline:
        time.sleep(1)
        now = evaluate(browser, probe)
        stable = stable + 1 if (now and now[0] > 0 and now == last) else 0
        if stable >= 3:
            return
        last = now
    raise TimeoutError(f"the notebook did not finish rendering in {RENDER_TIMEOUT_S} s")


def check_notebook(browser: Chromium, lab: Lab, notebook: str, shots: Path,
                   strict: bool) -> tuple[list[str], list[str]]:
    """Open one chapter; return (failures, notes)."""
    stem = Path(notebook).stem
    browser.events.clear()
    browser.send("Page.navigate", url=lab.url(notebook))
    browser.wait_for("Page.loadEventFired", START_TIMEOUT_S)
    wait_rendered(browser)
    evaluate(browser, SCROLL_THROUGH_JS)
    wait_rendered(browser)
    keys = glue_keys(ROOT / notebook)
    expected = directive_counts(ROOT / notebook)
    n_figures = figure_count(ROOT / notebook)
    report = evaluate(browser, PROBE_JS.replace("GLUE_KEYS", json.dumps(keys)))
    if not report or "error" in report:
        return [f"could not read the notebook: {report}"], []
    failures, notes = [], []
    if report["mystRendered"] < report["markdownCells"]:
        failures.append(f"jupyterlab-myst rendered {report['mystRendered']} of "
                        f"{report['markdownCells']} markdown cells (is the extension active?)")
    for kind, key in (("exercise", "exercises"), ("solution", "solutions")):
        got = report[key] if kind == "exercise" else len(report[key])
        if got != expected[kind]:
            failures.append(f"{got} {kind}(s) rendered, {expected[kind]} in the notebook")
    if report["nRawDirectives"]:
        failures.append(f"{report['nRawDirectives']} raw MyST directive(s) visible, e.g. "
                        f"{report['rawDirectives'][:3]}")
    glue_boxes = [u for u in report["unknown"] if u.startswith("glue")]
    other_boxes = [u for u in report["unknown"] if not u.startswith("glue")]
    if other_boxes:
        failures.append(f"{len(other_boxes)} error box(es): {other_boxes[:5]}")
    closed = [s for s in report["solutions"] if not s["bodyVisible"]]
    if len(closed) != len(report["solutions"]):
        failures.append(f"{len(report['solutions']) - len(closed)} solution(s) visible before "
                        "a click")
    glue_problems = []
    if glue_boxes:
        glue_problems.append(f"{len(glue_boxes)} glue error box(es): {glue_boxes[:3]}")
    shown = report["outputImages"] + report["markdownImages"]
    if shown < n_figures:
        glue_problems.append(f"{shown} figure(s) shown, {n_figures} defined in the notebook")
    if report["rawUnprinted"]:
        glue_problems.append(
            f"{len(report['rawUnprinted'])} of {report['glueKeys']} glued value(s) shown as raw "
            f"keys in the prose and printed in no cell output as 'key = value' (e.g. "
            f"{report['rawUnprinted'][:3]})")
    for msg in glue_problems:
        (failures if strict else notes).append(msg)

    shots.mkdir(parents=True, exist_ok=True)
    scroll_to(browser, ".jp-Cell")
    screenshot(browser, shots / f"{stem}-top.png")
    if scroll_to(browser, ".jp-OutputArea-output img"):
        screenshot(browser, shots / f"{stem}-figure.png")
    if keys and scroll_to(browser, ".jp-OutputArea-output",
                          f"e.innerText.includes({json.dumps(keys[0] + ' = ')})"):
        screenshot(browser, shots / f"{stem}-glued-values.png")
    if glue_boxes and scroll_to(browser, ".myst-exercise", "/Unknown/.test(e.innerText)"):
        screenshot(browser, shots / f"{stem}-glue-error.png")
    opened = 0
    if report["solutions"]:
        solution = "/^Solution/.test((e.querySelector('.myst-exercise-title') || e).innerText)"
        scroll_to(browser, ".myst-exercise", solution)
        screenshot(browser, shots / f"{stem}-solution-closed.png")
        # Click every solution's toggle, then look again: each body must now be visible.
        opened = evaluate(browser, """
            (() => {
              const nb = document.querySelector(
                  '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
              const sols = [...nb.querySelectorAll('.myst-exercise')].filter(e =>
                  /^Solution/.test((e.querySelector('.myst-exercise-title') || e).innerText));
              sols.forEach(s => (s.querySelector('summary, .myst-exercise-header') || s).click());
              return sols.length;
            })()""")
        time.sleep(0.5)
        after = evaluate(browser, PROBE_JS.replace("GLUE_KEYS", "[]"))["solutions"]
        hidden = [s["title"] for s in after if not s["bodyVisible"]]
        if hidden:
            failures.append(f"{len(hidden)} solution(s) still hidden after a click: {hidden[:3]}")
        scroll_to(browser, ".myst-exercise", solution)
        screenshot(browser, shots / f"{stem}-solution-open.png")

    errors = [e for e in browser.events if e.get("method") == "Runtime.exceptionThrown"
              or (e.get("method") == "Runtime.consoleAPICalled"
                  and e["params"].get("type") == "error")]
    notes.insert(0, (
        f"{report['cells']} cells ({report['markdownCells']} markdown, {report['mystRendered']} "
        f"rendered by MyST), {report['outputImages']} figure(s) in outputs, "
        f"{report['markdownImages']} image(s) in markdown ({n_figures} figure(s) defined), "
        f"{report['glueKeys']} glued value(s) quoted ({len(report['gluedRaw'])} shown as keys, "
        f"{report['printed']} printed with their value in outputs), "
        f"{report['katex']} KaTeX formulas, "
        f"{report['exercises']} exercise(s), {len(report['solutions'])} solution(s) "
        f"({len(closed)} collapsed before a click, {opened} clicked open), "
        f"{len(report['unknown'])} error box(es), {report['nRawRoles']} raw role(s), "
        f"{len(errors)} console error(s)"))
    for e in errors[:3]:
        p = e["params"]
        args = p.get("args", [])
        text = (p.get("exceptionDetails", {}).get("exception", {}).get("description")
                or " ".join(str(a.get("value", a.get("description", ""))) for a in args))
        notes.append(f"console: {text.splitlines()[0][:160] if text else '?'}")
    return failures, notes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*", default=DEFAULT_NOTEBOOKS)
    ap.add_argument("--lenient", action="store_true",
                    help="report glue error boxes, missing figures and unprinted glue keys "
                         "without failing")
    ap.add_argument("--strict", action="store_true",
                    help="the default (kept for old command lines)")
    ap.add_argument("--screenshots", type=Path, default=ROOT / "_build" / "lab-screenshots")
    ap.add_argument("--jupyter", default=str(Path(sys.executable).parent / "jupyter"))
    ap.add_argument("--chromium", default=os.environ.get("CHROMIUM", "chromium"))
    args = ap.parse_args(argv)
    binary = shutil.which(args.chromium)
    if binary is None:
        print(f"lab check: {args.chromium!r} not found; install it with "
              "`apt-get install chromium` (make setup does this)", file=sys.stderr)
        return 1
    args.screenshots.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    lab = Lab(args.jupyter, ROOT, args.screenshots / "jupyterlab.log")
    n_failed = 0
    try:
        browser = Chromium(binary)
        try:
            browser.send("Page.enable")
            browser.send("Runtime.enable")
            browser.send("Emulation.setDeviceMetricsOverride", width=1280, height=900,
                         deviceScaleFactor=1, mobile=False)
            for notebook in args.notebooks:
                rel = Path(notebook).resolve().relative_to(ROOT).as_posix()
                failures, notes = check_notebook(browser, lab, rel, args.screenshots,
                                                 not args.lenient)
                print(f"{'FAIL' if failures else 'ok  '} {rel}")
                for line in notes + failures:
                    print(f"     {line}")
                n_failed += bool(failures)
        finally:
            browser.close()
    finally:
        lab.close()
    print(f"lab check: {len(args.notebooks)} notebook(s) in {time.monotonic() - t0:.0f} s"
          f"{' (lenient)' if args.lenient else ''}; screenshots in {args.screenshots}")
    print(f"lab: {len(args.notebooks) - n_failed} passed, {n_failed} failed")
    return 1 if n_failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
