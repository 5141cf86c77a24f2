"""gru_lib.torch.FastGRU (hand-written BPTT) against torch.nn.GRU: values and every gradient."""

import itertools

import pytest
import torch

from gru_lib.torch import FastGRU

CONFIGS = list(itertools.product([1, 2], [False, True], [False, True], [False, True],
                                 [False, True], [1, 6]))


@pytest.mark.parametrize(("layers", "bidir", "batch_first", "bias", "with_h0", "T"), CONFIGS)
def test_matches_torch_nn_gru(layers, bidir, batch_first, bias, with_h0, T):
    torch.manual_seed(0)
    kw = dict(num_layers=layers, bidirectional=bidir, batch_first=batch_first, bias=bias,
              dtype=torch.float64)
    ref = torch.nn.GRU(4, 3, **kw)
    fast = FastGRU(4, 3, **kw)
    fast.load_state_dict(ref.state_dict())
    B = 2
    x = torch.randn((B, T, 4) if batch_first else (T, B, 4), dtype=torch.float64,
                    requires_grad=True)
    h0 = (torch.randn(layers * (2 if bidir else 1), B, 3, dtype=torch.float64,
                      requires_grad=True) if with_h0 else None)
    out_r, hn_r = ref(x, h0)
    out_f, hn_f = fast(x, h0)
    assert (out_f - out_r).abs().max() <= 1e-12 and (hn_f - hn_r).abs().max() <= 1e-12
    g_out, g_hn = torch.randn_like(out_r), torch.randn_like(hn_r)
    wrt = [x] + ([h0] if with_h0 else [])
    grads_r = torch.autograd.grad((out_r * g_out).sum() + (hn_r * g_hn).sum(),
                                  wrt + list(ref.parameters()))
    grads_f = torch.autograd.grad((out_f * g_out).sum() + (hn_f * g_hn).sum(),
                                  wrt + list(fast.parameters()))
    for a, b in zip(grads_f, grads_r, strict=True):
        assert (a - b).abs().max() <= 1e-10


def test_unbatched_input():
    torch.manual_seed(1)
    ref = torch.nn.GRU(4, 3, num_layers=2, bidirectional=True, dtype=torch.float64)
    fast = FastGRU(4, 3, num_layers=2, bidirectional=True, dtype=torch.float64)
    fast.load_state_dict(ref.state_dict())
    x = torch.randn(5, 4, dtype=torch.float64)
    h0 = torch.randn(4, 3, dtype=torch.float64)
    for a, b in zip(fast(x, h0), ref(x, h0), strict=True):
        assert a.shape == b.shape and (a - b).abs().max() <= 1e-12


def test_autograd_gradcheck_through_the_hand_written_backward():
    torch.manual_seed(2)
    fast = FastGRU(3, 2, num_layers=2, bidirectional=True, dtype=torch.float64)
    x = torch.randn(4, 2, 3, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(4, 2, 2, dtype=torch.float64, requires_grad=True)
    params = tuple(fast.parameters())

    def f(x, h0, *ps):
        state = dict(zip([n for n, _ in fast.named_parameters()], ps, strict=True))
        out, hn = torch.func.functional_call(fast, state, (x, h0))
        return out, hn

    assert torch.autograd.gradcheck(f, (x, h0) + params)


def test_float32_close_to_torch_nn():
    torch.manual_seed(3)
    ref = torch.nn.GRU(8, 16)
    fast = FastGRU(8, 16)
    fast.load_state_dict(ref.state_dict())
    x = torch.randn(50, 4, 8)
    assert (fast(x)[0] - ref(x)[0]).abs().max() < 1e-5


def test_reset_before_is_refused_with_a_pointer():
    with pytest.raises(ValueError, match=r"reset_after=False.*gru_lib.torch.GRU"):
        FastGRU(3, 2, reset_after=False)


# --- torch.func, double backward, needs_input_grad, tracing and export (issue 14, item 2) ----

def _pair(D=3, H=4, **kw):
    torch.manual_seed(4)
    ref = torch.nn.GRU(D, H, dtype=torch.float64, **kw)
    fast = FastGRU(D, H, dtype=torch.float64, **kw)
    fast.load_state_dict(ref.state_dict())
    return fast, ref


def test_torch_func_grad_matches_torch_nn():
    fast, ref = _pair(num_layers=2, bidirectional=True)
    x = torch.randn(5, 2, 3, dtype=torch.float64)

    def loss(model):
        return lambda p, x: (torch.func.functional_call(model, p, (x,))[0] ** 2).sum()

    g_f = torch.func.grad(loss(fast), argnums=(0, 1))(dict(fast.named_parameters()), x)
    g_r = torch.func.grad(loss(ref), argnums=(0, 1))(dict(ref.named_parameters()), x)
    assert (g_f[1] - g_r[1]).abs().max() <= 1e-12
    for k, v in g_r[0].items():
        assert (g_f[0][k] - v).abs().max() <= 1e-12


def test_vmap_over_inputs_joins_the_batch():
    fast, ref = _pair()
    xs = torch.randn(6, 5, 2, 3, dtype=torch.float64)       # 6 independent (T, B, D) inputs
    h0s = torch.randn(6, 1, 2, 4, dtype=torch.float64)
    out, hn = torch.func.vmap(fast)(xs, h0s)
    for i in range(6):
        want_out, want_hn = ref(xs[i], h0s[i])
        assert (out[i] - want_out).abs().max() <= 1e-12
        assert (hn[i] - want_hn).abs().max() <= 1e-12
    out_x, _ = torch.func.vmap(fast, in_dims=(1, None))(xs.movedim(0, 1), h0s[0])
    assert (out_x[2] - ref(xs[2], h0s[0])[0]).abs().max() <= 1e-12


def test_vmap_over_weights_or_backward_is_refused_clearly():
    fast, _ = _pair()
    params = {k: v.detach() for k, v in fast.named_parameters()}
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    stacked = {k: torch.stack([v, v]) for k, v in params.items()}
    with pytest.raises(NotImplementedError, match="vmap over the weights"):
        torch.func.vmap(lambda p: torch.func.functional_call(fast, p, (x,))[0])(stacked)

    def loss(x):
        return fast(x)[0].sum()

    with pytest.raises(NotImplementedError, match="backward does not run under torch.func.vmap"):
        torch.func.vmap(torch.func.grad(loss))(torch.randn(3, 5, 2, 3, dtype=torch.float64))


def test_double_backward_raises_instead_of_dropping_the_term():
    fast, _ = _pair()
    x = torch.randn(5, 2, 3, dtype=torch.float64, requires_grad=True)
    out, _ = fast(x)
    (gx,) = torch.autograd.grad(out.sum(), x, create_graph=True)
    # a gradient penalty next to an ordinary term: must raise, not silently contribute zero
    with pytest.raises(RuntimeError, match="FastGRU: double backward .* not supported"):
        ((gx ** 2).sum() + out.sum()).backward()
    with pytest.raises(RuntimeError, match="FastGRU: double backward"):
        torch.func.grad(lambda x: torch.func.grad(lambda y: fast(y)[0].pow(2).sum())(x).sum())(
            x.detach())
    # first-order gradients with create_graph=True still come out right
    fast2, ref = _pair()
    x2 = x.detach()
    g_f = torch.autograd.grad(fast2(x2)[0].sum(), list(fast2.parameters()), create_graph=True)
    g_r = torch.autograd.grad(ref(x2)[0].sum(), list(ref.parameters()))
    for a, b in zip(g_f, g_r, strict=True):
        assert (a - b).abs().max() <= 1e-12


def test_needs_input_grad_skips_unrequested_gradients(monkeypatch):
    import gru_lib.torch.fast_gru as fg

    seen = []
    real = fg.gru_layer_backward

    def spy(*args):
        seen.append(tuple(args[-1]))
        return real(*args)

    monkeypatch.setattr(fg, "gru_layer_backward", spy)
    fast, _ = _pair()
    x = torch.randn(5, 2, 3, dtype=torch.float64)             # input needs no gradient
    fast(x)[0].sum().backward()
    assert seen[-1] == (False, False, True, True, True, True)   # no dx, no dh0 (zeros h0)
    fast.zero_grad(set_to_none=True)
    fast.weight_ih_l0.requires_grad_(False)
    fast(x.requires_grad_())[0].sum().backward()
    assert seen[-1] == (True, False, False, True, True, True)
    assert x.grad is not None and fast.weight_ih_l0.grad is None


def test_direct_backward_returns_none_for_unneeded_gradients():
    from gru_lib.torch.fast_gru import gru_layer_backward, gru_layer_forward

    torch.manual_seed(5)
    T, B, D, H = 4, 2, 3, 5
    x, h0 = torch.randn(T, B, D), torch.randn(B, H)
    W_ih, W_hh, b = torch.randn(3 * H, D), torch.randn(3 * H, H), torch.randn(3 * H)
    out, g, n = gru_layer_forward(x, h0, W_ih, W_hh, b, b)
    grads = gru_layer_backward(torch.ones_like(out), None, h0, out, g, n, W_ih, W_hh,
                               needs=(False, True, False, True, False, True))
    assert [v is None for v in grads] == [True, False, True, False, True, False]


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::torch.jit.TracerWarning")
@pytest.mark.parametrize("how", ["jit.trace", "onnx legacy", "torch.export"])
@pytest.mark.parametrize("what", ["module", "gru_layer"])
def test_tracing_and_export_refuse_instead_of_freezing_T(how, what, tmp_path):
    from gru_lib.torch.fast_gru import gru_layer

    fast, _ = _pair()
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    h0 = torch.zeros(2, 4, dtype=torch.float64)
    weights = [p.detach() for p in fast.parameters()]
    model = fast if what == "module" else torch.nn.Module()
    if what == "gru_layer":
        model.forward = lambda x: gru_layer(x, h0, *weights)
    with pytest.raises(Exception) as info:  # noqa: PT011 - the words matter, checked below
        if how == "jit.trace":
            torch.jit.trace(model, (x,))
        elif how == "onnx legacy":
            torch.onnx.export(model, (x,), str(tmp_path / "m.onnx"), dynamo=False)
        else:
            torch.export.export(model, (x,))
    assert "cannot be traced or exported" in str(info.value)
    assert "other length" in str(info.value) and "torch.nn.GRU" in str(info.value)
