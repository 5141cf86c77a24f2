"""FastGRU: the GRU of :mod:`gru_lib.torch.gru` with a hand-written BPTT (chapter {ref}`ch-cost`).

Same constructor, parameters (``state_dict`` keys) and ``forward`` contract as
:class:`gru_lib.torch.GRU` (PyTorch's convention, ``reset_after=True``). What changes is how one
layer in one direction is computed. Autograd on a Python loop records every small operation of
every step and replays them backwards one by one, including one small weight-gradient product per
step. :class:`GRULayerFunction` instead restructures the work, as cuDNN does on GPUs
(Appleyard et al., 2016):

* forward: the input projection ``x_t W_ih^T + b_ih`` for *all* time steps is one matrix product;
  only ``h_{t−1} W_hh^T`` stays inside the time loop, and every element-wise step writes in place
  into preallocated buffers (no allocation, no copy per step);
* backward: the loop over time carries only what must be sequential — the total state gradient
  ``δ_t`` and its product with ``W_hh`` — and stores the pre-activation gradients of every step;
* after the loop, ``dW_ih``, ``dW_hh`` and ``dx`` are each *one* large matrix product over all
  ``T·B`` rows, instead of T small ones; gradients nobody asked for (``needs_input_grad``) are
  skipped, e.g. ``dx`` for a first layer whose input needs no gradient.

The reverse direction of a bidirectional layer is the same function on the time-reversed input.

What the kernel does not do, it refuses loudly: double backward (``create_graph=True`` then a
second ``backward``) raises, and so do ``torch.jit.trace`` and ONNX export, whose recorded graph
would unroll the loop to the traced length (export :class:`torch.nn.GRU` instead: same
``state_dict``). ``torch.func.grad`` works, and so does ``torch.func.vmap`` over the inputs
(the mapped dimension joins the batch); vmap over the weights, or over a backward (per-sample
gradients), raises a ``NotImplementedError`` saying so.
"""

from __future__ import annotations

import torch

from gru_lib.torch.gru import GRU

__all__ = ["FastGRU", "GRULayerFunction", "gru_layer", "gru_layer_backward",
           "gru_layer_forward"]


def _refuse_tracing(owner: str) -> None:
    """Raise if a tracer is recording: it would freeze the time loop at the traced length."""
    if torch.jit.is_tracing() or torch.onnx.is_in_onnx_export() or torch.compiler.is_exporting():
        raise RuntimeError(
            f"{owner} cannot be traced or exported: torch.jit.trace, torch.export and "
            "torch.onnx.export would record its Python loop over time unrolled for this "
            "example's sequence length, and the graph would silently give wrong results for any "
            "other length. Export torch.nn.GRU instead: FastGRU's state_dict loads into it one "
            "to one")


def gru_layer_forward(x, h0, W_ih, W_hh, b_ih=None, b_hh=None):
    """All states of one GRU layer, eqs. {eq}`eq-ch07-r` … {eq}`eq-ch07-h` (``reset_after=True``).

    Args:
        x: ``(T, B, D)`` inputs.   h0: ``(B, H)`` initial state.
        W_ih: ``(3H, D)``, W_hh: ``(3H, H)``, b_ih, b_hh: ``(3H,)`` or None; blocks ``r | z | n``.
    Returns:
        ``out`` ``(T, B, H)``, the states ``h_1 … h_T``, and what the backward needs:
        ``g`` ``(T, B, 3H)`` holding the gates ``r | z`` and ``ghn = W_hn h_{t−1} + b_hn``, and
        the candidates ``n`` ``(T, B, H)``.

    Before the loop each buffer receives everything that does not depend on ``h_{t−1}``: two
    products over all ``T·B`` rows write ``x W_{i,rz}^T + b_{i,rz} + b_{h,rz}`` into the ``r|z``
    block of ``g`` (the recurrent biases of r and z add to the same pre-activation) and
    ``x W_in^T + b_in`` into ``n``; the ``n`` block of ``g`` starts as ``b_hn``. A step then adds
    its one recurrent product into ``g_t`` in place and does five in-place element-wise
    operations: no allocation and no copy inside the loop.
    """
    T, B, D = x.shape
    H = h0.shape[-1]
    x2 = x.reshape(T * B, D)
    g = x.new_empty(T, B, 3 * H)
    n = x.new_empty(T, B, H)
    g2 = g.view(T * B, 3 * H)
    b_rz = None if b_ih is None else b_ih[:2 * H]
    if b_hh is not None:
        b_rz = b_hh[:2 * H] if b_rz is None else b_rz + b_hh[:2 * H]
    for out_, W, bias in ((g2[:, :2 * H], W_ih[:2 * H], b_rz),
                          (n.view(T * B, H), W_ih[2 * H:], None if b_ih is None else b_ih[2 * H:])):
        if bias is None:
            torch.mm(x2, W.t(), out=out_)
        else:
            torch.addmm(bias, x2, W.t(), out=out_)      # strided `out`: BLAS writes in place
    g2[:, 2 * H:] = 0 if b_hh is None else b_hh[2 * H:]
    out = x.new_empty(T, B, H)
    tmp = x.new_empty(B, H)
    W_hh_t = W_hh.t().contiguous()     # (H, 3H) row-major: the per-step product runs ~25 % faster
    rows = zip([h0, *out[:-1].unbind(0)], out.unbind(0), g.unbind(0),
               g[..., :2 * H].unbind(0), g[..., :H].unbind(0), g[..., H:2 * H].unbind(0),
               g[..., 2 * H:].unbind(0), n.unbind(0), strict=True)
    for h, h_next, g_t, rz_t, r_t, z_t, ghn_t, n_t in rows:
        g_t.addmm_(h, W_hh_t)                        # + h W_hh^T: the only product in the loop
        rz_t.sigmoid_()                              # r, z
        n_t.addcmul_(r_t, ghn_t).tanh_()             # n = tanh(x W_in^T + b_in + r ⊙ ghn)
        torch.addcmul(n_t, z_t, torch.sub(h, n_t, out=tmp), out=h_next)   # n + z ⊙ (h − n)
    return out, g, n


def gru_layer_backward(d_out, x, h0, out, g, n, W_ih, W_hh, needs=(True,) * 6):
    """Backward of :func:`gru_layer_forward` (chapter 13, {eq}`eq-ch13-matmul-grad`).

    Args: the upstream gradient ``d_out`` ``(T, B, H)``, the forward's inputs and outputs, and
    ``needs``, which of ``(dx, dh0, dW_ih, dW_hh, db_ih, db_hh)`` to compute (the others are
    None; ``x`` may be None when ``dW_ih`` is not needed).
    Returns ``(dx (T, B, D), dh0 (B, H), dW_ih (3H, D), dW_hh (3H, H), db_ih, db_hh (3H,))``.
    """
    T, B, H = n.shape
    r, z, ghn = g[..., :H], g[..., H:2 * H], g[..., 2 * H:]
    # Everything that does not depend on δ_t is computed for all steps at once. With
    # a = (1 − z)(1 − n²), the three blocks of d(h W_hh^T + b_hh) at step t are
    #   reset:  δ_t · a · (W_hn h + b_hn) · r(1 − r)
    #   update: δ_t · (h_{t−1} − n) · z(1 − z)
    #   cand.:  δ_t · a · r
    one_minus_z = 1 - z
    a = torch.mul(n, n).neg_().add_(1).mul_(one_minus_z)
    coef = n.new_empty(T, B, 3, H)
    c_r, c_z, c_n = coef.unbind(2)
    torch.mul(a, r, out=c_n)
    torch.mul(c_n, ghn, out=c_r).mul_(1 - r)
    torch.sub(out[:-1], n[1:], out=c_z[1:])          # h_{t−1} − n_t, with h_0 for t = 0
    torch.sub(h0, n[0], out=c_z[0])
    c_z.mul_(z).mul_(one_minus_z)
    d_gh = n.new_empty(T, B, 3 * H)
    delta = d_out.clone()              # δ_t; starts as the direct output gradient
    dh0 = n.new_zeros(B, H)
    rows = list(zip([dh0, *delta[:-1].unbind(0)], delta.unbind(0), d_gh.unbind(0),
                    coef.unbind(0), z.unbind(0), strict=True))
    for delta_prev, delta_t, d_gh_t, coef_t, z_t in reversed(rows):
        torch.mul(delta_t.unsqueeze(1), coef_t, out=d_gh_t.view(B, 3, H))
        # δ_{t−1} += z ⊙ δ_t (direct path) + d_gh_t W_hh (one (B, 3H) × (3H, H) product)
        delta_prev.addcmul_(z_t, delta_t).addmm_(d_gh_t, W_hh)
    gh_rows = d_gh.view(T * B, 3 * H)
    dW_hh = None
    if needs[3]:                                      # Σ_t d_gh_t^T h_{t−1}: one product
        dW_hh = torch.mm(gh_rows[B:].t(), out[:-1].reshape(-1, H)).addmm_(d_gh[0].t(), h0)
    db_hh = gh_rows.sum(0) if needs[5] else None
    dx = dW_ih = db_ih = None
    if needs[0] or needs[2] or needs[4]:
        # The input-side gradient equals the hidden-side one except in the candidate block,
        # where the reset gate does not multiply the input projection: there it is δ · a.
        # Kept as two blocks (r|z rows of d_gh, and δ · a) so nothing is copied.
        d_rz, d_n = gh_rows[:, :2 * H], delta.mul_(a).view(T * B, H)
        if needs[2]:
            x2 = x.reshape(T * B, -1)
            dW_ih = W_ih.new_empty(W_ih.shape)
            torch.mm(d_rz.t(), x2, out=dW_ih[:2 * H])
            torch.mm(d_n.t(), x2, out=dW_ih[2 * H:])
        if needs[4]:
            db_ih = torch.cat([d_rz.sum(0), d_n.sum(0)])
        if needs[0]:
            dx = torch.mm(d_rz, W_ih[:2 * H]).addmm_(d_n, W_ih[2 * H:]).view(T, B, -1)
    return dx, (dh0 if needs[1] else None), dW_ih, dW_hh, db_ih, db_hh


_NO_DOUBLE_BACKWARD = (
    "FastGRU: double backward (differentiating FastGRU's gradients, e.g. a gradient penalty "
    "after backward(create_graph=True), or torch.func.grad of torch.func.grad) is not "
    "supported by the hand-written kernel; use gru_lib.torch.GRU, whose autograd loop "
    "supports it")


def _is_vmapped(t: torch.Tensor) -> bool:
    """Whether ``t`` is (a functorch wrapper around) a tensor batched by ``torch.func.vmap``."""
    f = torch._C._functorch
    while f.is_functorch_wrapped_tensor(t):
        if f.is_batchedtensor(t):
            return True
        t = f.get_unwrapped(t)
    return False


class _NoDoubleBackward(torch.autograd.Function):
    """Identity on the gradients whose own backward raises: second derivatives are not written.

    Without it, gradients computed with ``create_graph=True`` would silently have no graph
    back to the weights (a gradient penalty would contribute nothing).
    """

    @staticmethod
    def forward(*grads):
        return tuple(g.view_as(g) for g in grads)

    @staticmethod
    def setup_context(ctx, inputs, output):
        pass

    @staticmethod
    def backward(ctx, *_):
        raise RuntimeError(_NO_DOUBLE_BACKWARD)

    @classmethod
    def guard(cls, grads):
        idx = [i for i, g in enumerate(grads) if g is not None]
        if not idx:
            return grads
        inputs = [grads[i] for i in idx]
        if not torch._C._functorch.is_functorch_wrapped_tensor(inputs[0]):
            # eager autograd: the identity enters the graph only if an input requires grad
            inputs = [g.detach().requires_grad_() for g in inputs]
        guarded = cls.apply(*inputs)   # under torch.func, the outer transform records it
        out = list(grads)
        for i, g in zip(idx, guarded, strict=True):
            out[i] = g
        return tuple(out)


class GRULayerFunction(torch.autograd.Function):
    """One unidirectional GRU layer over a whole sequence, forward and hand-derived backward.

    Inputs: ``x`` ``(T, B, D)``, ``h0`` ``(B, H)``, ``W_ih`` ``(3H, D)``, ``W_hh`` ``(3H, H)``,
    ``b_ih``, ``b_hh`` ``(3H,)`` or None (gate blocks ``r | z | n``).
    Outputs: ``(out, g, n)`` of :func:`gru_layer_forward`; only ``out`` ``(T, B, H)`` is
    differentiable (the rest is what the backward reuses). :func:`gru_layer` returns
    ``out``; the final state is its last row, so autograd adds the gradient of ``h_n`` into
    the last step's output gradient for free.

    Written in ``torch.func`` style (``forward`` without ``ctx``, plus ``setup_context``), so
    ``torch.func.grad``/``vjp`` work; ``vmap`` has its own rule, :meth:`vmap`.
    """

    @staticmethod
    def forward(x, h0, W_ih, W_hh, b_ih, b_hh):
        return gru_layer_forward(x, h0, W_ih, W_hh, b_ih, b_hh)

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, h0, W_ih, W_hh, _, _ = inputs
        out, g, n = output
        ctx.mark_non_differentiable(g, n)
        ctx.set_materialize_grads(False)             # no zero gradients for g and n
        # x is only needed for dW_ih: do not keep it alive when W_ih needs no gradient
        ctx.save_for_backward(x if ctx.needs_input_grad[2] else None, h0, out, g, n, W_ih, W_hh)

    @staticmethod
    def backward(ctx, d_out, _d_g, _d_n):
        x, h0, out, g, n, W_ih, W_hh = ctx.saved_tensors
        if d_out is None:
            d_out = torch.zeros_like(out)
        if any(_is_vmapped(t) for t in (d_out, out, W_ih, W_hh) if t is not None):
            raise NotImplementedError(
                "FastGRU: the hand-written backward does not run under torch.func.vmap "
                "(e.g. per-sample gradients with vmap(grad(...)), or jacrev); use "
                "gru_lib.torch.GRU there")
        level = torch._C._functorch.maybe_current_level()
        if level is not None and level > 1:          # grad(grad(...)), jacrev(grad(...)), ...
            raise RuntimeError(_NO_DOUBLE_BACKWARD)
        create_graph = torch.is_grad_enabled()       # backward(create_graph=True), torch.func
        with torch.no_grad():
            grads = gru_layer_backward(d_out, x, h0, out, g, n, W_ih, W_hh,
                                       ctx.needs_input_grad)
        return _NoDoubleBackward.guard(grads) if create_graph else grads

    @staticmethod
    def vmap(info, in_dims, x, h0, W_ih, W_hh, b_ih, b_hh):
        """vmap over ``x`` and/or ``h0``: the mapped dimension V joins the batch (B → V·B)."""
        if any(d is not None for d in in_dims[2:]):
            raise NotImplementedError(
                "FastGRU: torch.func.vmap over the weights (e.g. a vmapped model ensemble) is "
                "not supported; vmap over the input and initial state works, or use "
                "gru_lib.torch.GRU")
        V = info.batch_size
        x = x.unsqueeze(1).expand(-1, V, -1, -1) if in_dims[0] is None else x.movedim(in_dims[0], 1)
        T, _, B, D = x.shape
        h0 = h0.expand(V, -1, -1) if in_dims[1] is None else h0.movedim(in_dims[1], 0)
        outs = GRULayerFunction.apply(x.reshape(T, V * B, D), h0.reshape(V * B, -1),
                                      W_ih, W_hh, b_ih, b_hh)
        return tuple(o.unflatten(1, (V, B)) for o in outs), (1, 1, 1)


def gru_layer(x, h0, W_ih, W_hh, b_ih=None, b_hh=None, reverse=False):
    """Run :class:`GRULayerFunction` forwards in time, or backwards (``reverse=True``).

    Shapes as :func:`gru_layer_forward`; returns the states ``(T, B, H)`` in the input's time
    order. Raises ``RuntimeError`` under ``torch.jit.trace`` and ONNX export (see the module
    docstring).
    """
    _refuse_tracing("gru_lib.torch.fast_gru.gru_layer")
    if reverse:
        return GRULayerFunction.apply(x.flip(0), h0, W_ih, W_hh, b_ih, b_hh)[0].flip(0)
    return GRULayerFunction.apply(x, h0, W_ih, W_hh, b_ih, b_hh)[0]


class FastGRU(GRU):
    """:class:`gru_lib.torch.GRU` with each layer and direction run by :class:`GRULayerFunction`.

    Same constructor, parameters, ``state_dict`` keys and ``forward(input, hx=None)`` contract
    as :class:`gru_lib.torch.GRU` (and so ``torch.nn.GRU``): multi-layer, bidirectional,
    ``batch_first`` and unbatched inputs all work. Only PyTorch's convention has a hand-written
    kernel: ``reset_after=False`` raises a ``ValueError`` pointing to :class:`gru_lib.torch.GRU`.
    """

    def __init__(self, *args, reset_after=True, **kwargs):
        # Every other argument goes to gru_lib.torch.GRU unchanged, so FastGRU keeps exactly its
        # (torch.nn.GRU's) positional order and keywords.
        if reset_after is not True:
            raise ValueError("FastGRU: only reset_after=True (PyTorch's convention) has a "
                             f"hand-written kernel, got reset_after={reset_after!r}; use "
                             "gru_lib.torch.GRU(reset_after=False) for Cho et al. (2014)")
        super().__init__(*args, reset_after=True, **kwargs)

    def _layer(self, x, state, weights, reverse):
        hs = gru_layer(x, state[0], *weights, reverse=reverse)
        # the reverse direction's final state is the one after reading x_1, at time index 0
        return hs, (hs[0] if reverse else hs[-1],)
