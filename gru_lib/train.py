"""One small training loop for every experiment chapter, and the models it trains.

The experiment chapters (long-range benchmarks, the character language model, translation) all do
the same thing: draw a batch, compute a loss, back-propagate, clip the global gradient norm, take
an Adam step, and evaluate now and then. This module does that once, visibly, so the chapters can
spend their words on the experiment instead of the boilerplate.

- :class:`SequenceModel`: an optional embedding, a recurrent core with the ``torch.nn`` contract
  (``gru_lib.torch.RNN/LSTM/GRU`` or ``torch.nn.RNN/LSTM/GRU``), and a linear readout applied at
  every step or at the last step only.
- :func:`make_model`, :func:`count_parameters`, :func:`hidden_size_for_budget`: build RNN, LSTM
  and GRU models with (nearly) the same number of parameters, so a comparison is about the
  architecture, not the size.
- :func:`train`: the loop; returns a history dict for plotting.

Shapes are time-major, ``(T, B, ...)``, as everywhere in the book.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

try:
    import torch
except ImportError as _exc:
    from gru_lib._optional import missing_extra

    raise missing_extra("torch", "gru_lib.train") from _exc
from torch import nn

from gru_lib.utils import progress

__all__ = [
    "CELLS",
    "EXTRA_CELLS",
    "SequenceModel",
    "as_tensor",
    "count_parameters",
    "hidden_size_for_budget",
    "make_core",
    "make_model",
    "train",
]

CELLS = ("RNN", "LSTM", "GRU")
# Cells make_core also builds; not in CELLS, which the chapters loop over.
EXTRA_CELLS = ("minGRU",)


def make_core(cell: str, input_size: int, hidden_size: int, *, num_layers: int = 1,
              backend: str = "torch.nn") -> nn.Module:
    """A recurrent core with ``torch.nn``'s contract: ``core(x, h0) -> (output, h_n)``.

    ``cell`` is ``'RNN'`` (tanh), ``'LSTM'``, ``'GRU'`` or ``'minGRU'`` (case-insensitive).
    ``backend`` is ``'torch.nn'`` (PyTorch's fused kernels: fastest on a CPU) or ``'gru_lib'``
    (the book's :mod:`gru_lib.torch` modules, built from the equations of Part II). Both have the
    same parameter names and shapes, so a model trained with one loads into the other. PyTorch
    has no minGRU: it is always :class:`gru_lib.torch.MinGRU` (parallel-scan mode).
    """
    name = cell.upper() if isinstance(cell, str) else cell
    if name == "MINGRU":
        if backend not in ("torch.nn", "gru_lib"):
            raise ValueError(f"make_core: backend must be 'torch.nn' or 'gru_lib', "
                             f"got {backend!r}")
        from gru_lib.torch import MinGRU
        return MinGRU(input_size, hidden_size, num_layers=num_layers)
    if name not in CELLS:
        raise ValueError(f"make_core: cell must be one of {CELLS + EXTRA_CELLS}, got {cell!r}")
    if backend == "torch.nn":
        module = nn
    elif backend == "gru_lib":
        import gru_lib.torch as module
    else:
        raise ValueError(f"make_core: backend must be 'torch.nn' or 'gru_lib', got {backend!r}")
    return getattr(module, name)(input_size, hidden_size, num_layers=num_layers)


class SequenceModel(nn.Module):
    """Embedding (optional) → recurrent core → linear readout.

    Args:
        core: a module with the ``torch.nn.RNN/LSTM/GRU`` forward contract, time-major.
        output_size: size of the readout (classes, or 1 for a regression).
        readout: ``'all'`` applies the readout at every step, ``'last'`` only at the last step.
        num_embeddings: if given, inputs are integer token ids ``(T, B)`` mapped by an
            ``nn.Embedding(num_embeddings, core.input_size)``; otherwise inputs are float
            ``(T, B, core.input_size)``.

    ``forward(x, h0=None) -> (y, h_n)``: ``y`` is ``(T, B, output_size)`` for ``readout='all'``
    and ``(B, output_size)`` for ``'last'``; ``h_n`` is the core's final state (a tuple
    ``(h_n, c_n)`` for an LSTM), returned so that a caller can carry it across batches
    (truncated BPTT).
    """

    def __init__(self, core: nn.Module, output_size: int, *, readout: str = "all",
                 num_embeddings: int | None = None):
        super().__init__()
        if readout not in ("all", "last"):
            raise ValueError(f"SequenceModel: readout must be 'all' or 'last', got {readout!r}")
        self.embedding = (nn.Embedding(num_embeddings, core.input_size)
                          if num_embeddings is not None else None)
        self.core = core
        self.readout = readout
        self.head = nn.Linear(core.hidden_size, output_size)

    def forward(self, x: torch.Tensor, h0=None):
        if self.embedding is not None:
            x = self.embedding(x)
        out, h_n = self.core(x, h0)
        if self.readout == "last":
            out = out[-1]
        return self.head(out), h_n


def make_model(cell: str, input_size: int, hidden_size: int, output_size: int, *,
               readout: str = "all", num_embeddings: int | None = None, num_layers: int = 1,
               backend: str = "torch.nn") -> SequenceModel:
    """Build a :class:`SequenceModel` around a fresh ``cell`` core (see :func:`make_core`).

    With ``num_embeddings``, ``input_size`` is the embedding width.
    """
    core = make_core(cell, input_size, hidden_size, num_layers=num_layers, backend=backend)
    return SequenceModel(core, output_size, readout=readout, num_embeddings=num_embeddings)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable scalars in ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _model_size(cell: str, input_size: int, hidden_size: int, output_size: int,
                num_embeddings: int | None, num_layers: int) -> int:
    """Parameter count of :func:`make_model`'s model, by formula (no allocation).

    A layer of a cell with ``G`` gate blocks has ``G H (D + H) + 2 G H`` parameters (two bias
    vectors, as in ``torch.nn``); a minGRU layer has no recurrent matrix and one bias,
    ``2 H D + 2 H``; the readout adds ``H O + O``, the embedding ``V D``.
    """
    H = hidden_size
    n = 0
    for layer in range(num_layers):
        D = input_size if layer == 0 else H
        if cell.upper() == "MINGRU":
            n += 2 * H * D + 2 * H
            continue
        G = {"RNN": 1, "LSTM": 4, "GRU": 3}[cell.upper()]
        n += G * H * (D + H) + 2 * G * H
    n += H * output_size + output_size
    if num_embeddings is not None:
        n += num_embeddings * input_size
    return n


def hidden_size_for_budget(cell: str, budget: int, input_size: int, output_size: int, *,
                           num_embeddings: int | None = None, num_layers: int = 1) -> int:
    """The hidden size whose :func:`make_model` parameter count is closest to ``budget``.

    An RNN, an LSTM and a GRU of the same hidden size differ in size by up to 4×; comparing them
    at equal parameter count (not equal ``H``) is the fair comparison (Jozefowicz et al. 2015;
    Greff et al. 2017). The count grows monotonically with ``H``, so a scan suffices.
    """
    if budget < 1:
        raise ValueError(f"hidden_size_for_budget: budget must be positive, got {budget}")
    best, best_gap = 1, math.inf
    for H in range(1, 4096):
        n = _model_size(cell, input_size, H, output_size, num_embeddings, num_layers)
        gap = abs(n - budget)
        if gap < best_gap:
            best, best_gap = H, gap
        if n > budget:
            break
    return best


def _global_norm(parameters) -> float:
    norms = [p.grad.detach().norm() for p in parameters if p.grad is not None]
    return float(torch.linalg.vector_norm(torch.stack(norms))) if norms else 0.0


def train(model: nn.Module, data_fn: Callable[[int], Any],
          loss_fn: Callable[[nn.Module, Any], torch.Tensor], steps: int, *, lr: float = 1e-3,
          clip: float | None = 1.0, eval_fn: Callable[[nn.Module], Any] | None = None,
          eval_every: int | None = None, optimizer: torch.optim.Optimizer | None = None,
          desc: str | None = None) -> dict[str, list]:
    """Train ``model`` for ``steps`` Adam steps; return the history.

    Args:
        model: any ``nn.Module``.
        data_fn: ``data_fn(step) -> batch``; a batch is whatever ``loss_fn`` accepts. Draw it from
            a generator you seeded, so that a run is reproducible.
        loss_fn: ``loss_fn(model, batch) -> scalar tensor`` (runs the model; returns the loss).
        steps: number of optimisation steps.
        lr: Adam's learning rate (Kingma & Ba 2015), used if ``optimizer`` is None.
        clip: maximal global gradient norm (all parameters' gradients seen as one vector, scaled
            down together if longer; Pascanu et al. 2013); ``None`` disables clipping.
        eval_fn: ``eval_fn(model) -> value`` (a float or a dict of floats), called in
            ``model.eval()`` mode under ``torch.no_grad()`` every ``eval_every`` steps and
            after the last step.
        eval_every: evaluation period in steps (default: only at the end).
        optimizer: use this optimizer instead of a fresh Adam.
        desc: label of the progress bar (shown only in interactive sessions, see
            :func:`gru_lib.utils.progress`).

    Returns:
        ``{"step": [...], "loss": [...], "grad_norm": [...], "eval_step": [...],
        "eval": [...]}``: per step the training loss and the global gradient norm *before*
        clipping; per evaluation its step (1-based, after that many updates) and value.
    """
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"train: steps must be a non-negative int, got {steps!r}")
    if eval_every is not None and (not isinstance(eval_every, int) or eval_every < 1):
        raise ValueError(f"train: eval_every must be a positive int or None, got {eval_every!r}")
    params = [p for p in model.parameters() if p.requires_grad]
    opt = optimizer if optimizer is not None else torch.optim.Adam(params, lr=lr)
    history: dict[str, list] = {"step": [], "loss": [], "grad_norm": [], "eval_step": [],
                                "eval": []}

    def evaluate(step: int) -> None:
        was_training = model.training
        model.eval()
        with torch.no_grad():
            history["eval"].append(eval_fn(model))
        history["eval_step"].append(step)
        model.train(was_training)

    model.train()
    for step in progress(range(1, steps + 1), desc=desc, leave=False):
        batch = data_fn(step)
        loss = loss_fn(model, batch)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"train: loss became {loss.item()} at step {step}")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if clip is not None:
            norm = float(nn.utils.clip_grad_norm_(params, clip))
        else:
            norm = _global_norm(params)
        opt.step()
        history["step"].append(step)
        history["loss"].append(float(loss.detach()))
        history["grad_norm"].append(norm)
        if eval_fn is not None and eval_every is not None and step % eval_every == 0:
            evaluate(step)
    if eval_fn is not None and (not history["eval_step"] or history["eval_step"][-1] != steps):
        evaluate(steps)
    return history


def as_tensor(a, dtype: torch.dtype | None = None) -> torch.Tensor:
    """A NumPy array (from :mod:`gru_lib.tasks`) as a torch tensor, sharing memory when possible."""
    if isinstance(a, torch.Tensor):
        return a if dtype is None else a.to(dtype)
    t = torch.from_numpy(np.ascontiguousarray(a))
    return t if dtype is None else t.to(dtype)

