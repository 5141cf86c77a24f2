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
from urllib.parse import urlparse

__all__ = ["PLACEHOLDER_MARKERS", "is_placeholder", "read_repository", "repository_url"]

ROOT = Path(__file__).resolve().parents[1]

# Words that only a template address contains. A real address contains none of them.
PLACEHOLDER_MARKERS = ("example", "your-", "your_", "username", "<", ">", "todo", "changeme",
                       "placeholder")


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


def is_placeholder(url: str | None) -> bool:
    """True if ``url`` is empty, not an ``https://`` address with a host, or a template."""
    if not url:
        return True
    parsed = urlparse(url)
    if parsed.scheme != "https" or not parsed.netloc:
        return True
    low = url.lower()
    return any(marker in low for marker in PLACEHOLDER_MARKERS)


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
