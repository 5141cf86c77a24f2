"""ONNX ``GRU``/``LSTM``/``RNN`` initializers (``W``, ``R``, ``B``) ↔ ``torch.nn`` state dicts.

Layouts and conventions: :mod:`gru_lib.convert`. ONNX keeps both directions of a bidirectional
layer in one tensor (leading axis ``num_directions``, forward first), so one ONNX node is one
``torch.nn`` layer: ``weight_*_l{layer}`` and, for ``direction='bidirectional'``,
``weight_*_l{layer}_reverse``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from gru_lib._spec import GATES, fmt_shape
from gru_lib.convert._common import (
    ONNX_ORDER,
    _array,
    _expect,
    _gate_count,
    _inverse,
    _kind,
    _read_state,
    _reorder,
    _write_state,
)

__all__ = ["onnx_to_state_dict", "state_dict_to_onnx"]

DIRECTIONS = {"forward": 1, "bidirectional": 2}


def _check_direction(owner: str, direction) -> int:
    if direction == "reverse":
        raise ValueError(f"{owner}: direction 'reverse' has no torch.nn equivalent (torch's "
                         "reverse direction exists only inside a bidirectional layer); flip the "
                         "time axis of the input and convert it as direction='forward'")
    if direction not in DIRECTIONS:
        raise ValueError(f"{owner}: unknown direction {direction!r}; expected 'forward' or "
                         "'bidirectional'")
    return DIRECTIONS[direction]


def onnx_to_state_dict(kind: str, W, R, B=None, *, direction: str = "forward",
                       linear_before_reset: int = 0, P=None,
                       layer: int = 0) -> dict[str, torch.Tensor]:
    """The initializers of one ONNX ``GRU``/``LSTM``/``RNN`` node → ``torch.nn`` state dict.

    Args:
        kind: ``'GRU'``, ``'LSTM'`` or ``'RNN'``.
        W: ``(num_directions, G·H, D)``, gate blocks in ONNX order (GRU ``z|r|h``, LSTM
            ``i|o|f|c``).
        R: ``(num_directions, G·H, H)``, same order.
        B: ``(num_directions, 2·G·H)`` = ``[Wb | Rb]``, or None (ONNX: zeros; here: a state
            dict without biases, for ``bias=False``).
        direction: the node's attribute, ``'forward'`` (num_directions 1) or ``'bidirectional'``
            (2).
        linear_before_reset: the GRU node's attribute, 0 (ONNX's default) or 1. 1 is
            ``torch.nn.GRU``; 0 is :class:`gru_lib.torch.GRU` ``(reset_after=False)``.
        P: LSTM peepholes ``(num_directions, 3H)``; only None or all zeros (``torch.nn.LSTM`` has
            no peepholes).
        layer: the layer index written into the keys.
    Returns:
        ``{'weight_ih_l0': (G·H, D), 'weight_hh_l0': (G·H, H), 'bias_ih_l0', 'bias_hh_l0'
        (G·H,), ...}`` (plus ``..._reverse`` entries when bidirectional), as tensors.
    """
    owner = "onnx_to_state_dict"
    kind = _kind(owner, kind)
    dirs = _check_direction(owner, direction)
    if kind == "GRU" and linear_before_reset not in (0, 1):
        raise ValueError(f"{owner}: expected linear_before_reset 0 or 1, got "
                         f"{linear_before_reset!r}")
    if P is not None:
        if kind != "LSTM":
            raise ValueError(f"{owner}: P (peepholes) belongs to an LSTM, got kind {kind!r}")
        if np.any(_array(owner, "P", P) != 0):
            raise ValueError(f"{owner}: nonzero peepholes P; torch.nn.LSTM has none (only "
                             "P = None or zeros converts)")
    W, R = _array(owner, "W", W), _array(owner, "R", R)
    G, order = GATES[kind], ONNX_ORDER[kind]
    if R.ndim != 3:
        raise ValueError(f"{owner}: expected R of rank 3 (num_directions, G*H, H), got shape "
                         f"{fmt_shape(R.shape)}")
    H = R.shape[2]
    _gate_count(owner, "R", R.shape[1], H, kind)
    _expect(owner, "R", R, (dirs, G * H, H),
            f"(num_directions, {G}*H, H) with direction={direction!r}, H = {H}")
    if W.ndim != 3:
        raise ValueError(f"{owner}: expected W of rank 3 (num_directions, G*H, D), got shape "
                         f"{fmt_shape(W.shape)}")
    _expect(owner, "W", W, (dirs, G * H, W.shape[2]),
            f"(num_directions, {G}*H, D) with direction={direction!r}, H = {H}")
    if B is not None:
        B = _array(owner, "B", B)
        _expect(owner, "B", B, (dirs, 2 * G * H),
                f"(num_directions, 2*{G}*H) with direction={direction!r}, H = {H}")
    state: dict[str, torch.Tensor] = {}
    for d in range(dirs):
        b_ih = b_hh = None
        if B is not None:
            b_ih, b_hh = _reorder(B[d, :G * H], order), _reorder(B[d, G * H:], order)
        state.update(_write_state(_reorder(W[d], order), _reorder(R[d], order), b_ih, b_hh,
                                  layer, reverse=d == 1))
    return state


def state_dict_to_onnx(kind: str, state_dict: Mapping, *, reset_after: bool = True,
                       layer: int = 0) -> tuple[dict[str, np.ndarray], dict]:
    """One ``torch.nn`` layer (both directions if present) → ONNX initializers and attributes.

    ``reset_after`` says which GRU the state dict belongs to: True for ``torch.nn.GRU``
    (``linear_before_reset=1``), False for :class:`gru_lib.torch.GRU` ``(reset_after=False)``
    (``linear_before_reset=0``); both are exact. The layer is bidirectional when the state dict
    has ``weight_ih_l{layer}_reverse``.

    Returns:
        ``({'W': (dirs, G·H, D), 'R': (dirs, G·H, H), 'B': (dirs, 2·G·H)}, attributes)``, where
        ``B`` is left out for a state dict without biases and ``attributes`` holds
        ``hidden_size``, ``direction`` and, for a GRU, ``linear_before_reset``: the node's
        attributes to set (activations are ONNX's defaults, which are torch's; a ReLU
        ``torch.nn.RNN`` also needs ``activations=['Relu']``).
    """
    owner = "state_dict_to_onnx"
    kind = _kind(owner, kind)
    if not isinstance(reset_after, bool):
        raise TypeError(f"{owner}: reset_after must be a bool, got {type(reset_after).__name__}")
    bidirectional = f"weight_ih_l{layer}_reverse" in state_dict
    back = _inverse(ONNX_ORDER[kind])
    parts = [_read_state(owner, kind, state_dict, layer, reverse=d == 1)
             for d in range(2 if bidirectional else 1)]
    if len(parts) == 2:
        shapes = [(p[0].shape, p[1].shape, p[2] is None) for p in parts]
        if shapes[0] != shapes[1]:
            raise ValueError(f"{owner}: forward and reverse weights of layer {layer} differ "
                             f"(W_ih, W_hh shapes and bias-less flag): {shapes[0]} vs {shapes[1]}")
    out = {"W": np.stack([_reorder(p[0], back) for p in parts]),
           "R": np.stack([_reorder(p[1], back) for p in parts])}
    if parts[0][2] is not None:
        out["B"] = np.stack([np.concatenate([_reorder(p[2], back), _reorder(p[3], back)])
                             for p in parts])
    attrs = {"hidden_size": parts[0][4],
             "direction": "bidirectional" if bidirectional else "forward"}
    if kind == "GRU":
        attrs["linear_before_reset"] = int(reset_after)
    return out, attrs
