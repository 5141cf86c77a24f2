"""Time our GRUs against torch.nn on this CPU; print every ratio in one run and write JSON.

    python benchmarks/bench_gru.py                 # three sizes + minGRU (several minutes)
    python benchmarks/bench_gru.py --quick         # small sizes and few repeats, a smoke test
    python benchmarks/bench_gru.py --threads 1 --json out.json

How it measures (chapter "What an RNN costs" explains what is measured and why):

* Blocks. Each implementation at each size runs in its own block: a fresh subprocess that builds
  the model, times inference then a training step (forward + backward of ``out.sum()``), and
  exits. Nothing else runs in between, so OpenBLAS threads still spinning after a NumPy call
  cannot slow the next torch call, and one implementation's cached memory cannot hide another's.
* Time: median of ``--repeats`` runs after two warm-up runs, with the spread (min–max) printed
  next to it, as wall time and as CPU time of the process (``time.process_time``). Ratios
  divide two medians of the same run of this script, never numbers from another machine or
  day. On a loaded machine wall times of multi-threaded code mostly measure waiting for cores
  (a thread that is descheduled stalls its partner at every barrier); the CPU-time ratio is
  then the steadier one, with ``--threads 1`` the steadiest. Run it twice and compare.
* Work rate: matrix-multiply FLOPs per second, as a fraction of this machine's float32 GEMM rate
  (a 2048² product with the same thread count, measured at the start).
* Peak memory: the resident memory a block added at its peak over what its process held before
  (model and input built): on Linux the peak window is reset before inference and before the
  training step (``/proc/self/clear_refs``, then ``VmHWM`` − ``VmRSS``), elsewhere it is the
  ``ru_maxrss`` of the whole process. Allocator caches and library workspaces are included
  (memory inference left cached and the training step reuses is not counted twice). No
  ``tracemalloc``: it does not see torch's allocations.

Targets (issue 14; T=128, B=32, I=H=256, float32, 2 threads): FastGRU ≤ 0.8× ``torch.nn.GRU``
for a training step and ≤ 1.0× for inference; minGRU's chunked mode ≥ 5× faster than
``torch.nn.GRU`` of the same width for forward + backward at T = 4096, B = 8, H = 64.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODELS = ("torch.nn.GRU", "gru_lib.torch.GRU", "gru_lib.torch.FastGRU", "gru_lib.numpy.GRU",
          "gru_lib.numpy.FastGRU", "torch.nn.LSTM")
MINGRU_MODELS = ("torch.nn.GRU", "minGRU sequential", "minGRU parallel", "minGRU chunked")
SIZES = ((32, 8, 64), (64, 16, 128), (128, 32, 256))          # (T, B, H), input size D = H
QUICK_SIZES = ((16, 4, 32), (32, 8, 64), (64, 8, 128))


def time_block(fn: Callable[[], object], repeats: int, warmup: int = 2):
    """Wall and CPU times (seconds) of ``repeats`` calls of ``fn`` after ``warmup`` calls.

    The CPU time (``time.process_time``, all threads of the process) does not count time the
    process waited for a core, so on a shared machine it is the steadier of the two; it does
    count threads spinning while they wait for each other.
    """
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return wall, cpu


def _status_mib(field: str) -> float | None:
    """``VmRSS``/``VmHWM`` of this process from ``/proc/self/status``, MiB (None elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def reset_peak_rss() -> float:
    """Start a fresh peak-memory window; returns the current resident memory, MiB.

    On Linux writing ``5`` to ``/proc/self/clear_refs`` resets the peak (``VmHWM``) to the
    current resident size, so the peak after a block is that block's own, not the peak of
    importing torch. Elsewhere the window is the whole process (``ru_maxrss``).
    """
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    now = _status_mib("VmRSS")
    return now if now is not None else max_rss_mib()


def peak_rss_mib() -> float:
    """Peak resident memory of the current window (see :func:`reset_peak_rss`), MiB."""
    hwm = _status_mib("VmHWM")
    return hwm if hwm is not None else max_rss_mib()


def max_rss_mib() -> float:
    """Peak resident memory of this process since it started, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rnn_flops(gates: int, T: int, B: int, D: int, H: int, train: bool) -> float:
    """Matrix-multiply FLOPs of one layer: 2·T·B·G·H·(D + H) forward; backward twice that."""
    fwd = 2.0 * T * B * gates * H * (D + H)
    return 3 * fwd if train else fwd


def matmul_peak_gflops(n: int = 2048, repeats: int = 5) -> float:
    """This machine's float32 matrix-multiply rate (GFLOP/s) on an n×n product."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    t = statistics.median(time_block(lambda: torch.matmul(a, b), repeats)[0])
    return 2 * n**3 / t / 1e9


# ----------------------------------------------------------------------------- one block
def _make_case(model: str, T: int, B: int, H: int) -> Callable[[bool], Callable[[], object]]:
    """Build one implementation (weights copied from one ``torch.nn.GRU``) and its input.

    Returns ``case(train)``, the function to time for inference or a training step.
    """
    import numpy as np
    import torch

    torch.manual_seed(0)
    ref = torch.nn.GRU(H, H)
    x = torch.randn(T, B, H)
    if model.startswith("gru_lib.numpy"):
        import gru_lib.numpy as gnp

        net = getattr(gnp, model.rsplit(".", 1)[1])(H, H, dtype=np.float32, rng=0)
        net.load_state_dict(ref.state_dict())
        xn = x.numpy()

        def numpy_case(train):
            def run():
                out, _ = net(xn)
                if train:
                    net.backward(np.ones_like(out))
            return run
        return numpy_case
    if model.startswith("minGRU"):
        from gru_lib.torch.mingru import MinGRU

        net, kw = MinGRU(H, H), {"mode": model.split()[1]}
    else:
        kw = {}
        if model == "torch.nn.LSTM":
            net = torch.nn.LSTM(H, H)
        elif model == "torch.nn.GRU":
            net = ref
        else:
            import gru_lib.torch as gt

            net = getattr(gt, model.rsplit(".", 1)[1])(H, H)
            net.load_state_dict(ref.state_dict())

    def call():
        return net(x, **kw)

    def torch_case(train):
        if not train:
            def infer():
                with torch.no_grad():
                    return call()
            return infer

        def step():
            net.zero_grad(set_to_none=True)
            out, _ = call()
            out.sum().backward()
        return step
    return torch_case


def run_block(model: str, T: int, B: int, H: int, repeats: int) -> dict:
    """Time inference, then a training step, of one implementation; report times and memory."""
    case = _make_case(model, T, B, H)
    result = {"model": model, "T": T, "B": B, "H": H}
    for mode, train in (("infer", False), ("train", True)):
        base = reset_peak_rss()
        wall, cpu = time_block(case(train), repeats)
        result[mode] = {"ms": [1e3 * t for t in wall], "cpu_ms": [1e3 * t for t in cpu],
                        "peak_mib": peak_rss_mib() - base}
    return result


def _worker_env(threads: int) -> dict:
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)      # set before NumPy and torch load in the block's process
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return env


def run_isolated(model: str, T: int, B: int, H: int, repeats: int, threads: int) -> dict:
    """:func:`run_block` in a fresh subprocess (see the module docstring: blocks)."""
    spec = json.dumps({"model": model, "T": T, "B": B, "H": H, "repeats": repeats,
                       "threads": threads})
    done = subprocess.run([sys.executable, __file__, "--worker", spec], env=_worker_env(threads),
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark block {model} at T={T}, B={B}, H={H} failed:\n"
                           f"{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _worker(spec: str) -> None:
    import torch

    s = json.loads(spec)
    torch.set_num_threads(s["threads"])
    print(json.dumps(run_block(s["model"], s["T"], s["B"], s["H"], s["repeats"])))


# ----------------------------------------------------------------------------- tables
def summarise(blocks: list[dict], peak: float, base_model: str = "torch.nn.GRU") -> list[dict]:
    """One row per (size, mode, model): medians, spread, ratios to ``base_model``, rate, memory.

    ``ratio_vs_torch_gru`` divides wall-time medians, ``cpu_ratio_vs_torch_gru`` CPU-time ones.
    """
    rows = []
    med = {(b["T"], b["B"], b["H"], m, b["model"], clock): statistics.median(b[m][clock])
           for b in blocks for m in ("train", "infer") for clock in ("ms", "cpu_ms")}
    for b in blocks:
        key = (b["T"], b["B"], b["H"])
        for mode in ("train", "infer"):
            ms, cpu = med[(*key, mode, b["model"], "ms")], med[(*key, mode, b["model"], "cpu_ms")]
            base = med.get((*key, mode, base_model, "ms"))
            base_cpu = med.get((*key, mode, base_model, "cpu_ms"))
            gates = 4 if "LSTM" in b["model"] else 3
            gflops = rnn_flops(gates, b["T"], b["B"], b["H"], b["H"], mode == "train") / ms / 1e6
            rows.append({"T": b["T"], "B": b["B"], "H": b["H"], "mode": mode,
                         "model": b["model"], "ms": ms, "ms_min": min(b[mode]["ms"]),
                         "ms_max": max(b[mode]["ms"]), "cpu_ms": cpu,
                         "ratio_vs_torch_gru": None if base is None else ms / base,
                         "cpu_ratio_vs_torch_gru": None if base_cpu is None else cpu / base_cpu,
                         "gflops": gflops, "fraction_of_peak": gflops / peak,
                         "peak_mib": b[mode]["peak_mib"]})
    return rows


def bench_grid(sizes, repeats: int, peak: float, threads: int = 2, isolate: bool = True,
               models=MODELS) -> list[dict]:
    """Every model at every size, each in its own block; rows as :func:`summarise`."""
    run = run_isolated if isolate else (lambda m, T, B, H, r, _: run_block(m, T, B, H, r))
    blocks = [run(m, T, B, H, repeats, threads) for T, B, H in sizes for m in models]
    return summarise(blocks, peak)


def bench_mingru(lengths, repeats: int, B: int = 8, H: int = 64, threads: int = 2,
                 isolate: bool = True) -> list[dict]:
    """minGRU's three modes against ``torch.nn.GRU`` of the same width, each in its own block."""
    run = run_isolated if isolate else (lambda m, T, B, H, r, _: run_block(m, T, B, H, r))
    rows = []
    for T in lengths:
        blocks = {m: run(m, T, B, H, repeats, threads) for m in MINGRU_MODELS}
        for mode in ("train", "infer"):
            ms = {m: statistics.median(b[mode]["ms"]) for m, b in blocks.items()}
            cpu = {m: statistics.median(b[mode]["cpu_ms"]) for m, b in blocks.items()}
            rows.append({"T": T, "B": B, "H": H, "mode": mode, "ms": ms, "cpu_ms": cpu,
                         "peak_mib": {m: b[mode]["peak_mib"] for m, b in blocks.items()},
                         "speedup_vs_torch_gru": {m: ms["torch.nn.GRU"] / v
                                                  for m, v in ms.items()},
                         "cpu_speedup_vs_torch_gru": {m: cpu["torch.nn.GRU"] / v
                                                      for m, v in cpu.items()},
                         "speedup_parallel_vs_sequential":
                             ms["minGRU sequential"] / ms["minGRU parallel"]})
    return rows


def print_tables(result: dict) -> None:
    m = result["machine"]
    print(f"float32 matmul rate on this machine: {m['matmul_peak_gflops']:.1f} GFLOP/s "
          f"({m['threads']} threads, torch {m['torch']}, numpy {m['numpy']}; "
          f"load average {m['load_avg_1min_at_start']:.1f} on {m['cpus']} CPUs at the start)\n")
    print(f"{'T':>4} {'B':>3} {'H':>4} {'mode':>5}  {'model':<22} {'wall ms':>8} {'min–max':>15} "
          f"{'×nn.GRU':>8} {'CPU ms':>8} {'×nn(CPU)':>8} {'GFLOP/s':>8} {'%peak':>6} "
          f"{'peak MiB':>9}")
    for r in result["grid"]:
        ratio = "" if r["ratio_vs_torch_gru"] is None else f"{r['ratio_vs_torch_gru']:.2f}"
        cratio = "" if r["cpu_ratio_vs_torch_gru"] is None else f"{r['cpu_ratio_vs_torch_gru']:.2f}"
        print(f"{r['T']:>4} {r['B']:>3} {r['H']:>4} {r['mode']:>5}  {r['model']:<22} "
              f"{r['ms']:>8.2f} {r['ms_min']:>7.2f}–{r['ms_max']:<7.2f} {ratio:>8} "
              f"{r['cpu_ms']:>8.2f} {cratio:>8} "
              f"{r['gflops']:>8.1f} {100 * r['fraction_of_peak']:>5.1f}% {r['peak_mib']:>9.1f}")
    print("\nminGRU against torch.nn.GRU of the same width (wall ms; speed-up = nn.GRU / model, "
          "wall and CPU time):")
    print(f"{'T':>6} {'mode':>5}  " + "  ".join(f"{k:>24}" for k in MINGRU_MODELS))
    for r in result["mingru"]:
        print(f"{r['T']:>6} {r['mode']:>5}  "
              + "  ".join(f"{r['ms'][k]:>9.1f} ({r['speedup_vs_torch_gru'][k]:>4.1f}×, "
                          f"{r['cpu_speedup_vs_torch_gru'][k]:>4.1f}×)" for k in MINGRU_MODELS))
    for line in targets(result):
        print(line)


def targets(result: dict) -> list[str]:
    """The issue's targets, checked against this run (words, not asserts)."""
    lines = ["\nTargets (this run; wall-time ratio, CPU-time ratio):"]
    big = [r for r in result["grid"] if (r["T"], r["B"], r["H"]) == (128, 32, 256)]
    for mode, limit in (("train", 0.8), ("infer", 1.0)):
        r = [r for r in big if r["mode"] == mode and r["model"] == "gru_lib.torch.FastGRU"]
        if r:
            got, cpu = r[0]["ratio_vs_torch_gru"], r[0]["cpu_ratio_vs_torch_gru"]
            lines.append(f"  FastGRU/torch.nn.GRU {mode} at T=128,B=32,H=256: {got:.2f}, "
                         f"{cpu:.2f} (target ≤ {limit:.2f})")
    for r in result["mingru"]:
        if (r["T"], r["B"], r["H"], r["mode"]) == (4096, 8, 64, "train"):
            got = r["speedup_vs_torch_gru"]["minGRU chunked"]
            cpu = r["cpu_speedup_vs_torch_gru"]["minGRU chunked"]
            lines.append(f"  minGRU chunked vs torch.nn.GRU, fwd+bwd at T=4096,B=8,H=64: "
                         f"{got:.1f}×, {cpu:.1f}× faster (target ≥ 5)")
    return lines


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes and few repeats")
    ap.add_argument("--threads", type=int, default=2, help="threads for torch and BLAS")
    ap.add_argument("--repeats", type=int, default=None, help="timed runs per block")
    ap.add_argument("--sizes", help="T,B,H;T,B,H;... instead of the default three sizes")
    ap.add_argument("--lengths", help="minGRU lengths T,T,... instead of the default")
    ap.add_argument("--json", type=Path, default=Path("_build/benchmarks/bench_gru.json"))
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        _worker(args.worker)
        return {}
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    sizes, lengths = (QUICK_SIZES, [64, 256]) if args.quick else (SIZES, [256, 1024, 4096])
    if args.sizes:
        sizes = [tuple(int(v) for v in size.split(",")) for size in args.sizes.split(";")]
    if args.lengths:
        lengths = [int(v) for v in args.lengths.split(",")]
    repeats = args.repeats or (3 if args.quick else 9)
    peak = matmul_peak_gflops()
    result = {
        "machine": {"processor": platform.processor() or platform.machine(),
                    "cpus": os.cpu_count(), "load_avg_1min_at_start": os.getloadavg()[0],
                    "torch": torch.__version__, "numpy": np.__version__,
                    "threads": args.threads, "matmul_peak_gflops": peak, "repeats": repeats},
        "grid": bench_grid(sizes, repeats, peak, args.threads),
        "mingru": bench_mingru(lengths, repeats, threads=args.threads),
    }
    print_tables(result)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(f"\nwrote {args.json}")
    return result


if __name__ == "__main__":
    main()
