"""Time our GRUs against torch.nn on this CPU; print ratios and write JSON.

    python benchmarks/bench_gru.py                 # full grid (a few minutes on 2 cores)
    python benchmarks/bench_gru.py --quick         # smaller grid, for a smoke test
    python benchmarks/bench_gru.py --json out.json

Every timing is the median of repeated runs after warm-up, in float32, and every ratio compares
two timings taken in the same run (never against a number from another machine or day). Work
rates are reported against this machine's single-precision matrix-multiply rate, measured at the
start of the run. Chapter "What an RNN costs" explains what is measured and why.

Targets (T=128, B=32, I=H=256; training step = forward + backward):
FastGRU ≤ 0.8× torch.nn.GRU; NumPy GRU ≤ 1.5× torch.nn.GRU; minGRU parallel ≥ 10× faster than
sequential at T=4096.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import torch

import gru_lib.numpy as gnp
import gru_lib.torch as gt
from gru_lib.numpy.fast_gru import gru_layer_backward, gru_layer_forward
from gru_lib.torch.mingru import MinGRU


def median_time(fn: Callable[[], object], repeats: int, warmup: int = 2) -> float:
    """Median wall time of ``fn()`` in seconds, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def matmul_peak_gflops(n: int = 2048, repeats: int = 5) -> float:
    """This machine's float32 matrix-multiply rate (GFLOP/s) on an n×n product."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    t = median_time(lambda: torch.matmul(a, b), repeats)
    return 2 * n**3 / t / 1e9


def rnn_flops(gates: int, T: int, B: int, D: int, H: int, train: bool) -> float:
    """Matrix-multiply FLOPs of one layer: 2·T·B·G·H·(D + H) forward; backward twice that."""
    fwd = 2.0 * T * B * gates * H * (D + H)
    return 3 * fwd if train else fwd


def torch_case(model: torch.nn.Module, x: torch.Tensor, train: bool) -> Callable[[], object]:
    if not train:
        def infer():
            with torch.no_grad():
                return model(x)
        return infer

    def step():
        model.zero_grad(set_to_none=True)
        out, _ = model(x)
        out.sum().backward()
    return step


def numpy_case(model, x: np.ndarray, train: bool) -> Callable[[], object]:
    def run():
        out, _ = model(x)
        if train:
            model.backward(np.ones_like(out))
    return run


def numpy_fast_case(params: dict, x: np.ndarray, H: int, train: bool) -> Callable[[], object]:
    p = [params[k] for k in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")]
    h0 = np.zeros((x.shape[1], H), dtype=x.dtype)

    def run():
        hs, cache = gru_layer_forward(x, h0, *p)
        if train:
            gru_layer_backward(np.ones_like(hs), cache)
    return run


def bench_grid(grid, repeats: int, peak: float) -> list[dict]:
    rows = []
    for T, B, H in grid:
        D = H
        torch.manual_seed(0)
        ref = torch.nn.GRU(D, H)
        ours = gt.GRU(D, H)
        fast = gt.FastGRU(D, H)
        for m in (ours, fast):
            m.load_state_dict(ref.state_dict())
        npm = gnp.GRU(D, H, dtype=np.float32, rng=0)
        npm.load_state_dict(ref.state_dict())
        lstm = torch.nn.LSTM(D, H)
        x = torch.randn(T, B, D)
        xn = x.numpy()
        cases = {   # name -> a function of `train` returning the callable to time
            "torch.nn.GRU": partial(torch_case, ref, x),
            "gru_lib.torch.GRU": partial(torch_case, ours, x),
            "gru_lib.torch.FastGRU": partial(torch_case, fast, x),
            "gru_lib.numpy.GRU": partial(numpy_case, npm, xn),
            "numpy fast layer": partial(numpy_fast_case, npm.params, xn, H),
            "torch.nn.LSTM": partial(torch_case, lstm, x),
        }
        for train in (True, False):
            base = None
            for name, make in cases.items():
                t = median_time(make(train), repeats)
                base = t if base is None else base
                gates = 4 if "LSTM" in name else 3
                gflops = rnn_flops(gates, T, B, D, H, train) / t / 1e9
                rows.append({"T": T, "B": B, "H": H, "mode": "train" if train else "infer",
                             "model": name, "ms": 1e3 * t, "ratio_vs_torch_gru": t / base,
                             "gflops": gflops, "fraction_of_peak": gflops / peak})
    return rows


def bench_mingru(lengths, repeats: int, B: int = 8, H: int = 64) -> list[dict]:
    rows = []
    torch.manual_seed(0)
    mg = MinGRU(H, H)
    gru = torch.nn.GRU(H, H)
    for T in lengths:
        x = torch.randn(T, B, H)
        with torch.no_grad():
            t_par = median_time(partial(mg, x, mode="parallel"), repeats)
            t_seq = median_time(partial(mg, x, mode="sequential"), max(1, repeats // 2))
            t_gru = median_time(partial(gru, x), repeats)
        rows.append({"T": T, "B": B, "H": H, "parallel_ms": 1e3 * t_par,
                     "sequential_ms": 1e3 * t_seq, "torch_gru_ms": 1e3 * t_gru,
                     "speedup_parallel_vs_sequential": t_seq / t_par})
    return rows


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small grid and few repeats")
    ap.add_argument("--json", type=Path, default=Path("_build/benchmarks/bench_gru.json"))
    args = ap.parse_args(argv)
    torch.set_grad_enabled(True)
    if args.quick:
        grid, lengths, repeats = [(32, 8, 64), (128, 32, 256)], [64, 512, 4096], 3
    else:
        grid = [(32, 8, 64), (64, 16, 128), (128, 32, 256), (256, 32, 256)]
        lengths, repeats = [64, 256, 1024, 4096, 8192], 7
    peak = matmul_peak_gflops()
    result = {
        "machine": {"processor": platform.processor() or platform.machine(),
                    "torch": torch.__version__, "numpy": np.__version__,
                    "threads": torch.get_num_threads(), "matmul_peak_gflops": peak},
        "grid": bench_grid(grid, repeats, peak),
        "mingru": bench_mingru(lengths, repeats),
    }
    print(f"float32 matmul peak on this machine: {peak:.1f} GFLOP/s "
          f"({torch.get_num_threads()} threads, torch {torch.__version__})\n")
    print(f"{'T':>4} {'B':>3} {'H':>4} {'mode':>5}  {'model':<22} {'ms':>9} {'× nn.GRU':>9} "
          f"{'GFLOP/s':>8} {'% peak':>7}")
    for r in result["grid"]:
        print(f"{r['T']:>4} {r['B']:>3} {r['H']:>4} {r['mode']:>5}  {r['model']:<22} "
              f"{r['ms']:>9.2f} {r['ratio_vs_torch_gru']:>9.2f} {r['gflops']:>8.1f} "
              f"{100 * r['fraction_of_peak']:>6.1f}%")
    print(f"\nminGRU (B=8, H=64, forward):\n{'T':>6} {'parallel ms':>12} {'sequential ms':>14} "
          f"{'nn.GRU ms':>10} {'seq/par':>8}")
    for r in result["mingru"]:
        print(f"{r['T']:>6} {r['parallel_ms']:>12.2f} {r['sequential_ms']:>14.2f} "
              f"{r['torch_gru_ms']:>10.2f} {r['speedup_parallel_vs_sequential']:>8.1f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2))
    print(f"\nwrote {args.json}")
    return result


if __name__ == "__main__":
    main()
