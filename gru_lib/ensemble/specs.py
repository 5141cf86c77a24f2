"""The tasks of the trainability atlas as training specifications, shared by every runner.

A :class:`TaskSpec` says everything a training run needs about a task of :mod:`gru_lib.tasks`:
input and output sizes, where the readout is applied, how to draw a batch from a seeded
generator, the training loss, the evaluation metric and its memoryless baseline. One spec serves
both the single-model loop (:func:`gru_lib.train.train`, via :mod:`gru_lib.ensemble.reference`)
and the batched ensemble (:mod:`gru_lib.ensemble.core`), so the two compute the same thing.

Every loss and metric takes predictions with a leading *model* axis, ``(N, ...)``, and returns one
value per model, ``(N,)``; a single model is the case ``N = 1``. Metrics are error rates or MSEs
(lower is better), so a success criterion is always "metric / baseline below a threshold".

- ``adding``: MSE of the last step's output; baseline 1/6 (predict the mean).
- ``copy``: cross-entropy over all steps (Arjovsky et al. 2016); metric: error rate on the
  recalled symbols; baseline ``1 − 1/K`` (guess a symbol).
- ``selective``: cross-entropy on the recall steps; metric and baseline as for ``copy``.
- ``reber``: next-symbol cross-entropy (embedded Reber; ``T`` is ignored: the grammar fixes the
  lengths); metric: error at the one long-lag step; baseline 1/2.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from gru_lib import tasks

__all__ = ["TASK_NAMES", "TaskSpec", "make_task"]

TASK_NAMES = ("adding", "copy", "selective", "reber")


@dataclass(frozen=True)
class TaskSpec:
    """A task as a training specification (see the module docstring).

    Attributes:
        name: one of :data:`TASK_NAMES`.
        T: the delay the task is built with (ignored by ``reber``).
        input_size, output_size: ``D`` and ``O`` of the model.
        readout: ``'last'`` or ``'all'`` (see :class:`gru_lib.train.SequenceModel`).
        batch: ``batch(rng, B) -> (x, y, mask)``: ``x`` float ``(L, B, D)``, ``y`` the targets,
            ``mask`` bool ``(L, B)`` marking the steps the metric scores (``None`` for
            ``adding``).
        loss: ``loss(pred, y) -> (N,)`` for ``pred`` ``(N, B, O)`` or ``(N, L, B, O)``.
        metric: ``metric(pred, y, mask) -> (N,)``: the error the success criterion uses.
        baseline: the metric of the best memoryless predictor.
    """

    name: str
    T: int
    input_size: int
    output_size: int
    readout: str
    batch: Callable
    loss: Callable
    metric: Callable
    baseline: float


def _mse(pred, y):
    """Per-model mean squared error: ``pred`` ``(N, B, 1)``, ``y`` ``(N, B)`` → ``(N,)``."""
    return ((pred.squeeze(-1) - y) ** 2).flatten(1).mean(dim=1)


def _mse_metric(pred, y, mask):
    return _mse(pred, y)


def _cross_entropy(pred, y):
    """Per-model mean cross-entropy over the steps whose target is not ``-1``.

    ``pred`` ``(N, L, B, O)`` logits, ``y`` ``(N, L, B)`` int64 → ``(N,)``.
    """
    N, O = pred.shape[0], pred.shape[-1]
    losses = F.cross_entropy(pred.reshape(-1, O), y.reshape(-1).clamp(min=0),
                             reduction="none").view(N, -1)
    keep = (y.reshape(N, -1) >= 0).to(pred.dtype)
    return (losses * keep).sum(dim=1) / keep.sum(dim=1)


def _error_rate(pred, y, mask):
    """Per-model fraction of wrong argmax predictions on the steps ``mask`` marks → ``(N,)``."""
    N = pred.shape[0]
    wrong = (pred.argmax(dim=-1) != y).reshape(N, -1)
    m = mask.reshape(N, -1) if mask.dim() == y.dim() else mask.reshape(1, -1).expand(N, -1)
    return (wrong & m).sum(dim=1).to(torch.float64) / m.sum(dim=1)


def _tensor(a, dtype=None):
    t = torch.from_numpy(np.ascontiguousarray(a))
    return t if dtype is None else t.to(dtype)


def make_task(name: str, T: int, *, n_symbols: int = 8, n_copy: int | None = None) -> TaskSpec:
    """The :class:`TaskSpec` of task ``name`` at delay ``T``.

    ``n_copy`` defaults to 1 for ``copy`` (chapter 10's form) and 4 for ``selective``. Float
    inputs are float32; :class:`gru_lib.ensemble.Ensemble` casts them to its dtype.
    """
    if name not in TASK_NAMES:
        raise ValueError(f"make_task: task must be one of {TASK_NAMES}, got {name!r}")
    if not isinstance(T, int) or isinstance(T, bool) or T < 2:
        raise ValueError(f"make_task: T must be an int >= 2, got {T!r}")
    K = n_symbols
    if name == "adding":
        def batch(rng, B):
            x, y = tasks.adding_problem(rng, B, T)
            return _tensor(x), _tensor(y), None
        return TaskSpec(name, T, 2, 1, "last", batch, _mse, _mse_metric,
                        tasks.adding_baseline())
    if name in ("copy", "selective"):
        n = n_copy if n_copy is not None else (1 if name == "copy" else 4)
        make = tasks.copy_memory if name == "copy" else tasks.selective_copy

        def batch(rng, B):
            x, y = make(rng, B, T, n_symbols=K, n_copy=n)
            x = F.one_hot(_tensor(x), K + 2).to(torch.float32)
            mask = np.zeros(y.shape, dtype=bool)
            mask[-n:] = True   # the recall steps, in both tasks
            return x, _tensor(y), _tensor(mask)
        return TaskSpec(name, T, K + 2, K + 1, "all", batch, _cross_entropy, _error_rate,
                        1.0 - 1.0 / K)

    def batch(rng, B):
        b = tasks.embedded_reber(rng, B)
        mask = np.zeros(b.y.shape, dtype=bool)
        mask[b.critical, np.arange(B)] = True
        return _tensor(b.x), _tensor(b.y), _tensor(mask)
    return TaskSpec(name, T, len(tasks.REBER_SYMBOLS), len(tasks.REBER_SYMBOLS), "all", batch,
                    _cross_entropy, _error_rate, tasks.reber_baseline())
