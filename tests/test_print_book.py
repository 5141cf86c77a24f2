"""The PDF's print page and its check, on a small hand-made single-page build.

scripts/print_book.py turns Sphinx's single-page build into the page Chromium prints; these tests
check that transformation (title page, contents, part pages, solutions appendix, unique ids,
citations pointing at the bibliography, no site chrome) without a browser. scripts/pdf_check.py's
raw-TeX rule and its reading of the HTML book are tested here too; the real PDF is built and
checked by `make pdf-check`, a stage of `make test`.
"""

import importlib.util
import sys
from collections import Counter
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"

PAGE = """<!DOCTYPE html><html><head><title>t</title></head><body>
<a id="pst-skip-link" href="#main-content">Skip</a>
<header class="bd-header"><a href="https://example.invalid/nav">nav</a></header>
<div class="bd-sidebar-primary"><a href="#document-book/ch1">1. One</a></div>
<main id="main-content"><article class="bd-article">
<section id="the-book"><h1>The Book<a class="headerlink" href="#the-book">#</a></h1>
<p>Read <a class="reference internal" href="book/intro.html#ch-one">chapter one</a>.</p>
<section id="about"><h2>About</h2><p>Intro text.</p></section>
<div class="toctree-wrapper compound">
<span id="document-book/ch1"></span><section id="one"><span id="ch-one"></span>
<h2><span class="section-number">1. </span>One<a class="headerlink" href="#one">#</a></h2>
<p>As <span class="bibtex-citation" id="id2">Elman [<a class="reference internal"
  href="book/intro.html#id1">1990</a>]</span> showed.</p>
<section id="summary"><h3><span class="section-number">1.1. </span>Summary</h3>
<p>See <a href="book/intro.html#summary">the summary</a>.</p></section>
<section id="exercises"><h3><span class="section-number">1.2. </span>Exercises</h3>
<div class="exercise admonition" id="ex-one"><p class="admonition-title">Exercise 1.1</p></div>
<div class="solution dropdown admonition" id="sol-one"><p class="admonition-title">Solution</p>
<p>Answer one.</p></div></section>
</section>
<span id="document-book/ch2"></span><section id="two">
<h2><span class="section-number">2. </span>Two<a class="headerlink" href="#two">#</a></h2>
<section id="summary"><h3><span class="section-number">2.1. </span>Summary</h3>
<p>See <a href="book/intro.html#summary">the summary</a>.</p></section>
</section></div>
<div class="toctree-wrapper compound">
<span id="document-book/bibliography"></span><section id="bibliography"><h2>Bibliography</h2>
<div class="citation-list"><div class="citation" id="id1" role="doc-biblioentry">
<span class="label">1</span><p>Jeffrey L. Elman. Finding structure in time. 1990.</p></div>
</div></section></div>
</section></article></main>
<footer class="bd-footer">footer</footer></body></html>"""

TOC = """format: jb-book
root: book/intro
parts:
  - caption: "Part I: The first part"
    numbered: true
    chapters: [{file: book/ch1}, {file: book/ch2}]
  - caption: Appendices
    chapters: [{file: book/bibliography}]
"""


def _load(name):
    sys.path.insert(0, str(SCRIPTS))  # print_book imports browser_check from scripts/
    try:
        spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(SCRIPTS))
    return module


@pytest.fixture(scope="module")
def printed(tmp_path_factory):
    root = tmp_path_factory.mktemp("singlehtml")
    (root / "book").mkdir()
    (root / "book" / "intro.html").write_text(PAGE)
    (root / "_toc.yml").write_text(TOC)
    (root / "_config.yml").write_text('title: "The Book"\nauthor: The authors\ncopyright: "2026"\n')
    out, counts = _load("print_book").make_print_html(root, root / "_toc.yml",
                                                      root / "_config.yml")
    return BeautifulSoup(out.read_text(), "html.parser"), counts


def test_title_page_and_numbered_contents_come_first(printed):
    soup, counts = printed
    article = soup.select_one("article")
    first, second = article.find_all(recursive=False)[:2]
    assert first["class"] == ["print-title-page"] and first.h1.get_text() == "The Book"
    assert second["id"] == "print-contents"
    entries = [(li["class"][0], li.select_one(".toc-title").get_text())
               for li in second.select("li")]
    assert entries == [
        ("toc-chapter", "Introduction"), ("toc-part", "Part I: The first part"),
        ("toc-chapter", "1. One"), ("toc-section", "1.1. Summary"),
        ("toc-section", "1.2. Exercises"), ("toc-chapter", "2. Two"),
        ("toc-section", "2.1. Summary"), ("toc-part", "Appendices"),
        ("toc-chapter", "Solutions to the exercises"), ("toc-section", "Chapter 1. One"),
        ("toc-chapter", "Bibliography")]
    targets = [a["href"][1:] for a in second.select("a")]
    assert all(soup.find(id=t) is not None for t in targets)
    assert counts["chapters"] == 5 and counts["parts"] == 2 and counts["solutions"] == 1


def test_part_page_sits_right_before_its_first_chapter(printed):
    soup, _ = printed
    part = soup.find(id="print-part-1")
    assert part.select_one(".print-part-number").get_text() == "Part I"
    assert part.h1.get_text() == "The first part"
    assert part.find_next_sibling()["id"] == "one"  # no anchor span in between (a blank page)
    assert "print-chapter" in soup.find(id="one")["class"]


def test_solutions_move_to_an_appendix_before_the_bibliography(printed):
    soup, _ = printed
    appendix = soup.find(id="print-solutions")
    assert appendix.find_next_sibling("section")["id"] == "bibliography"
    solution = appendix.select_one("div.solution")
    assert "dropdown" not in solution["class"] and "Answer one." in solution.get_text()
    assert appendix.h3.get_text() == "Chapter 1. One"
    assert soup.find(id="exercises").select("div.solution") == []


def test_ids_are_unique_and_links_go_where_they_meant(printed):
    soup, _ = printed
    assert max(Counter(t["id"] for t in soup.find_all(id=True)).values()) == 1
    citation = soup.select_one(".bibtex-citation a")
    assert soup.find(id=citation["href"][1:]).get("role") == "doc-biblioentry"
    for chapter in ("one", "two"):
        link = soup.find(id=chapter).find("a", string="the summary")
        target = soup.find(id=link["href"][1:])
        assert target.find_parent("section", class_="print-chapter")["id"] == chapter
    assert soup.find("a", string="chapter one")["href"] == "#ch-one"


def test_site_chrome_is_gone_and_the_print_style_is_in(printed):
    soup, _ = printed
    assert soup.select(".bd-header, .bd-sidebar-primary, .bd-footer, #pst-skip-link") == []
    assert "example.invalid" not in str(soup)
    assert "@page" in soup.find("style", id="print-book-css").get_text()
    assert soup.find(id="the-book").h2.get_text() == "Introduction"


@pytest.mark.parametrize("line, raw", [
    (r"the cell \(h_t = \tanh(W x_t)\)", True), ("$$ h_t = 0 $$", True),
    ("a state $h_t$ of size", True), (r"where \frac{1}{2} is", True), (r"\mathbf{x}", True),
    (r"\begin{aligned}", True), ("ℎ𝑡 = tanh(𝑊ℎℎℎ𝑡−1 + 𝑏)", False),
    ("equation (7.1) and Fig. 7.2", False), ("it costs 5 $ a month", False),
    ("x ∈ ℝ^D, σ(z) ⊙ h", False),
])
def test_raw_tex_rule(line, raw):
    assert bool(_load("pdf_check").RAW_TEX.search(line)) == raw


def test_html_facts_reads_figures_equations_chapters_and_citations(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "ch7.html").write_text(
        '<article class="bd-article"><section id="gru"><h1>7. The GRU<a class="headerlink">#</a>'
        '</h1><figure><img src="../_images/a.png"><figcaption><span class="caption-number">'
        'Fig. 7.1 </span></figcaption></figure><details class="admonition hide below-input">'
        '<img src="../_images/hidden.png"></details><div class="math"><span class="eqno">(7.1)'
        '<a class="headerlink">#</a></span></div><pre>plt.xlabel(r"$h_t$")</pre>'
        '</section></article>')
    (tmp_path / "book" / "bibliography.html").write_text(
        '<article class="bd-article"><section><h1>Bibliography</h1><div class="citation">'
        '<span class="label">[1]</span></div></section></article>')
    facts = _load("pdf_check").html_facts(tmp_path)
    assert facts["images"] == {"a.png"} and facts["figures"] == {"Fig. 7.1"}
    assert facts["equations"] == {"(7.1)"} and facts["citations"] == ["1"]
    assert facts["chapters"] == ["Bibliography", "7. The GRU"]
    assert facts["code"] == ['plt.xlabel(r"$h_t$")']
