"""One model, one run: the protocol an ensemble member reproduces, on :func:`gru_lib.train.train`.

:func:`run_single` is what "N separate runs" means in the tests and the benchmark: build the
member (:func:`gru_lib.ensemble.init.build_member`), seed a NumPy generator with the data seed, and
train with the book's loop (Adam, global-norm clipping) on the task's loss.
"""

from __future__ import annotations

import numpy as np
import torch

from gru_lib.ensemble.core import Member
from gru_lib.ensemble.init import build_member
from gru_lib.ensemble.specs import TaskSpec
from gru_lib.train import SequenceModel, train

__all__ = ["run_single", "single_loss"]


def single_loss(task: TaskSpec, model: SequenceModel, batch, dtype: torch.dtype) -> torch.Tensor:
    """The task's loss for one model: the ensemble's loss with a model axis of length 1."""
    x, y, _ = batch
    y = y.to(dtype) if y.dtype.is_floating_point else y
    pred = model(x.to(dtype))[0]
    return task.loss(pred.unsqueeze(0), y.unsqueeze(0))[0]


def run_single(cell: str, task: TaskSpec, hidden_size: int, member: Member, steps: int, *,
               batch_size: int, clip: float | None = 1.0, num_layers: int = 1,
               dtype: torch.dtype = torch.float32) -> tuple[SequenceModel, dict]:
    """Train one member with :func:`gru_lib.train.train`; return ``(model, history)``."""
    model = build_member(cell, task.input_size, hidden_size, task.output_size,
                         readout=task.readout, seed=member.seed, init=member.init,
                         forget_bias=member.forget_bias, T_max=task.T, num_layers=num_layers,
                         dtype=dtype)
    rng = np.random.default_rng(member.seed if member.data_seed is None else member.data_seed)
    hist = train(model, lambda step: task.batch(rng, batch_size),
                 lambda m, b: single_loss(task, m, b, dtype), steps, lr=member.lr, clip=clip)
    return model, hist
