"""``gru-lib`` as a package that stands alone: built as a wheel, installed outside the repository.

One wheel is built from a copy of the package's files (the checkout stays clean) with the running
environment's setuptools (``--no-build-isolation``: offline). It is installed with pip into a
fresh virtual environment created in a temporary folder, with only its declared dependencies
(``numpy``, ``tqdm``; their versions constrained to the ones in this environment so pip takes them
from its cache or local index, offline). Then, with the working directory, ``HOME`` and the cache
outside the repository and no ``PYTHONPATH``:

1. without torch, matplotlib or IPython: the NumPy half, tasks, corpus, analysis and the NumPy
   exercise checkers import and run; a torch-only module raises an ``ImportError`` naming the
   extra; the corpus cache is in the user's cache folder, not in ``site-packages``;
2. with the running environment's site-packages appended to the venv's path (a ``.pth`` file
   added *after* step 1: torch 2.13.0 CPU, matplotlib and IPython are not downloaded again, and
   the venv's own ``gru_lib`` still comes first), every module of the package imports and the
   torch half trains a small model.

Takes about 20–40 s on two shared cores; most of it is pip.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What the wheel is built from (pyproject.toml, setup.py and MANIFEST.in name these).
PACKAGE_FILES = ["pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "LICENSE",
                 "_config.yml", "scripts/repo_address.py"]


def _run(cmd, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n"
                             f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return proc


def _copy_sources(dest: Path, config_text: str | None = None) -> Path:
    for rel in PACKAGE_FILES:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest / rel)
    shutil.copytree(ROOT / "gru_lib", dest / "gru_lib",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if config_text is not None:
        (dest / "_config.yml").write_text(config_text)
    return dest


def _build_wheel(src: Path, out: Path) -> Path:
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
          "--disable-pip-version-check", "-q", "-w", str(out), str(src)])
    (wheel,) = out.glob("gru_lib-*.whl")
    return wheel


def _metadata(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith(".dist-info/METADATA")]
        return zf.read(name).decode()


def _clean_env(home: Path) -> dict[str, str]:
    """The environment of a pip user: no PYTHONPATH into the checkout, HOME and cache elsewhere."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "GRU_LIB_DATA", "XDG_CACHE_HOME", "VIRTUAL_ENV",
                        "PYTHONHOME")}
    env.update(HOME=str(home), PYTHONNOUSERSITE="1", PYTHONDONTWRITEBYTECODE="1",
               GRU_LIB_NO_PROGRESS="1")
    return env


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(python of a fresh venv with the wheel installed, its environment, its folder, wheel)."""
    base = tmp_path_factory.mktemp("packaging")
    wheel = _build_wheel(_copy_sources(base / "src"), base / "dist")
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    py = venv / "bin" / "python"
    import numpy
    import tqdm

    constraints = base / "constraints.txt"
    constraints.write_text(f"numpy=={numpy.__version__}\ntqdm=={tqdm.__version__}\n")
    home = base / "home"
    home.mkdir()
    env = _clean_env(home)
    # pip of this environment installs into the venv (--python): the venv needs no pip of its own.
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q",
          "--disable-pip-version-check", "-c", str(constraints), str(wheel)], env=env, cwd=base)
    return py, env, base, wheel


def _python(installed, code: str) -> str:
    py, env, base, _ = installed
    return _run([str(py), "-c", textwrap.dedent(code)], env=env, cwd=base).stdout


def test_metadata_declares_dependencies_extras_and_licence(installed):
    meta = _metadata(installed[3])
    for line in ("Requires-Dist: numpy>=2.0", "Requires-Dist: tqdm>=4.66",
                 'Requires-Dist: torch>=2.13; extra == "torch"',
                 'Requires-Dist: matplotlib>=3.8; extra == "plot"',
                 'Requires-Dist: ipython>=8; extra == "book"',
                 "License-Expression: MIT", "Description-Content-Type: text/markdown"):
        assert line in meta, line
    # The repository address in _config.yml is a placeholder today: no URL at all, no dead link.
    if "example-org" in (ROOT / "_config.yml").read_text():
        assert "Project-URL" not in meta
        assert "example-org" not in meta.split("\n\n", 1)[0]


def test_project_urls_come_from_config_when_real(tmp_path):
    config = (ROOT / "_config.yml").read_text()
    real = "https://github.com/someone/rnn-book"
    lines = [f"  url: {real}" if line.startswith("  url:") and "example" in line else line
             for line in config.splitlines()]
    src = _copy_sources(tmp_path / "src", "\n".join(lines) + "\n")
    meta = _metadata(_build_wheel(src, tmp_path / "dist"))
    assert f"Project-URL: Source, {real}" in meta
    assert f"Project-URL: Issues, {real}/issues" in meta


def test_numpy_half_works_without_torch_matplotlib_ipython(installed):
    out = _python(installed, """
        import importlib, sys
        for missing in ("torch", "matplotlib", "IPython"):
            try:
                importlib.import_module(missing)
            except ImportError:
                pass
            else:
                sys.exit(f"{missing} is importable: the test venv is not clean")
        import numpy as np
        import gru_lib
        assert "site-packages" in gru_lib.__file__, gru_lib.__file__
        from gru_lib import analysis, corpus, tasks, progress, seed_everything
        from gru_lib.numpy import GRU, gru_step, gru_step_backward, gradcheck  # noqa: F401
        from gru_lib.exercises import bptt, gru, lstm, rnn, scan
        from gru_lib.exercises import tasks as task_checks

        rng = seed_everything(0)
        layer = GRU(3, 4)
        x = rng.standard_normal((5, 2, 3))
        out, h_n = layer(x)
        assert out.shape == (5, 2, 4) and h_n.shape == (1, 2, 4)
        result = gru.check_gru_step(lambda *a: gru_step(*a)[0])
        assert result.passed, result
        assert analysis.spectral_radius(np.eye(3) * 0.5) == 0.5
        assert tasks.adding_problem(rng, 2, 10)[0].shape[0] == 10
        assert list(progress(range(3))) == [0, 1, 2]
        print("CORPUS", corpus.corpus_dir())
        try:
            corpus.load_text()
        except FileNotFoundError as exc:
            print("MESSAGE", exc)
    """)
    home = installed[2] / "home"
    assert f"CORPUS {home}/.cache/gru_lib/corpus" in out
    assert "python -m gru_lib.corpus fetch" in out
    assert "make setup" not in out  # means nothing to a pip user


@pytest.mark.parametrize(("statement", "extra"), [
    ("import gru_lib.torch", "gru-lib[torch]"),
    ("from gru_lib.torch import GRU", "gru-lib[torch]"),
    ("import gru_lib.train", "gru-lib[torch]"),
    ("from gru_lib.exercises import lm", "gru-lib[torch]"),
    ("from gru_lib import use_book_style; use_book_style()", "gru-lib[plot]"),
    ("from gru_lib import show_source, seed_everything; show_source(seed_everything)",
     "gru-lib[book]"),
])
def test_missing_extra_is_named(installed, statement, extra):
    out = _python(installed, f"""
        try:
            {statement}
        except ImportError as exc:
            print(type(exc).__name__, exc)
        else:
            print("no error")
    """)
    assert out.startswith("ImportError"), out
    assert f"pip install '{extra}'" in out, out
    if "torch" in extra:
        assert "download.pytorch.org/whl/cpu" in out


def test_full_library_with_torch(installed):
    py, env, base, _ = installed
    # Append (not prepend) this environment's site-packages: torch, matplotlib and IPython come
    # from here; gru_lib still comes from the venv, which is earlier on sys.path.
    site = py.parent.parent / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    (site / "site-packages" / "zz_main_env.pth").write_text(sysconfig.get_paths()["purelib"])
    try:
        out = _python(installed, """
            import importlib, pkgutil
            import gru_lib, torch
            assert "site-packages" in gru_lib.__file__ and "/venv/" in gru_lib.__file__
            names = [m.name for m in pkgutil.walk_packages(gru_lib.__path__, "gru_lib.")]
            for name in names:
                importlib.import_module(name)
            from gru_lib import seed_everything, show_source, use_book_style
            from gru_lib.train import make_model, train
            seed_everything(0)
            use_book_style()
            show_source(seed_everything)
            model = make_model("GRU", 3, 8, 1, backend="gru_lib")
            x, y = torch.randn(6, 4, 3), torch.randn(6, 4, 1)
            hist = train(model, lambda step: (x, y),
                         lambda m, b: ((m(b[0])[0] - b[1]) ** 2).mean(), steps=3)
            assert len(hist["loss"]) == 3
            print("MODULES", len(names), "TORCH", torch.__version__)
        """)
    finally:
        (site / "site-packages" / "zz_main_env.pth").unlink()
    assert "MODULES" in out


def test_binder_environment_is_requirements_with_cpu_torch():
    """binder/requirements.txt = requirements.txt + PyTorch's CPU wheel of the same version."""
    root = Path(__file__).resolve().parents[1]
    binder = [ln.split("#")[0].strip()
              for ln in (root / "binder" / "requirements.txt").read_text().splitlines()]
    binder = [ln for ln in binder if ln]
    pinned = [ln for ln in (root / "requirements.txt").read_text().splitlines()
              if ln.startswith("torch==")]
    assert len(pinned) == 1, pinned
    version = pinned[0].split("==")[1].strip()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in binder
    assert f"torch=={version}+cpu" in binder, (binder, version)
    assert "-r ../requirements.txt" in binder         # everything else exactly as pinned there
    # the Python the Makefile builds the book's venv with (python3.11), not whatever runs the test
    wanted = re.search(r"command -v python(3\.\d+)", (root / "Makefile").read_text()).group(1)
    assert (root / "binder" / "runtime.txt").read_text().strip() == f"python-{wanted}"
