"""What both backends agree on: constructor arguments, parameter names and shapes, input checks.

``gru_lib.numpy`` and ``gru_lib.torch`` validate the same things with the same words. The checks
here look only at shapes (tuples of ints) and a dtype's printable name, so one implementation
serves both halves. The backends only translate their arrays into shapes and dtype names.

Naming and layout follow ``torch.nn`` exactly: for each layer ``l`` and direction (suffix ``''`` or
``'_reverse'``) the parameters are ``weight_ih_l{l}`` of shape ``(G*H, D_l)``, ``weight_hh_l{l}``
``(G*H, H)``, ``bias_ih_l{l}`` and ``bias_hh_l{l}`` ``(G*H,)``, where ``G`` is the number of gate
blocks (RNN 1, GRU 3 in order r|z|n, LSTM 4 in order i|f|g|o), ``D_0 = input_size`` and
``D_l = num_directions * H`` for ``l > 0``.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping

GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}


def fmt_shape(shape) -> str:
    """Format a shape as ``(3, 4)`` (and ``(5,)`` for one dimension) for error messages."""
    shape = tuple(int(s) for s in shape)
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _check_int(owner: str, name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        # numpy integers are fine; reject floats (2.0) and strings explicitly
        try:
            import numpy as np

            if isinstance(value, np.integer):
                value = int(value)
            else:
                raise TypeError
        except TypeError:
            raise TypeError(
                f"{owner}: {name} must be an int, got {type(value).__name__} ({value!r})"
            ) from None
    if value < minimum:
        raise ValueError(f"{owner}: {name} must be >= {minimum}, got {value}")
    return value


def _check_bool(owner: str, name: str, value) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{owner}: {name} must be a bool, got {type(value).__name__} ({value!r})")
    return value


def check_constructor(owner: str, input_size, hidden_size, num_layers, bias, batch_first,
                      bidirectional) -> tuple[int, int, int, bool, bool, bool]:
    """Validate the ``torch.nn``-style constructor arguments shared by RNN, GRU and LSTM."""
    return (
        _check_int(owner, "input_size", input_size),
        _check_int(owner, "hidden_size", hidden_size),
        _check_int(owner, "num_layers", num_layers),
        _check_bool(owner, "bias", bias),
        _check_bool(owner, "batch_first", batch_first),
        _check_bool(owner, "bidirectional", bidirectional),
    )


def check_dropout(owner: str, dropout, num_layers: int, stacklevel: int = 4) -> float:
    """Validate ``torch.nn``'s ``dropout`` (the probability of zeroing an element between layers).

    Like ``torch.nn``, a non-zero ``dropout`` with ``num_layers == 1`` is allowed but warns: the
    dropout sits after every layer *but the last*, so a one-layer stack never applies it.
    """
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real):
        raise TypeError(f"{owner}: dropout must be a number in [0, 1] (the probability of zeroing "
                        f"an element between layers), got {type(dropout).__name__} ({dropout!r})")
    if not 0 <= dropout <= 1:
        raise ValueError(f"{owner}: dropout must be a number in [0, 1] (the probability of zeroing "
                         f"an element between layers), got {dropout!r}")
    if dropout > 0 and num_layers == 1:
        warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                      "non-zero dropout expects num_layers greater than 1, but got "
                      f"dropout={dropout} and num_layers={num_layers}", stacklevel=stacklevel)
    return float(dropout)


def check_lengths(owner: str, lengths, T: int, B: int) -> list[int]:
    """Validate per-sequence lengths: ``B`` integers, each in ``[1, T]``; returned as ints.

    ``lengths[b]`` is how many leading steps of sequence ``b`` are real; the rest is padding.
    Steps ``t >= lengths[b]`` leave that sequence's state unchanged and output zeros, so
    ``h_n[:, b]`` is the state after its last real step (as ``torch.nn`` with a
    ``PackedSequence``). Any order is accepted (``enforce_sorted=False`` in torch's words).
    """
    values = []
    try:
        seq = list(lengths)
    except TypeError:
        raise TypeError(f"{owner}: expected lengths as a sequence of B={B} ints, "
                        f"got {type(lengths).__name__}") from None
    for v in seq:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            kind = str(getattr(v, "dtype", "")).removeprefix("torch.")
            if getattr(v, "ndim", None) == 0 and kind.startswith(("int", "uint")):
                v = int(v)
            else:
                raise TypeError(f"{owner}: expected lengths of integers, got an element "
                                f"{v!r} of type {type(v).__name__}")
        values.append(int(v))
    if len(values) != B:
        raise ValueError(f"{owner}: expected one length per sequence, B={B}, got {len(values)}")
    bad = [v for v in values if not 1 <= v <= T]
    if bad:
        raise ValueError(f"{owner}: expected every length in [1, T] with T={T}, got {bad[:5]}")
    return values


def param_shapes(mode: str, input_size: int, hidden_size: int, num_layers: int = 1,
                 bias: bool = True, bidirectional: bool = False) -> dict[str, tuple[int, ...]]:
    """Parameter names and shapes, in ``torch.nn``'s ``state_dict`` order, for ``mode`` in GATES."""
    gates = GATES[mode]
    dirs = 2 if bidirectional else 1
    shapes: dict[str, tuple[int, ...]] = {}
    for layer in range(num_layers):
        layer_in = input_size if layer == 0 else dirs * hidden_size
        for d in range(dirs):
            sfx = f"_l{layer}" + ("_reverse" if d == 1 else "")
            shapes[f"weight_ih{sfx}"] = (gates * hidden_size, layer_in)
            shapes[f"weight_hh{sfx}"] = (gates * hidden_size, hidden_size)
            if bias:
                shapes[f"bias_ih{sfx}"] = (gates * hidden_size,)
                shapes[f"bias_hh{sfx}"] = (gates * hidden_size,)
    return shapes


def layer_param_names(layer: int, reverse: bool,
                      bias: bool) -> tuple[str, str, str | None, str | None]:
    """The four parameter names of one layer and direction: (w_ih, w_hh, b_ih, b_hh)."""
    sfx = f"_l{layer}" + ("_reverse" if reverse else "")
    if bias:
        return f"weight_ih{sfx}", f"weight_hh{sfx}", f"bias_ih{sfx}", f"bias_hh{sfx}"
    return f"weight_ih{sfx}", f"weight_hh{sfx}", None, None


def check_input_shape(owner: str, shape, input_size: int,
                      batch_first: bool) -> tuple[int, int, bool]:
    """Check an input's shape and return ``(T, B, batched)``.

    Accepted, as in ``torch.nn``: ``(T, B, input_size)`` (or ``(B, T, input_size)`` when
    ``batch_first``) and the unbatched ``(T, input_size)``. Empty sequences and empty batches are
    rejected: a recurrence over zero steps has no output to return.
    """
    shape = tuple(int(s) for s in shape)
    layout = "(B, T, input_size)" if batch_first else "(T, B, input_size)"
    if len(shape) not in (2, 3):
        raise ValueError(
            f"{owner}: expected input of rank 3 {layout} or rank 2 (T, input_size) with "
            f"input_size={input_size}, got rank {len(shape)} with shape {fmt_shape(shape)}"
        )
    if shape[-1] != input_size:
        raise ValueError(
            f"{owner}: expected input with last dimension input_size={input_size}, "
            f"got shape {fmt_shape(shape)}"
        )
    if len(shape) == 2:
        T, B, batched = shape[0], 1, False
    elif batch_first:
        B, T, batched = shape[0], shape[1], True
    else:
        T, B, batched = shape[0], shape[1], True
    if T == 0:
        raise ValueError(
            f"{owner}: expected a sequence of length T >= 1, got shape {fmt_shape(shape)}"
        )
    if B == 0:
        raise ValueError(f"{owner}: expected a batch of size B >= 1, got shape {fmt_shape(shape)}")
    return T, B, batched


def expected_state_shape(num_layers: int, bidirectional: bool, batch: int, hidden_size: int,
                         batched: bool) -> tuple[int, ...]:
    """Shape of ``h0``/``h_n`` (and LSTM ``c0``/``c_n``): ``(num_layers*num_directions, B, H)``."""
    n = num_layers * (2 if bidirectional else 1)
    return (n, batch, hidden_size) if batched else (n, hidden_size)


def check_state_shape(owner: str, name: str, shape, expected: tuple[int, ...]) -> None:
    """Reject an initial state whose shape is not exactly ``expected`` (no broadcasting)."""
    shape = tuple(int(s) for s in shape)
    if shape != expected:
        what = "(num_layers * num_directions, B, hidden_size)" if len(expected) == 3 else \
            "(num_layers * num_directions, hidden_size) for an unbatched input"
        raise ValueError(
            f"{owner}: expected {name} of shape {what} = {fmt_shape(expected)}, "
            f"got {fmt_shape(shape)}"
        )


def check_float_dtype(owner: str, name: str, dtype_name: str, is_real_float: bool) -> None:
    """Reject integer, boolean, complex and object arrays: the recurrences need real floats."""
    if not is_real_float:
        raise TypeError(
            f"{owner}: expected {name} with a real floating dtype (float32 or float64), "
            f"got dtype {dtype_name}"
        )


def check_same_dtype(owner: str, what: Mapping[str, str]) -> None:
    """Reject mixed precision between input, states and parameters (no silent casting)."""
    names = set(what.values())
    if len(names) > 1:
        listing = ", ".join(f"{k}: {v}" for k, v in what.items())
        raise TypeError(f"{owner}: expected one floating dtype for all arrays, got {listing}")


def check_state_dict(owner: str, expected: Mapping[str, tuple[int, ...]],
                     given: Mapping[str, tuple[int, ...]]) -> None:
    """Reject missing keys, unexpected keys and wrong shapes, naming each."""
    missing = [k for k in expected if k not in given]
    extra = [k for k in given if k not in expected]
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing keys {missing}")
        if extra:
            parts.append(f"unexpected keys {extra}")
        raise ValueError(f"{owner}.load_state_dict: " + "; ".join(parts)
                         + f"; expected exactly {list(expected)}")
    for k, shp in expected.items():
        if tuple(given[k]) != tuple(shp):
            raise ValueError(
                f"{owner}.load_state_dict: expected {k} of shape {fmt_shape(shp)}, "
                f"got {fmt_shape(given[k])}"
            )


def check_step_shapes(owner: str, gates: int, shapes: Mapping[str, tuple[int, ...]]) -> None:
    """Shapes of one cell step's arguments, read from ``x (B, D)`` and ``h (B, H)``.

    ``shapes`` maps ``x``, ``h``, ``W_ih``, ``W_hh`` and, when given, ``c``, ``b_ih``, ``b_hh`` to
    their shapes. Everything must agree exactly with ``B``, ``D``, ``H`` and the gate count: a
    step never broadcasts.
    """
    x, h = tuple(shapes["x"]), tuple(shapes["h"])
    if len(x) != 2:
        raise ValueError(f"{owner}: expected x of rank 2 (B, D), got shape {fmt_shape(x)}")
    if len(h) != 2:
        raise ValueError(f"{owner}: expected h of rank 2 (B, H), got shape {fmt_shape(h)}")
    (B, D), H = x, h[1]
    if B == 0 or H == 0 or D == 0:
        raise ValueError(f"{owner}: expected non-empty x (B, D) and h (B, H), got shapes "
                         f"{fmt_shape(x)} and {fmt_shape(h)}")
    expected = {
        "h": ((B, H), "(B, H) with B from x"),
        "c": ((B, H), "(B, H), like h"),
        "W_ih": ((gates * H, D), f"({gates}*H, D)"),
        "W_hh": ((gates * H, H), f"({gates}*H, H)"),
        "b_ih": ((gates * H,), f"({gates}*H,)"),
        "b_hh": ((gates * H,), f"({gates}*H,)"),
    }
    for name, (shape, what) in expected.items():
        if name in shapes and tuple(shapes[name]) != shape:
            raise ValueError(f"{owner}: expected {name} of shape {what} = {fmt_shape(shape)}, "
                             f"got {fmt_shape(shapes[name])}")


# The initial state's keyword is hx in both halves, as in torch.nn; the old h0= still works.
UNSET = object()


def renamed_h0(owner: str, hx, h0, stacklevel: int = 4):
    """Accept the old keyword ``h0=`` for ``hx`` with a ``FutureWarning`` (one API, both halves).

    ``h0`` is ``UNSET`` unless the caller passed it; passing both is a ``TypeError``.
    """
    if h0 is UNSET:
        return hx
    if hx is not None:
        raise TypeError(f"{owner}: got both hx= and h0= (its old name); pass only hx=")
    warnings.warn(f"{owner}: the keyword h0= is now hx=, as in torch.nn and both halves of "
                  "gru_lib; h0= still works but will be removed", FutureWarning,
                  stacklevel=stacklevel)
    return h0
