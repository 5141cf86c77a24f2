"""Open every page of the built book in a real (headless) Chromium and fail on visible breakage.

Usage:  python scripts/browser_check.py [_build/html] [--screenshots _build/screenshots]

The built HTML is served from 127.0.0.1 by Python's http.server, and Chromium runs with every
host name except 127.0.0.1 unresolvable and every request to another origin refused, so the check
also proves that the book works offline (MathJax included). For every page it fails on:

* a console error, an uncaught exception, or an error logged by the browser (a failed load);
* math left untypeset: a ``.math`` element without MathJax output, a MathJax error box, or raw
  ``$$``, ``\\(``, ``\\[`` or ``\\begin{`` in visible text outside code;
* an image that did not load;
* a broken internal link: a link to a file that is not served, or to an ``#anchor`` that is not
  on the target page;
* any request to a host other than the local server;
* any link to a placeholder address (``example-org``, ``example.com``, ...: see
  ``scripts/repository_buttons.py``), anywhere in the page's HTML;
* an exercise solution or hint that is visible before its toggle is clicked.

It saves three screenshots (a chapter at its first figure, the notation appendix at its equations,
and the first code exercise with hints, collapsed) under ``_build/screenshots/`` for a person to
look at.

Chromium is driven through its DevTools protocol with the small ``websocket-client`` package
(a dependency of Jupyter Server, already in the environment); no browser-automation framework.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from base64 import b64decode
from pathlib import Path

import websocket
from repository_buttons import placeholder_links  # scripts/, next to this file

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-quic",
    "--disable-sync",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--mute-audio",
    "--hide-scrollbars",
    # Offline: no name resolves except the local server's address.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--remote-debugging-port=0",
    "--remote-allow-origins=*",
    "--window-size=1280,900",
]

PAGE_TIMEOUT_S = 60
REFRESH_RE = re.compile(r'<meta[^>]+http-equiv="refresh"[^>]+content="\d+;\s*url=([^"]+)"', re.I)

# Runs in the page after the load event. Returns a JSON-able report of what it found.
PAGE_PROBE_JS = r"""
(async () => {
  const withTimeout = (p, ms) =>
      Promise.race([p, new Promise(r => setTimeout(() => r('timeout'), ms))]);
  const report = {mathjax: false, untypeset: [], mathErrors: [], rawTex: [], badImages: [],
                  openSolutions: [], links: [], ids: []};
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    report.mathjax = true;
    const r = await withTimeout(MathJax.startup.promise.then(() => 'ok'), 30000);
    if (r === 'timeout') report.untypeset.push('MathJax did not finish typesetting within 30 s');
  }
  for (const el of document.querySelectorAll('.math')) {
    if (!el.querySelector('mjx-container') && !el.closest('mjx-container'))
      report.untypeset.push(el.textContent.trim().slice(0, 80));
  }
  for (const el of document.querySelectorAll('mjx-merror, [data-mjx-error]'))
    report.mathErrors.push((el.getAttribute('data-mjx-error') || el.textContent).slice(0, 120));
  const skip = 'pre, code, kbd, samp, script, style, textarea, noscript, mjx-container, .highlight';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const patterns = ['$$', '\\(', '\\)', '\\[', '\\]', '\\begin{'];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const parent = n.parentElement;
    if (!parent || parent.closest(skip)) continue;
    if (!parent.getClientRects().length) continue;  // not rendered (hidden)
    const text = n.nodeValue;
    if (patterns.some(p => text.includes(p))) report.rawTex.push(text.trim().slice(0, 120));
  }
  const imgs = [...document.images];
  imgs.forEach(i => { i.loading = 'eager'; });
  const results = await Promise.all(imgs.map(i =>
      withTimeout(i.decode().then(() => null, () => i.currentSrc || i.src), 15000)));
  results.forEach((r, k) => { if (r) report.badImages.push(r === 'timeout' ? imgs[k].src : r); });
  // Exercise solutions (sphinx-exercise, `:class: dropdown`) and the hints (admonitions with
  // `:class: dropdown`) must start collapsed.
  for (const sol of document.querySelectorAll('div.solution, div.admonition.dropdown')) {
    const body = [...sol.children].filter(c =>
        !c.classList.contains('admonition-title') && c.tagName !== 'BUTTON');
    const shown = c => c.getBoundingClientRect().height > 0 &&
        c.checkVisibility({opacityProperty: true, visibilityProperty: true});
    if (body.some(shown))
      report.openSolutions.push(sol.id || (sol.querySelector('.admonition-title') || {}).textContent
                                || '(solution without id)');
  }
  for (const a of document.querySelectorAll('a[href]')) report.links.push(a.href);
  for (const el of document.querySelectorAll('[id]')) report.ids.push(el.id);
  for (const el of document.querySelectorAll('a[name]')) report.ids.push(el.getAttribute('name'));
  return report;
})()
"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


def serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


class Chromium:
    """One headless Chromium with a fresh profile, driven over the DevTools protocol."""

    def __init__(self, binary: str):
        self.profile = tempfile.mkdtemp(prefix="book-browser-check-")
        self.proc = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        )
        port_file = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError(f"{binary} did not start (exit code {self.proc.returncode})")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        pages = []
        while not pages and time.monotonic() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as resp:
                pages = [t for t in json.load(resp) if t.get("type") == "page"]
            time.sleep(0.1)
        if not pages:
            self.close()
            raise RuntimeError("Chromium opened no page target")
        self.ws = websocket.create_connection(
            pages[0]["webSocketDebuggerUrl"], timeout=PAGE_TIMEOUT_S, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, **params) -> dict:
        self.next_id += 1
        msg_id = self.next_id
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.handle_event(msg)

    def wait_for(self, method: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.ws.settimeout(max(deadline - time.monotonic(), 0.1))
            try:
                msg = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                break
            if "method" in msg:
                self.handle_event(msg)
                if msg["method"] == method:
                    self.ws.settimeout(PAGE_TIMEOUT_S)
                    return
        self.ws.settimeout(PAGE_TIMEOUT_S)
        raise TimeoutError(f"no {method} within {timeout:.0f} s")

    # Requests paused by the Fetch domain: let the local server's through, refuse everything else.
    local_prefix = ""

    def handle_event(self, msg: dict) -> None:
        if msg["method"] == "Fetch.requestPaused":
            p = msg["params"]
            url = p["request"]["url"]
            if url.startswith(self.local_prefix) or url.startswith("data:"):
                self._send_nowait("Fetch.continueRequest", requestId=p["requestId"])
            else:
                self.events.append({"method": "external", "url": url})
                self._send_nowait("Fetch.failRequest", requestId=p["requestId"],
                                  errorReason="BlockedByClient")
            return
        self.events.append(msg)

    def _send_nowait(self, method: str, **params) -> None:
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))

    def close(self) -> None:
        if getattr(self, "ws", None) is not None:
            try:
                self.ws.close()
            except OSError:
                pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # Chromium's helper processes may still be writing to the profile for a moment.
        for _ in range(20):
            shutil.rmtree(self.profile, ignore_errors=True)
            if not os.path.exists(self.profile):
                break
            time.sleep(0.25)


def console_problems(events: list[dict]) -> list[str]:
    problems = []
    for ev in events:
        method, p = ev.get("method"), ev.get("params", {})
        if method == "external":
            problems.append(f"request to another host (the book must work offline): {ev['url']}")
        elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            args = p.get("args", [])
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in args)
            problems.append(f"console.{p['type']}: {text[:200]}")
        elif method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            desc = d.get("exception", {}).get("description") or d.get("text", "")
            problems.append(f"uncaught exception: {desc[:200]}")
        elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            e = p["entry"]
            problems.append(f"browser error ({e.get('source')}): {e.get('text', '')[:160]} "
                            f"{e.get('url', '')}".rstrip())
    return problems


def url_status(url: str) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def check(root: Path, screenshot_dir: Path, chromium: str) -> int:
    pages = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.html")
                   if not p.relative_to(root).as_posix().startswith(("_static/", "_sources/")))
    if not pages:
        print(f"browser check: no HTML pages under {root}; build the book first", file=sys.stderr)
        return 1
    chapters = [p for p in pages if p.startswith("book/") and p[5:7].isdigit()]
    # Each screenshot scrolls to the first element matching one of its selectors.
    shots = {
        "chapter.png": (chapters[0] if chapters else "book/intro.html", ["figure", "div.math"]),
        "notation.png": ("book/notation.html", ["div.math"]),
        # a code exercise with its hints and, below, its solution: all collapsed
        "exercise.png": (chapters[0] if chapters else "book/intro.html",
                         ["div.exercise:has(div.dropdown)", "div.exercise"]),
    }

    server, base = serve(root)
    browser = Chromium(chromium)
    browser.local_prefix = base
    failures: dict[str, list[str]] = {}
    ids_by_page: dict[str, set[str]] = {}
    links: dict[str, set[str]] = {}  # link without fragment -> pages that contain it
    fragments: dict[tuple[str, str], set[str]] = {}
    screenshot_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    try:
        browser.send("Page.enable")
        browser.send("Runtime.enable")
        browser.send("Log.enable")
        browser.send("Network.enable")
        browser.send("Network.setCacheDisabled", cacheDisabled=True)
        browser.send("Fetch.enable", patterns=[{"urlPattern": "*"}])
        browser.send("Emulation.setDeviceMetricsOverride", width=1280, height=900,
                     deviceScaleFactor=1, mobile=False)
        for page in pages:
            html = (root / page).read_text(encoding="utf-8", errors="replace")
            redirect = REFRESH_RE.search(html)
            if redirect:  # a bare redirect page (index.html): check where it points, not more
                target = urllib.parse.urljoin(base + page, redirect.group(1))
                links.setdefault(urllib.parse.unquote(target[len(base):]), set()).add(page)
                continue
            browser.events.clear()
            url = base + page
            browser.send("Page.navigate", url=url)
            problems = [f"link to a placeholder address (repository.url in _config.yml?): {u}"
                        for u in placeholder_links(html)]
            try:
                browser.wait_for("Page.loadEventFired", PAGE_TIMEOUT_S)
                result = browser.send("Runtime.evaluate", expression=PAGE_PROBE_JS,
                                      awaitPromise=True, returnByValue=True)
            except (TimeoutError, RuntimeError) as exc:
                failures[page] = [f"page did not load: {exc}"]
                continue
            if "exceptionDetails" in result:
                failures[page] = [f"probe failed: {result['exceptionDetails']}"]
                continue
            report = result["result"]["value"]
            # Give late console messages (MathJax reports errors asynchronously) a moment.
            try:
                browser.wait_for("never", 0.3)
            except TimeoutError:
                pass
            problems += console_problems(browser.events)
            problems += [f"math not typeset: {m}" for m in report["untypeset"]]
            problems += [f"MathJax error: {m}" for m in report["mathErrors"]]
            problems += [f"raw TeX in visible text: {m!r}" for m in report["rawTex"]]
            problems += [f"image did not load: {m}" for m in report["badImages"]]
            problems += [f"solution or hint visible before its toggle is clicked: {m}"
                         for m in report["openSolutions"]]
            ids_by_page[page] = set(report["ids"])
            for link in report["links"]:
                if not link.startswith(base):
                    continue
                target, _, frag = link.partition("#")
                target = urllib.parse.unquote(target[len(base):]) or "index.html"
                if target.endswith("/"):
                    target += "index.html"
                links.setdefault(target, set()).add(page)
                if frag:
                    fragments.setdefault((target, urllib.parse.unquote(frag)), set()).add(page)
            for name, (shot_page, selector) in shots.items():
                if shot_page == page:
                    first = " || ".join(f"document.querySelector({json.dumps(sel)})"
                                        for sel in selector)
                    browser.send("Runtime.evaluate", expression=(
                        f"({first} || document.body).scrollIntoView({{block: 'start'}});"
                        "window.scrollBy(0, -80);"))
                    time.sleep(0.3)
                    png = browser.send("Page.captureScreenshot", format="png")["data"]
                    (screenshot_dir / name).write_bytes(b64decode(png))
            if problems:
                failures[page] = problems
    finally:
        browser.close()

    link_failures: list[str] = []
    for target, sources in sorted(links.items()):
        if target not in ids_by_page and url_status(base + target) != 200:
            link_failures.append(f"{target} (linked from {', '.join(sorted(sources)[:3])})")
    for (target, frag), sources in sorted(fragments.items()):
        if target in ids_by_page and frag not in ids_by_page[target]:
            link_failures.append(f"{target}#{frag} (anchor missing; linked from "
                                 f"{', '.join(sorted(sources)[:3])})")
    server.shutdown()

    elapsed = time.monotonic() - t0
    n_links = len(links) + len(fragments)
    for page, problems in failures.items():
        print(f"FAIL {page}")
        for p in problems[:20]:
            print(f"     {p}")
    for lf in link_failures:
        print(f"FAIL broken internal link: {lf}")
    missing_shots = [n for n in shots if not (screenshot_dir / n).exists()]
    for n in missing_shots:
        print(f"FAIL screenshot {n} was not taken ({shots[n][0]} not among the pages)")
    n_failed = len(failures) + (1 if link_failures else 0) + len(missing_shots)
    print(f"browser check: {len(pages)} pages, {n_links} internal links and anchors checked in "
          f"{elapsed:.1f} s; screenshots in {screenshot_dir}")
    print(f"browser: {len(pages) - len(failures)} passed, {len(failures)} failed")
    return 1 if n_failed else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("html", nargs="?", default="_build/html", type=Path)
    ap.add_argument("--screenshots", default="_build/screenshots", type=Path)
    ap.add_argument("--chromium", default=os.environ.get("CHROMIUM", "chromium"))
    args = ap.parse_args(argv)
    binary = shutil.which(args.chromium)
    if binary is None:
        print(f"browser check: {args.chromium!r} not found; install it with "
              "`apt-get install chromium` (make setup does this)", file=sys.stderr)
        return 1
    return check(args.html.resolve(), args.screenshots, binary)


if __name__ == "__main__":
    raise SystemExit(main())
