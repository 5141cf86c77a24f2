"""The atlas's grids: which (task, T, model variant) cells a grid holds, in priority order.

Not part of the source hash (:mod:`gru_lib.atlas.store`): every result file stores its cell's
full configuration, and a stored cell whose configuration differs from the grid's current one is
reported and recomputed like a stale one.
"""

from __future__ import annotations

from gru_lib.atlas.grid import CellConfig, Variant

__all__ = ["GRIDS", "VARIANTS", "grid_cells"]

# Variants and (task, T) in priority order: a shard runs its cells task by task in this order,
# so an interrupted grid has the chapter-10 range and the main cells first.
VARIANTS = (
    Variant("RNN", init="orthogonal"), Variant("RNN"),
    Variant("GRU"), Variant("LSTM", forget_bias=1.0), Variant("LSTM", forget_bias=0.0),
    Variant("GRU", init="chrono"), Variant("LSTM", init="chrono"),
    Variant("minGRU", 2), Variant("minGRU"), Variant("GRU", init="orthogonal"),
    Variant("minGRU", init="chrono"), Variant("minGRU", 2, init="chrono"),
)
_V1_TASKS = (("adding", 50), ("adding", 100), ("copy", 20), ("copy", 50), ("adding", 200),
             ("adding", 25), ("copy", 10), ("reber", 0), ("selective", 25), ("selective", 50),
             ("copy", 100), ("adding", 400))

# What the book needs first (issue 11: chapter 10's adding and copy results per cell; issue 12:
# a task on which a well-initialised simple RNN fails while gated cells succeed).
_V1_FIRST = tuple((task, T, name) for task, T, names in (
    ("adding", 50, ("RNN-orthogonal", "RNN", "GRU", "LSTM-fb1", "minGRUx2")),
    ("adding", 100, ("RNN-orthogonal", "GRU", "LSTM-fb1")),
    ("copy", 20, ("RNN-orthogonal", "RNN", "GRU", "LSTM-fb1")),
    ("adding", 50, ("LSTM-fb0", "minGRU", "GRU-chrono", "LSTM-chrono")),
    ("copy", 20, ("LSTM-fb0", "minGRUx2", "minGRU")),
    ("adding", 100, ("RNN", "minGRUx2", "LSTM-chrono", "GRU-chrono")),
) for name in names)

GRIDS = {
    "v1": dict(tasks=_V1_TASKS, variants=VARIANTS, first=_V1_FIRST, budget=2000,
               lrs=(3e-3, 1e-2, 3e-2),
               seeds=tuple(range(10)), steps=2000, batch_size=32, eval_every=100, n_val=256,
               n_test=1024, threshold=0.1),
    # a tiny grid for tests and quick looks: same code path, seconds to run
    "tiny": dict(tasks=(("adding", 6), ("copy", 4), ("reber", 0)),
                 variants=(Variant("RNN"), Variant("GRU", init="chrono"),
                           Variant("minGRU", 2)),
                 budget=300, lrs=(1e-2, 3e-2), seeds=(0, 1, 2), steps=150, batch_size=16,
                 eval_every=25, n_val=64, n_test=64, threshold=0.5),
}


def grid_cells(grid: str) -> list[CellConfig]:
    """The atlas cells of ``grid``, in priority order: the grid's ``first`` cells (``(task, T,
    variant name)``), then the rest task by task, variant by variant."""
    if grid not in GRIDS:
        raise ValueError(f"unknown grid {grid!r}; expected one of {sorted(GRIDS)}")
    g = GRIDS[grid]
    cells = [CellConfig(task, T, v, g["budget"], g["lrs"], g["seeds"], g["steps"],
                        g["batch_size"], g["eval_every"], g["n_val"], g["n_test"], g["threshold"])
             for task, T in g["tasks"] for v in g["variants"]]
    rank = {key: i for i, key in enumerate(g.get("first", ()))}
    return sorted(cells, key=lambda c: rank.get((c.task, c.T, c.variant.name), len(rank)))
