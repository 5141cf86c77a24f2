"""Tools to look inside a recurrence: state Jacobians, spectral quantities, gradient clipping.

Chapter {ref}`ch-vanishing` measures how a gradient shrinks or grows as it travels back through
time. The quantity is the norm of the state-to-state Jacobian

    ∂h_T/∂h_t = (∂h_T/∂h_{T-1}) (∂h_{T-1}/∂h_{T-2}) ... (∂h_{t+1}/∂h_t)      (eq-ch04-product)

a product of ``T - t`` one-step Jacobians. :func:`state_jacobian_norms` computes it for any
single-layer, unidirectional module with the ``torch.nn.RNN/GRU/LSTM`` forward contract
(``gru_lib.torch`` or ``torch.nn``), so the same measurement serves the simple RNN here and the
gated cells of Part II.

The NumPy helpers :func:`global_norm`, :func:`clip_global_norm` and :func:`clip_elementwise` are
the NumPy twins of ``torch.nn.utils.clip_grad_norm_`` and ``clip_grad_value_`` (Pascanu et al.
2013), for the NumPy training loops of Part I. They take and return dicts of gradients keyed like
``model.grads``.

Conventions: the book writes column vectors, ``h_t = tanh(W_ih x_t + W_hh h_{t-1} + b)``, so a
one-step Jacobian is ``diag(1 - h_t^2) W_hh`` (an ``H x H`` matrix whose row ``i`` is the gradient
of ``h_t[i]``). The code stores batches as rows, ``h @ W_hh.T``; the Jacobian is the same matrix.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np

__all__ = [
    "clip_elementwise",
    "clip_global_norm",
    "global_norm",
    "spectral_norm",
    "spectral_radius",
    "state_jacobian_norms",
    "step_jacobians",
]


# --------------------------------------------------------------------------------------------
# Spectral quantities of a recurrent matrix
# --------------------------------------------------------------------------------------------

def _as_square_matrix(W, fn: str) -> np.ndarray:
    if hasattr(W, "detach"):  # a torch tensor or parameter
        W = W.detach().cpu().numpy()
    W = np.asarray(W)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"{fn}: expected a square matrix, got shape {W.shape}")
    return W.astype(np.float64, copy=False)


def spectral_radius(W) -> float:
    """The largest absolute eigenvalue ``max_i |λ_i(W)|`` of a square matrix (NumPy or torch).

    It governs ``W^k`` for large ``k``: ``‖W^k‖^{1/k} → ρ(W)`` (Gelfand's formula), so a linear
    recurrence ``h_t = W h_{t-1}`` decays when ``ρ < 1`` and grows when ``ρ > 1``. For short lags
    the largest singular value (:func:`spectral_norm`), never smaller, is the relevant bound.
    """
    W = _as_square_matrix(W, "spectral_radius")
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def spectral_norm(W) -> float:
    """The largest singular value ``σ_max(W) = ‖W‖_2`` of a matrix (NumPy or torch).

    ``‖W v‖ ≤ σ_max ‖v‖`` for every ``v``, so a product of ``k`` one-step Jacobians
    ``diag(f'(a)) W`` with ``|f'| ≤ γ`` has norm at most ``(γ σ_max)^k``: Bengio et al. (1994) and
    Pascanu et al. (2013)'s sufficient condition for vanishing gradients is ``σ_max < 1/γ``.
    """
    if hasattr(W, "detach"):
        W = W.detach().cpu().numpy()
    W = np.asarray(W, dtype=np.float64)
    if W.ndim != 2:
        raise ValueError(f"spectral_norm: expected a matrix, got shape {W.shape}")
    return float(np.linalg.norm(W, 2))


# --------------------------------------------------------------------------------------------
# State Jacobians of a torch recurrent module
# --------------------------------------------------------------------------------------------

def _check_module(model, fn: str) -> None:
    if not callable(model):
        raise TypeError(f"{fn}: expected a recurrent module, got {type(model).__name__}")
    if getattr(model, "num_layers", 1) != 1:
        raise ValueError(f"{fn}: only single-layer modules are supported, got num_layers="
                         f"{model.num_layers}; measure one layer at a time")
    if getattr(model, "bidirectional", False):
        raise ValueError(f"{fn}: only unidirectional modules are supported (a bidirectional "
                         "layer has no single state carried forward in time)")


def _first_parameter(model):
    for p in model.parameters():
        return p
    raise ValueError("state_jacobian_norms: the module has no parameters to take a dtype from")


def _prepare(model, x, h0, fn: str):
    """Time-major 3-D input, the initial flat state (B, S), and whether the cell is an LSTM."""
    import torch

    _check_module(model, fn)
    p = _first_parameter(model)
    x = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x,
                        dtype=p.dtype, device=p.device)
    batch_first = bool(getattr(model, "batch_first", False))
    if x.dim() == 2:  # unbatched (T, D): a batch of one
        x = x.unsqueeze(1)
    elif x.dim() == 3:
        if batch_first:
            x = x.transpose(0, 1)
    else:
        raise ValueError(f"{fn}: x must be (T, B, D) (or (B, T, D) with batch_first, or (T, D) "
                         f"unbatched), got shape {tuple(x.shape)}")
    T, B = x.shape[0], x.shape[1]
    if T < 1:
        raise ValueError(f"{fn}: the sequence is empty")
    # one probing step to learn the state layout (tensor or (h, c) tuple) and its size
    with torch.no_grad():
        _, probe = model(_time_slice(x, 0, batch_first), _to_module_state(h0, B, batch_first, p)
                         if h0 is not None else None)
    is_lstm = isinstance(probe, tuple)
    H = (probe[0] if is_lstm else probe).shape[-1]
    if h0 is None:
        s0 = torch.zeros(B, (2 if is_lstm else 1) * H, dtype=p.dtype, device=p.device)
    else:
        s0 = _flat_state(h0, B, H, is_lstm, p, fn)
    return x, s0, is_lstm, H, batch_first


def _time_slice(x, t: int, batch_first: bool):
    """Step ``t`` of a time-major (T, B, D) tensor, in the layout the module expects."""
    xt = x[t:t + 1]
    return xt.transpose(0, 1) if batch_first else xt


def _to_module_state(h0, B, batch_first, p):
    import torch

    def one(a):
        a = torch.as_tensor(np.asarray(a) if not isinstance(a, torch.Tensor) else a,
                            dtype=p.dtype, device=p.device)
        return a.reshape(1, B, a.shape[-1])

    return tuple(one(a) for a in h0) if isinstance(h0, tuple | list) else one(h0)


def _flat_state(h0, B, H, is_lstm, p, fn):
    st = _to_module_state(h0, B, False, p)
    if is_lstm:
        if not isinstance(st, tuple) or len(st) != 2:
            raise ValueError(f"{fn}: an LSTM's h0 must be a pair (h0, c0)")
        s = _cat([st[0][0], st[1][0]])
    else:
        if isinstance(st, tuple):
            raise ValueError(f"{fn}: h0 must be a single tensor for a non-LSTM module")
        s = st[0]
    if s.shape != (B, (2 if is_lstm else 1) * H):
        raise ValueError(f"{fn}: h0 has the wrong shape for batch {B} and hidden size {H}")
    return s


def _cat(parts):
    import torch

    return torch.cat(parts, dim=-1)


def _step_fn(model, xt, is_lstm: bool, H: int):
    """The map s_{t-1} -> s_t of one step, on flat states (B, S), S = H or 2H for (h, c)."""

    def f(s):
        if is_lstm:
            state = (s[:, :H].unsqueeze(0).contiguous(), s[:, H:].unsqueeze(0).contiguous())
            _, (h, c) = model(xt, state)
            return _cat([h[0], c[0]])
        _, h = model(xt, s.unsqueeze(0).contiguous())
        return h[0]

    return f


def _batch_jacobian(model, xt, s, is_lstm: bool, H: int, batch_first: bool):
    """Per-example one-step Jacobians (B, S, S) from one forward and one backward pass.

    Examples in a batch never interact, so the batch is replicated S times: copy ``k`` of every
    example is asked for output component ``k`` only. One backward pass of the sum of those
    components then leaves row ``k`` of each example's Jacobian in the gradient of copy ``k``:
    ``J[b, k, j] = ∂s_t[b, k] / ∂s_{t-1}[b, j]``. It is ``torch.autograd.functional.jacobian``
    at the cost of a single (S-times larger) step.
    """
    import torch

    B, S = s.shape
    s_rep = s.detach().repeat(S, 1).requires_grad_(True)  # (S*B, S), copy k = rows kB..(k+1)B-1
    x_rep = xt.repeat(S, 1, 1) if batch_first else xt.repeat(1, S, 1)
    with torch.enable_grad():
        out = _step_fn(model, x_rep, is_lstm, H)(s_rep).view(S, B, S)
        picked = torch.diagonal(out, dim1=0, dim2=2)  # (B, S): copy k's output component k
        (grad,) = torch.autograd.grad(picked.sum(), s_rep)
    return grad.view(S, B, S).permute(1, 0, 2).contiguous()


def step_jacobians(model, x, h0=None):
    """The one-step state Jacobians ``∂s_t/∂s_{t-1}`` along a trajectory, for t = 1..T.

    Args:
        model: a single-layer, unidirectional module with the ``torch.nn.RNN/GRU/LSTM`` forward
            contract, ``model(x, hx) -> (output, h_n)`` (LSTM: ``h_n`` is ``(h_n, c_n)``).
        x: input, (T, B, D) (or (B, T, D) if ``model.batch_first``, or (T, D) unbatched); NumPy
            or torch.
        h0: initial state as the module takes it ((1, B, H), or an ``(h0, c0)`` pair for an
            LSTM); zeros if None.

    Returns:
        A torch tensor (T, B, S, S), detached, where ``S = H`` for RNN and GRU and ``S = 2H`` for
        an LSTM, whose state is ``s_t = (h_t, c_t)``. Entry ``[t-1, b, i, j]`` is
        ``∂s_t[i] / ∂s_{t-1}[j]`` for example ``b``, evaluated where the trajectory actually went.
    """
    return _trajectory_jacobians(model, x, h0, "step_jacobians")[0]


def _trajectory_jacobians(model, x, h0, fn: str):
    """(J (T, B, S, S), is_lstm, H): the work behind :func:`step_jacobians`."""
    import torch

    x, s, is_lstm, H, batch_first = _prepare(model, x, h0, fn)
    Js = []
    for t in range(x.shape[0]):
        xt = _time_slice(x, t, batch_first)
        Js.append(_batch_jacobian(model, xt, s, is_lstm, H, batch_first))
        with torch.no_grad():
            s = _step_fn(model, xt, is_lstm, H)(s)
    return torch.stack(Js).detach(), is_lstm, H


def state_jacobian_norms(model, x, h0=None) -> np.ndarray:
    """``‖∂h_T/∂h_t‖_2`` for t = 1..T: how much of a gradient at the last state reaches step t.

    The module is driven one step at a time (``x[t:t+1]`` with the carried state); at each step the
    one-step Jacobian is taken by autograd (:func:`step_jacobians`), and the products
    ``∂h_T/∂h_t = (∂h_T/∂h_{T-1}) ... (∂h_{t+1}/∂h_t)`` (eq-ch04-product) are accumulated from
    the end. The spectral norm (largest singular value) is taken per example and averaged over the
    batch.

    For an LSTM the carried state is the pair ``s_t = (h_t, c_t)``, and what is measured is the
    spectral norm of the ``H x 2H`` Jacobian ``∂h_T / ∂(h_t, c_t)``: a gradient arriving at the
    output ``h_T`` flows back into both halves of the state at step ``t``, through every path,
    the cell's ``c`` included. At ``t = T`` this is ``[I 0]``, of norm 1, as for RNN and GRU, so
    curves of the three cells start at the same point.

    Args:
        model: a single-layer, unidirectional module with the ``torch.nn.RNN/GRU/LSTM`` forward
            contract (``gru_lib.torch`` or ``torch.nn``).
        x: input (T, B, D) (or (B, T, D) if ``model.batch_first``, or (T, D) unbatched), NumPy or
            torch; it is cast to the module's parameter dtype.
        h0: initial state as the module takes it, or None for zeros.

    Returns:
        ``np.ndarray`` of shape (T,), float64. Element ``t - 1`` is the batch-averaged
        ``‖∂h_T/∂h_t‖_2``; the last element is 1 and the lag of element ``i`` is ``T - 1 - i``.
        In float32 an exploding product can overflow to ``inf``; use a float64 module to measure
        far into the exploding regime.
    """
    J, _, H = _trajectory_jacobians(model, x, h0, "state_jacobian_norms")
    # J[k] = ∂s_{k+1}/∂s_k, (T, B, S, S); S = H, or 2H for an LSTM's (h, c). The products are
    # taken in float64 NumPy, so that a float32 module's tiny or huge norms are still resolved.
    J = J.cpu().numpy().astype(np.float64)
    T, B, S, _ = J.shape
    # M = ∂h_T/∂s_t; its rows are the H components of h_T, the first H entries of the state
    M = np.broadcast_to(np.eye(S)[:H], (B, H, S))
    norms = np.empty(T, dtype=np.float64)
    for t in range(T, 0, -1):  # t = T..1; M holds ∂h_T/∂s_t
        norms[t - 1] = float(np.mean(np.linalg.norm(M, ord=2, axis=(1, 2))))
        if t > 1:
            M = M @ J[t - 1]  # ∂h_T/∂s_{t-1} = ∂h_T/∂s_t · ∂s_t/∂s_{t-1}
    return norms


# --------------------------------------------------------------------------------------------
# Gradient clipping, NumPy side (the twins of torch.nn.utils.clip_grad_norm_ / clip_grad_value_)
# --------------------------------------------------------------------------------------------

def _grad_items(grads, fn: str) -> list[tuple[str, np.ndarray]]:
    if not isinstance(grads, Mapping):
        raise TypeError(f"{fn}: expected a dict name -> gradient array, got "
                        f"{type(grads).__name__}")
    items = []
    for k, g in grads.items():
        if g is None:
            continue
        g = np.asarray(g)
        if not np.issubdtype(g.dtype, np.floating):
            raise TypeError(f"{fn}: gradient {k!r} must be a float array, got {g.dtype}")
        items.append((k, g))
    return items


def global_norm(grads: Mapping[str, np.ndarray] | Iterable[np.ndarray]) -> float:
    """The Euclidean norm of all gradients seen as one long vector: ``sqrt(Σ_i ‖g_i‖²)``.

    Accepts a dict (values are used, ``None`` skipped) or any iterable of arrays.
    """
    arrays = [np.asarray(g) for g in (grads.values() if isinstance(grads, Mapping) else grads)
              if g is not None]
    return float(np.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in arrays)))


def clip_global_norm(grads: Mapping[str, np.ndarray], max_norm: float,
                     eps: float = 1e-6) -> tuple[dict[str, np.ndarray], float]:
    """Rescale all gradients together so that their global norm is at most ``max_norm``.

    With ``n = global_norm(grads)``, every gradient is multiplied by the same factor
    ``min(1, max_norm / (n + eps))`` (Pascanu et al. 2013, Algorithm 1). One factor for all keeps
    the *direction* of the full gradient vector; only its length changes, and only when it is too
    long. This is what ``torch.nn.utils.clip_grad_norm_`` does, ``eps`` included.

    Args:
        grads: dict name -> float array (e.g. ``model.grads``); ``None`` values are passed through.
        max_norm: the largest allowed global norm, > 0.
        eps: added to the norm in the denominator, as torch does, so a zero gradient is safe.

    Returns:
        ``(clipped, n)``: a new dict of new arrays (the input is not modified) and the global norm
        *before* clipping, the number worth logging.
    """
    if not np.isfinite(max_norm) or max_norm <= 0:
        raise ValueError(f"clip_global_norm: max_norm must be a positive number, got {max_norm!r}")
    items = _grad_items(grads, "clip_global_norm")
    n = global_norm(g for _, g in items)
    scale = min(1.0, max_norm / (n + eps))
    clipped = {k: (None if g is None else np.asarray(g) * scale) for k, g in grads.items()}
    return clipped, n


def clip_elementwise(grads: Mapping[str, np.ndarray], clip_value: float) -> dict[str, np.ndarray]:
    """Clamp every gradient component to ``[-clip_value, clip_value]`` (``clip_grad_value_``).

    Unlike :func:`clip_global_norm` this changes the direction of the gradient: large components
    are cut, small ones kept, so the clipped vector points somewhere else. Returns a new dict.
    """
    if not np.isfinite(clip_value) or clip_value <= 0:
        raise ValueError(f"clip_elementwise: clip_value must be a positive number, got "
                         f"{clip_value!r}")
    _grad_items(grads, "clip_elementwise")
    return {k: (None if g is None else np.clip(np.asarray(g), -clip_value, clip_value))
            for k, g in grads.items()}
