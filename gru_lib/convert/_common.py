"""Shared by the Keras and ONNX converters: gate orders, array checks, state-dict access.

See :mod:`gru_lib.convert` for the layouts. Every check raises ``ValueError`` (``TypeError`` for a
non-float array) naming the array, the expected shape (with its symbolic form) and the actual one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

from gru_lib._spec import GATES, fmt_shape, layer_param_names

# Position, in the foreign stacking, of each torch block: torch block k = foreign block ORDER[k].
KERAS_ORDER = {"RNN": (0,), "GRU": (1, 0, 2), "LSTM": (0, 1, 2, 3)}
ONNX_ORDER = {"RNN": (0,), "GRU": (1, 0, 2), "LSTM": (0, 2, 3, 1)}
_ALIASES = {"SIMPLERNN": "RNN", "RNN": "RNN", "GRU": "GRU", "LSTM": "LSTM"}


# ----------------------------------------------------------------------------- helpers
def _kind(owner: str, kind) -> str:
    name = _ALIASES.get(str(kind).upper()) if isinstance(kind, str) else None
    if name is None:
        raise ValueError(f"{owner}: expected kind 'RNN' (or 'SimpleRNN'), 'GRU' or 'LSTM', "
                         f"got {kind!r}")
    return name


def _array(owner: str, name: str, a) -> np.ndarray:
    """A float NumPy view of an array-like (tensors are detached and moved to the CPU)."""
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    a = np.asarray(a)
    if a.dtype.kind != "f":
        raise TypeError(f"{owner}: expected {name} with a real floating dtype, got dtype "
                        f"{a.dtype}")
    return a


def _expect(owner: str, name: str, a: np.ndarray, shape: tuple[int, ...], what: str) -> None:
    if a.shape != shape:
        raise ValueError(f"{owner}: expected {name} of shape {what} = {fmt_shape(shape)}, "
                         f"got {fmt_shape(a.shape)}")


def _gate_count(owner: str, name: str, rows: int, H: int, kind: str) -> None:
    """Name a wrong gate count as such: ``rows`` should be ``G·H``."""
    G = GATES[kind]
    if rows != G * H:
        hint = f" ({rows // H} gate blocks)" if rows % H == 0 else ""
        raise ValueError(f"{owner}: wrong gate count: a {kind} has {G} gate blocks, so {name} "
                         f"needs {G}*H = {G * H} gate rows for H = {H}, got {rows}{hint}")


def _reorder(a: np.ndarray, order: Sequence[int], axis: int = 0) -> np.ndarray:
    """Restack the ``len(order)`` equal blocks of ``a`` along ``axis``: block k ← block order[k]."""
    blocks = np.split(a, len(order), axis=axis)
    return np.concatenate([blocks[i] for i in order], axis=axis)


def _inverse(order: Sequence[int]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.argsort(order))


def _tensor(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a).copy())


def _read_state(owner: str, kind: str, state_dict: Mapping, layer: int, reverse: bool):
    """``(W_ih, W_hh, b_ih, b_hh, H)`` of one layer/direction, checked; biases None if absent."""
    w_ih, w_hh, b_ih, b_hh = layer_param_names(layer, reverse, bias=True)
    w_hr = w_hh.replace("weight_hh", "weight_hr")
    if w_hr in state_dict:
        raise ValueError(f"{owner}: state dict has {w_hr} (an LSTM with proj_size > 0); Keras "
                         "and ONNX LSTMs have no projection, so it cannot be converted")
    missing = [k for k in (w_ih, w_hh) if k not in state_dict]
    if missing:
        raise ValueError(f"{owner}: state dict has no {missing}; it has {list(state_dict)}")
    has = [k in state_dict for k in (b_ih, b_hh)]
    if has[0] != has[1]:
        present, absent = (b_ih, b_hh) if has[0] else (b_hh, b_ih)
        raise ValueError(f"{owner}: missing bias: state dict has {present} but not {absent} "
                         "(expected both or neither)")
    W_ih, W_hh = _array(owner, w_ih, state_dict[w_ih]), _array(owner, w_hh, state_dict[w_hh])
    if W_hh.ndim != 2:
        raise ValueError(f"{owner}: expected {w_hh} of rank 2 (G*H, H), got shape "
                         f"{fmt_shape(W_hh.shape)}")
    H = W_hh.shape[1]
    _gate_count(owner, w_hh, W_hh.shape[0], H, kind)
    G = GATES[kind]
    if W_ih.ndim != 2:
        raise ValueError(f"{owner}: expected {w_ih} of rank 2 (G*H, D), got shape "
                         f"{fmt_shape(W_ih.shape)}")
    _expect(owner, w_ih, W_ih, (G * H, W_ih.shape[1]), f"({G}*H, D) with H = {H}")
    biases = [None, None]
    if has[0]:
        for j, k in enumerate((b_ih, b_hh)):
            biases[j] = _array(owner, k, state_dict[k])
            _expect(owner, k, biases[j], (G * H,), f"({G}*H,) with H = {H}")
    return W_ih, W_hh, biases[0], biases[1], H


def _write_state(W_ih, W_hh, b_ih, b_hh, layer: int, reverse: bool) -> dict[str, torch.Tensor]:
    names = layer_param_names(layer, reverse, bias=b_ih is not None)
    values = (W_ih, W_hh, b_ih, b_hh)
    return {n: _tensor(v) for n, v in zip(names, values, strict=True) if n is not None}


