"""The repository address is set in one place and no button points to a placeholder.

scripts/repository_buttons.py (a Sphinx extension of the book) switches the repository, issue and
launch buttons off while ``repository.url`` in ``_config.yml`` is a placeholder. Tested on the
address rules, on the configuration hook, and end to end on a one-notebook Sphinx project built
with the book's theme: no button with a placeholder address, all of them with a real one.
"""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"


@pytest.fixture(scope="module")
def ext():
    spec = importlib.util.spec_from_file_location("repository_buttons",
                                                  SCRIPTS / "repository_buttons.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("url", [
    "", None, "   ", "https://github.com/example-org/rnn-gru-book",
    "https://github.com/Example-Org/rnn-gru-book/", "https://github.com/your-org/book",
    "https://github.com/my-example/book", "https://example.com/book", "http://www.example.org/x",
    "https://git.example/book", "https://books.invalid/a/b", "https://github.com/",
    "https://github.com/gru-lib", "git@github.com:someone/book.git", "github.com/someone/book",
])
def test_placeholders_are_recognised(ext, url):
    assert ext.placeholder_reason(url) is not None


@pytest.mark.parametrize("url", [
    "https://github.com/gru-lib-authors/rnn-gru-book",
    "https://gitlab.com/someone/rnn-book", "https://git.university.edu/group/rnn-book",
])
def test_real_addresses_are_accepted(ext, url):
    assert ext.placeholder_reason(url) is None


def test_placeholder_links_finds_each_bad_url_once(ext):
    html = ('<a href="https://github.com/example-org/rnn-gru-book">r</a>'
            '<a href="https://github.com/example-org/rnn-gru-book">again</a>'
            '<a href="https://mybinder.org/v2/gh/example-org/rnn-gru-book/main?urlpath=x">b</a>'
            "<a href='https://www.example.com/a'>e</a>"
            '<a href="https://github.com/gru-lib-authors/rnn-gru-book">fine</a>'
            '<a href="https://doi.org/10.3115/v1/D14-1179">fine</a>')
    assert ext.placeholder_links(html) == ["https://github.com/example-org/rnn-gru-book",
                                           "https://www.example.com/a"]


def _theme_options(url):
    return {"repository_url": url, "use_repository_button": True, "use_issues_button": True,
            "launch_buttons": {"binderhub_url": "https://mybinder.org",
                               "colab_url": "https://colab.research.google.com",
                               "notebook_interface": "jupyterlab"}}


def test_hook_switches_every_button_off_for_a_placeholder(ext):
    config = SimpleNamespace(html_theme_options=_theme_options("https://github.com/example-org/x"))
    ext.switch_off_if_placeholder(None, config)
    opts = config.html_theme_options
    assert opts["repository_url"] == "" and opts["launch_buttons"] == {}
    assert not any(opts[k] for k in ext.REPOSITORY_BUTTONS)


def test_hook_leaves_a_real_address_alone(ext):
    options = _theme_options("https://github.com/gru-lib-authors/rnn-gru-book")
    config = SimpleNamespace(html_theme_options=json.loads(json.dumps(options)))
    ext.switch_off_if_placeholder(None, config)
    assert config.html_theme_options == options


def test_the_book_config_uses_the_extension_and_sets_the_address_once():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["sphinx"]["local_extensions"]["repository_buttons"] == "scripts/"
    assert "url" in config["repository"]
    # The launch buttons take the repository from repository.url, never an address of their own.
    assert not any("github" in str(v) for v in config["launch_buttons"].values())


NOTEBOOK = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# A chapter\n"]}],
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                        "language": "python"}},
            "nbformat": 4, "nbformat_minor": 5}


def _build(tmp_path: Path, url: str) -> str:
    src = tmp_path / "src"
    src.mkdir()
    (src / "index.ipynb").write_text(json.dumps(NOTEBOOK))
    (src / "conf.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(SCRIPTS)!r})\n"
        "extensions = ['myst_nb', 'repository_buttons']\n"
        "html_theme = 'sphinx_book_theme'\n"
        "nb_execution_mode = 'off'\n"
        f"html_theme_options = {_theme_options(url)!r}\n")
    out = tmp_path / "html"
    subprocess.run([sys.executable, "-m", "sphinx", "-q", "-b", "html", str(src), str(out)],
                   check=True, capture_output=True, text=True, timeout=300)
    return (out / "index.html").read_text()


@pytest.mark.parametrize("url, shown", [
    ("https://github.com/example-org/rnn-gru-book", False),
    ("https://github.com/gru-lib-authors/rnn-gru-book", True),
])
def test_built_page_has_buttons_only_for_a_real_address(ext, tmp_path, url, shown):
    html = _build(tmp_path, url)
    assert ext.placeholder_links(html) == []
    for needle in (f'href="{url}"', f"{url}/issues/new", "https://mybinder.org/v2/gh/",
                   "https://colab.research.google.com/github/"):
        assert (needle in html) == shown, needle
