# gru_lib bootstrap cell (scripts/bootstrap_cell.py; refresh with scripts/insert_bootstrap.py).
# On Colab or Binder it installs the book's library, gru_lib, with a CPU-only PyTorch (and the
# corpus where the chapter needs it). On your own machine it does nothing and prints nothing.
def _gru_lib_bootstrap(repo="", ref="main", corpus=False):
    import importlib.metadata
    import importlib.util
    import os
    import subprocess
    import sys
    import time

    hosted = any(os.environ.get(k) for k in ("COLAB_RELEASE_TAG", "BINDER_SERVICE_HOST",
                                             "BINDER_REQUEST"))
    try:
        hosted = hosted or importlib.util.find_spec("google.colab") is not None
    except ImportError:  # no 'google' package at all: not Colab
        pass
    if not hosted:
        return

    def run(*args):
        proc = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"setup failed: python -m {' '.join(args)}\n{proc.stderr[-2000:]}")

    t0 = time.monotonic()
    pip = ("pip", "install", "-q", "--disable-pip-version-check")
    installed = importlib.util.find_spec("gru_lib") is None
    if installed:
        if not repo:
            print("This chapter needs the book's library, gru_lib, which is not installed here, "
                  "and this copy of the notebook does not know the book's repository address, "
                  "so nothing was installed. Install it yourself with:\n"
                  "  pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu\n"
                  "  pip install 'gru-lib[book] @ git+<the book's repository address>'")
            return
        try:
            torch_ok = importlib.metadata.version("torch").split("+")[0] == "2.13.0"
        except importlib.metadata.PackageNotFoundError:
            torch_ok = False
        if not torch_ok:  # the CPU build: the CUDA one is gigabytes and the book never uses it
            run(*pip, "torch==2.13.0", "--index-url", "https://download.pytorch.org/whl/cpu")
        run(*pip, f"gru-lib[book] @ git+{repo}@{ref}")
        importlib.invalidate_caches()
    if corpus:
        run("gru_lib.corpus", "fetch")
    if installed or corpus:
        done = ["gru_lib installed"] if installed else []
        done += ["corpus ready"] if corpus else []
        print(f"Set up for this hosted notebook: {', '.join(done)} ({time.monotonic() - t0:.0f} s)")


_gru_lib_bootstrap()
del _gru_lib_bootstrap
