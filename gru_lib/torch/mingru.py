"""minGRU (Feng et al., 2024) in PyTorch: sequential and log-space parallel-scan modes.

The equations, parameter names and the treatment of the initial state are those of
:mod:`gru_lib.numpy.mingru` (read its module docstring first); gradients come from autograd.
In short::

    z_t = σ(x_t W_z^T + b_z),  v_t = g(x_t W_h^T + b_h),  h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ v_t
    h_t = A_t ⊙ h_0 + exp(log A_t + logcumsumexp_k(log b_k − log A_k)),   A_t = Π_{k≤t} (1 − z_k)

The parallel mode does O(T) work in O(log T) depth on hardware that parallelises ``cumsum`` and
``logcumsumexp``; on a CPU its gain is that it replaces T small Python-level steps by a handful of
large vectorised operations — but ``logcumsumexp`` along time and its backward are slow there.
The ``chunked`` mode (:func:`chunked_scan`) is the fast CPU mode: about ``2√T`` vectorised steps,
only products and sums (no logarithm, no division), so it equals the sequential loop to rounding.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from gru_lib import _spec
from gru_lib.torch.base import check_same_device, dtype_name

__all__ = ["MODES", "MinGRU", "MinGRUScan", "chunked_scan", "g", "g_prime", "log_g", "mingru_step",
           "parallel_scan_log"]

MODES = ("parallel", "sequential", "chunked")
_UNSET = _spec.UNSET


def _renamed_h0(owner: str, hx, h0):
    """``gru_lib._spec.renamed_h0``, with the warning pointing at the caller of ``MinGRU(...)``."""
    return _spec.renamed_h0(owner, hx, h0, stacklevel=6)


def g(u: torch.Tensor) -> torch.Tensor:
    """The paper's positive activation: ``u + 1/2`` for ``u ≥ 0``, ``σ(u)`` below 0.

    Written as ``max(u, 0) + σ(min(u, 0))`` — the same numbers on both branches (``σ(0) = 1/2``
    exactly) — because ``torch.where`` is several times slower on a CPU than these three
    element-wise operations.
    """
    return torch.clamp(u, max=0).sigmoid() + u.clamp(min=0)


def log_g(u: torch.Tensor) -> torch.Tensor:
    """``log g(u)``, computed stably on both branches."""
    return torch.where(u >= 0, torch.log(u.clamp(min=0) + 0.5), -F.softplus(-u))


def _check_step(x, h, W_ih, b_ih) -> None:
    """``mingru_step``'s arguments: 2-D tensors of one real float dtype and device, exact shapes."""
    tensors = {"x": x, "h": h, "W_ih": W_ih}
    if b_ih is not None:
        tensors["b_ih"] = b_ih
    for name, a in tensors.items():
        if not isinstance(a, torch.Tensor):
            raise TypeError(f"mingru_step: expected {name} to be a torch.Tensor, "
                            f"got {type(a).__name__}")
        _spec.check_float_dtype("mingru_step", name, dtype_name(a.dtype),
                                a.dtype.is_floating_point and not a.dtype.is_complex)
    _spec.check_same_dtype("mingru_step", {k: dtype_name(a.dtype) for k, a in tensors.items()})
    check_same_device("mingru_step", {k: a.device for k, a in tensors.items()})
    _spec.check_step_shapes("mingru_step", 2, {k: tuple(a.shape) for k, a in tensors.items()})


def mingru_step(x, h, W_ih, b_ih=None):
    """One minGRU step (sequential mode), eq. {eq}`eq-ch14-mingru`.

    Args:
        x: ``(B, D)`` input at time t.   h: ``(B, H)`` previous state.
        W_ih: ``(2H, D)``, blocks ``z | h``.   b_ih: ``(2H,)`` or None.
    Returns:
        ``h_next`` ``(B, H)`` (autograd keeps what the backward needs; the NumPy twin also
        returns its cache).

    Raises ``TypeError`` for non-tensors and non-float or mixed dtypes, ``ValueError`` for
    shapes that do not agree (named, with expected and actual shapes).
    """
    _check_step(x, h, W_ih, b_ih)
    H = h.shape[-1]
    pre = F.linear(x, W_ih, b_ih)
    z, v = torch.sigmoid(pre[:, :H]), g(pre[:, H:])
    return (1 - z) * h + z * v


def parallel_scan_log(log_a: torch.Tensor, log_b: torch.Tensor, h0: torch.Tensor | None = None):
    """All states of ``h_t = a_t h_{t−1} + b_t`` (``a_t, b_t > 0``) along dim 0, in log space.

    ``h0`` (any real values, shape ``log_a.shape[1:]``) enters linearly as ``A_t ⊙ h0``.
    """
    log_A = torch.cumsum(log_a, dim=0)
    h = torch.exp(log_A + torch.logcumsumexp(log_b - log_A, dim=0))
    if h0 is not None:
        h = h + torch.exp(log_A) * h0
    return h


def chunked_scan(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None = None,
                 chunk: int | None = None) -> torch.Tensor:
    """All states of ``h_t = a_t ⊙ h_{t−1} + b_t`` along dim 0, eq. {eq}`eq-ch14-linrec`.

    Args:
        a, b: ``(T, ...)`` coefficients and inputs (any real values).
        h0: ``(...)`` initial state, or None for zeros.
        chunk: chunk length C; default ``⌈√T⌉``, which minimises the number of steps.
    Returns:
        ``(T, ...)`` the states ``h_1 … h_T``.

    The sequence is cut into K = ⌈T/C⌉ chunks (padded with identity steps ``a = 1, b = 0``).
    (1) In every chunk at once, run the recurrence from a zero state: C vectorised steps give
    each chunk's end value ``l_k``, and ``P_k`` is the product of its ``a`` (a reduction).
    (2) Carry across chunks: ``c_k = P_k ⊙ c_{k−1} + l_k`` from ``c_0 = h0``, K small steps.
    (3) Run the C steps of every chunk again, now from its true initial state ``c_{k−1}``.
    About ``3√T`` vectorised steps instead of T, and only products and sums: no logarithm or
    division, so nothing underflows, and the result equals the sequential loop to rounding
    (in any dtype). Autograd can differentiate it; :class:`MinGRUScan` uses it for the
    backward recurrence too.
    """
    T = a.shape[0]
    C = max(1, math.isqrt(T - 1) + 1) if chunk is None else int(chunk)
    K = -(-T // C)
    pad = K * C - T
    if pad:
        a = torch.cat([a, a.new_ones((pad,) + a.shape[1:])])
        b = torch.cat([b, b.new_zeros((pad,) + b.shape[1:])])
    a_steps = a.unflatten(0, (K, C)).unbind(1)        # C slices (K, ...): step c of every chunk
    b_steps = b.unflatten(0, (K, C)).unbind(1)
    l_end = torch.zeros_like(b_steps[0])
    for a_t, b_t in zip(a_steps, b_steps, strict=True):        # (1) C steps, all chunks at once
        l_end = torch.addcmul(b_t, a_t, l_end)
    P_end = torch.prod(a.unflatten(0, (K, C)), dim=1)
    carry = torch.zeros_like(l_end[0]) if h0 is None else h0
    carries = []
    for P_k, l_k in zip(P_end.unbind(0), l_end.unbind(0), strict=True):   # (2) K steps
        carries.append(carry)
        carry = torch.addcmul(l_k, P_k, carry)
    h, states = torch.stack(carries), []
    for a_t, b_t in zip(a_steps, b_steps, strict=True):        # (3) C steps from the carries
        h = torch.addcmul(b_t, a_t, h)
        states.append(h)
    return torch.stack(states, dim=1).flatten(0, 1)[:T]

def g_prime(u: torch.Tensor) -> torch.Tensor:
    """Derivative of :func:`g`: 1 for ``u ≥ 0``, ``σ(u)(1 − σ(u))`` below 0."""
    s = torch.clamp(u, max=0).sigmoid()
    return (s - s * s).masked_fill(u >= 0, 1.0)


class MinGRUScan(torch.autograd.Function):
    """One minGRU layer's recurrence by :func:`chunked_scan`, with a hand-derived backward.

    Input ``pre`` ``(T, B, 2H)`` (blocks ``k | u``, the input projection), ``h0`` ``(B, H)`` or
    None; output the states ``(T, B, H)``. The backward is the minGRU BPTT of the NumPy twin
    (:meth:`gru_lib.numpy.MinGRU.backward`): the total state gradient obeys the *same* linear
    recurrence run backwards in time, ``δ_t = dout_t + a_{t+1} δ_{t+1}``, so it is one more
    chunked scan, and then ``dk = z(1 − z)(v − h_{t−1}) δ``, ``du = z g'(u) δ``,
    ``dh0 = a_1 δ_1``. Autograd through the forward scan would instead replay its ``2√T``
    steps and ``cumprod``'s general backward (which divides, and guards against zeros).
    The backward is itself written in differentiable tensor operations, so double backward
    and ``torch.func`` transforms work.
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(pre, h0):
        H = pre.shape[-1] // 2
        z = torch.sigmoid(pre[..., :H])
        return chunked_scan(1 - z, z * g(pre[..., H:]), h0)

    @staticmethod
    def setup_context(ctx, inputs, output):
        pre, h0 = inputs
        ctx.save_for_backward(pre, h0, output)

    @staticmethod
    def backward(ctx, d_out):
        pre, h0, h = ctx.saved_tensors
        H = pre.shape[-1] // 2
        k, u = pre[..., :H], pre[..., H:]
        z = torch.sigmoid(k)
        a = 1 - z
        # δ_t = dout_t + a_{t+1} δ_{t+1}: the forward recurrence, reversed in time
        a_next = torch.cat([a[1:], torch.ones_like(a[:1])])
        delta = chunked_scan(a_next.flip(0), d_out.flip(0)).flip(0)
        h_prev = torch.cat([torch.zeros_like(h[:1]) if h0 is None else h0.unsqueeze(0), h[:-1]])
        zd = z * delta
        d_pre = torch.cat([(g(u) - h_prev) * zd * a, g_prime(u) * zd], dim=-1)
        dh0 = None if h0 is None or not ctx.needs_input_grad[1] else a[0] * delta[0]
        return d_pre, dh0

class MinGRU(nn.Module):
    """A stack of minGRU layers, mirroring :class:`gru_lib.numpy.MinGRU`.

    Args: ``input_size, hidden_size, num_layers=1, bias=True, batch_first=False, device=None,
    dtype=None``. Parameters ``weight_ih_l{l}`` ``(2H, D_l)`` (blocks ``z | h``) and
    ``bias_ih_l{l}`` ``(2H,)``, initialised like ``torch.nn.Linear``'s ``U(−1/√D_l, 1/√D_l)``.

    ``forward(input, hx=None, mode="parallel")`` returns ``(output, h_n)`` with ``h_n`` of shape
    ``(num_layers, B, H)`` (``(num_layers, H)`` for an unbatched input). ``mode``: ``"parallel"``
    (log-space scan), ``"sequential"`` (the loop of :func:`mingru_step`) or ``"chunked"``
    (:func:`chunked_scan`, the fastest on a CPU and exact to rounding).
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 device=None, dtype=None):
        super().__init__()
        (self.input_size, self.hidden_size, self.num_layers, self.bias, self.batch_first,
         _) = _spec.check_constructor("MinGRU", input_size, hidden_size, num_layers, bias,
                                      batch_first, False)
        kw = {"device": device, "dtype": dtype}
        for layer in range(self.num_layers):
            d_in = self.input_size if layer == 0 else self.hidden_size
            bound = d_in ** -0.5
            w = torch.empty(2 * self.hidden_size, d_in, **kw).uniform_(-bound, bound)
            self.register_parameter(f"weight_ih_l{layer}", nn.Parameter(w))
            if self.bias:
                b = torch.empty(2 * self.hidden_size, **kw).uniform_(-bound, bound)
                self.register_parameter(f"bias_ih_l{layer}", nn.Parameter(b))

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def extra_repr(self) -> str:
        """``MinGRU(3, 4, num_layers=2)``: sizes, then the arguments that differ from defaults."""
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        return s

    def _check(self, x, h0):
        for name, a in (("input", x), ("hx", h0)):
            if a is None:
                continue
            if not isinstance(a, torch.Tensor):
                raise TypeError(f"MinGRU: expected {name} as a torch.Tensor, "
                                f"got {type(a).__name__}")
            _spec.check_float_dtype("MinGRU", name, str(a.dtype),
                                    a.dtype.is_floating_point and not a.dtype.is_complex)
        T, B, batched = _spec.check_input_shape("MinGRU", x.shape, self.input_size,
                                                self.batch_first)
        if h0 is not None:
            expected = _spec.expected_state_shape(self.num_layers, False, B, self.hidden_size,
                                                  batched)
            _spec.check_state_shape("MinGRU", "hx", h0.shape, expected)
        w = self.weight_ih_l0
        dtypes = {"input": str(x.dtype), "parameters": str(w.dtype)}
        if h0 is not None:
            dtypes["hx"] = str(h0.dtype)
        _spec.check_same_dtype("MinGRU", dtypes)
        return batched

    def forward(self, input, hx=None, mode="parallel", *, h0=_UNSET):  # noqa: A002 - torch.nn's name
        """Run all layers; see the class docstring. ``h0=`` is the old name of ``hx``."""
        h0 = _renamed_h0("MinGRU.forward", hx, h0)
        if mode not in MODES:
            raise ValueError(f"MinGRU: mode must be one of {', '.join(map(repr, MODES))}, "
                             f"got {mode!r}")
        batched = self._check(input, h0)
        x = input
        if not batched:
            x = x.unsqueeze(1)
            h0 = None if h0 is None else h0.unsqueeze(1)
        elif self.batch_first:
            x = x.transpose(0, 1)
        H = self.hidden_size
        finals = []
        for layer in range(self.num_layers):
            pre = F.linear(x, getattr(self, f"weight_ih_l{layer}"),
                           getattr(self, f"bias_ih_l{layer}", None))   # (T, B, 2H), one product
            k, u = pre[..., :H], pre[..., H:]
            h_init = None if h0 is None else h0[layer]
            if mode == "parallel":
                x = parallel_scan_log(-F.softplus(k), -F.softplus(-k) + log_g(u), h_init)
            elif mode == "chunked":
                x = MinGRUScan.apply(pre, h_init)
            else:
                z, v = torch.sigmoid(k), g(u)
                h = x.new_zeros(x.shape[1], H) if h_init is None else h_init
                steps = []
                # unbind once: indexing z[t] inside the loop would make autograd's backward
                # build a full-size zero gradient per step (quadratic in T), chapter 13
                for z_t, v_t in zip(z.unbind(0), v.unbind(0), strict=True):
                    h = (1 - z_t) * h + z_t * v_t
                    steps.append(h)
                x = torch.stack(steps)
            finals.append(x[-1])
        h_n = torch.stack(finals)
        if not batched:
            return x.squeeze(1), h_n.squeeze(1)
        if self.batch_first:
            x = x.transpose(0, 1)
        return x, h_n
