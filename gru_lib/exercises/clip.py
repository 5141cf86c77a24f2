"""Checker for the exercise of chapter {ref}`ch-vanishing`: global-norm gradient clipping.

- :func:`check_clip_global_norm`: ``fn(grads, max_norm) -> (clipped, total_norm)``, global-norm
  clipping of a dict of gradients, as ``torch.nn.utils.clip_grad_norm_`` does it, but returning a
  new dict: the caller's gradients must not change (a dict changed in place is reported).

The norm is the root quantity: when it is wrong, it is reported before the arrays scaled with it.
Float32 policy: accepted, with a float32 tolerance. (Also importable from
:mod:`gru_lib.exercises.bptt`, where chapter 4 imports it.)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping

import numpy as np

from gru_lib.exercises._core import CheckResult, Layout, Mistake, run_check
from gru_lib.exercises._progress import checked

__all__ = ["check_clip_global_norm"]

_D, _H = 5, 3



_CLIP_KEYS = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")
_CLIP_SHAPES = ((_H, _D), (_H, _H), (_H,), (_H,))
# max_norm as a multiple of the true global norm, trial by trial: clipped, not clipped, clipped.
# A reader who always rescales passes the first trial and is caught by the second.
_CLIP_PLAN = (0.3, 2.5, 0.6)


def _make_clip_inputs_factory() -> Callable[[np.random.Generator], tuple]:
    counter = itertools.count()

    def make(rng: np.random.Generator) -> tuple:
        ratio = _CLIP_PLAN[next(counter) % len(_CLIP_PLAN)]
        scales = rng.uniform(0.5, 4.0, size=len(_CLIP_KEYS))
        grads = {k: s * rng.normal(size=shape)
                 for k, shape, s in zip(_CLIP_KEYS, _CLIP_SHAPES, scales, strict=True)}
        n = np.sqrt(sum(float(np.sum(g * g)) for g in grads.values()))
        return grads, float(ratio * n)

    return make


def _flat(clipped: Mapping, total) -> tuple:
    """A (dict, norm) answer as a tuple of arrays in a fixed key order, for comparison."""
    return (*(np.asarray(clipped[k]) for k in _CLIP_KEYS), np.asarray(float(total)))


def _clip(grads, max_norm, *, norm: str = "l2", per_tensor: bool = False,
          elementwise: bool = False, always: bool = False, never: bool = False,
          inverted: bool = False, report: str = "before") -> tuple:
    """Global-norm clipping with a switch for each known mistake (defaults: correct)."""
    tensor_norms = [np.sqrt(np.sum(grads[k] ** 2)) for k in _CLIP_KEYS]
    n = {"l2": np.sqrt(sum(t**2 for t in tensor_norms)),
         "sum_of_norms": sum(tensor_norms),
         "squared": sum(t**2 for t in tensor_norms),
         "l1": sum(np.sum(np.abs(grads[k])) for k in _CLIP_KEYS),
         "max": max(tensor_norms)}[norm]
    if elementwise:
        out = {k: np.clip(grads[k], -max_norm, max_norm) for k in _CLIP_KEYS}
    elif per_tensor:
        out = {k: grads[k] * min(1.0, max_norm / (t + 1e-6))
               for k, t in zip(_CLIP_KEYS, tensor_norms, strict=True)}
    else:
        if never:
            scale = 1.0
        elif inverted:
            scale = n / max_norm if n > max_norm else 1.0
        elif always:
            scale = max_norm / (n + 1e-6)
        else:
            scale = min(1.0, max_norm / (n + 1e-6))
        out = {k: grads[k] * scale for k in _CLIP_KEYS}
    total = n if report == "before" else np.sqrt(sum(np.sum(g**2) for g in out.values()))
    return _flat(out, total)


def _reference_clip(grads, max_norm):
    """Global-norm clipping exactly as ``torch.nn.utils.clip_grad_norm_`` does it."""
    return _clip(grads, max_norm)


_CLIP_MISTAKES: list[Mistake] = [
    Mistake(
        name="per_tensor",
        message=("each gradient tensor was clipped separately to max_norm: global-norm clipping "
                 "computes ONE norm over all tensors together, sqrt(sum of every tensor's "
                 "squared norm), and scales every tensor by the same factor, so the direction "
                 "of the whole gradient is kept"),
        fn=lambda g, m: _clip(g, m, per_tensor=True),
    ),
    Mistake(
        name="elementwise",
        message=("this is element-wise clipping (np.clip to [-max_norm, max_norm]), a different "
                 "method: it cuts large components and keeps small ones, which changes the "
                 "direction of the gradient. Global-norm clipping multiplies everything by one "
                 "factor, min(1, max_norm / norm)"),
        fn=lambda g, m: _clip(g, m, elementwise=True),
    ),
    Mistake(
        name="always_rescale",
        message=("the gradient is rescaled even when its norm is already below max_norm (it was "
                 "made LONGER): clipping only shrinks, scale = min(1, max_norm / norm)"),
        fn=lambda g, m: _clip(g, m, always=True),
    ),
    Mistake(
        name="never_clipped",
        message=("the gradient came back unchanged although its global norm exceeds max_norm: "
                 "when norm > max_norm every tensor must be multiplied by max_norm / norm"),
        fn=lambda g, m: _clip(g, m, never=True),
    ),
    Mistake(
        name="inverted_ratio",
        message=("the ratio is upside down: a too-long gradient is multiplied by "
                 "max_norm / norm (< 1), not norm / max_norm"),
        fn=lambda g, m: _clip(g, m, inverted=True),
    ),
    Mistake(
        name="sum_of_norms",
        message=("the global norm is not the sum of the tensors' norms: it is the Euclidean "
                 "norm of all entries together, sqrt(sum over tensors of ||g_i||**2)"),
        fn=lambda g, m: _clip(g, m, norm="sum_of_norms"),
    ),
    Mistake(
        name="no_sqrt",
        message=("the norm is missing its square root: sum of squares is the SQUARED norm; "
                 "norm = sqrt(sum over tensors of (g_i**2).sum())"),
        fn=lambda g, m: _clip(g, m, norm="squared"),
    ),
    Mistake(
        name="l1_norm",
        message=("the entries were not squared before summing (that is the L1 norm, the sum of "
                 "absolute values): the global norm is sqrt(sum of g**2 over every entry)"),
        fn=lambda g, m: _clip(g, m, norm="l1"),
    ),
    Mistake(
        name="max_of_norms",
        message=("the global norm is not the largest tensor norm: it is the Euclidean norm of "
                 "all entries together, sqrt(sum over tensors of ||g_i||**2)"),
        fn=lambda g, m: _clip(g, m, norm="max"),
    ),
    Mistake(
        name="norm_after_clipping",
        message=("the returned total_norm is the norm AFTER clipping; return the norm before "
                 "clipping (as torch.nn.utils.clip_grad_norm_ does), the number worth logging"),
        fn=lambda g, m: _clip(g, m, report="after"),
    ),
]


def _wrap_clip_candidate(fn: Callable) -> Callable:
    """Turn the reader's (dict, norm) answer into a flat tuple (run_check passes copies and
    reports a dict changed in place)."""

    def wrapped(grads, max_norm):
        out = fn(grads, max_norm)
        if not (isinstance(out, tuple | list) and len(out) == 2 and isinstance(out[0], Mapping)):
            raise TypeError("return a pair (clipped_grads_dict, total_norm)")
        clipped, total = out
        if set(clipped) != set(_CLIP_KEYS):
            raise KeyError(f"the returned dict has keys {sorted(clipped)}, expected the input's "
                           f"keys {sorted(_CLIP_KEYS)}")
        return _flat(clipped, total)

    wrapped.__wrapped__ = fn  # the reader's parameter names, for the messages
    return wrapped


@checked("ex-ch04-clip")
def check_clip_global_norm(fn: Callable) -> CheckResult:
    """Check a reader's global-norm gradient clipping.

    ``fn(grads, max_norm) -> (clipped, total_norm)``: ``grads`` is a dict name -> array (keys
    like ``model.grads``); ``clipped`` a dict with the same keys, every array multiplied by
    ``min(1, max_norm / (total_norm + 1e-6))``; ``total_norm`` the global norm before clipping,
    ``sqrt(Σ_i ‖g_i‖²)``. Runs three cases, norm above, below, above the threshold. Names the
    mistake when it recognises one (per-tensor or element-wise clipping, rescaling when below the
    threshold, a wrong norm, the ratio inverted, the norm reported after clipping).
    """
    return run_check("global-norm gradient clipping", _wrap_clip_candidate(fn), _reference_clip,
                     _make_clip_inputs_factory(), (*(f"clipped[{k!r}]" for k in _CLIP_KEYS),
                                                   "total_norm"),
                     _CLIP_MISTAKES, layout=Layout(order=("total_norm",)))
