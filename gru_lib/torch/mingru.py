"""minGRU (Feng et al., 2024) in PyTorch: sequential and log-space parallel-scan modes.

The equations, parameter names and the treatment of the initial state are those of
:mod:`gru_lib.numpy.mingru` (read its module docstring first); gradients come from autograd.
In short::

    z_t = σ(x_t W_z^T + b_z),  v_t = g(x_t W_h^T + b_h),  h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ v_t
    h_t = A_t ⊙ h_0 + exp(log A_t + logcumsumexp_k(log b_k − log A_k)),   A_t = Π_{k≤t} (1 − z_k)

The parallel mode does O(T) work in O(log T) depth on hardware that parallelises ``cumsum`` and
``logcumsumexp``; on a CPU its gain is that it replaces T small Python-level steps by a handful of
large vectorised operations.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gru_lib import _spec

__all__ = ["MinGRU", "g", "log_g", "mingru_step", "parallel_scan_log"]


def g(u: torch.Tensor) -> torch.Tensor:
    """The paper's positive activation: ``u + 1/2`` for ``u ≥ 0``, ``σ(u)`` below 0."""
    return torch.where(u >= 0, u.clamp(min=0) + 0.5, torch.sigmoid(u))


def log_g(u: torch.Tensor) -> torch.Tensor:
    """``log g(u)``, computed stably on both branches."""
    return torch.where(u >= 0, torch.log(u.clamp(min=0) + 0.5), -F.softplus(-u))


def mingru_step(x, h, W_ih, b_ih=None):
    """One minGRU step (sequential mode): ``x`` (B, D), ``h`` (B, H), ``W_ih`` (2H, D) → (B, H)."""
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


class MinGRU(nn.Module):
    """A stack of minGRU layers, mirroring :class:`gru_lib.numpy.MinGRU`.

    Args: ``input_size, hidden_size, num_layers=1, bias=True, batch_first=False, device=None,
    dtype=None``. Parameters ``weight_ih_l{l}`` ``(2H, D_l)`` (blocks ``z | h``) and
    ``bias_ih_l{l}`` ``(2H,)``, initialised like ``torch.nn.Linear``'s ``U(−1/√D_l, 1/√D_l)``.

    ``forward(input, h0=None, mode="parallel")`` returns ``(output, h_n)`` with ``h_n`` of shape
    ``(num_layers, B, H)`` (``(num_layers, H)`` for an unbatched input).
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

    def _check(self, x, h0):
        for name, a in (("input", x), ("h0", h0)):
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
            _spec.check_state_shape("MinGRU", "h0", h0.shape, expected)
        w = self.weight_ih_l0
        dtypes = {"input": str(x.dtype), "parameters": str(w.dtype)}
        if h0 is not None:
            dtypes["h0"] = str(h0.dtype)
        _spec.check_same_dtype("MinGRU", dtypes)
        return batched

    def forward(self, input, h0=None, mode="parallel"):  # noqa: A002 - torch.nn's argument name
        if mode not in ("parallel", "sequential"):
            raise ValueError(f"MinGRU: mode must be 'parallel' or 'sequential', got {mode!r}")
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
            else:
                z, v = torch.sigmoid(k), g(u)
                h = x.new_zeros(x.shape[1], H) if h_init is None else h_init
                steps = []
                for t in range(x.shape[0]):
                    h = (1 - z[t]) * h + z[t] * v[t]
                    steps.append(h)
                x = torch.stack(steps)
            finals.append(x[-1])
        h_n = torch.stack(finals)
        if not batched:
            return x.squeeze(1), h_n.squeeze(1)
        if self.batch_first:
            x = x.transpose(0, 1)
        return x, h_n
