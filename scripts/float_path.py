"""The second floating-point path that `make test` runs every notebook under.

A reader's CPU may not have AVX-512 (most laptops), may be an ARM core (Apple silicon), may run
one thread instead of many: each of these changes the last bits of float reductions, in PyTorch
(vector width, MKL and oneDNN kernels, how a reduction is split across threads) and in NumPy
(OpenBLAS's kernel for the detected core). The book's checks must not depend on them. So the
test suite runs nbval twice: once on this machine as it is, and once with every switch below,
which send the same code down a different path on the same machine:

* ``ATEN_CPU_CAPABILITY=default``: PyTorch's scalar (non-vectorised) kernels, as on a CPU without
  AVX2.
* ``OMP_NUM_THREADS=MKL_NUM_THREADS=OPENBLAS_NUM_THREADS=1``: one thread, so reductions are no
  longer split across threads.
* ``MKL_CBWR=COMPATIBLE``: MKL's most portable code path (PyTorch's matrix products use MKL).
* ``ONEDNN_MAX_CPU_ISA=SSE41``: oneDNN's SSE4.1 kernels (PyTorch's fused LSTM uses oneDNN).
* ``OPENBLAS_CORETYPE=Haswell``: NumPy's OpenBLAS uses its AVX2 kernels, as on a laptop.

Usage::

    python scripts/float_path.py check         # show the native and the portable path, differ?
    python scripts/float_path.py run -- CMD...  # run CMD under the portable path (after a check)

``check`` starts a Python under each path and verifies, from inside it, that every setting took
effect (``torch.backends.cpu.get_cpu_capability()``, thread counts, OpenBLAS's core type); it then
runs a few float32/float64 probes (matrix products, sums, a GRU step) under both paths and prints
how many of them differ in their last bits, as evidence that the second path really is different.
It exits non-zero if a setting did not take effect.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

PORTABLE = {
    "ATEN_CPU_CAPABILITY": "default",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_CBWR": "COMPATIBLE",
    "ONEDNN_MAX_CPU_ISA": "SSE41",
    "OPENBLAS_CORETYPE": "Haswell",
}

# Runs inside a child Python: report the path it is on, then the probes' bit patterns.
_PROBE = r"""
import json, hashlib
import numpy as np, torch, threadpoolctl
info = {"capability": torch.backends.cpu.get_cpu_capability(),
        "torch_threads": torch.get_num_threads()}
for lib in threadpoolctl.threadpool_info():
    if lib.get("internal_api") == "openblas":
        info["openblas_core"] = lib.get("architecture")
        info["openblas_threads"] = lib.get("num_threads")
g = torch.Generator().manual_seed(0)
rng = np.random.default_rng(0)
a32 = torch.randn(256, 1000, generator=g)
b32 = torch.randn(1000, 256, generator=g)
x = torch.randn(64, 1000, generator=g, dtype=torch.float64)
gru = torch.nn.GRU(64, 128)
with torch.no_grad():
    out, _ = gru(torch.randn(50, 8, 64, generator=g))
A = rng.standard_normal((300, 300))
v = rng.standard_normal(100_001).astype(np.float32)
probes = {
    "torch float32 matmul": (a32 @ b32).numpy(),
    "torch float32 sum": a32.sum(dim=1).numpy(),
    "torch float64 softmax": torch.softmax(x, dim=1).numpy(),
    "torch.nn.GRU float32 forward": out.numpy(),
    "torch float32 tanh": torch.tanh(a32 * 3).numpy(),
    "numpy float64 matmul": A @ A,
    "numpy float32 dot": np.array([v @ v]),
}
info["probes"] = {k: hashlib.sha256(np.ascontiguousarray(p).tobytes()).hexdigest()
                  for k, p in probes.items()}
print(json.dumps(info))
"""


def portable_env(base=None) -> dict[str, str]:
    """``base`` (default: this process's environment) with the portable path's switches set."""
    env = dict(os.environ if base is None else base)
    env.update(PORTABLE)
    return env


def _probe(env) -> dict:
    out = subprocess.run([sys.executable, "-c", _PROBE], env=env, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout)


def check() -> int:
    native_env = {k: v for k, v in os.environ.items() if k not in PORTABLE}
    native, portable = _probe(native_env), _probe(portable_env(native_env))
    for name, info in (("native", native), ("portable", portable)):
        print(f"{name:>9}: torch capability {info['capability']}, torch threads "
              f"{info['torch_threads']}, OpenBLAS core {info.get('openblas_core')} "
              f"({info.get('openblas_threads')} threads)")
    expected = {"capability": "DEFAULT", "torch_threads": 1, "openblas_threads": 1,
                "openblas_core": PORTABLE["OPENBLAS_CORETYPE"]}
    wrong = {k: (portable.get(k), v) for k, v in expected.items()
             if str(portable.get(k)).lower() != str(v).lower()}
    differ = [k for k in native["probes"] if native["probes"][k] != portable["probes"][k]]
    print(f"probes whose bits differ between the two paths: {len(differ)} of "
          f"{len(native['probes'])}" + (f" ({', '.join(differ)})" if differ else ""))
    if wrong:
        for k, (got, want) in wrong.items():
            print(f"error: the portable path did not take effect: {k} is {got}, expected {want}",
                  file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["check"]:
        return check()
    if argv[:1] == ["run"] and "--" in argv:
        cmd = argv[argv.index("--") + 1:]
        if cmd:
            if check() != 0:
                return 1
            sys.stdout.flush()
            os.execvpe(cmd[0], cmd, portable_env())
    print(__doc__.split("Usage::")[1].split("``check``")[0].rstrip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
