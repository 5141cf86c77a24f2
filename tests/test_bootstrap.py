"""The notebooks' bootstrap cell (scripts/bootstrap_cell.py) and its inserter, offline.

The hosted path is simulated: ``COLAB_RELEASE_TAG`` set, a fresh virtual environment without
``gru_lib``, and "the repository" a git repository made in a temporary folder from the package's
files, addressed by a ``file://`` URL as the cell would address GitHub. The venv sees this
environment's site-packages *after* its own (a ``.pth`` file), so pip, setuptools and torch
2.13.0 are there and nothing is downloaded: the cell skips the torch download (the installed
torch is the pinned version) and pip builds and installs ``gru_lib`` from the repository without
build isolation (offline). What is not simulated: the download of the CPU torch from PyTorch's
index and of the corpus from PyPI (``GRU_LIB_DATA`` points at a stand-in corpus, so ``fetch``
finds it present).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import insert_bootstrap  # noqa: E402

sys.path.remove(str(ROOT / "scripts"))

PACKAGE_FILES = ["pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE",
                 "_config.yml", "scripts/repo_address.py"]
HOSTED_VARS = ("COLAB_RELEASE_TAG", "BINDER_SERVICE_HOST", "BINDER_REQUEST")


def _env(tmp: Path, **extra) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", *HOSTED_VARS)}
    env.update(HOME=str(tmp / "home"), PYTHONNOUSERSITE="1", PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


def _run_cell(python: Path, source: str, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    """Run the cell as a notebook would: its source executed in a fresh ``__main__`` namespace,
    followed by a report of the names it left behind."""
    code = (f"ns = {{'__name__': '__main__'}}\nexec(compile({source!r}, 'cell', 'exec'), ns)\n"
            "print('NAMES', sorted(k for k in ns if not k.startswith('__')))\n")
    return subprocess.run([str(python), "-c", code], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def _git_repo(dest: Path) -> str:
    """A git repository holding the package (the working tree's files), on branch main."""
    import shutil

    for rel in PACKAGE_FILES:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest / rel)
    shutil.copytree(ROOT / "gru_lib", dest / "gru_lib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    git = ["git", "-C", str(dest), "-c", "user.name=t", "-c", "user.email=t@localhost"]
    for cmd in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "package"]):
        subprocess.run([*git, *cmd], check=True, capture_output=True)
    # file://localhost/...: pip's PEP 508 parser refuses a file URL without a host.
    return "file://localhost" + dest.as_posix()


def test_locally_the_cell_does_nothing_and_prints_nothing(tmp_path):
    (tmp_path / "home").mkdir()
    source = insert_bootstrap.render("https://github.com/someone/book", "main", corpus=True)
    proc = _run_cell(Path(sys.executable), source, _env(tmp_path), tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "NAMES []\n"  # no output (nbval sees none) and no names left behind
    assert proc.stderr == ""


def test_hosted_with_a_placeholder_address_explains_and_installs_nothing(tmp_path):
    (tmp_path / "home").mkdir()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    source = insert_bootstrap.render(None)
    proc = _run_cell(venv / "bin" / "python", source, _env(tmp_path, BINDER_REQUEST="v2/gh/x"),
                     tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "does not know the book's repository address, so nothing was installed" in proc.stdout
    assert "download.pytorch.org/whl/cpu" in proc.stdout
    assert not list((venv / "lib").glob("python*/site-packages/gru_lib*"))


def test_hosted_installs_gru_lib_from_the_repository(tmp_path):
    (tmp_path / "home").mkdir()
    repo = _git_repo(tmp_path / "repo")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = venv / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
    (site / "zz_host.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    data = tmp_path / "corpus"
    data.mkdir()
    (data / "hamlet_gut.txt").write_text("HAMLET\n")
    env = _env(tmp_path, COLAB_RELEASE_TAG="release-colab-simulated", GRU_LIB_DATA=str(data),
               PIP_NO_BUILD_ISOLATION="0", PIP_NO_INDEX="1")
    source = insert_bootstrap.render(repo, "main", corpus=True)
    proc = _run_cell(venv / "bin" / "python", source, env, tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Set up for this hosted notebook: gru_lib installed, corpus ready" in proc.stdout
    assert proc.stdout.splitlines()[-1] == "NAMES []"
    check = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import gru_lib, gru_lib.torch, gru_lib.train; from gru_lib.corpus import load_text; "
         "print(gru_lib.__file__); print(load_text())"],
        env=env, cwd=tmp_path, capture_output=True, text=True, check=True)
    assert check.stdout.startswith(str(site / "gru_lib")), check.stdout
    assert "HAMLET" in check.stdout
    # A second run (the reader re-runs the cell): gru_lib is there, only the corpus is checked.
    again = _run_cell(venv / "bin" / "python", source, env, tmp_path)
    assert again.returncode == 0 and "gru_lib installed" not in again.stdout


def _notebook(tmp_path: Path, code: list[str]) -> Path:
    nb = {"cells": [{"cell_type": "markdown", "id": "m0", "metadata": {}, "source": ["# Title"]}]
          + [{"cell_type": "code", "execution_count": i + 1, "id": f"c{i}", "metadata": {},
              "outputs": [], "source": [src]} for i, src in enumerate(code)],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "ch.ipynb"
    path.write_text(insert_bootstrap.dumps(nb), encoding="utf-8")
    return path


def test_insert_is_a_dry_run_by_default_then_idempotent(tmp_path, capsys):
    path = _notebook(tmp_path, ["from gru_lib.corpus import load_text", "print(1)"])
    before = path.read_bytes()
    assert insert_bootstrap.main([str(path)]) == 0
    assert path.read_bytes() == before
    assert "ch.ipynb: would be inserted (corpus)" in capsys.readouterr().out

    assert insert_bootstrap.main(["--write", str(path)]) == 0
    nb = json.loads(path.read_text())
    cell = nb["cells"][1]
    assert "".join(cell["source"]).startswith(insert_bootstrap.MARKER)
    assert cell["metadata"]["tags"] == ["remove-cell"] and cell["outputs"] == []
    assert "corpus=True" in "".join(cell["source"])
    assert [c["id"] for c in nb["cells"]] == ["m0", "gru-lib-bootstrap", "c0", "c1"]
    once = path.read_bytes()
    assert insert_bootstrap.main(["--write", str(path)]) == 0
    assert path.read_bytes() == once
    assert "ch.ipynb: current" in capsys.readouterr().out.splitlines()[-1]


def test_insert_refreshes_an_old_cell_in_place(tmp_path, monkeypatch):
    path = _notebook(tmp_path, ["print(1)"])
    insert_bootstrap.main(["--write", str(path)])
    nb = json.loads(path.read_text())
    nb["cells"][1]["source"] = [insert_bootstrap.MARKER + " (an older version)\n", "pass"]
    path.write_text(insert_bootstrap.dumps(nb))
    insert_bootstrap.main(["--write", str(path)])
    cells = json.loads(path.read_text())["cells"]
    assert len(cells) == 3
    assert "".join(cells[1]["source"]) == insert_bootstrap.render(None, "main", corpus=False)


def test_the_address_comes_from_config_and_placeholders_are_refused(tmp_path):
    import repo_address  # on sys.path through insert_bootstrap's import

    config = tmp_path / "_config.yml"
    config.write_text("title: x\nrepository:\n  url: https://github.com/someone/book.git  # c\n"
                      "  branch: trunk\nhtml:\n  url: https://other.org\n")
    assert repo_address.repository_url(config) == "https://github.com/someone/book"
    assert repo_address.read_repository(config)["branch"] == "trunk"
    for bad in ("https://github.com/example-org/rnn-gru-book", "http://github.com/a/b", "",
                "https://github.com/<owner>/<repo>", "https://example.com/book"):
        assert repo_address.is_placeholder(bad), bad
    assert repo_address.repository_url(tmp_path / "missing.yml") is None


@pytest.mark.parametrize("marker", [*HOSTED_VARS, "google.colab", None])
def test_hosted_markers_are_detected(tmp_path, marker):
    # In a venv without gru_lib and with no address, a detected host shows as the explanation.
    (tmp_path / "home").mkdir()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    extra = {}
    if marker == "google.colab":  # Colab's own package, importable in its kernels
        (tmp_path / "fake" / "google" / "colab").mkdir(parents=True)
        (tmp_path / "fake" / "google" / "colab" / "__init__.py").write_text("")
        extra["PYTHONPATH"] = str(tmp_path / "fake")
    elif marker is not None:
        extra[marker] = "1"
    proc = _run_cell(venv / "bin" / "python", insert_bootstrap.render(None),
                     _env(tmp_path, **extra), tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert ("nothing was installed" in proc.stdout) == (marker is not None), proc.stdout


def test_insert_renumbers_a_notebook_run_top_to_bottom():
    """The new cell is count 1 and every later count (cells and their results) moves up by one,
    as a fresh run would give; a notebook not run top to bottom is left for re-execution."""
    def code(n, result=False):
        outs = [{"output_type": "execute_result", "execution_count": n, "data": {}, "metadata": {}}]
        return {"cell_type": "code", "execution_count": n, "metadata": {},
                "outputs": outs if result else [], "source": ["x = 1"]}

    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
          "cells": [{"cell_type": "markdown", "metadata": {}, "source": ["# t"]},
                    code(1), code(2, result=True)]}
    assert insert_bootstrap.update(nb, None, "main") == "inserted"
    counts = [c["execution_count"] for c in nb["cells"] if c["cell_type"] == "code"]
    assert counts == [1, 2, 3]
    assert nb["cells"][3]["outputs"][0]["execution_count"] == 3
    stale = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [code(2), code(7)]}
    insert_bootstrap.update(stale, None, "main")
    assert [c["execution_count"] for c in stale["cells"]] == [None, 2, 7]
