"""Check the PDF of the book (``make pdf``) against the built HTML book, with poppler-utils.

Usage:  python scripts/pdf_check.py [_build/pdf/book.pdf] [--html _build/html]
                                    [--pages-png _build/pdf/pages]

Fails unless

* the page count is sane for the amount of text: between 150 and 700 words a page;
* the math is typeset: no raw TeX (``\\(``, ``$$``, ``$x$``, ``\\frac``, ``\\mathbf``, ...) in the
  PDF's text layer, except inside code that the book shows (compared with its code blocks);
* every figure is there: at least as many images in the PDF (``pdfimages -list``) as the HTML
  book shows (not counting cells hidden behind a toggle, which the PDF leaves out), and every
  figure number (``Fig. 7.1``) and equation number (``(7.1)``) of the HTML book in its text;
* a contents lists every chapter in its first pages, the PDF has an outline (bookmarks), and the
  bibliography is there with every entry of the HTML book's bibliography.

It renders a few pages (title, contents, a part page, a chapter, a page with a figure) to PNG
(``pdftoppm``) for a person to look at.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

from bs4 import BeautifulSoup

WORDS_PER_PAGE = (150, 700)
RAW_TEX = re.compile(r"\\[()\[\]]|\$\$|\$[^$\s][^$\n]{0,80}\$|\\(frac|mathbf|mathrm|boldsymbol|"
                     r"operatorname|partial|sigma|odot|tanh|sum|prod|left|right|begin|end|cdot|"
                     r"lVert|rVert|top|in|mathcal|hat|tilde|sqrt|log|exp|quad)\b")


def run(*cmd: str) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def html_facts(html_dir: Path) -> dict:
    """What the HTML book has: words, images, figure and equation numbers, chapters, citations,
    and the text of its code blocks."""
    facts = {"words": 0, "images": set(), "figures": set(), "equations": set(), "chapters": [],
             "citations": [], "code": []}
    for page in sorted((html_dir / "book").glob("*.html")):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        article = soup.select_one("article.bd-article")
        if article is None:
            continue
        facts["words"] += len(article.get_text(" ").split())
        # (Not those in a cell hidden behind a toggle: the PDF leaves such cells out.)
        facts["images"] |= {Path(i["src"]).name for i in article.find_all("img", src=True)
                            if i.find_parent("details", class_="hide") is None}
        facts["figures"] |= {s.get_text().strip() for s in article.select("span.caption-number")
                             if s.get_text().strip().startswith("Fig.")}
        facts["equations"] |= {m.group(0) for s in article.select("span.eqno")
                               if (m := re.search(r"\(\S+?\)", s.get_text()))}
        for h in article.select("section > h1, section.print-chapter > h2, "
                                "div.toctree-wrapper > section > h2"):
            facts["chapters"].append(" ".join(h.get_text().replace("#", "").split()))
        for c in article.select("div.citation span.label"):
            facts["citations"].append(" ".join(c.get_text().strip("[] \n").split()))
        facts["code"] += [" ".join(p.get_text().split()) for p in article.find_all("pre")]
    return facts


def check(pdf: Path, html_dir: Path, png_dir: Path | None) -> list[str]:
    facts = html_facts(html_dir)
    info = run("pdfinfo", str(pdf))
    n_pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    pages = run("pdftotext", "-enc", "UTF-8", str(pdf), "-").split("\f")
    text = "\n".join(pages)
    flat = " ".join(text.split())
    problems = []

    lo, hi = facts["words"] // WORDS_PER_PAGE[1], facts["words"] // WORDS_PER_PAGE[0]
    if not lo <= n_pages <= hi:
        problems.append(f"{n_pages} pages for {facts['words']} words of HTML text "
                        f"(expected {lo}–{hi})")

    code = "\n".join(facts["code"])
    raw = [line.strip() for line in text.splitlines()
           if RAW_TEX.search(line) and " ".join(line.split()) not in code]
    problems += [f"raw TeX in the text layer: {line[:100]!r}" for line in raw[:10]]

    listed = run("pdfimages", "-list", str(pdf)).splitlines()[2:]
    n_images = sum(1 for row in listed if row.split()[2] == "image")
    if n_images < len(facts["images"]):
        problems.append(f"{n_images} images in the PDF, {len(facts['images'])} in the HTML book")
    missing = sorted(f for f in facts["figures"] if f + " " not in flat + " ")
    problems += [f"figure {f} is not in the PDF" for f in missing[:10]]
    missing = sorted(e for e in facts["equations"] if e not in flat)
    problems += [f"equation {e} is not in the PDF" for e in missing[:10]]

    front = " ".join(" ".join(pages[:8]).split())
    if "Contents" not in front:
        problems.append("no 'Contents' in the first 8 pages")
    problems += [f"chapter {c!r} is not in the contents" for c in facts["chapters"]
                 if c not in front][:10]
    if b"/Outlines" not in pdf.read_bytes():
        problems.append("the PDF has no outline (bookmarks)")
    tail = " ".join(" ".join(pages[len(pages) // 2:]).split())
    if "Bibliography" not in tail:
        problems.append("no 'Bibliography' in the second half of the PDF")
    problems += [f"bibliography entry {c!r} is not in the PDF" for c in facts["citations"]
                 if c not in tail][:10]

    if png_dir is not None:
        shots = [1, 2, 9, 10, *_first_page_with(pages, re.compile(r"^Fig\. \d+\.\d+", re.M))]
        png_dir.mkdir(parents=True, exist_ok=True)
        for old in png_dir.glob("page-*.png"):
            old.unlink()
        for p in sorted(set(shots)):
            if p <= n_pages:
                run("pdftoppm", "-r", "60", "-png", "-f", str(p), "-l", str(p), str(pdf),
                    str(png_dir / "page"))

    print(f"pdf check: {pdf}: {n_pages} pages, {pdf.stat().st_size / 1e6:.1f} MB; "
          f"{facts['words']} words in the HTML book; {n_images} images in the PDF for "
          f"{len(facts['images'])} in the HTML; {len(facts['figures'])} figure and "
          f"{len(facts['equations'])} equation numbers, {len(facts['chapters'])} chapters, "
          f"{len(facts['citations'])} bibliography entries looked for"
          + (f"; pages as PNG in {png_dir}" if png_dir else ""))
    return problems


def _first_page_with(pages: list[str], pattern: re.Pattern) -> list[int]:
    return [k + 1 for k, p in enumerate(pages) if pattern.search(p)][:1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pdf", nargs="?", default="_build/pdf/book.pdf", type=Path)
    ap.add_argument("--html", default="_build/html", type=Path,
                    help="the built HTML book to compare with (default: _build/html)")
    ap.add_argument("--pages-png", default=None, type=Path)
    args = ap.parse_args(argv)
    for tool in ("pdfinfo", "pdftotext", "pdfimages", "pdftoppm"):
        if shutil.which(tool) is None:
            print(f"pdf check: {tool} not found; install poppler-utils (make pdf-deps)",
                  file=sys.stderr)
            return 1
    if not args.pdf.is_file():
        print(f"pdf check: {args.pdf} not found; build it with `make pdf`", file=sys.stderr)
        return 1
    problems = check(args.pdf, args.html, args.pages_png)
    for p in problems:
        print(f"FAIL {p}")
    print(f"pdf check: {'FAILED' if problems else 'passed'}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
