"""The per-model optimizer steps of :func:`gru_lib.ensemble.train_ensemble`, for any stack.

Parameters stacked along a leading model axis (``torch.func.stack_module_state``, or an
:class:`~gru_lib.ensemble.Ensemble`'s) are trained model by model with two in-place steps:
:func:`clip_grad_norm_per_model_` clips each model's *own* global gradient norm, and
:func:`adam_step_per_model_` takes each model's Adam step with its own learning rate. Together
they reproduce ``torch.nn.utils.clip_grad_norm_`` and ``torch.optim.Adam`` (default betas and
eps) applied to every model separately; they are the functions :func:`train_ensemble` itself
calls, so a hand-written loop over stacked models (chapter 12's encoder–decoders) trains exactly
as the ensemble trainer would.
"""

from __future__ import annotations

import torch

from gru_lib.ensemble.core import _adam_, _clip_

__all__ = ["adam_state", "adam_step_per_model_", "clip_grad_norm_per_model_"]


def _check_stack(fn: str, name: str, tensors, n_models: int | None = None) -> int:
    if not isinstance(tensors, list | tuple) or not tensors:
        raise TypeError(f"{fn}: {name} must be a non-empty list of tensors, got "
                        f"{type(tensors).__name__}")
    for i, t in enumerate(tensors):
        if not isinstance(t, torch.Tensor) or t.dim() < 1:
            raise TypeError(f"{fn}: {name}[{i}] must be a tensor with a leading model axis, got "
                            f"{type(t).__name__}" + (f" of shape {tuple(t.shape)}"
                                                     if isinstance(t, torch.Tensor) else ""))
        n = t.shape[0]
        if n_models is None:
            n_models = n
        elif n != n_models:
            raise ValueError(f"{fn}: every tensor of {name} must have {n_models} models along "
                             f"its first axis; {name}[{i}] has shape {tuple(t.shape)}")
    return n_models


def clip_grad_norm_per_model_(grads, max_norm: float | None) -> torch.Tensor:
    """Clip each model's global gradient norm to ``max_norm`` in place; return the norms.

    Args:
        grads: list of gradient tensors, each ``(N, ...)`` with the model on the first axis.
        max_norm: the largest global norm a model's gradient keeps (``None``: measure only).

    Returns:
        ``(N,)`` each model's global gradient norm *before* clipping, as
        ``torch.nn.utils.clip_grad_norm_`` returns it for one model.
    """
    _check_stack("clip_grad_norm_per_model_", "grads", grads)
    if max_norm is not None and not (isinstance(max_norm, int | float) and max_norm > 0):
        raise ValueError(f"clip_grad_norm_per_model_: max_norm must be a positive number or "
                         f"None, got {max_norm!r}")
    return _clip_(list(grads), max_norm)


def adam_state(params) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Fresh Adam moments (zeros) for the stacked ``params``."""
    _check_stack("adam_state", "params", params)
    return [(torch.zeros_like(p), torch.zeros_like(p)) for p in params]


def adam_step_per_model_(params, grads, state, lrs, step: int) -> None:
    """One Adam step for every model, in place, with per-model learning rates.

    Args:
        params, grads: lists of matching ``(N, ...)`` tensors (model on the first axis).
        state: the moments from :func:`adam_state`, updated in place.
        lrs: ``(N,)`` tensor of learning rates, one per model.
        step: the 1-based step number (Adam's bias correction).
    """
    n = _check_stack("adam_step_per_model_", "params", params)
    _check_stack("adam_step_per_model_", "grads", grads, n)
    if len(grads) != len(params) or len(state) != len(params):
        raise ValueError(f"adam_step_per_model_: {len(params)} parameters need as many gradients "
                         f"and moment pairs, got {len(grads)} and {len(state)}")
    for i, (p, g) in enumerate(zip(params, grads, strict=True)):
        if g.shape != p.shape:
            raise ValueError(f"adam_step_per_model_: grads[{i}] has shape {tuple(g.shape)}, "
                             f"params[{i}] {tuple(p.shape)}")
    if not isinstance(lrs, torch.Tensor) or lrs.shape != (n,):
        got = tuple(lrs.shape) if isinstance(lrs, torch.Tensor) else type(lrs).__name__
        raise ValueError(f"adam_step_per_model_: lrs must be a tensor of shape ({n},), got {got}")
    if not bool((lrs > 0).all()):
        raise ValueError(f"adam_step_per_model_: learning rates must be positive, got "
                         f"{lrs.tolist()}")
    if not isinstance(step, int) or isinstance(step, bool) or step < 1:
        raise ValueError(f"adam_step_per_model_: step must be an int >= 1, got {step!r}")
    _adam_(list(params), list(grads), state, lrs, step)
