"""How one atlas cell is run: a (task, T, model variant), all learning rates × seeds at once.

The grids themselves (which cells) are in :mod:`gru_lib.atlas.grids`.

An *atlas cell* is one (task, T, variant): a cell type with its layers, initialisation and
forget-gate bias, at a parameter budget. It is run as one :class:`gru_lib.ensemble.Ensemble` of
``len(lrs) × len(seeds)`` members, every learning rate with every seed, for at most ``steps``
Adam steps (batch ``batch_size``, global-norm clip 1, as in chapter 10). Every ``eval_every``
steps each member is scored on a fixed validation set; a member that meets the success criterion
(:class:`gru_lib.stats.Criterion`) is frozen there (early stopping on validation) and its time to
solve recorded. At the end every member is scored on a separate test set. The learning rate is
chosen per cell on validation (:func:`gru_lib.stats.select_lr`); the reported success rate is
the test success of the seeds at that rate.

Validation and test data do not depend on the seed: ``default_rng([task index, T, 1])`` and
``[..., 2]``; member ``(lr, seed)`` draws its training batches from ``default_rng(seed)``, so all
learning rates of a seed see the same batches and start from the same weights.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np
import torch

from gru_lib.ensemble import Ensemble, Member, make_task, train_ensemble
from gru_lib.ensemble.specs import TASK_NAMES
from gru_lib.stats import Criterion, select_lr, solved, summarize_times, wilson_interval
from gru_lib.train import hidden_size_for_budget

__all__ = ["CellConfig", "Variant", "run_cell"]


@dataclass(frozen=True)
class Variant:
    """A model variant: cell type, layers, initialisation, LSTM forget-gate bias."""

    cell: str
    num_layers: int = 1
    init: str = "default"
    forget_bias: float | None = None

    @property
    def name(self) -> str:
        s = self.cell + (f"x{self.num_layers}" if self.num_layers > 1 else "")
        s += "" if self.init == "default" else f"-{self.init}"
        return s + ("" if self.forget_bias is None else f"-fb{self.forget_bias:g}")


@dataclass(frozen=True)
class CellConfig:
    """Everything that determines an atlas cell's results (stored in its result file)."""

    task: str
    T: int
    variant: Variant
    budget: int
    lrs: tuple
    seeds: tuple
    steps: int
    batch_size: int
    eval_every: int
    n_val: int
    n_test: int
    threshold: float
    clip: float = 1.0

    @property
    def key(self) -> str:
        return f"{self.task}-T{self.T}-{self.variant.name}"

    def to_json(self) -> dict:
        d = asdict(self)
        d["lrs"], d["seeds"] = list(self.lrs), list(self.seeds)
        return d

    @classmethod
    def from_json(cls, d: dict) -> CellConfig:
        d = dict(d)
        d["variant"] = Variant(**d["variant"])
        d["lrs"], d["seeds"] = tuple(d["lrs"]), tuple(d["seeds"])
        return cls(**d)


def _task(cfg: CellConfig):
    # reber ignores T; the spec needs T >= 2 (and chrono uses T_max = 30 ~ the longest strings)
    return make_task(cfg.task, cfg.T if cfg.task != "reber" else 30)


def _data(task, cfg: CellConfig, which: int, n: int):
    rng = np.random.default_rng([TASK_NAMES.index(cfg.task), cfg.T, which])
    return task.batch(rng, n)


@torch.no_grad()
def _score(ens: Ensemble, task, data, chunk: int = 256) -> np.ndarray:
    """Metric of every member on ``data`` ``(x, y, mask)``, in equal chunks of sequences (the
    metrics are means over equally many scored items per sequence, so chunk means average)."""
    x, y, mask = data
    B = x.shape[1]
    out = []
    for s in range(0, B, chunk):
        xs, ys = x[:, s:s + chunk], y[..., s:s + chunk]
        ms = None if mask is None else mask[:, s:s + chunk]
        pred = ens(xs)
        n = pred.shape[0]
        out.append(task.metric(pred, ys.unsqueeze(0).expand(n, *ys.shape),
                               None if ms is None else ms.unsqueeze(0).expand(n, *ms.shape)))
    return torch.stack(out).double().mean(dim=0).numpy()


def run_cell(cfg: CellConfig, desc: str | None = None) -> dict:
    """Run one atlas cell; return its results (JSON-ready; no provenance, see ``store``)."""
    task = _task(cfg)
    v = cfg.variant
    H = hidden_size_for_budget(v.cell, cfg.budget, task.input_size, task.output_size,
                               num_layers=v.num_layers)
    members = [Member(seed=s, lr=lr, init=v.init, forget_bias=v.forget_bias)
               for lr in cfg.lrs for s in cfg.seeds]
    ens = Ensemble.build(v.cell, task, H, members, num_layers=v.num_layers)
    val, test = _data(task, cfg, 1, cfg.n_val), _data(task, cfg, 2, cfg.n_test)
    criterion = Criterion(cfg.threshold)
    wall, cpu = time.perf_counter(), time.process_time()
    hist = train_ensemble(ens, task, cfg.steps, batch_size=cfg.batch_size, clip=cfg.clip,
                          eval_data=val, eval_every=cfg.eval_every,
                          solved=lambda m: solved(m, task.baseline, criterion),
                          freeze_solved=True, desc=desc)
    test_metric = _score(ens, task, test)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    test_ok = solved(test_metric, task.baseline, criterion)
    evals = hist["eval"]
    final_val = np.array([col[~np.isnan(col)][-1] if np.any(~np.isnan(col)) else np.nan
                          for col in evals.T])
    per_member = []
    for k, m in enumerate(members):
        per_member.append({
            "seed": m.seed, "lr": m.lr,
            "time_to_solve": None if np.isnan(hist["time_to_solve"][k])
            else int(hist["time_to_solve"][k]),
            "val_final": _round(final_val[k]), "test_metric": _round(test_metric[k]),
            "test_success": bool(test_ok[k]), "diverged": bool(hist["diverged"][k]),
            "val_curve": [_round(x) for x in evals[:, k]],
        })
    by_lr = {}
    for lr in cfg.lrs:
        rows = [r for r in per_member if r["lr"] == lr]
        k_val = sum(r["time_to_solve"] is not None for r in rows)
        k_test = sum(r["test_success"] for r in rows)
        by_lr[repr(lr)] = {"val_solved": k_val, "test_success": k_test, "n": len(rows),
                           "wilson95": list(wilson_interval(k_test, len(rows))),
                           "median_test_metric": _round(float(np.nanmedian(
                               [np.nan if r["test_metric"] is None else r["test_metric"]
                                for r in rows])))}
    chosen = select_lr({lr: (by_lr[repr(lr)]["val_solved"],
                             [r["val_final"] if r["val_final"] is not None else np.nan
                              for r in per_member if r["lr"] == lr]) for lr in cfg.lrs})
    rows = [r for r in per_member if r["lr"] == chosen]
    times = [np.nan if r["time_to_solve"] is None else r["time_to_solve"] for r in rows]
    return {
        "hidden_size": H, "baseline": task.baseline, "eval_steps": list(hist["eval_step"]),
        "steps_run": hist["steps_run"], "members": per_member, "by_lr": by_lr,
        "selected": {"lr": chosen, **by_lr[repr(chosen)],
                     "time_to_solve": summarize_times(times, cfg.steps)},
        "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
    }


def _round(x) -> float | None:
    x = float(x)
    return None if not np.isfinite(x) else float(f"{x:.6g}")
