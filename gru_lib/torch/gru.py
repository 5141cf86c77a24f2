"""The gated recurrent unit (Cho et al., 2014) in PyTorch: step function and layer.

Chapter {ref}`ch-gru`, equations ``eq-ch07-r`` to ``eq-ch07-h``; the NumPy twin with its
hand-derived backward is :mod:`gru_lib.numpy.gru`. Two placements of the reset gate:

- ``reset_after=True`` (``torch.nn.GRU``, cuDNN, Keras' default): ``r`` multiplies the recurrent
  pre-activation, ``n = tanh(x W_in^T + b_in + r ⊙ (h W_hn^T + b_hn))``;
- ``reset_after=False`` (Cho et al. 2014, Keras ``reset_after=False``): ``r`` multiplies the state
  before the product, ``n = tanh(x W_in^T + b_in + (r ⊙ h) W_hn^T + b_hn)``.

Both use ``h' = (1 − z) ⊙ n + z ⊙ h`` (torch's convention: ``z`` keeps the old state). Weights are
stacked in torch's gate order ``r | z | n``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gru_lib.torch.base import RecurrentBase, check_step_args
from gru_lib.torch.functional import sigmoid, tanh

__all__ = ["GRU", "gru_step", "gru_step_projected"]


def _check_reset_after(owner: str, reset_after) -> None:
    if not isinstance(reset_after, bool):
        raise TypeError(f"{owner}: reset_after must be a bool, got {type(reset_after).__name__} "
                        f"({reset_after!r})")


def gru_step_projected(gi, h, W_hh, b_hh=None, reset_after=True):
    r"""The recurrent half of :func:`gru_step`, given the input projection ``gi``.

    ``gi`` ``(B, 3H)`` is :math:`x W_{ih}^\top + b_{ih}` (blocks :math:`i_r | i_z | i_n`). The
    layers compute it for all time steps in one product and call this inside the time loop; no
    input checks (the callers have done them).
    """
    H = h.shape[-1]
    i_r, i_z, i_n = gi[..., :H], gi[..., H:2 * H], gi[..., 2 * H:]
    b_rz, b_n = (None, None) if b_hh is None else (b_hh[:2 * H], b_hh[2 * H:])
    gh_rz = F.linear(h, W_hh[:2 * H], b_rz)           # (B, 2H): the state's share of r and z
    r = sigmoid(i_r + gh_rz[..., :H])
    z = sigmoid(i_z + gh_rz[..., H:])
    if reset_after:                                   # torch: r scales W_hn h + b_hn
        n = tanh(i_n + r * F.linear(h, W_hh[2 * H:], b_n))
    else:                                             # Cho et al.: r scales h itself
        n = tanh(i_n + F.linear(r * h, W_hh[2 * H:], b_n))
    return (1.0 - z) * n + z * h


def gru_step(x, h, W_ih, W_hh, b_ih=None, b_hh=None, reset_after=True):
    r"""One GRU step (eqs. ``eq-ch07-r`` to ``eq-ch07-h``); reset_after=True is ``torch.nn.GRU``.

    .. math::
        r &= \sigma(x W_{ir}^\top + b_{ir} + h W_{hr}^\top + b_{hr}) \\
        z &= \sigma(x W_{iz}^\top + b_{iz} + h W_{hz}^\top + b_{hz}) \\
        n &= \tanh(x W_{in}^\top + b_{in} + r \odot (h W_{hn}^\top + b_{hn}))
             \quad\text{(reset\_after=True, torch)} \\
        n &= \tanh(x W_{in}^\top + b_{in} + (r \odot h) W_{hn}^\top + b_{hn})
             \quad\text{(reset\_after=False, Cho et al. 2014)} \\
        h' &= (1 - z) \odot n + z \odot h

    Args:
        x: ``(B, D)`` input :math:`x_t`.
        h: ``(B, H)`` previous state :math:`h_{t-1}`.
        W_ih: ``(3H, D)`` blocks :math:`W_{ir} | W_{iz} | W_{in}` (torch's ``weight_ih_l0``).
        W_hh: ``(3H, H)`` blocks :math:`W_{hr} | W_{hz} | W_{hn}` (``weight_hh_l0``).
        b_ih, b_hh: ``(3H,)`` biases in the same block order, or None. With ``reset_after=True``
            ``b_hn`` is scaled by ``r`` and ``b_in`` is not, so both matter; with
            ``reset_after=False`` they simply add and only their sum matters (Keras keeps one
            bias there). Both are kept in either case, for ``torch.nn``'s parameter layout.
        reset_after: where the reset gate acts (see above).

    Returns:
        h_next: ``(B, H)`` new state :math:`h_t`, same dtype and device as ``x``. Only the
        state: autograd keeps what the backward needs. (The NumPy twin returns
        ``(h_next, cache)``; ``h, _ = gru_step(...)`` copied from NumPy code would here unpack
        the *rows* of ``h_next`` when B = 2, and fail otherwise. Write ``h = gru_step(...)``.)

    All tensors must share one real floating dtype and one device; shapes must match exactly.
    Gradients come from autograd (compare :func:`gru_lib.numpy.gru_step_backward`).
    """
    check_step_args("gru_step", 3, x, h, W_ih, W_hh, b_ih, b_hh)
    _check_reset_after("gru_step", reset_after)
    return gru_step_projected(F.linear(x, W_ih, b_ih), h, W_hh, b_hh, reset_after)


class GRU(RecurrentBase):
    r"""Multi-layer GRU built from torch ops, a drop-in twin of ``torch.nn.GRU``.

    Each layer applies :func:`gru_step` at every time step (eqs. ``eq-ch07-r`` to ``eq-ch07-h``),
    with :math:`x_t` the input for the first layer and the previous layer's output (both
    directions concatenated) above it. The input projection :math:`x_t W_{ih}^\top + b_{ih}` is
    computed for all steps in one matrix product before the time loop.

    Args:
        input_size: features :math:`D` of the input.
        hidden_size: features :math:`H` of the state.
        num_layers: stacked layers (default 1).
        bias: if False, no ``b_ih``/``b_hh`` (default True).
        batch_first: input and output are ``(B, T, ·)`` instead of ``(T, B, ·)``; ``h_n`` stays
            ``(num_layers*num_directions, B, H)`` as in ``torch.nn``.
        dropout: probability of zeroing each output element of every layer but the last, in
            training mode only (default 0), drawn as ``torch.nn`` does.
        bidirectional: add a ``_reverse`` direction per layer reading the sequence backwards.
        reset_after (keyword-only): True (default) is ``torch.nn.GRU``; False is Cho et al.
            (2014), the reset gate applied to the state before the recurrent product. Same
            parameters either way.
        device, dtype: where and in which floating dtype the parameters are created.

    Inputs: ``input, hx, lengths``
        * ``input``: ``(T, B, D)``, ``(B, T, D)`` if ``batch_first``, unbatched ``(T, D)``, or a
          ``torch.nn.utils.rnn.PackedSequence`` (then ``output`` is one too, as in ``torch.nn``).
        * ``lengths`` (not in ``torch.nn``; the NumPy half's argument): B ints in ``[1, T]``, or
          None. Steps ``t >= lengths[b]`` keep sequence ``b``'s state and output zeros, so the
          results equal ``torch.nn`` on the packed sequences.
        * ``hx``: initial states ``(num_layers*num_directions, B, H)`` (``(…, H)`` unbatched);
          None means zeros.

    Outputs: ``output, h_n``
        * ``output``: ``(T, B, num_directions*H)`` (batch-first / unbatched like the input), the
          top layer's :math:`h_t` for every ``t``.
        * ``h_n``: ``(num_layers*num_directions, B, H)``, every layer's final state (for the
          reverse direction: its state after reading ``x_1``).

    Parameters: ``weight_ih_l{k}`` ``(3H, D_k)``, ``weight_hh_l{k}`` ``(3H, H)``,
    ``bias_ih_l{k}``, ``bias_hh_l{k}`` ``(3H,)`` (blocks ``r | z | n``), plus ``…_reverse``;
    ``D_0 = D`` and ``D_k = num_directions*H``. ``load_state_dict(torch.nn.GRU(...).state_dict())``
    works as is.
    """

    MODE = "GRU"

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None, *,
                 reset_after=True):
        _check_reset_after(type(self).__name__, reset_after)
        self.reset_after = reset_after
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device, dtype)

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s if self.reset_after else s + ", reset_after=False"

    def _cell(self, gi, state, W_hh, b_hh):
        return (gru_step_projected(gi, state[0], W_hh, b_hh, self.reset_after),)

    def forward(self, input, hx: torch.Tensor | None = None, lengths=None):  # noqa: A002
        output, (h_n,) = self._forward_layers(input, {"hx": hx}, lengths)
        return output, h_n
