"""Machinery shared by the NumPy cells and layers: input checks now, the layer loop below.

The step functions (:mod:`gru_lib.numpy.rnn`, :mod:`~gru_lib.numpy.gru`,
:mod:`~gru_lib.numpy.lstm`) call :func:`check_step_args` once at their public entry, so their
bodies can be pure math. Messages use the same words as :mod:`gru_lib._spec`.
"""

from __future__ import annotations

import numpy as np

from gru_lib import _spec
from gru_lib._spec import fmt_shape


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


def check_step_args(owner: str, gates: int, x, h, W_ih, W_hh, b_ih=None, b_hh=None,
                    c=None) -> None:
    """Validate one cell step's arguments: 2-D batched arrays of one real float dtype.

    Shapes: ``x (B, D)``, ``h (B, H)`` (and LSTM ``c (B, H)``), ``W_ih (G*H, D)``,
    ``W_hh (G*H, H)``, ``b_ih, b_hh (G*H,)`` or None. ``B``, ``D`` and ``H`` are read from ``x``
    and ``h``; everything else must agree with them exactly (no broadcasting).
    """
    arrays = {"x": x, "h": h, "W_ih": W_ih, "W_hh": W_hh}
    if c is not None:
        arrays["c"] = c
    arrays.update({k: v for k, v in (("b_ih", b_ih), ("b_hh", b_hh)) if v is not None})
    for name, a in arrays.items():
        _check_array(owner, name, a)
    _spec.check_same_dtype(owner, {k: a.dtype.name for k, a in arrays.items()})
    if x.ndim != 2:
        raise ValueError(f"{owner}: expected x of rank 2 (B, D), got shape {fmt_shape(x.shape)}")
    if h.ndim != 2:
        raise ValueError(f"{owner}: expected h of rank 2 (B, H), got shape {fmt_shape(h.shape)}")
    (B, D), H = x.shape, h.shape[1]
    if B == 0 or H == 0 or D == 0:
        raise ValueError(f"{owner}: expected non-empty x (B, D) and h (B, H), got shapes "
                         f"{fmt_shape(x.shape)} and {fmt_shape(h.shape)}")
    check_shape(owner, "h", h, (B, H), "(B, H) with B from x")
    if c is not None:
        check_shape(owner, "c", c, (B, H), "(B, H), like h")
    check_shape(owner, "W_ih", W_ih, (gates * H, D), f"({gates}*H, D)")
    check_shape(owner, "W_hh", W_hh, (gates * H, H), f"({gates}*H, H)")
    for name in ("b_ih", "b_hh"):
        if name in arrays:
            check_shape(owner, name, arrays[name], (gates * H,), f"({gates}*H,)")


def check_upstream(owner: str, name: str, grad, like: np.ndarray) -> None:
    """An upstream gradient must have exactly the shape and dtype of what it differentiates."""
    _check_array(owner, name, grad)
    check_shape(owner, name, grad, like.shape, "the forward output's shape")
    _spec.check_same_dtype(owner, {name: grad.dtype.name, "forward": like.dtype.name})
