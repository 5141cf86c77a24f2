"""Author–year labels in the bibliography (a Sphinx extension, loaded from _config.yml).

The chapters cite with sphinxcontrib-bibtex's ``author_year`` reference style, "Elman (1990)" and
"(Hochreiter and Schmidhuber, 1997)". Pybtex's own formatting styles label the list itself with
numbers ("[1]") or alpha keys ("[HS97]"); this module registers the pybtex formatting style
``author_year``, pybtex's ``plain`` (entries sorted by author, year and title) with labels in the
text's form: "[Elman, 1990]", "[Hochreiter and Schmidhuber, 1997]", "[Cho et al., 2014]". Two works
that would get the same label are told apart by a letter after the year ("2014a", "2014b") in the
list; the citations in the text show author and year only.

Set with ``bibtex_default_style: author_year`` in the Sphinx configuration.
"""

from __future__ import annotations

from collections import Counter

from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle


def _surname(person) -> str:
    """The surname as printed: von-part and last name, LaTeX accents decoded ("von Brecht",
    "Natschläger")."""
    return Text.from_latex(" ".join(person.prelast_names + person.last_names)).render_as("text")


def author_year_label(entry) -> str:
    persons = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [_surname(p) for p in persons]
    if not names:
        who = Text.from_latex(entry.fields.get("organization", entry.key)).render_as("text")
    elif len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al."
    return f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearLabelStyle(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        entries = list(sorted_entries)
        labels = [author_year_label(e) for e in entries]
        count, seen = Counter(labels), Counter()
        for label in labels:
            if count[label] > 1:
                seen[label] += 1
                yield label + "abcdefghijklmnopqrstuvwxyz"[seen[label] - 1]
            else:
                yield label


class AuthorYearStyle(PlainStyle):
    default_sorting_style = "author_year_title"
    default_label_style = AuthorYearLabelStyle


register_plugin("pybtex.style.labels", "author_year", AuthorYearLabelStyle)
register_plugin("pybtex.style.formatting", "author_year", AuthorYearStyle)


def setup(app):
    return {"parallel_read_safe": True, "parallel_write_safe": True}
