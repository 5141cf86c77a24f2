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

``placeholder_reason`` and ``placeholder_links`` are shared with ``scripts/browser_check.py``,
which fails on any link to a placeholder address in the built pages.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

LOGGER = logging.getLogger(__name__)

# Hosts reserved for examples and tests (RFC 2606, RFC 6761) or that are not public.
PLACEHOLDER_HOSTS = {"example.com", "example.org", "example.net", "example.edu",
                     "localhost", "127.0.0.1", "0.0.0.0"}
PLACEHOLDER_SUFFIXES = (".example", ".invalid", ".test", ".localhost", ".example.com",
                        ".example.org", ".example.net")
# Owners on a code forge that templates and tutorials use as stand-ins.
FORGES = {"github.com", "gitlab.com", "bitbucket.org", "codeberg.org"}
PLACEHOLDER_OWNERS = {"example", "example-org", "example-user", "your-org", "your-name",
                      "your-username", "yourname", "yourusername", "username", "user", "owner",
                      "org", "organization", "my-org", "myorg", "me", "todo", "xxx"}

# Theme options that make a button from the repository address.
REPOSITORY_BUTTONS = ("use_repository_button", "use_issues_button", "use_source_button",
                      "use_edit_page_button")

_URL_RE = re.compile(r"""https?://[^\s"'<>()\\]+""")


def _host_reason(host: str) -> str | None:
    host = host.lower().rstrip(".")
    if host in PLACEHOLDER_HOSTS or host.endswith(PLACEHOLDER_SUFFIXES):
        return f"placeholder host {host!r}"
    return None


def _owner_reason(host: str, path: str) -> str | None:
    if host.lower() not in FORGES:
        return None
    parts = [p for p in path.split("/") if p]
    if parts:
        owner = parts[0].lower()
        if owner in PLACEHOLDER_OWNERS or "example" in owner:
            return f"placeholder owner {owner!r} on {host}"
    return None


def placeholder_reason(url: str | None) -> str | None:
    """Why ``url`` is not a real public repository address, or None if it looks like one.

    A real address is ``http(s)://host/owner/name`` on a host that is not reserved for examples,
    and, on a known forge (GitHub, GitLab, ...), with an owner that is not a stand-in.
    """
    if url is None or not str(url).strip():
        return "no address set"
    parts = urlsplit(str(url).strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"not an http(s) address: {url!r}"
    reason = _host_reason(parts.hostname) or _owner_reason(parts.hostname, parts.path)
    if reason:
        return reason
    if parts.hostname.lower() in FORGES and len([p for p in parts.path.split("/") if p]) < 2:
        return f"not an owner/name repository address: {url!r}"
    return None


def placeholder_links(html: str) -> list[str]:
    """Every distinct http(s) URL in ``html`` whose host or forge owner is a placeholder."""
    found = []
    for url in dict.fromkeys(_URL_RE.findall(html)):
        parts = urlsplit(url)
        if parts.hostname and (_host_reason(parts.hostname)
                               or _owner_reason(parts.hostname, parts.path)):
            found.append(url)
    return found


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
