"""Element-wise nonlinearities used by the cells, written so that no input can overflow.

``1 / (1 + exp(-x))`` overflows (with a warning) for ``x < -709`` in float64 and ``x < -88`` in
float32. Saturated gates are normal in a trained recurrent network, so the book's cells must survive
pre-activations of any size: :func:`sigmoid` only ever exponentiates a non-positive number.
NumPy's ``tanh`` is already stable (it saturates to ±1 without overflow), so :func:`tanh` only
gives it the same name and dtype rules as the other two.

All three keep the input's dtype (float32 stays float32) and its shape.
"""

from __future__ import annotations

import numpy as np

__all__ = ["relu", "sigmoid", "tanh"]


def sigmoid(x: np.ndarray) -> np.ndarray:
    r"""Logistic sigmoid :math:`\sigma(x) = 1 / (1 + e^{-x})`, stable for every finite ``x``.

    Uses :math:`e^{-|x|} \in (0, 1]`: for ``x >= 0`` it returns ``1 / (1 + e^{-x})``, for
    ``x < 0`` the algebraically equal ``e^{x} / (1 + e^{x})``. Neither branch can overflow; for
    ``|x|`` beyond ~745 the exponential underflows to 0 and the result is exactly 0 or 1, which is
    the correctly rounded answer.

    Args:
        x: array of any shape, real floating dtype.
    Returns:
        array of the same shape and dtype, values in ``[0, 1]``.
    """
    x = np.asarray(x)
    with np.errstate(under="ignore"):  # exp(-1e4) == 0 is the right answer, not an error
        e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def tanh(x: np.ndarray) -> np.ndarray:
    r"""Hyperbolic tangent, :math:`\tanh(x) = 2\sigma(2x) - 1`; NumPy's is already overflow-free.

    Args:
        x: array of any shape, real floating dtype.
    Returns:
        array of the same shape and dtype, values in ``[-1, 1]``.
    """
    return np.tanh(x)


def relu(x: np.ndarray) -> np.ndarray:
    r"""Rectifier :math:`\max(x, 0)`, the other nonlinearity ``torch.nn.RNN`` offers.

    Args:
        x: array of any shape, real floating dtype.
    Returns:
        array of the same shape and dtype.
    """
    return np.maximum(x, 0.0).astype(np.asarray(x).dtype, copy=False)
