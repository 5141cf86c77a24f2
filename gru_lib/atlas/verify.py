"""Re-run a seeded random sample of stored atlas cells and compare with what is stored.

Two modes, two tolerances, stated here because a reader should know what "verified" means:

- ``prefix`` (what CI runs, seconds per cell): re-train every member of the cell up to the first
  evaluation (``eval_every`` steps, before early stopping can act) and compare each member's
  validation metric with the first point of its stored curve. Training is deterministic given
  the code, seeds and data, so the only admissible difference is floating-point rounding from
  another CPU, thread count or BLAS path: tolerance ``|Δ| <= 1e-3 · |stored| + 1e-5`` per member
  (float32 rounding grows to ~1e-5 relative over a hundred steps; a changed seed, batch, loss or
  initialisation moves the metric by far more). Stored curves are rounded to 6 digits.
- ``full``: re-run the whole cell and compare outcomes. On the same machine and thread count the
  outcomes are expected to be identical (deterministic), but float32 rounding on another CPU can
  flip a seed that sits near the success threshold, so the rule is statistical: at the chosen
  learning rate the test success counts ``k_stored`` and ``k_new`` (out of ``n``) must satisfy
  ``|k_new − k_stored| <= max(1, 2 √(n p (1 − p)))`` with ``p = k_stored / n`` (two binomial
  standard deviations, at least one seed), and at most ``max(1, n/10)`` seeds may change outcome.
  The number of identical per-seed outcomes is printed too.

A stale file (other source hash or configuration) fails verification with the command that
regenerates it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from gru_lib.atlas import store
from gru_lib.atlas.grid import CellConfig, _data, _task, run_cell
from gru_lib.atlas.grids import grid_cells
from gru_lib.ensemble import Ensemble, Member, train_ensemble

__all__ = ["REL_TOL", "ABS_TOL", "count_tolerance", "verify", "verify_prefix"]

REL_TOL, ABS_TOL = 1e-3, 1e-5


def count_tolerance(k: int, n: int) -> int:
    """Largest admissible ``|k_new − k|`` for a success count ``k`` of ``n`` seeds."""
    p = k / n
    return max(1, math.floor(2 * math.sqrt(n * p * (1 - p))))


def verify_prefix(cfg: CellConfig, doc: dict) -> tuple[bool, str]:
    """Re-train ``cfg``'s members for ``eval_every`` steps; compare with the stored curves."""
    task = _task(cfg)
    v = cfg.variant
    members = [Member(seed=m["seed"], lr=m["lr"], init=v.init, forget_bias=v.forget_bias)
               for m in doc["results"]["members"]]
    ens = Ensemble.build(v.cell, task, doc["results"]["hidden_size"], members,
                         num_layers=v.num_layers)
    hist = train_ensemble(ens, task, cfg.eval_every, batch_size=cfg.batch_size, clip=cfg.clip,
                          eval_data=_data(task, cfg, 1, cfg.n_val), eval_every=cfg.eval_every)
    new = hist["eval"][0]
    old = np.array([np.nan if m["val_curve"][0] is None else m["val_curve"][0]
                    for m in doc["results"]["members"]])
    diff = np.abs(new - old)
    bad = ~(diff <= REL_TOL * np.abs(old) + ABS_TOL)
    ok = not bad.any()
    return ok, (f"{len(members)} members after {cfg.eval_every} steps: max |Δ metric| = "
                f"{np.nanmax(diff):.2e}, {int(bad.sum())} outside "
                f"{REL_TOL:g}·|stored| + {ABS_TOL:g}")


def verify_full(cfg: CellConfig, doc: dict) -> tuple[bool, str]:
    """Re-run the whole cell; compare success counts and per-seed outcomes at the chosen lr."""
    new = run_cell(cfg)
    lr = doc["results"]["selected"]["lr"]
    old_rows = [m for m in doc["results"]["members"] if m["lr"] == lr]
    new_rows = [m for m in new["members"] if m["lr"] == lr]
    n = len(old_rows)
    k_old = sum(m["test_success"] for m in old_rows)
    k_new = sum(m["test_success"] for m in new_rows)
    flips = sum(a["test_success"] != b["test_success"]
                for a, b in zip(old_rows, new_rows, strict=True))
    tol = count_tolerance(k_old, n)
    ok = abs(k_new - k_old) <= tol and flips <= max(1, n // 10)
    return ok, (f"lr {lr:g}: test successes {k_old}/{n} stored, {k_new}/{n} now (tolerance "
                f"±{tol}); {n - flips}/{n} seeds with the same outcome")


def verify(grid: str, *, sample: int = 2, seed: int = 0, mode: str = "prefix",
           max_cpu: float | None = None, root: Path | None = None, print_fn=print) -> bool:
    """Verify ``sample`` stored cells of ``grid`` chosen by ``default_rng(seed)``; True if all
    agree. Only cells with a stored file are sampled (with ``max_cpu``: only those whose stored
    CPU time is at most ``max_cpu`` seconds, to keep CI short)."""
    if mode not in ("prefix", "full"):
        raise ValueError(f"verify: mode must be 'prefix' or 'full', got {mode!r}")
    if not isinstance(sample, int) or sample < 1:
        raise ValueError(f"verify: sample must be a positive int, got {sample!r}")
    stored = []
    for cfg in grid_cells(grid):
        path = store.cell_path(grid, cfg.key, root)
        if path.exists():
            stored.append((cfg, path))
    if not stored:
        print_fn(f"verify: no stored cells for grid {grid!r} under {root or store.ROOT}; "
                 f"compute them with: {store.regenerate_command(grid)}")
        return False
    all_ok = True
    eligible = []
    for cfg, path in stored:
        try:
            doc = store.load_result(path, expected_config=cfg.to_json())
        except store.StaleResultError as exc:
            print_fn(f"FAIL {exc}")
            all_ok = False
            continue
        if max_cpu is None or doc["results"]["cpu_s"] <= max_cpu:
            eligible.append((cfg, doc))
    if not eligible:
        print_fn("verify: no eligible stored cell (all stale, or above --max-cpu)")
        return False
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(eligible), size=min(sample, len(eligible)), replace=False)
    for i in sorted(picks):
        cfg, doc = eligible[i]
        ok, msg = (verify_prefix if mode == "prefix" else verify_full)(cfg, doc)
        print_fn(f"{'ok  ' if ok else 'FAIL'} {cfg.key} ({mode}): {msg}")
        all_ok &= ok
    print_fn(f"verify {grid}: {len(picks)} of {len(eligible)} eligible cells re-run, "
             f"{'all agree' if all_ok else 'DISAGREEMENT'}")
    return all_ok
