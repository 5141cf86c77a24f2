"""Print the whole book to one PDF with the headless Chromium that the browser check uses.

Usage:  python scripts/print_book.py [_build/singlehtml] [-o _build/pdf/book.pdf]

``make pdf`` runs it after ``jupyter-book build . --builder singlehtml``, which writes the whole
book as one HTML page (numbered chapters, figures and equations, as in the HTML book). This script

1. turns that page into ``print.html`` beside it: a title page, a contents with page numbers, a
   title page for each part, each chapter from a new page, the exercise solutions gathered in an
   appendix before the bibliography (in the HTML they are hidden behind a toggle), code hidden in
   the HTML left out, no navigation or buttons, and the print style ``scripts/print_book.css``;
2. serves it on 127.0.0.1 and opens it in Chromium, offline (every other host refused), waits
   until MathJax has typeset every formula and every font and image has loaded, and prints it
   with the DevTools ``Page.printToPDF`` (A4, page numbers in the footer, a PDF outline);
3. reads the page of every chapter and section from the PDF's named destinations
   (``pdfinfo -dests``, poppler-utils), writes them into the contents and prints again.

It prints what it made: pages, size, formulas, images, and the seconds each step took. A
``.json`` file beside the PDF records the counts that ``scripts/pdf_check.py`` checks.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import yaml
from browser_check import Chromium, serve  # scripts/, next to this file
from bs4 import BeautifulSoup, Tag

ROOT = Path(__file__).resolve().parents[1]
CSS = Path(__file__).with_name("print_book.css")
PART_RE = re.compile(r"^(Part [IVXLC]+):\s*(.+)$")
FOOTER = ('<div style="font-size:8pt;width:100%;text-align:center;color:#555;'
          'font-family:sans-serif"><span class="pageNumber"></span></div>')

# Runs in the page once it has loaded: waits for MathJax, fonts and images, and counts them.
READY_JS = r"""
(async () => {
  const imgs = [...document.images];
  imgs.forEach(i => { i.loading = 'eager'; });
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  await document.fonts.ready;
  const bad = (await Promise.all(imgs.map(i => i.decode().then(() => null, () => i.src))))
      .filter(Boolean);
  return {math: document.querySelectorAll('.math').length,
          typeset: document.querySelectorAll('mjx-container').length,
          untypeset: [...document.querySelectorAll('.math')].filter(
              e => !e.querySelector('mjx-container') && !e.closest('mjx-container')).length,
          mathErrors: document.querySelectorAll('mjx-merror').length,
          images: imgs.length, badImages: bad};
})()
"""


def _text(tag: Tag) -> str:
    """A heading's text without its '#' permalink."""
    return " ".join("".join(t for t in tag.find_all(string=True)
                            if not (t.parent and "headerlink" in (t.parent.get("class") or [])))
                    .split())


def _new(soup: BeautifulSoup, name: str, text: str | None = None, **attrs) -> Tag:
    tag = soup.new_tag(name, attrs={k.rstrip("_"): v for k, v in attrs.items()})
    if text is not None:
        tag.string = text
    return tag


# The site around the text, left out of the printed page.
CHROME = (".bd-header, .bd-header-article, .bd-sidebar-primary, .bd-sidebar-secondary, "
          ".bd-footer, .bd-footer-article, .prev-next-area, #pst-skip-link, #pst-back-to-top, "
          "#jb-print-docs-body, dialog, .search-button-field, .pst-async-banner-revealer")


def make_print_html(src_dir: Path, toc_yml: Path, config_yml: Path) -> tuple[Path, dict]:
    """Write ``print.html`` into ``src_dir`` from the single-page build; return it and counts."""
    pages = list((src_dir / "book").glob("*.html"))
    if len(pages) != 1:
        raise SystemExit(f"print_book: expected one page in {src_dir / 'book'} (a singlehtml "
                         f"build), found {len(pages)}; run `make pdf`")
    soup = BeautifulSoup(pages[0].read_text(encoding="utf-8"), "html.parser")
    config = yaml.safe_load(config_yml.read_text())
    for tag in soup.select(CHROME):
        tag.decompose()
    article = soup.select_one("article.bd-article")
    # Links into the single page become links inside print.html (one folder up).
    for a in soup.find_all("a", href=True):
        if a["href"].startswith(f"book/{pages[0].name}#"):
            a["href"] = "#" + a["href"].split("#", 1)[1]

    # The introduction (the root page) is a chapter without a number; the book's title moves
    # to the title page.
    intro = article.find("section", recursive=False)
    heading = intro.find("h1")
    heading.name, heading.string = "h2", "Introduction"
    intro["class"] = [*intro.get("class", []), "print-chapter", "print-intro"]

    # Parts: each toctree-wrapper holds the chapters of one part of _toc.yml, in order.
    wrappers = article.select("div.toctree-wrapper")
    captions = [p.get("caption", "") for p in yaml.safe_load(toc_yml.read_text())["parts"]]
    if len(wrappers) != len(captions):
        raise SystemExit(f"print_book: {len(wrappers)} parts in the HTML, {len(captions)} in "
                         f"{toc_yml.name}")
    for k, (wrapper, caption) in enumerate(zip(wrappers, captions, strict=True)):
        m = PART_RE.match(caption)
        page = _new(soup, "div", class_="print-part-page", id=f"print-part-{k + 1}")
        if m:
            page.append(_new(soup, "div", m.group(1), class_="print-part-number"))
        page.append(_new(soup, "h1", m.group(2) if m else caption))
        page["data-toc"] = caption
        # Right before the first chapter: an anchor <span> between them would be a line of its
        # own, which Chromium puts on a page of its own (a blank page).
        wrapper.find("section", recursive=False).insert_before(page)
        for section in wrapper.find_all("section", recursive=False):
            section["class"] = [*section.get("class", []), "print-chapter"]

    _unique_ids(soup, article)
    n_solutions = _gather_solutions(soup, article)
    toc = _contents(article)

    # Title page and contents, in front of everything.
    title = _new(soup, "div", class_="print-title-page")
    title.append(_new(soup, "h1", config.get("title", "")))
    title.append(_new(soup, "div", config.get("author", ""), class_="print-author"))
    title.append(_new(soup, "div", f"© {config.get('copyright', '')}", class_="print-meta"))
    contents = _new(soup, "nav", class_="print-contents", id="print-contents")
    contents.append(_new(soup, "h1", "Contents"))
    ol = _new(soup, "ol")
    for kind, target, text in toc:
        li = _new(soup, "li", class_=f"toc-{kind}")
        a = _new(soup, "a", href=f"#{target}")
        a.append(_new(soup, "span", text, class_="toc-title"))
        a.append(_new(soup, "span", class_="toc-dots"))
        a.append(_new(soup, "span", "", class_="toc-page", **{"data-target": target}))
        li.append(a)
        ol.append(li)
    contents.append(ol)
    article.insert(0, contents)
    article.insert(0, title)

    soup.head.append(_new(soup, "style", CSS.read_text(), id="print-book-css"))
    out = src_dir / "print.html"
    out.write_text(str(soup), encoding="utf-8")
    counts = {"chapters": sum(k == "chapter" for k, *_ in toc), "parts": len(captions),
              "toc_entries": len(toc), "solutions": n_solutions,
              "html_images": len(article.find_all("img")),
              "html_figures": len(article.find_all("figure"))}
    return out, counts


def _chapter_index(article: Tag):
    """A function giving the index of the chapter (innermost print-chapter) a tag is in."""
    chapters = article.select("section.print-chapter")
    index = {id(c): k for k, c in enumerate(chapters)}

    def chapter_of(tag: Tag) -> int:
        node = tag if id(tag) in index else tag.find_parent(lambda t: id(t) in index)
        return index[id(node)] if node is not None else -1
    return chapter_of


def _unique_ids(soup: BeautifulSoup, article: Tag) -> None:
    """Make ids unique across chapters, and point each link at the element it meant.

    Each chapter was a page of its own: several have a section ``summary`` and citations
    ``id3``; in one page the browser (and the PDF's destinations) would find only the first.
    A citation links to the bibliography's entry; any other link to an id its own chapter has
    goes there, else to the first element with that id.
    """
    chapter_of = _chapter_index(article)
    count = Counter(t["id"] for t in soup.find_all(id=True))
    taken = set(count)
    renamed: dict[tuple[int, str], str] = {}
    first: dict[str, str] = {}
    entry: dict[str, str] = {}  # old id -> new id of a bibliography entry
    for tag in soup.find_all(id=True):
        old = tag["id"]
        if count[old] < 2:
            continue
        key = (chapter_of(tag), old)
        new = f"c{key[0]}-{old}"
        while new in taken:
            new += "-"
        taken.add(new)
        renamed.setdefault(key, new)
        first.setdefault(old, new)
        if tag.get("role") == "doc-biblioentry":
            entry[old] = new
        tag["id"] = new
    for a in soup.find_all("a", href=True):
        old = a["href"][1:]
        if not a["href"].startswith("#") or count[old] < 2:
            continue
        if old in entry and a.find_parent(class_="bibtex-citation") is not None:
            a["href"] = "#" + entry[old]
        else:
            a["href"] = "#" + renamed.get((chapter_of(a), old), first[old])


def _contents(article: Tag) -> list[tuple[str, str, str]]:
    """(kind, id, text) of each part, chapter and (outside the introduction) section."""
    toc = []
    for el in article.select("div.print-part-page, section.print-chapter"):
        if el.name == "div":
            toc.append(("part", el["id"], el["data-toc"]))
            continue
        toc.append(("chapter", el["id"], _text(el.find(["h2"]))))
        if "print-intro" in el["class"]:
            continue
        for sub in el.find_all("section", recursive=False):
            h3 = sub.find("h3")
            if h3 is not None and sub.get("id"):
                toc.append(("section", sub["id"], _text(h3)))
    return toc


def _gather_solutions(soup: BeautifulSoup, article: Tag) -> int:
    """Move every exercise solution into an appendix before the bibliography."""
    solutions = article.select("div.solution")
    if not solutions:
        return 0
    appendix = _new(soup, "section", class_="print-chapter", id="print-solutions")
    appendix.append(_new(soup, "h2", "Solutions to the exercises"))
    by_chapter: dict[str, Tag] = {}
    for sol in solutions:
        chapter = sol.find_parent("section", class_="print-chapter")
        name = _text(chapter.find("h2")) if chapter else ""
        if name not in by_chapter:
            by_chapter[name] = _new(soup, "section", id=f"print-solutions-{len(by_chapter) + 1}")
            by_chapter[name].append(_new(soup, "h3", f"Chapter {name}"))
            appendix.append(by_chapter[name])
        sol["class"] = [c for c in sol.get("class", []) if c not in ("dropdown", "toggle")]
        by_chapter[name].append(sol.extract())
    bibliography = article.find("section", id="bibliography")
    if bibliography is None:
        raise SystemExit("print_book: no section 'bibliography' to put the solutions before")
    bibliography.insert_before(appendix)
    return len(solutions)


FILL_CONTENTS_JS = r"""
((pages) => {
  let found = 0;
  for (const span of document.querySelectorAll('#print-contents .toc-page')) {
    const page = pages[span.dataset.target];
    span.textContent = page ? String(page) : '';
    found += page ? 1 : 0;
  }
  return found;
})
"""
# A tagged PDF (for screen readers) is needed for the outline (the reader's bookmarks).
PRINT_OPTIONS = {"printBackground": True, "preferCSSPageSize": True, "displayHeaderFooter": True,
                 "headerTemplate": "<div></div>", "footerTemplate": FOOTER,
                 "generateTaggedPDF": True, "generateDocumentOutline": True}


def print_pdf(html: Path, pdf: Path, chromium: str) -> dict:
    """Print ``html`` (served with its folder) to ``pdf`` in Chromium; return what it saw.

    Printed twice in the same page: the first PDF tells on which page each contents entry
    starts, the numbers are written into the contents, and the page is printed again.
    """
    server, base = serve(html.parent)
    browser = Chromium(chromium)
    browser.local_prefix = base
    pdf.parent.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.monotonic()
        browser.ws.settimeout(900)
        browser.send("Page.enable")
        browser.send("Fetch.enable", patterns=[{"urlPattern": "*"}])
        browser.send("Page.navigate", url=base + html.name)
        browser.wait_for("Page.loadEventFired", 600)
        browser.ws.settimeout(900)
        result = browser.send("Runtime.evaluate", expression=READY_JS, awaitPromise=True,
                              returnByValue=True)
        if "exceptionDetails" in result:
            raise SystemExit(f"print_book: the page failed: {result['exceptionDetails']}")
        seen = result["result"]["value"]
        external = [e["url"] for e in browser.events if e.get("method") == "external"]
        if external:
            raise SystemExit(f"print_book: the page asked for other hosts: {external[:5]}")
        t1 = time.monotonic()
        # (Untagged and without outline: quicker, and only its page numbers are used.)
        draft = {**PRINT_OPTIONS, "generateTaggedPDF": False, "generateDocumentOutline": False}
        pdf.write_bytes(base64.b64decode(browser.send("Page.printToPDF", **draft)["data"]))
        t2 = time.monotonic()
        targets = browser.send("Runtime.evaluate", returnByValue=True, expression=(
            "[...document.querySelectorAll('#print-contents .toc-page')]"
            ".map(s => s.dataset.target)"))["result"]["value"]
        dests = destinations(pdf)
        numbers = {t: dests[t] for t in targets if t in dests}
        browser.send("Runtime.evaluate", returnByValue=True,
                     expression=f"{FILL_CONTENTS_JS}({json.dumps(numbers)})")
        pdf.write_bytes(base64.b64decode(browser.send("Page.printToPDF", **PRINT_OPTIONS)["data"]))
        t3 = time.monotonic()
    finally:
        browser.close()
        server.shutdown()
    final = destinations(pdf)
    seen.update(toc_entries_numbered=len(numbers), toc_entries=len(targets),
                toc_pages_stable=all(final.get(t) == p for t, p in numbers.items()),
                seconds_load_and_typeset=round(t1 - t0, 1), seconds_first_print=round(t2 - t1, 1),
                seconds_second_print=round(t3 - t2, 1))
    return seen


def destinations(pdf: Path) -> dict[str, int]:
    """The page of every named destination (an element id) in ``pdf``, from ``pdfinfo -dests``."""
    out = subprocess.run(["pdfinfo", "-dests", str(pdf)], check=True, capture_output=True,
                         text=True).stdout
    pages = {}
    for line in out.splitlines()[1:]:
        m = re.match(r'\s*(\d+)\s+\[.*\]\s+"(.*)"\s*$', line)
        if m:
            pages.setdefault(m.group(2), int(m.group(1)))
    return pages


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("singlehtml", nargs="?", default="_build/singlehtml", type=Path)
    ap.add_argument("-o", "--output", default="_build/pdf/book.pdf", type=Path)
    ap.add_argument("--chromium", default=os.environ.get("CHROMIUM", "chromium"))
    args = ap.parse_args(argv)
    for tool in (args.chromium, "pdfinfo"):
        if shutil.which(tool) is None:
            print(f"print_book: {tool!r} not found; `make pdf-deps` installs it "
                  "(apt: chromium, poppler-utils)", file=sys.stderr)
            return 1
    t0 = time.monotonic()
    html, counts = make_print_html(args.singlehtml, ROOT / "_toc.yml", ROOT / "_config.yml")
    counts["seconds_prepare"] = round(time.monotonic() - t0, 1)
    seen = print_pdf(html, args.output, args.chromium)
    counts.update(seen)
    info = subprocess.run(["pdfinfo", str(args.output)], capture_output=True, text=True).stdout
    n_pages = re.search(r"^Pages:\s+(\d+)", info, re.M)
    counts["pages"] = int(n_pages.group(1)) if n_pages else 0
    counts["megabytes"] = round(args.output.stat().st_size / 1e6, 1)
    args.output.with_suffix(".json").write_text(json.dumps(counts, indent=1) + "\n")
    print(f"print_book: {args.output}: {counts['pages']} pages, {counts['megabytes']} MB; "
          f"{seen['typeset']} formulas typeset, {seen['images']} images, "
          f"{counts['solutions']} solutions in the appendix; "
          f"{seen['toc_entries_numbered']}/{seen['toc_entries']} contents entries numbered")
    print(f"print_book: seconds: prepare {counts['seconds_prepare']}, load and typeset "
          f"{seen['seconds_load_and_typeset']}, print {seen['seconds_first_print']} + "
          f"{seen['seconds_second_print']} (with the page numbers in the contents)")
    problems = ([f"{seen['untypeset']} formulas not typeset"] * bool(seen["untypeset"])
                + [f"{seen['mathErrors']} MathJax errors"] * bool(seen["mathErrors"])
                + [f"images that did not load: {seen['badImages'][:5]}"] * bool(seen["badImages"])
                + ["contents page numbers moved when written in"] * (not seen["toc_pages_stable"]))
    for p in problems:
        print(f"print_book: FAIL {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
