"""Sphinx extension: repository, issue and launch buttons only for a real repository address.

``repository.url`` in ``_config.yml`` is the one place where the book's public address is set;
Jupyter Book turns it into ``html_theme_options["repository_url"]``, from which the theme builds
the "Repository" and "Open issue" buttons of every page and the Binder/Colab launch buttons of
every chapter. While that address is a placeholder (empty, ``example.com``, a forge owner such as
``example-org``), those buttons would be dead links: a dead button is worse than none. So when the
configuration is read, this extension checks the address and, if it is a placeholder, switches
off every button that would use it (repository, issues, source, edit, and all launch buttons),
and says so once in the build log. Set a real address in ``_config.yml`` and the buttons come
back as configured there; nothing else needs to change.

The rules for what counts as a placeholder live in ``scripts/repo_address.py`` (standard library
only, so that ``setup.py`` and the bootstrap cell's inserter use the same rules);
``placeholder_reason`` and ``placeholder_links`` are re-exported here for
``scripts/browser_check.py``, which fails on any link to a placeholder address in the built pages.
"""

from __future__ import annotations

import sys
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

sys.path.insert(0, str(Path(__file__).resolve().parent))
from repo_address import placeholder_links, placeholder_reason  # noqa: E402  (scripts/, shared)

__all__ = ["placeholder_links", "placeholder_reason", "setup", "switch_off_if_placeholder"]

LOGGER = logging.getLogger(__name__)

# Theme options that make a button from the repository address.
REPOSITORY_BUTTONS = ("use_repository_button", "use_issues_button", "use_source_button",
                      "use_edit_page_button")

def switch_off_if_placeholder(app: Sphinx, config: Config) -> None:
    """``config-inited``: with a placeholder address, no button that would point to it."""
    options = dict(config.html_theme_options or {})
    url = options.get("repository_url", "")
    reason = placeholder_reason(url)
    if reason is None:
        return
    for key in REPOSITORY_BUTTONS:
        options[key] = False
    options["repository_url"] = ""
    options["launch_buttons"] = {}
    config.html_theme_options = options
    LOGGER.info(f"repository_buttons: repository.url in _config.yml ({url!r}) is a placeholder "
                f"({reason}); the repository, issue and launch buttons are off until it is a "
                f"real public address")


def setup(app: Sphinx) -> dict:
    # Before sphinx-book-theme reads the options (its handlers run at the default priority 500).
    app.connect("config-inited", switch_off_if_placeholder, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
