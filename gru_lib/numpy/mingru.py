"""minGRU (Feng et al., 2024): a GRU whose gates see only the input, so it runs as a parallel scan.

Equations (chapter {ref}`ch-mingru`; per layer, time step t, rows are batch elements)::

    k_t  = x_t W_z^T + b_z            z_t = σ(k_t)                 (update gate, input only)
    u_t  = x_t W_h^T + b_h            v_t = g(u_t)                 (candidate, input only)
    h_t  = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ v_t

with ``g(u) = u + 1/2`` for ``u ≥ 0`` and ``σ(u)`` otherwise (the paper's positive activation,
continuous at 0). Because neither gate depends on ``h_{t−1}``, the recurrence is *linear* in ``h``:
``h_t = a_t ⊙ h_{t−1} + b_t`` with ``a_t = 1 − z_t`` and ``b_t = z_t ⊙ v_t``, which a scan computes
for all ``t`` at once. With ``A_t = a_1 ⋯ a_t``::

    h_t = A_t ⊙ h_0 + Σ_{k ≤ t} (A_t / A_k) ⊙ b_k

The sum is evaluated in log space (Heinsen, 2023): ``log A_t`` is a cumulative sum of
``log a_t = −softplus(k_t)`` and the sum of positive terms ``b_k = z_k g(u_k) > 0`` is a
``logcumsumexp``. The initial state enters *outside* the logarithm, as ``A_t ⊙ h_0``, so any real
``h_0`` works (zero, negative) — writing it as one more log-space term would need ``h_0 > 0``.

Parameters follow the torch naming scheme of the other layers: ``weight_ih_l{l}`` of shape
``(2H, D_l)`` holding the blocks ``z | h`` and ``bias_ih_l{l}`` of shape ``(2H,)``. There is no
``weight_hh``: that is the point of the model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gru_lib import _spec
from gru_lib.numpy.functional import sigmoid

__all__ = ["MODES", "MinGRU", "chunked_scan", "g", "g_prime", "log_g", "mingru_step",
           "mingru_step_backward", "parallel_scan_log"]

MODES = ("parallel", "sequential", "chunked")
_UNSET = _spec.UNSET


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, x)


def g(u: np.ndarray) -> np.ndarray:
    """The paper's positive activation: ``u + 1/2`` for ``u ≥ 0``, ``σ(u)`` below 0."""
    return np.where(u >= 0, np.maximum(u, 0) + 0.5, sigmoid(u))


def g_prime(u: np.ndarray) -> np.ndarray:
    """Derivative of :func:`g`: 1 for ``u ≥ 0``, ``σ(u)(1 − σ(u))`` below 0."""
    s = sigmoid(u)
    return np.where(u >= 0, 1.0, s * (1.0 - s))


def log_g(u: np.ndarray) -> np.ndarray:
    """``log g(u)`` computed without forming ``g`` where that would lose precision."""
    return np.where(u >= 0, np.log(np.maximum(u, 0) + 0.5), -_softplus(-u))


@dataclass
class MinGRUCache:
    """What :func:`mingru_step_backward` needs from the forward step."""

    x: np.ndarray
    h: np.ndarray
    z: np.ndarray
    u: np.ndarray
    v: np.ndarray
    W_ih: np.ndarray
    has_bias: bool


def _check_step(x, h, W_ih, b_ih) -> None:
    """``mingru_step``'s arguments: 2-D float arrays of one dtype whose shapes agree exactly."""
    arrays = {"x": x, "h": h, "W_ih": W_ih}
    if b_ih is not None:
        arrays["b_ih"] = b_ih
    for name, a in arrays.items():
        if not isinstance(a, np.ndarray):
            raise TypeError(f"mingru_step: expected {name} to be a numpy.ndarray, "
                            f"got {type(a).__name__}")
        _spec.check_float_dtype("mingru_step", name, a.dtype.name,
                                a.dtype in (np.float32, np.float64))
    _spec.check_same_dtype("mingru_step", {k: a.dtype.name for k, a in arrays.items()})
    _spec.check_step_shapes("mingru_step", 2, {k: a.shape for k, a in arrays.items()})


def mingru_step(x, h, W_ih, b_ih=None):
    """One minGRU step (sequential mode), eq. {eq}`eq-ch14-mingru`. Returns ``(h_next, cache)``.

    Args:
        x: ``(B, D)`` input at time t.   h: ``(B, H)`` previous state.
        W_ih: ``(2H, D)``, blocks ``z | h``.   b_ih: ``(2H,)`` or None.
    Returns:
        ``h_next`` ``(B, H)`` and the cache :func:`mingru_step_backward` needs (the torch twin
        returns ``h_next`` only).

    Raises ``TypeError`` for non-arrays and non-float or mixed dtypes, ``ValueError`` for shapes
    that do not agree (named, with expected and actual shapes).
    """
    _check_step(x, h, W_ih, b_ih)
    H = h.shape[-1]
    pre = x @ W_ih.T
    if b_ih is not None:
        pre = pre + b_ih
    k, u = pre[:, :H], pre[:, H:]
    z = sigmoid(k)
    v = g(u)
    h_next = (1.0 - z) * h + z * v
    return h_next, MinGRUCache(x, h, z, u, v, W_ih, b_ih is not None)


def mingru_step_backward(dh_next, cache: MinGRUCache):
    """Backward of :func:`mingru_step`: ``(dx, dh, dW_ih, db_ih)``, ``db_ih`` None without bias.

    Reverse order of the forward: ``h' = (1−z)h + z v`` gives ``dh = (1−z) dh'``,
    ``dz = (v − h) dh'``, ``dv = z dh'``; then ``du = g'(u) dv``, ``dk = z(1−z) dz``.
    """
    c = cache
    dh = (1.0 - c.z) * dh_next
    dz = (c.v - c.h) * dh_next
    dv = c.z * dh_next
    du = g_prime(c.u) * dv
    dk = c.z * (1.0 - c.z) * dz
    dpre = np.concatenate([dk, du], axis=-1)
    dx = dpre @ c.W_ih
    dW_ih = dpre.T @ c.x
    db_ih = dpre.sum(axis=0) if c.has_bias else None
    return dx, dh, dW_ih, db_ih


def parallel_scan_log(log_a: np.ndarray, log_b: np.ndarray, h0: np.ndarray | None = None):
    """All states of ``h_t = a_t h_{t−1} + b_t`` (``a_t, b_t > 0``) at once, in log space.

    Args:
        log_a, log_b: ``(T, ...)`` logarithms of the coefficients and of the (positive) inputs.
        h0: ``(...)`` initial state, any real values, or None for zeros.
    Returns:
        ``(T, ...)`` the states ``h_1 … h_T``.

    ``log A_t = cumsum(log a)``; ``Σ_k (A_t/A_k) b_k = exp(log A_t + logcumsumexp(log b − log A))``.
    Both terms stay finite for any T: ``log A_t`` only decreases, and ``logcumsumexp`` never
    exponentiates a large number.
    """
    log_A = np.cumsum(log_a, axis=0)
    h = np.exp(log_A + np.logaddexp.accumulate(log_b - log_A, axis=0))
    if h0 is not None:
        h = h + np.exp(log_A) * h0
    return h


def chunked_scan(a: np.ndarray, b: np.ndarray, h0: np.ndarray | None = None,
                 chunk: int | None = None) -> np.ndarray:
    """All states of ``h_t = a_t ⊙ h_{t−1} + b_t`` along axis 0, eq. {eq}`eq-ch14-linrec`.

    Args:
        a, b: ``(T, ...)`` coefficients and inputs (any real values).
        h0: ``(...)`` initial state, or None for zeros.
        chunk: chunk length C; default ``⌈√T⌉``.
    Returns:
        ``(T, ...)`` the states ``h_1 … h_T``.

    Mirrors :func:`gru_lib.torch.mingru.chunked_scan` (read its docstring): K = ⌈T/C⌉ chunks;
    (1) C vectorised steps from a zero state give each chunk's end value and the product of
    its ``a``; (2) K steps carry the state across chunks; (3) C vectorised steps rerun every
    chunk from its true initial state. About ``3√T`` steps, only products and sums, equal to
    the sequential loop to rounding.
    """
    T = a.shape[0]
    C = max(1, math.isqrt(T - 1) + 1) if chunk is None else int(chunk)
    K = -(-T // C)
    pad = K * C - T
    if pad:
        a = np.concatenate([a, np.ones((pad,) + a.shape[1:], dtype=a.dtype)])
        b = np.concatenate([b, np.zeros((pad,) + b.shape[1:], dtype=b.dtype)])
    a_c, b_c = a.reshape((K, C) + a.shape[1:]), b.reshape((K, C) + b.shape[1:])
    l_end = np.zeros_like(b_c[:, 0])
    for c in range(C):                                   # (1) C steps, all chunks at once
        l_end = a_c[:, c] * l_end + b_c[:, c]
    P_end = np.prod(a_c, axis=1)
    carries = np.empty_like(l_end)
    carry = np.zeros_like(l_end[0]) if h0 is None else h0
    for k in range(K):                                   # (2) K steps across chunks
        carries[k] = carry
        carry = P_end[k] * carry + l_end[k]
    out = np.empty_like(b_c)
    h = carries
    for c in range(C):                                   # (3) C steps from the carries
        h = a_c[:, c] * h + b_c[:, c]
        out[:, c] = h
    return out.reshape(b.shape)[:T]


class MinGRU:
    """A stack of minGRU layers with the same interface as :class:`gru_lib.numpy.GRU`.

    Args:
        input_size, hidden_size, num_layers, bias, batch_first: as for ``torch.nn.GRU``.
        dtype: float64 (default) or float32.
        rng: ``np.random.Generator``, int seed, or None (draws from NumPy's global generator, so
            :func:`gru_lib.seed_everything` makes it reproducible).

    ``forward(x, hx=None, mode="parallel")`` returns ``(output, h_n)`` with torch's shapes
    (``h_n``: ``(num_layers, B, H)``); ``mode="sequential"`` runs the same equations step by step,
    ``mode="chunked"`` by :func:`chunked_scan`.
    ``backward(d_output, d_h_n=None)`` returns ``(dx, dh0)`` and fills ``.grads``.
    Initialisation is ``U(−1/√D_l, 1/√D_l)``, as ``torch.nn.Linear`` (the paper's layers are
    linear maps of the input only).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, *,
                 dtype=np.float64, rng=None):
        (self.input_size, self.hidden_size, self.num_layers, self.bias, self.batch_first,
         _) = _spec.check_constructor("MinGRU", input_size, hidden_size, num_layers, bias,
                                      batch_first, False)
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise TypeError(f"MinGRU: dtype must be float32 or float64, got {self.dtype}")
        if rng is None:
            rng = np.random.default_rng(np.random.randint(2**31))  # noqa: NPY002 - see docstring
        elif not isinstance(rng, np.random.Generator):
            rng = np.random.default_rng(rng)
        self.params = {}
        for name, shape in self._shapes().items():
            fan_in = self.input_size if name.endswith("_l0") else self.hidden_size
            bound = 1.0 / np.sqrt(fan_in)
            self.params[name] = rng.uniform(-bound, bound, size=shape).astype(self.dtype)
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}
        self._cache = None

    def _shapes(self):
        shapes = {}
        for layer in range(self.num_layers):
            d_in = self.input_size if layer == 0 else self.hidden_size
            shapes[f"weight_ih_l{layer}"] = (2 * self.hidden_size, d_in)
            if self.bias:
                shapes[f"bias_ih_l{layer}"] = (2 * self.hidden_size,)
        return shapes

    def num_parameters(self) -> int:
        return int(sum(p.size for p in self.params.values()))

    def __repr__(self) -> str:
        """``MinGRU(3, 4, num_layers=2)``: sizes, then the arguments that differ from defaults."""
        defaults = {"num_layers": 1, "bias": True, "batch_first": False}
        extra = "".join(f", {k}={getattr(self, k)!r}" for k, v in defaults.items()
                        if getattr(self, k) != v)
        return f"MinGRU({self.input_size}, {self.hidden_size}{extra})"

    def state_dict(self):
        return {k: v.copy() for k, v in self.params.items()}

    def load_state_dict(self, state):
        given = {k: tuple(v.shape) for k, v in state.items()}
        _spec.check_state_dict("MinGRU", self._shapes(), given)
        for k, v in state.items():
            if hasattr(v, "detach"):
                v = v.detach().cpu().numpy()
            self.params[k] = np.array(v, dtype=self.dtype)

    def __call__(self, x, hx=None, mode="parallel", *, h0=_UNSET):
        return self.forward(x, _spec.renamed_h0("MinGRU", hx, h0, stacklevel=3), mode)

    # -- forward ----------------------------------------------------------------------------
    def _check(self, x, h0):
        for name, a in (("input", x), ("hx", h0)):
            if a is None:
                continue
            if not isinstance(a, np.ndarray):
                raise TypeError(f"MinGRU: expected {name} as a numpy.ndarray, "
                                f"got {type(a).__name__}")
            _spec.check_float_dtype("MinGRU", name, str(a.dtype),
                                    a.dtype in (np.float32, np.float64))
        T, B, batched = _spec.check_input_shape("MinGRU", x.shape, self.input_size,
                                                self.batch_first)
        expected = _spec.expected_state_shape(self.num_layers, False, B, self.hidden_size, batched)
        if h0 is not None:
            _spec.check_state_shape("MinGRU", "hx", h0.shape, expected)
        dtypes = {"input": str(x.dtype), "parameters": str(self.dtype)}
        if h0 is not None:
            dtypes["hx"] = str(h0.dtype)
        _spec.check_same_dtype("MinGRU", dtypes)
        return batched

    def forward(self, x, hx=None, mode="parallel", *, h0=_UNSET):
        """Run all layers; see the class docstring for shapes.

        ``hx``: initial states ``(num_layers, B, H)`` or None (``h0=`` is its old name).
        ``mode``: ``"parallel"`` (log-space scan), ``"sequential"`` (the loop of
        :func:`mingru_step`) or ``"chunked"`` (:func:`chunked_scan`: fastest, exact to rounding).
        """
        h0 = _spec.renamed_h0("MinGRU.forward", hx, h0, stacklevel=3)
        if mode not in MODES:
            raise ValueError(f"MinGRU: mode must be one of {', '.join(map(repr, MODES))}, "
                             f"got {mode!r}")
        batched = self._check(x, h0)
        if not batched:
            x = x[:, None, :]
            h0 = None if h0 is None else h0[:, None, :]
        elif self.batch_first:
            x = x.transpose(1, 0, 2)
        H = self.hidden_size
        caches, finals, inp = [], [], x
        for layer in range(self.num_layers):
            W = self.params[f"weight_ih_l{layer}"]
            b = self.params.get(f"bias_ih_l{layer}")
            pre = inp @ W.T + (b if b is not None else 0.0)          # (T, B, 2H), one product
            k, u = pre[..., :H], pre[..., H:]
            h_init = None if h0 is None else h0[layer]
            if mode == "parallel":
                log_b = -_softplus(-k) + log_g(u)                     # log z + log g(u)
                hs = parallel_scan_log(-_softplus(k), log_b, h_init)  # log(1 − z) = −softplus(k)
            elif mode == "chunked":
                z = sigmoid(k)
                hs = chunked_scan(1.0 - z, z * g(u), h_init)
            else:
                z, v = sigmoid(k), g(u)
                h = np.zeros((inp.shape[1], H), dtype=inp.dtype) if h_init is None else h_init
                hs = np.empty(k.shape, dtype=inp.dtype)
                for t in range(k.shape[0]):
                    h = (1.0 - z[t]) * h + z[t] * v[t]
                    hs[t] = h
            h_start = np.zeros_like(hs[0]) if h_init is None else h_init
            caches.append((inp, k, u, hs, h_start))
            finals.append(hs[-1])
            inp = hs
        self._cache = (caches, batched)
        out, h_n = inp, np.stack(finals)
        if not batched:
            return out[:, 0, :], h_n[:, 0, :]
        if self.batch_first:
            out = out.transpose(1, 0, 2)
        return out, h_n

    # -- backward ---------------------------------------------------------------------------
    def backward(self, d_output, d_h_n=None):
        """BPTT through all layers. Returns ``(dx, dh0)`` shaped like the forward's inputs.

        Per layer, the only loop over time is the reverse recurrence of the total gradient
        ``δ_t = dout_t + (1 − z_{t+1}) ⊙ δ_{t+1}``; every other gradient is one array expression
        over all time steps, and each weight gradient is a single matrix product.
        """
        if self._cache is None:
            raise RuntimeError("MinGRU.backward: call forward first")
        caches, batched = self._cache
        d_output = np.asarray(d_output)
        if not batched:
            d_output = d_output[:, None, :]
            d_h_n = None if d_h_n is None else np.asarray(d_h_n)[:, None, :]
        elif self.batch_first:
            d_output = d_output.transpose(1, 0, 2)
        expected = caches[-1][3].shape
        if d_output.shape != expected:
            raise ValueError(f"MinGRU.backward: expected d_output of shape "
                             f"{_spec.fmt_shape(expected)} (time-major), got "
                             f"{_spec.fmt_shape(d_output.shape)}")
        dh0 = np.zeros((self.num_layers,) + expected[1:], dtype=d_output.dtype)
        d_out = d_output
        for layer in reversed(range(self.num_layers)):
            inp, k, u, hs, h_start = caches[layer]
            z = sigmoid(k)
            delta = d_out.copy()
            if d_h_n is not None:
                delta[-1] += d_h_n[layer]
            for t in range(delta.shape[0] - 2, -1, -1):
                delta[t] += (1.0 - z[t + 1]) * delta[t + 1]
            h_prev = np.concatenate([h_start[None], hs[:-1]], axis=0)
            dz = (g(u) - h_prev) * delta
            dpre = np.concatenate([z * (1.0 - z) * dz, g_prime(u) * z * delta], axis=-1)
            W = self.params[f"weight_ih_l{layer}"]
            flat = dpre.reshape(-1, dpre.shape[-1])
            self.grads[f"weight_ih_l{layer}"] = flat.T @ inp.reshape(-1, inp.shape[-1])
            if self.bias:
                self.grads[f"bias_ih_l{layer}"] = flat.sum(axis=0)
            dh0[layer] = (1.0 - z[0]) * delta[0]
            d_out = dpre @ W
        dx = d_out
        if not batched:
            return dx[:, 0, :], dh0[:, 0, :]
        if self.batch_first:
            dx = dx.transpose(1, 0, 2)
        return dx, dh0
