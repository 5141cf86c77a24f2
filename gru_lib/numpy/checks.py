"""Input checks of the NumPy half, at the public boundary: steps, upstream gradients, arrays.

A step function calls :func:`check_step_args` once at its entry and a step backward
:func:`check_upstream`, so their bodies can be pure math; the layers in :mod:`gru_lib.numpy.base`
use the same helpers. Messages use the words of :mod:`gru_lib._spec`, so :mod:`gru_lib.numpy` and
:mod:`gru_lib.torch` (its twin :mod:`gru_lib.torch.checks`) reject the same mistakes alike.
"""

from __future__ import annotations

import numpy as np

from gru_lib import _spec
from gru_lib._spec import fmt_shape

__all__ = ["check_shape", "check_step_args", "check_upstream"]


def _check_array(owner: str, name: str, a) -> None:
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{owner}: expected {name} to be a numpy.ndarray, got {type(a).__name__}")
    _spec.check_float_dtype(owner, name, a.dtype.name, a.dtype.kind == "f")


def check_shape(owner: str, name: str, a: np.ndarray, expected: tuple[int, ...],
                what: str) -> None:
    """Raise ``ValueError`` unless ``a.shape == expected``; ``what`` spells the symbolic shape."""
    if a.shape != tuple(expected):
        raise ValueError(f"{owner}: expected {name} of shape {what} = {fmt_shape(expected)}, "
                         f"got {fmt_shape(a.shape)}")


def _step_args_ok(gates, x, h, W_ih, W_hh, b_ih, b_hh, c) -> bool:
    """The common case, checked fast (a layer calls a step T times): everything is right."""
    arrays = [a for a in (x, h, W_ih, W_hh, b_ih, b_hh, c) if a is not None]
    if not all(type(a) is np.ndarray for a in arrays):
        return False
    dtype = x.dtype
    if dtype.kind != "f" or any(a.dtype != dtype for a in arrays):
        return False
    if x.ndim != 2 or h.ndim != 2 or 0 in x.shape or 0 in h.shape or x.shape[0] != h.shape[0]:
        return False
    (_, D), H = x.shape, h.shape[1]
    return (W_ih.shape == (gates * H, D) and W_hh.shape == (gates * H, H)
            and (b_ih is None or b_ih.shape == (gates * H,))
            and (b_hh is None or b_hh.shape == (gates * H,))
            and (c is None or c.shape == h.shape))


def check_step_args(owner: str, gates: int, x, h, W_ih, W_hh, b_ih=None, b_hh=None,
                    c=None) -> None:
    """Validate one cell step's arguments: 2-D batched arrays of one real float dtype.

    Shapes: ``x (B, D)``, ``h (B, H)`` (and LSTM ``c (B, H)``), ``W_ih (G*H, D)``,
    ``W_hh (G*H, H)``, ``b_ih, b_hh (G*H,)`` or None. ``B``, ``D`` and ``H`` are read from ``x``
    and ``h``; everything else must agree with them exactly (no broadcasting).
    """
    if _step_args_ok(gates, x, h, W_ih, W_hh, b_ih, b_hh, c):
        return
    arrays = {"x": x, "h": h, "W_ih": W_ih, "W_hh": W_hh}
    if c is not None:
        arrays["c"] = c
    arrays.update({k: v for k, v in (("b_ih", b_ih), ("b_hh", b_hh)) if v is not None})
    for name, a in arrays.items():
        _check_array(owner, name, a)
    _spec.check_same_dtype(owner, {k: a.dtype.name for k, a in arrays.items()})
    _spec.check_step_shapes(owner, gates, {k: a.shape for k, a in arrays.items()})


def check_upstream(owner: str, name: str, grad, like: np.ndarray) -> None:
    """An upstream gradient must have exactly the shape and dtype of what it differentiates."""
    if type(grad) is np.ndarray and grad.shape == like.shape and grad.dtype == like.dtype:
        return  # the common case, kept cheap: a layer's backward calls this T times
    _check_array(owner, name, grad)
    check_shape(owner, name, grad, like.shape, "the forward output's shape")
    _spec.check_same_dtype(owner, {name: grad.dtype.name, "forward": like.dtype.name})


def _as_numpy(owner: str, name: str, value) -> np.ndarray:
    """Accept a NumPy array or a torch tensor (for ``load_state_dict``); refuse anything else."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a tensor; torch need not be imported
        value = value.detach().cpu().numpy()
    _check_array(owner, name, value)
    return value


_UNSET = _spec.UNSET
renamed_h0 = _spec.renamed_h0
