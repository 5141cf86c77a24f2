"""Element-wise nonlinearities of the torch cells, named like :mod:`gru_lib.numpy.functional`.

PyTorch's ``torch.sigmoid`` and ``torch.tanh`` are already overflow-free for any finite input (they
saturate to exactly 0/1 and ±1), and autograd differentiates them. These thin wrappers only give the
two backends the same names, so a reader switches backend by changing one import.

All three keep the input's dtype, device and shape.
"""

from __future__ import annotations

import torch

__all__ = ["relu", "sigmoid", "tanh"]


def sigmoid(x: torch.Tensor) -> torch.Tensor:
    r"""Logistic sigmoid :math:`\sigma(x) = 1 / (1 + e^{-x})`, stable for every finite ``x``.

    Args:
        x: tensor of any shape, real floating dtype.
    Returns:
        tensor of the same shape, dtype and device, values in ``[0, 1]``.
    """
    return torch.sigmoid(x)


def tanh(x: torch.Tensor) -> torch.Tensor:
    r"""Hyperbolic tangent :math:`\tanh(x) = 2\sigma(2x) - 1`, saturating to ±1 without overflow.

    Args:
        x: tensor of any shape, real floating dtype.
    Returns:
        tensor of the same shape, dtype and device, values in ``[-1, 1]``.
    """
    return torch.tanh(x)


def relu(x: torch.Tensor) -> torch.Tensor:
    r"""Rectifier :math:`\max(x, 0)`, the other nonlinearity ``torch.nn.RNN`` offers.

    Args:
        x: tensor of any shape, real floating dtype.
    Returns:
        tensor of the same shape, dtype and device.
    """
    return torch.relu(x)
