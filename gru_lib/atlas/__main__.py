"""``python -m gru_lib.atlas run|verify|list``: compute, re-check and list the atlas.

- ``run --grid v1 [--shard k/n] [--only KEY] [--force]``: compute the grid's cells (those of
  shard ``k`` of ``n``: cell ``i`` belongs to shard ``i mod n``), one result file per cell under
  ``book/atlas/<grid>/``; cells whose file exists with the current source hash are skipped, so an
  interrupted run resumes.
- ``verify --grid v1 [--sample K] [--seed S] [--mode prefix|full] [--max-cpu SECONDS]``: re-run
  a seeded random sample of stored cells and compare (see :mod:`gru_lib.atlas.verify`). Exits 1
  on disagreement or on a stale file.
- ``list [--grid v1] [--by-lr]``: what is stored: one line per cell with the chosen learning
  rate, test successes over seeds with the Wilson 95 % interval, and the median time to solve
  (with ``--by-lr``, every learning rate's counts too).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

from gru_lib.atlas import store
from gru_lib.atlas.grid import run_cell
from gru_lib.atlas.grids import GRIDS, grid_cells


def _shard(text: str) -> tuple[int, int]:
    try:
        k, n = (int(p) for p in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--shard must look like k/n (e.g. 0/4), got {text!r}") from None
    if not (n >= 1 and 0 <= k < n):
        raise argparse.ArgumentTypeError(f"--shard k/n needs 0 <= k < n, got {text!r}")
    return k, n


def cmd_run(args) -> int:
    torch.set_num_threads(args.threads)
    k, n = args.shard
    cells = [c for i, c in enumerate(grid_cells(args.grid)) if i % n == k]
    if args.only:   # a cell key selects that cell; anything else is a prefix ("adding-T50")
        keys = {c.key for c in grid_cells(args.grid)}
        cells = [c for c in cells if any(c.key == o if o in keys else c.key.startswith(o)
                                         for o in args.only)]
    prov = store.provenance()
    if prov["source_dirty"]:
        print("warning: the library source differs from the git commit; the results record "
              "source_dirty=true", file=sys.stderr)
    total = time.perf_counter()
    for c in cells:
        path = store.cell_path(args.grid, c.key, args.root)
        if path.exists() and not args.force:
            try:
                store.load_result(path, expected_config=c.to_json())
                print(f"skip {c.key} (up to date)", flush=True)
                continue
            except store.StaleResultError:
                pass
        res = run_cell(c, desc=c.key)
        store.write_result(args.grid, c.to_json(), res, prov, args.root)
        sel = res["selected"]
        print(f"{c.key:<32} lr={sel['lr']:g} test {sel['test_success']}/{sel['n']} "
              f"steps={res['steps_run']} wall={res['wall_s']:.0f}s cpu={res['cpu_s']:.0f}s",
              flush=True)
    print(f"shard {k}/{n}: {len(cells)} cells, {time.perf_counter() - total:.0f} s", flush=True)
    return 0


def _fmt_time(t) -> str:
    return "-" if t is None else f"{t:g}"


def cmd_list(args) -> int:
    grids = [args.grid] if args.grid else sorted(p.name for p in Path(args.root).iterdir()
                                                  if p.is_dir())
    status = 0
    for grid in grids:
        files = sorted((Path(args.root) / grid).glob("*.json"))
        configs = {c.key: c.to_json() for c in grid_cells(grid)} if grid in GRIDS else {}
        n_cells = len(grid_cells(grid)) if grid in GRIDS else "?"
        print(f"grid {grid}: {len(files)} of {n_cells} cells stored in {Path(args.root) / grid}")
        print(f"  {'cell':<32} {'H':>4} {'lr':>6} {'test':>6} {'Wilson 95%':>14} "
              f"{'t_solve':>8} {'steps':>6} {'cpu s':>7}")
        cpu = 0.0
        for f in files:
            try:
                doc = store.load_result(f, expected_config=configs.get(f.stem))
            except store.StaleResultError as exc:
                print(f"  STALE {exc}")
                status = 1
                continue
            r = doc["results"]
            s = r["selected"]
            lo, hi = s["wilson95"]
            cpu += r["cpu_s"]
            print(f"  {doc['key']:<32} {r['hidden_size']:>4} {s['lr']:>6g} "
                  f"{s['test_success']:>3}/{s['n']:<2} [{lo:.2f}, {hi:.2f}]   "
                  f"{_fmt_time(s['time_to_solve']['median']):>8} {r['steps_run']:>6} "
                  f"{r['cpu_s']:>7.0f}")
            if args.by_lr:
                for lr, b in r["by_lr"].items():
                    lo, hi = b["wilson95"]
                    print(f"      lr {float(lr):<8g} validation solved "
                          f"{b['val_solved']:>2}/{b['n']:<2} test "
                          f"{b['test_success']:>2}/{b['n']:<2} [{lo:.2f}, {hi:.2f}] "
                          f"median test metric {b['median_test_metric']}")
        print(f"  total CPU time {cpu:.0f} s")
    return status


def cmd_verify(args) -> int:
    from gru_lib.atlas.verify import verify
    torch.set_num_threads(args.threads)
    ok = verify(args.grid, sample=args.sample, seed=args.seed, mode=args.mode,
                max_cpu=args.max_cpu, root=args.root, print_fn=print)
    return 0 if ok else 1


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m gru_lib.atlas", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    for name in ("run", "verify", "list"):
        s = sub.add_parser(name)
        s.add_argument("--grid", default="v1" if name != "list" else None,
                       choices=sorted(GRIDS))
        s.add_argument("--root", type=Path, default=store.ROOT,
                       help="where result files live (default: book/atlas)")
        if name == "list":
            s.add_argument("--by-lr", action="store_true",
                           help="also print every learning rate's validation and test counts")
        if name != "list":
            s.add_argument("--threads", type=int, default=1,
                           help="torch threads (default 1: tiny models; run shards in parallel)")
        if name == "run":
            s.add_argument("--shard", type=_shard, default=(0, 1))
            s.add_argument("--only", nargs="*", help="cell keys (or prefixes) to run")
            s.add_argument("--force", action="store_true", help="recompute existing cells")
        if name == "verify":
            s.add_argument("--sample", type=int, default=2)
            s.add_argument("--seed", type=int, default=0)
            s.add_argument("--mode", choices=("prefix", "full"), default="prefix")
            s.add_argument("--max-cpu", type=float, default=None,
                           help="sample only among cells whose stored CPU time is below this")
    args = p.parse_args(argv)
    return {"run": cmd_run, "list": cmd_list, "verify": cmd_verify}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
