"""Models per second: N models trained as one ensemble vs N separate runs; print ratios.

    python benchmarks/bench_ensemble.py                      # N = 1, 8, 32, 128; GRU and RNN
    python benchmarks/bench_ensemble.py --quick              # smaller, for a smoke test
    python benchmarks/bench_ensemble.py --json out.json

The workload is one atlas cell's: the adding problem at T = 50, batch 32, a 2,000-parameter
model, Adam with clipping, float32, one torch thread. "Separate runs" is
:func:`gru_lib.ensemble.run_single` (the book's :func:`gru_lib.train.train` loop on one model):
its time per step is measured and multiplied by N, since N separate runs cost N times one
(they share nothing). "Ensemble" is :func:`gru_lib.ensemble.train_ensemble` on N members with
different seeds and learning rates. Both are timed over the same number of steps; each figure is
the median of ``--repeats`` runs, and every ratio compares two timings taken in the same run.
Wall time is what a reader waits; CPU time (``time.process_time``, one thread) is printed beside
it because on a shared machine wall time also counts other people's processes.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import torch

from gru_lib.ensemble import Ensemble, Member, make_task, run_single, train_ensemble
from gru_lib.train import hidden_size_for_budget


def _median_seconds(fn, repeats: int) -> tuple[float, float, float, float]:
    """(median, min, max) wall seconds and median CPU seconds of ``fn()`` over ``repeats``
    calls, after one warm-up."""
    fn()
    times, cpu = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(times), min(times), max(times), statistics.median(cpu)


def bench(cells=("GRU", "RNN"), Ns=(1, 8, 32, 128), *, T: int = 50, steps: int = 20,
          batch_size: int = 32, budget: int = 2000, repeats: int = 3) -> list[dict]:
    """One row per (cell, N): seconds for ``steps`` steps, models per second, speed-up."""
    task = make_task("adding", T)
    rows = []
    for cell in cells:
        H = hidden_size_for_budget(cell, budget, task.input_size, task.output_size)
        single, s_lo, s_hi, single_cpu = _median_seconds(
            lambda c=cell, h=H: run_single(c, task, h, Member(0, 1e-2), steps,
                                           batch_size=batch_size), repeats)
        for N in Ns:
            members = [Member(seed=s, lr=(3e-3, 1e-2, 3e-2)[s % 3]) for s in range(N)]

            def run_ensemble(c=cell, h=H, m=members):
                train_ensemble(Ensemble.build(c, task, h, m), task, steps, batch_size=batch_size)

            ens_s, e_lo, e_hi, ens_cpu = _median_seconds(run_ensemble, repeats)
            rows.append({
                "cell": cell, "H": H, "N": N, "steps": steps,
                "separate_s": N * single, "ensemble_s": ens_s,
                "separate_models_per_s": 1.0 / (single / steps * 2000),
                "ensemble_models_per_s": N / (ens_s / steps * 2000),
                "speedup": N * single / ens_s, "speedup_cpu": N * single_cpu / ens_cpu,
                "single_spread_s": [s_lo, s_hi], "ensemble_spread_s": [e_lo, e_hi],
            })
    return rows


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="N = 1, 8; 5 steps; one repeat")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--steps", type=int, default=20, help="timed training steps per run")
    p.add_argument("--json", type=Path, help="also write the rows here")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    if args.quick:
        rows = bench(cells=("GRU",), Ns=(1, 8), steps=5, repeats=1)
    else:
        rows = bench(repeats=args.repeats, steps=args.steps)
    print("adding problem T=50, B=32, 2,000 parameters, float32, 1 thread; models/s = models "
          "trained for 2,000 steps per second (extrapolated from the timed steps)")
    print(f"{'cell':<5} {'H':>3} {'N':>4} {'separate s':>11} {'ensemble s':>11} "
          f"{'models/s sep':>13} {'models/s ens':>13} {'speed-up':>9} {'(CPU time)':>10}")
    for r in rows:
        print(f"{r['cell']:<5} {r['H']:>3} {r['N']:>4} {r['separate_s']:>11.3f} "
              f"{r['ensemble_s']:>11.3f} {r['separate_models_per_s']:>13.4f} "
              f"{r['ensemble_models_per_s']:>13.4f} {r['speedup']:>8.1f}× "
              f"{r['speedup_cpu']:>9.1f}×")
    result = {"machine": {"cpu": platform.processor() or platform.machine(),
                          "torch": torch.__version__, "threads": 1}, "rows": rows}
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()
