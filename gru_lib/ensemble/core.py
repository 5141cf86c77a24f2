"""N independent models trained as one batched computation.

:class:`Ensemble` stacks the parameters of N models of one architecture (same cell, sizes and
readout; any seeds, initialisations and learning rates) into tensors with a leading model axis,
and :func:`train_ensemble` trains them together: each step draws every member's batch from that
member's own generator, runs one batched forward (:mod:`gru_lib.ensemble.batched`), back-propagates
the *sum* of the members' losses (model ``k``'s parameters only reach loss ``k``, so each slice of
the gradient is that member's own gradient), clips each member's global gradient norm separately
and takes one Adam step with a per-member learning rate.

Each member then follows, to rounding, the run :func:`gru_lib.train.train` performs for the same
seed (:mod:`gru_lib.ensemble.reference`): same initial weights (:func:`build_member`), same
batches, same clipping (``clip_grad_norm_``'s ``max_norm / (norm + 1e-6)``), same Adam
(Kingma & Ba 2015, torch's default betas and eps). ``tests/test_ensemble.py`` checks this to
1e-10 in float64.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from gru_lib.ensemble.batched import stacked_core, stacked_head
from gru_lib.ensemble.init import _canonical_cell, build_member, check_init
from gru_lib.ensemble.specs import TaskSpec
from gru_lib.utils import progress

__all__ = ["Ensemble", "Member", "stack_batches", "train_ensemble"]

BETAS, EPS, CLIP_EPS = (0.9, 0.999), 1e-8, 1e-6   # torch.optim.Adam, clip_grad_norm_


@dataclass(frozen=True)
class Member:
    """One model of an ensemble: its seed (initial weights), learning rate, initialisation and
    data seed (``None``: the same as ``seed``, as in a separate run)."""

    seed: int
    lr: float
    init: str = "default"
    forget_bias: float | None = None
    data_seed: int | None = None


def _check_members(members) -> list[Member]:
    if not isinstance(members, Sequence) or isinstance(members, str) or len(members) == 0:
        raise ValueError(f"Ensemble: need a non-empty list of members (seeds), got {members!r}")
    out = []
    for m in members:
        if not isinstance(m, Member):
            raise TypeError(f"Ensemble: members must be Member objects, got {type(m).__name__}")
        lr = m.lr
        if not isinstance(lr, int | float) or isinstance(lr, bool) or not math.isfinite(lr) \
                or lr <= 0:
            raise ValueError(f"Ensemble: every learning rate must be a positive finite number, "
                             f"got lr={lr!r} for seed {m.seed}")
        out.append(m)
    return out


class Ensemble:
    """N models of one architecture with stacked parameters ``(N, *shape)``.

    Build it with :meth:`build` (from a cell, a task and member seeds, as N separate runs would)
    or :meth:`from_models` (from any N :class:`gru_lib.train.SequenceModel` s of equal shapes).

    Attributes:
        cell: ``'RNN'``, ``'LSTM'``, ``'GRU'`` or ``'minGRU'``.
        readout: ``'last'`` or ``'all'``.
        num_layers: layers of the recurrent core.
        params: ``{name: tensor (N, *shape)}`` with the single model's ``state_dict`` names
            (``core.weight_ih_l0``, ..., ``head.weight``, ``head.bias``); leaf tensors with
            ``requires_grad``.
        lrs: ``(N,)`` learning rates (from the members; ``from_models`` takes them as an argument).
    """

    def __init__(self, cell: str, readout: str, num_layers: int, params: dict, lrs):
        self.cell, self.readout, self.num_layers = cell, readout, num_layers
        self.params = params
        self.lrs = torch.as_tensor(lrs, dtype=torch.float64)
        self.members: list[Member] | None = None

    def __len__(self) -> int:
        return int(self.lrs.shape[0])

    @classmethod
    def from_models(cls, models, cell: str, lrs) -> Ensemble:
        """Stack ``models`` (a list of ``SequenceModel`` with equal parameter shapes and dtypes)."""
        try:
            cell = _canonical_cell(cell)
        except ValueError as exc:
            raise ValueError(f"Ensemble: {exc}") from None
        if not isinstance(models, Sequence) or len(models) == 0:
            raise ValueError("Ensemble: need a non-empty list of models")
        lrs = [float(lr) if isinstance(lr, int | float) and not isinstance(lr, bool) else lr
               for lr in lrs]
        if len(lrs) != len(models):
            raise ValueError(f"Ensemble: expected one learning rate per model ({len(models)}), "
                             f"got {len(lrs)}")
        _check_members([Member(0, lr) for lr in lrs])
        first = models[0]
        if getattr(first, "embedding", None) is not None:
            raise ValueError("Ensemble: models with an embedding are not supported")
        ref = {k: (v.shape, v.dtype) for k, v in first.state_dict().items()}
        for i, m in enumerate(models[1:], start=1):
            got = {k: (v.shape, v.dtype) for k, v in m.state_dict().items()}
            if got != ref or m.readout != first.readout:
                diff = sorted(k for k in set(ref) | set(got) if ref.get(k) != got.get(k))
                raise ValueError(f"Ensemble: model {i} does not match model 0 (readout "
                                 f"{m.readout!r} vs {first.readout!r}; parameters that differ "
                                 f"in shape or dtype: {diff}: expected "
                                 f"{[tuple(ref[k][0]) if k in ref else None for k in diff]}, "
                                 f"got {[tuple(got[k][0]) if k in got else None for k in diff]})")
        params = {k: torch.stack([m.state_dict()[k].detach() for m in models]).requires_grad_()
                  for k in ref}
        return cls(cell, first.readout, first.core.num_layers, params, lrs)

    @classmethod
    def build(cls, cell: str, task: TaskSpec, hidden_size: int, members, *, num_layers: int = 1,
              dtype: torch.dtype = torch.float32) -> Ensemble:
        """The ensemble of ``members`` on ``task``: member ``k`` starts from exactly the weights
        :func:`build_member` gives for its seed and initialisation (``T_max = task.T``)."""
        try:
            cell = _canonical_cell(cell)
        except ValueError as exc:
            raise ValueError(f"Ensemble: {exc}") from None
        members = _check_members(members)
        for m in members:
            check_init(cell, m.init, m.forget_bias)
        with torch.random.fork_rng(devices=[]):
            models = [build_member(cell, task.input_size, hidden_size, task.output_size,
                                   readout=task.readout, seed=m.seed, init=m.init,
                                   forget_bias=m.forget_bias, T_max=task.T,
                                   num_layers=num_layers, dtype=dtype) for m in members]
        ens = cls.from_models(models, cell, [m.lr for m in members])
        ens.members = members
        return ens

    @property
    def dtype(self) -> torch.dtype:
        return self.params["head.weight"].dtype

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Predictions of every model: ``x`` ``(L, N, B, D)`` (one batch per model) or
        ``(L, B, D)`` (one batch for all) → ``(N, B, O)`` (``'last'``) or ``(N, L, B, O)``."""
        D = self.params["core.weight_ih_l0"].shape[-1]
        if not isinstance(x, torch.Tensor) or x.dim() not in (3, 4) or x.shape[-1] != D \
                or (x.dim() == 4 and x.shape[1] != len(self)):
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"Ensemble.forward: expected x of shape (L, {len(self)}, B, {D}) or "
                             f"(L, B, {D}), got {shape}")
        core = {k[5:]: v for k, v in self.params.items() if k.startswith("core.")}
        h = stacked_core(self.cell, x.to(self.dtype), core, self.num_layers)
        return stacked_head(h, self.params["head.weight"], self.params["head.bias"],
                            self.readout)

    __call__ = forward

    def state_dicts(self) -> list[dict[str, torch.Tensor]]:
        """Each member's parameters as a single model's ``state_dict`` (detached copies)."""
        return [{k: v[i].detach().clone() for k, v in self.params.items()}
                for i in range(len(self))]


def stack_batches(batches: list) -> tuple:
    """Stack the members' ``(x, y, mask)`` batches along a model axis, padding ragged lengths.

    ``x`` ``(L, B, D)`` → ``(L_max, N, B, D)`` (zero inputs after a sequence's end); ``y`` and
    ``mask`` → ``(N, ...)`` (targets ``-1`` and mask ``False`` in the padding). Padding at the end
    changes nothing a causal model computes at the earlier steps.
    """
    xs, ys, ms = zip(*batches, strict=True)
    if len({x.shape[0] for x in xs}) > 1:
        L = max(x.shape[0] for x in xs)
        xs = [torch.cat([x, x.new_zeros(L - x.shape[0], *x.shape[1:])]) for x in xs]
        ys = [torch.cat([y, y.new_full((L - y.shape[0], *y.shape[1:]), -1)]) for y in ys]
        ms = [torch.cat([m, m.new_zeros(L - m.shape[0], *m.shape[1:])]) for m in ms]
    mask = None if ms[0] is None else torch.stack(ms)
    return torch.stack(xs, dim=1), torch.stack(ys), mask


def _clip_(grads: list[torch.Tensor], max_norm: float | None) -> torch.Tensor:
    """Per-model global gradient norm ``(N,)`` before clipping; scales each model's gradient by
    ``min(1, max_norm / (norm + 1e-6))`` as ``torch.nn.utils.clip_grad_norm_`` does."""
    N = grads[0].shape[0]
    norms = torch.stack([torch.linalg.vector_norm(g.reshape(N, -1), dim=1) for g in grads], dim=1)
    total = torch.linalg.vector_norm(norms, dim=1)
    if max_norm is not None:
        coef = torch.clamp(max_norm / (total + CLIP_EPS), max=1.0)
        for g in grads:
            g.mul_(coef.view(-1, *([1] * (g.dim() - 1))))
    return total


@torch.no_grad()
def _adam_(params, grads, state, lrs, step: int) -> None:
    """One Adam step for all models; ``lrs`` ``(N,)``, per-model step sizes ``lr / (1 − β1^t)``."""
    beta1, beta2 = BETAS
    bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
    step_size = lrs / (1 - beta1 ** step)
    for p, g, (m, v) in zip(params, grads, state, strict=True):
        m.lerp_(g, 1 - beta1)
        v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
        denom = (v.sqrt() / bias_correction2_sqrt).add_(EPS)
        p.sub_(step_size.view(-1, *([1] * (p.dim() - 1))).to(p.dtype) * (m / denom))


def train_ensemble(ens: Ensemble, task: TaskSpec, steps: int, *, batch_size: int,
                   clip: float | None = 1.0, rngs: list | None = None,
                   eval_data: tuple | None = None, eval_every: int | None = None,
                   solved: Callable[[np.ndarray], np.ndarray] | None = None,
                   freeze_solved: bool = False, desc: str | None = None) -> dict:
    """Train every member of ``ens`` on ``task`` for up to ``steps`` steps; return the history.

    Args:
        ens: the ensemble (trained in place).
        task: the :class:`TaskSpec` that draws batches and defines loss and metric.
        steps, batch_size: step budget and batch size ``B`` per member.
        clip: per-member maximal global gradient norm; ``None`` disables clipping.
        rngs: one ``np.random.Generator`` per member for its training batches; default
            ``default_rng(data_seed)`` of each member (as a separate run seeds it).
        eval_data: ``(x, y, mask)`` validation batch shared by all members (``x`` ``(L, B, D)``);
            the metric is computed every ``eval_every`` steps and after the last.
        solved: ``solved(metric (N,)) -> bool (N,)``: the success criterion; with it the history
            records each member's time to solve (the first evaluation step at which it holds).
        freeze_solved: stop updating a member once it is solved (early stopping on validation),
            and drop it from the batched computation; members whose loss becomes non-finite are
            dropped as well (``diverged``). Training ends when no member is left.

    Returns:
        ``{"loss": (steps, N), "grad_norm": (steps, N)`` (NaN once a member is dropped),
        ``"eval_step": [...], "eval": (n_evals, N)``, ``"time_to_solve": (N,)`` (NaN: never),
        ``"diverged": (N,) bool, "steps_run": int}`` as NumPy arrays; ``ens.params`` hold each
        member's final (or frozen) weights.
    """
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
        raise ValueError(f"train_ensemble: steps must be a non-negative int, got {steps!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"train_ensemble: batch_size must be a positive int, got {batch_size!r}")
    if eval_every is not None and (not isinstance(eval_every, int) or eval_every < 1):
        raise ValueError(f"train_ensemble: eval_every must be a positive int or None, "
                         f"got {eval_every!r}")
    N = len(ens)
    if rngs is None:
        if ens.members is None:
            raise ValueError("train_ensemble: pass rngs (one per model) for an ensemble built "
                             "with from_models")
        rngs = [np.random.default_rng(m.seed if m.data_seed is None else m.data_seed)
                for m in ens.members]
    if len(rngs) != N:
        raise ValueError(f"train_ensemble: expected {N} generators (one per model), "
                         f"got {len(rngs)}")
    names = list(ens.params)
    full = {k: v.detach().clone() for k, v in ens.params.items()}   # final weights, all members
    live = np.arange(N)
    params = [ens.params[k] for k in names]
    state = [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]
    lrs = ens.lrs.clone()
    hist = {"loss": np.full((steps, N), np.nan), "grad_norm": np.full((steps, N), np.nan),
            "eval_step": [], "eval": [], "time_to_solve": np.full(N, np.nan),
            "diverged": np.zeros(N, dtype=bool), "steps_run": 0}

    def view() -> Ensemble:
        e = Ensemble(ens.cell, ens.readout, ens.num_layers, dict(zip(names, params, strict=True)),
                     lrs)
        return e

    def drop(keep: np.ndarray) -> None:
        nonlocal live, params, state, lrs, rngs
        for k, p in zip(names, params, strict=True):
            full[k][live] = p.detach()
        idx = torch.as_tensor(np.flatnonzero(keep))
        params = [p.detach()[idx].clone().requires_grad_() for p in params]
        state = [(m[idx].clone(), v[idx].clone()) for m, v in state]
        lrs = lrs[idx]
        rngs = [rngs[i] for i in np.flatnonzero(keep)]
        live = live[keep]

    def evaluate(step: int) -> None:
        x, y, mask = eval_data
        with torch.no_grad():
            pred = view()(x)
            n = pred.shape[0]
            yy = y.unsqueeze(0).expand(n, *y.shape)
            mm = None if mask is None else mask.unsqueeze(0).expand(n, *mask.shape)
            metric = task.metric(pred, yy, mm).double().numpy()
        row = np.full(N, np.nan)
        row[live] = metric
        hist["eval"].append(row)
        hist["eval_step"].append(step)
        if solved is not None:
            ok = np.asarray(solved(metric), dtype=bool)
            new = ok & np.isnan(hist["time_to_solve"][live])
            hist["time_to_solve"][live[new]] = step
            if freeze_solved and ok.any():
                drop(~ok)

    for step in progress(range(1, steps + 1), desc=desc, leave=False):
        if len(live) == 0:
            break
        x, y, mask = stack_batches([task.batch(rng, batch_size) for rng in rngs])
        if x.dtype.is_floating_point:
            x = x.to(ens.dtype)
        if y.dtype.is_floating_point:
            y = y.to(ens.dtype)
        losses = task.loss(view()(x), y)
        finite = torch.isfinite(losses.detach())
        if not bool(finite.all()):
            if not freeze_solved:
                bad = int(live[int((~finite).nonzero()[0, 0])])
                raise FloatingPointError(f"train_ensemble: loss of member {bad} became "
                                         f"{losses[~finite][0].item()} at step {step}")
            keep = finite.numpy()
            hist["diverged"][live[~keep]] = True
            drop(keep)
            if len(live) == 0:
                break
            idx = torch.as_tensor(np.flatnonzero(keep))
            x, y = x[:, idx], y[idx]
            mask = None if mask is None else mask[idx]
            losses = task.loss(view()(x), y)
        for p in params:
            p.grad = None
        losses.sum().backward()
        grads = [p.grad for p in params]
        norms = _clip_(grads, clip)
        _adam_(params, grads, state, lrs, step)
        hist["loss"][step - 1, live] = losses.detach().double().numpy()
        hist["grad_norm"][step - 1, live] = norms.double().numpy()
        hist["steps_run"] = step
        if eval_data is not None and eval_every is not None and step % eval_every == 0:
            evaluate(step)
    if eval_data is not None and len(live) and (not hist["eval_step"]
                                                or hist["eval_step"][-1] != hist["steps_run"]):
        evaluate(hist["steps_run"])
    for k, p in zip(names, params, strict=True):
        full[k][live] = p.detach()
    ens.params = {k: v.requires_grad_() for k, v in full.items()}
    hist["eval"] = np.array(hist["eval"]).reshape(-1, N)
    return hist

