"""Input checks of the torch half, at the public boundary: steps, tensors, dtypes, devices.

The step functions call :func:`check_step_args` at their entry and the layers use the same
helpers, so the math below is plain tensor algebra that autograd differentiates. Messages come
from (or use the words of) :mod:`gru_lib._spec`, so :mod:`gru_lib.numpy` (its twin
:mod:`gru_lib.numpy.checks`) and :mod:`gru_lib.torch` reject the same inputs with the same
sentences; dtype names are written without the ``torch.`` prefix (``float64``, ``int64``) for
the same reason.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from gru_lib import _spec

__all__ = ["check_same_device", "check_step_args", "dtype_name"]


def dtype_name(dtype: torch.dtype) -> str:
    """``torch.float64`` → ``'float64'``: the name NumPy gives the same dtype."""
    return str(dtype).removeprefix("torch.")


def _is_real_float(dtype: torch.dtype) -> bool:
    return dtype.is_floating_point and not dtype.is_complex


def _check_tensor(owner: str, name: str, a) -> None:
    if not isinstance(a, torch.Tensor):
        raise TypeError(f"{owner}: expected {name} to be a torch.Tensor, got {type(a).__name__}")
    _spec.check_float_dtype(owner, name, dtype_name(a.dtype), _is_real_float(a.dtype))


def check_same_device(owner: str, what: Mapping[str, torch.device]) -> None:
    """Reject tensors on different devices with a message that lists where each one lives."""
    if len({str(d) for d in what.values()}) > 1:
        listing = ", ".join(f"{k}: {v}" for k, v in what.items())
        raise RuntimeError(f"{owner}: expected all tensors on one device, got {listing}")


def check_step_args(owner: str, gates: int, x, h, W_ih, W_hh, b_ih=None, b_hh=None,
                    c=None) -> None:
    """Validate one cell step's arguments: 2-D batched tensors of one real float dtype and device.

    Shapes: ``x (B, D)``, ``h (B, H)`` (and LSTM ``c (B, H)``), ``W_ih (G*H, D)``,
    ``W_hh (G*H, H)``, ``b_ih, b_hh (G*H,)`` or None. ``B``, ``D`` and ``H`` are read from ``x``
    and ``h``; everything else must agree with them exactly (no broadcasting). Same checks and
    words as :func:`gru_lib.numpy.base.check_step_args`.
    """
    tensors = {"x": x, "h": h, "W_ih": W_ih, "W_hh": W_hh}
    if c is not None:
        tensors["c"] = c
    tensors.update({k: v for k, v in (("b_ih", b_ih), ("b_hh", b_hh)) if v is not None})
    for name, a in tensors.items():
        _check_tensor(owner, name, a)
    _spec.check_same_dtype(owner, {k: dtype_name(a.dtype) for k, a in tensors.items()})
    check_same_device(owner, {k: a.device for k, a in tensors.items()})
    _spec.check_step_shapes(owner, gates, {k: tuple(a.shape) for k, a in tensors.items()})
