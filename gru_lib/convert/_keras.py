"""Keras ``GRU``/``LSTM``/``SimpleRNN`` weights ↔ ``torch.nn`` state dicts.

Layouts and conventions: :mod:`gru_lib.convert`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

from gru_lib._spec import GATES, fmt_shape
from gru_lib.convert._common import (
    KERAS_ORDER,
    _array,
    _expect,
    _gate_count,
    _inverse,
    _kind,
    _read_state,
    _reorder,
    _write_state,
)

__all__ = ["keras_layer_to_state_dict", "keras_to_state_dict", "state_dict_to_keras"]


# ----------------------------------------------------------------------------- Keras
def keras_to_state_dict(kind: str, weights: Sequence, *, reset_after: bool | None = None,
                        layer: int = 0, reverse: bool = False) -> dict[str, torch.Tensor]:
    """Keras ``layer.get_weights()`` → ``torch.nn`` state-dict entries of one layer/direction.

    Args:
        kind: ``'GRU'``, ``'LSTM'`` or ``'RNN'`` (``'SimpleRNN'``).
        weights: ``[kernel (D, G·H), recurrent_kernel (H, G·H), bias]`` in Keras' gate order;
            the bias is left out for ``use_bias=False``. GRU bias: ``(2, 3H)`` with
            ``reset_after=True``, ``(3H,)`` with ``reset_after=False``; LSTM/RNN ``(G·H,)``.
        reset_after: the Keras GRU's setting; ``None`` reads it from the bias shape (required
            for a GRU without bias). Ignored for LSTM and RNN.
        layer, reverse: which keys to write (``weight_ih_l{layer}[_reverse]`` ...).
    Returns:
        ``{'weight_ih_l0': (G·H, D), 'weight_hh_l0': (G·H, H), 'bias_ih_l0', 'bias_hh_l0'}``
        (no biases for ``use_bias=False``). Load into ``torch.nn.GRU/LSTM/RNN``, except a
        ``reset_after=False`` GRU: :class:`gru_lib.torch.GRU` ``(..., reset_after=False)``.
    """
    owner = "keras_to_state_dict"
    kind = _kind(owner, kind)
    if not isinstance(weights, list | tuple):
        raise TypeError(f"{owner}: expected weights as a list [kernel, recurrent_kernel, bias] "
                        f"(layer.get_weights()), got {type(weights).__name__}")
    if reset_after is not None and not isinstance(reset_after, bool):
        raise TypeError(f"{owner}: reset_after must be None or a bool, got "
                        f"{type(reset_after).__name__}")
    if len(weights) not in (2, 3):
        n = f"{len(weights)} arrays"
        raise ValueError(f"{owner}: expected [kernel, recurrent_kernel] or [kernel, "
                         f"recurrent_kernel, bias] as from layer.get_weights(), got {n}")
    kernel = _array(owner, "kernel", weights[0])
    rec = _array(owner, "recurrent_kernel", weights[1])
    G, order = GATES[kind], KERAS_ORDER[kind]
    if rec.ndim != 2:
        raise ValueError(f"{owner}: expected recurrent_kernel of rank 2 (H, G*H), got shape "
                         f"{fmt_shape(rec.shape)}")
    H = rec.shape[0]
    _gate_count(owner, "recurrent_kernel", rec.shape[1], H, kind)
    if kernel.ndim != 2:
        raise ValueError(f"{owner}: expected kernel of rank 2 (D, G*H), got shape "
                         f"{fmt_shape(kernel.shape)}")
    _expect(owner, "kernel", kernel, (kernel.shape[0], G * H), f"(D, {G}*H) with H = {H}")
    W_ih, W_hh = _reorder(kernel.T, order), _reorder(rec.T, order)
    b_ih = b_hh = None
    if len(weights) == 3:
        bias = _array(owner, "bias", weights[2])
        if kind == "GRU":
            if reset_after is None:
                reset_after = bias.ndim == 2
            shape = (2, 3 * H) if reset_after else (3 * H,)
            _expect(owner, "bias", bias, shape,
                    f"{'(2, 3*H)' if reset_after else '(3*H,)'} for reset_after={reset_after}, "
                    f"H = {H}")
            b_ih = bias[0] if reset_after else bias
            b_hh = bias[1] if reset_after else np.zeros_like(bias)
        else:
            _expect(owner, "bias", bias, (G * H,), f"({G}*H,) with H = {H}")
            b_ih, b_hh = bias, np.zeros_like(bias)
        b_ih, b_hh = _reorder(b_ih, order), _reorder(b_hh, order)
    elif kind == "GRU" and reset_after is None:
        raise ValueError(f"{owner}: a GRU without bias does not show its reset placement; "
                         "pass reset_after=True or reset_after=False (the Keras layer's setting)")
    return _write_state(W_ih, W_hh, b_ih, b_hh, layer, reverse)


def state_dict_to_keras(kind: str, state_dict: Mapping, *, reset_after: bool = True,
                        layer: int = 0, reverse: bool = False) -> list[np.ndarray]:
    """``torch.nn`` state dict (one layer/direction) → arrays for Keras ``layer.set_weights``.

    The inverse of :func:`keras_to_state_dict`. ``reset_after`` says which GRU the state dict
    belongs to: True for ``torch.nn.GRU`` (→ Keras ``reset_after=True``, bias ``(2, 3H)``), False
    for :class:`gru_lib.torch.GRU` ``(reset_after=False)`` (→ Keras ``reset_after=False``, bias
    ``b_ih + b_hh`` of shape ``(3H,)``). LSTM/RNN biases are summed into one ``(G·H,)`` vector.
    Without biases in the state dict the result is ``[kernel, recurrent_kernel]`` (Keras
    ``use_bias=False``).
    """
    owner = "state_dict_to_keras"
    kind = _kind(owner, kind)
    W_ih, W_hh, b_ih, b_hh, H = _read_state(owner, kind, state_dict, layer, reverse)
    back = _inverse(KERAS_ORDER[kind])
    out = [_reorder(W_ih, back).T.copy(), _reorder(W_hh, back).T.copy()]
    if b_ih is not None:
        if kind == "GRU" and reset_after:
            out.append(np.stack([_reorder(b_ih, back), _reorder(b_hh, back)]))
        else:
            out.append(_reorder(b_ih + b_hh, back))
    return out


def keras_layer_to_state_dict(keras_layer, *, layer: int = 0) -> dict[str, torch.Tensor]:
    """A built ``keras.layers.GRU/LSTM/SimpleRNN`` (or ``Bidirectional`` of one) → state dict.

    Reads the weights and the configuration, and refuses what a ``torch.nn`` cell cannot compute:
    activations other than sigmoid gates and a tanh candidate (e.g. Keras 2's ``hard_sigmoid``
    gates; a SimpleRNN may use ``relu``, then build ``RNN(..., nonlinearity='relu')``) and
    ``go_backwards=True`` on a lone layer (torch has no reverse-only layer). Returns keys for
    layer ``layer`` (both directions for a ``Bidirectional``); :func:`keras_to_state_dict` says
    which model loads them.
    """
    owner = "keras_layer_to_state_dict"
    cls = type(keras_layer).__name__
    if cls == "Bidirectional":
        fwd, bwd = keras_layer.forward_layer, keras_layer.backward_layer
        return {**_keras_single(owner, fwd, layer, False, True),
                **_keras_single(owner, bwd, layer, True, True)}
    return _keras_single(owner, keras_layer, layer, False, False)


def _keras_single(owner, kl, layer, reverse, inside_bidirectional):
    cls = type(kl).__name__
    if cls not in ("GRU", "LSTM", "SimpleRNN"):
        raise ValueError(f"{owner}: expected a keras GRU, LSTM, SimpleRNN or Bidirectional "
                         f"layer, got {cls}")
    cfg = kl.get_config()
    # torch.nn.RNN also offers relu (nonlinearity='relu'); the gated cells are fixed.
    wanted = {"activation": ("tanh", "relu") if cls == "SimpleRNN" else ("tanh",)}
    if cls != "SimpleRNN":
        wanted["recurrent_activation"] = ("sigmoid",)
    for key, values in wanted.items():
        if cfg.get(key) not in values:
            raise ValueError(f"{owner}: {cls} has {key}={cfg.get(key)!r}; torch.nn computes "
                             f"{' or '.join(map(repr, values))} (only weights can be converted)")
    if cfg.get("go_backwards") and not inside_bidirectional:
        raise ValueError(f"{owner}: {cls} has go_backwards=True; torch.nn has no reverse-only "
                         "layer (flip the time axis of the input and convert as a forward one)")
    return keras_to_state_dict(cls, kl.get_weights(), reset_after=cfg.get("reset_after"),
                               layer=layer, reverse=reverse)
