"""The book's repository address, read from the one place it is set: ``_config.yml``.

``repository.url`` in ``_config.yml`` drives the HTML book's repository and launch buttons; the
package metadata (``setup.py``: project URLs) and the notebooks' bootstrap cell
(``scripts/insert_bootstrap.py``) read it from here too, so the address is never typed twice.
While it is a placeholder (``example-org``, ``example.com``, ...) every reader gets ``None`` and
leaves the address out: no dead link anywhere.

Standard library only (it runs inside ``pip``'s isolated build of the wheel, where there is no
PyYAML): the two keys are read with a small parser of the ``repository:`` block.

Usage:  python scripts/repo_address.py    prints the address, or says it is a placeholder.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["is_placeholder", "placeholder_links", "placeholder_reason", "read_repository",
           "repository_url"]

ROOT = Path(__file__).resolve().parents[1]

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

_URL_RE = re.compile(r"""https?://[^\s"'<>()\\]+""")



def read_repository(config: Path | None = None) -> dict[str, str]:
    """The scalar keys of the top-level ``repository:`` block of ``_config.yml`` (as strings).

    Returns an empty dict if the file or the block is absent.
    """
    config = ROOT / "_config.yml" if config is None else Path(config)
    if not config.is_file():
        return {}
    keys: dict[str, str] = {}
    inside = False
    for line in config.read_text(encoding="utf-8").splitlines():
        if re.match(r"^repository:\s*(#.*)?$", line):
            inside = True
            continue
        if inside:
            if line.strip() == "" or line.lstrip().startswith("#"):
                continue
            if not line.startswith((" ", "\t")):
                break  # the next top-level key
            m = re.match(r"^\s+([A-Za-z_]+):\s*(.*?)\s*(#.*)?$", line)
            if m:
                keys[m.group(1)] = m.group(2).strip("'\"")
    return keys


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

    A real address is ``https://host/owner/name`` (no template brackets) on a host that is not
    reserved for examples, and, on a known forge (GitHub, GitLab, ...), with an owner that is not
    a stand-in.
    """
    if url is None or not str(url).strip():
        return "no address set"
    if any(c in str(url) for c in "<>{}"):
        return f"a template, not an address: {url!r}"
    parts = urlsplit(str(url).strip())
    if parts.scheme != "https" or not parts.hostname:
        return f"not an https address: {url!r}"
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


def is_placeholder(url: str | None) -> bool:
    """True if ``url`` is not a real public repository address (see :func:`placeholder_reason`)."""
    return placeholder_reason(url) is not None


def repository_url(config: Path | None = None) -> str | None:
    """The repository's public address (no trailing slash or ``.git``), or ``None`` if unset or
    a placeholder."""
    url = read_repository(config).get("url", "").rstrip("/").removesuffix(".git")
    return None if is_placeholder(url) else url


def main() -> int:
    repo = read_repository()
    url = repository_url()
    if url is None:
        print(f"_config.yml: repository.url is not a real address yet "
              f"({repo.get('url') or 'unset'!r}); links to it are left out")
        return 1
    print(url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
