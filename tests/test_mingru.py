"""minGRU (Feng et al. 2024) in both halves: sequential == parallel, NumPy == Torch, gradients.

One file for both halves because every test here compares them or their two modes.
"""

import numpy as np
import pytest
import torch

from gru_lib.numpy.mingru import MinGRU as NpMinGRU
from gru_lib.numpy.mingru import g, g_prime, log_g, mingru_step, mingru_step_backward
from gru_lib.torch.mingru import MinGRU as TorchMinGRU
from gru_lib.torch.mingru import mingru_step as torch_mingru_step


def paper_reference(x, h0, W, b):
    """The paper's sequential equations, written out directly (time-major, one layer)."""
    H = W.shape[0] // 2
    h = np.zeros((x.shape[1], H)) if h0 is None else h0
    out = []
    for t in range(x.shape[0]):
        z = 1.0 / (1.0 + np.exp(-(x[t] @ W[:H].T + b[:H])))
        u = x[t] @ W[H:].T + b[H:]
        h_tilde = np.where(u >= 0, u + 0.5, 1.0 / (1.0 + np.exp(-u)))
        h = (1.0 - z) * h + z * h_tilde
        out.append(h)
    return np.stack(out)


def make(num_layers=2, D=3, H=4, seed=0, **kw):
    model = NpMinGRU(D, H, num_layers, rng=seed, **kw)
    tmodel = TorchMinGRU(D, H, num_layers, dtype=torch.float64, **kw)
    tmodel.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    return model, tmodel


@pytest.mark.parametrize("with_h0", [False, True])
def test_numpy_matches_paper_equations(with_h0):
    rng = np.random.default_rng(1)
    model = NpMinGRU(3, 4, 1, rng=0)
    x = rng.normal(size=(7, 2, 3))
    h0 = rng.normal(size=(1, 2, 4)) if with_h0 else None
    want = paper_reference(x, None if h0 is None else h0[0], model.params["weight_ih_l0"],
                           model.params["bias_ih_l0"])
    for mode in ("sequential", "parallel"):
        out, h_n = model(x, h0, mode=mode)
        np.testing.assert_allclose(out, want, rtol=0, atol=1e-12)
        np.testing.assert_allclose(h_n[0], want[-1], rtol=0, atol=1e-12)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("h0_kind", ["none", "positive", "negative", "zero"])
def test_sequential_equals_parallel_with_any_initial_state(batch_first, h0_kind):
    # A non-zero (even negative) initial state must enter the parallel scan exactly as in the
    # sequential loop: it is added as A_t * h0, outside the logarithm.
    rng = np.random.default_rng(2)
    model, tmodel = make(num_layers=3, batch_first=batch_first)
    x = rng.normal(size=(5, 9, 3) if batch_first else (9, 5, 3))
    h0 = {"none": None, "positive": rng.uniform(0.1, 2, (3, 5, 4)),
          "negative": -rng.uniform(0.1, 2, (3, 5, 4)), "zero": np.zeros((3, 5, 4))}[h0_kind]
    seq = model(x, h0, mode="sequential")
    par = model(x, h0, mode="parallel")
    for a, b in zip(seq, par, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    th0 = None if h0 is None else torch.from_numpy(h0)
    for mode in ("sequential", "parallel"):
        tout, th_n = tmodel(torch.from_numpy(x), th0, mode=mode)
        np.testing.assert_allclose(tout.detach().numpy(), seq[0], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(th_n.detach().numpy(), seq[1], rtol=1e-12, atol=1e-12)


def test_long_sequence_no_overflow():
    rng = np.random.default_rng(3)
    model, tmodel = make(num_layers=1, D=2, H=3)
    x = 3.0 * rng.normal(size=(10_000, 2, 2))
    with np.errstate(all="raise"):
        seq, _ = model(x, mode="sequential")
        par, _ = model(x, mode="parallel")
    assert np.all(np.isfinite(par))
    np.testing.assert_allclose(par, seq, rtol=1e-8, atol=1e-10)
    tpar, _ = tmodel(torch.from_numpy(x).float().double(), mode="parallel")
    assert torch.isfinite(tpar).all()
    # float32 parallel mode stays finite for long T, but it is less accurate than the sequential
    # loop: log A_t grows like -T, and adding numbers of size ~T in float32 costs ~T * 6e-8 of
    # relative precision (about 1e-3 at T = 10,000). The book's minGRU chapter discusses this.
    t32 = TorchMinGRU(2, 3, 1)
    t32.load_state_dict({k: v.float() for k, v in tmodel.state_dict().items()})
    out32, _ = t32(torch.from_numpy(x).float(), mode="parallel")
    seq32, _ = t32(torch.from_numpy(x).float(), mode="sequential")
    assert torch.isfinite(out32).all()
    rel_par = np.max(np.abs(out32.detach().double().numpy() - seq) / np.abs(seq))
    rel_seq = np.max(np.abs(seq32.detach().double().numpy() - seq) / np.abs(seq))
    assert rel_seq < 1e-3 and rel_par < 1e-2
    assert rel_par > rel_seq  # the price of the log-space scan, measured


@pytest.mark.parametrize("mode", ["sequential", "parallel"])
@pytest.mark.parametrize("batched", [True, False])
def test_numpy_backward_matches_torch_autograd(mode, batched):
    rng = np.random.default_rng(4)
    model, tmodel = make(num_layers=2)
    shape = (6, 3, 3) if batched else (6, 3)
    x = rng.normal(size=shape)
    h0 = rng.normal(size=(2, 3, 4) if batched else (2, 4))
    out, h_n = model(x, h0, mode=mode)
    d_out, d_hn = rng.normal(size=out.shape), rng.normal(size=h_n.shape)
    dx, dh0 = model.backward(d_out, d_hn)

    tx = torch.from_numpy(x).requires_grad_()
    th0 = torch.from_numpy(h0).requires_grad_()
    tout, th_n = tmodel(tx, th0, mode=mode)
    ((tout * torch.from_numpy(d_out)).sum() + (th_n * torch.from_numpy(d_hn)).sum()).backward()
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(dh0, th0.grad.numpy(), rtol=0, atol=1e-10)
    for name, p in tmodel.named_parameters():
        np.testing.assert_allclose(model.grads[name], p.grad.numpy(), rtol=0, atol=1e-10)


def test_step_backward_finite_differences():
    rng = np.random.default_rng(5)
    x, h = rng.normal(size=(3, 4)), rng.normal(size=(3, 2))
    W, b = rng.normal(size=(4, 4)), rng.normal(size=(4,))
    dh_next = rng.normal(size=(3, 2))
    dx, dh, dW, db = mingru_step_backward(dh_next, mingru_step(x, h, W, b)[1])

    def loss():
        return float(np.sum(mingru_step(x, h, W, b)[0] * dh_next))

    for arr, grad in ((x, dx), (h, dh), (W, dW), (b, db)):
        num = np.zeros_like(arr)
        for i in np.ndindex(arr.shape):
            old = arr[i]
            arr[i] = old + 1e-6
            fp = loss()
            arr[i] = old - 1e-6
            fm = loss()
            arr[i] = old
            num[i] = (fp - fm) / 2e-6
        rel = np.linalg.norm(num - grad) / max(np.linalg.norm(num) + np.linalg.norm(grad), 1e-30)
        assert rel < 1e-7


def test_step_functions_agree_across_halves():
    rng = np.random.default_rng(6)
    x, h, W, b = (rng.normal(size=s) for s in ((2, 3), (2, 4), (8, 3), (8,)))
    want = mingru_step(x, h, W, b)[0]
    got = torch_mingru_step(*(torch.from_numpy(a) for a in (x, h, W, b)))
    np.testing.assert_allclose(got.numpy(), want, rtol=0, atol=1e-14)


def test_activation_g_is_positive_and_continuous():
    u = np.linspace(-30, 30, 2001)
    assert np.all(g(u) > 0)
    np.testing.assert_allclose(np.log(g(u)), log_g(u), rtol=1e-12, atol=1e-12)
    assert g(np.array(0.0)) == 0.5 and np.isclose(g(np.array(-1e-12)), 0.5)
    u = u[np.abs(u) > 1e-3]  # g has a kink at 0 (slopes 1/4 and 1); g_prime(0) takes the right one
    num = (g(u + 1e-6) - g(u - 1e-6)) / 2e-6
    np.testing.assert_allclose(num, g_prime(u), atol=1e-6)


def test_torch_gradcheck_parallel_mode():
    torch.manual_seed(0)
    m = TorchMinGRU(2, 3, 2, dtype=torch.float64)
    x = torch.randn(5, 2, 2, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(2, 2, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: m(a, b, mode="parallel")[0], (x, h0))


@pytest.mark.parametrize(
    ("call", "exc", "words"),
    [
        (lambda m: m(np.zeros((4, 2, 5))), ValueError, "input_size=3"),
        (lambda m: m(np.zeros((4, 2, 3, 1))), ValueError, "rank 4"),
        (lambda m: m(np.zeros((0, 2, 3))), ValueError, "T >= 1"),
        (lambda m: m(np.zeros((4, 2, 3), dtype=int)), TypeError, "int64"),
        (lambda m: m(np.zeros((4, 2, 3)), np.zeros((1, 2, 4))), ValueError, "(2, 2, 4)"),
        (lambda m: m(np.zeros((4, 2, 3)), np.zeros((2, 3, 4))), ValueError, "got (2, 3, 4)"),
        (lambda m: m(np.zeros((4, 2, 3), dtype=np.float32)), TypeError, "float32"),
        (lambda m: m(np.zeros((4, 2, 3)), mode="fast"), ValueError, "'fast'"),
        (lambda m: m.backward(np.zeros((4, 2, 4))), RuntimeError, "forward first"),
        (lambda m: m.load_state_dict({}), ValueError, "missing keys"),
    ],
)
def test_bad_input_numpy(call, exc, words):
    with pytest.raises(exc) as info:
        call(NpMinGRU(3, 4, 2, rng=0))
    assert words in str(info.value)


@pytest.mark.parametrize(
    ("call", "exc", "words"),
    [
        (lambda m: m(torch.zeros(4, 2, 5)), ValueError, "input_size=3"),
        (lambda m: m(torch.zeros(4, 2, 3, dtype=torch.int64)), TypeError, "int64"),
        (lambda m: m(torch.zeros(4, 2, 3), torch.zeros(2, 4)), ValueError, "(2, 2, 4)"),
        (lambda m: m(torch.zeros(4, 2, 3, dtype=torch.float64)), TypeError, "float64"),
        (lambda m: m(np.zeros((4, 2, 3))), TypeError, "ndarray"),
    ],
)
def test_bad_input_torch(call, exc, words):
    with pytest.raises(exc) as info:
        call(TorchMinGRU(3, 4, 2))
    assert words in str(info.value)


# --- the chunked scan (issue 14, item 3): exact against the loop, gradients, validation ----------

@pytest.mark.parametrize("T", [1, 2, 7, 16, 17, 150])
def test_chunked_equals_sequential_float64(T):
    rng = np.random.default_rng(7)
    model, tmodel = make(num_layers=2)
    x = torch.from_numpy(rng.normal(size=(T, 3, 3)))
    h0 = torch.from_numpy(-rng.uniform(0.1, 2, (2, 3, 4)))       # negative: no log trick
    for h in (None, h0):
        seq = tmodel(x, h, mode="sequential")
        chk = tmodel(x, h, mode="chunked")
        for a, b in zip(seq, chk, strict=True):
            assert (a - b).abs().max() <= 1e-14


@pytest.mark.parametrize("chunk", [1, 3, 5, 64])
def test_chunked_scan_any_chunk_length_and_extreme_gates(chunk):
    from gru_lib.torch.mingru import chunked_scan

    torch.manual_seed(8)
    a = torch.rand(40, 2, 3, dtype=torch.float64)
    a[5:30] = 1e-30               # products underflow to 0 in any chunk: no division, still exact
    b, h0 = torch.randn(40, 2, 3, dtype=torch.float64), torch.randn(2, 3, dtype=torch.float64)
    h, want = h0, []
    for a_t, b_t in zip(a.unbind(0), b.unbind(0), strict=True):
        h = a_t * h + b_t
        want.append(h)
    got = chunked_scan(a, b, h0, chunk=chunk)
    assert torch.isfinite(got).all()
    assert (got - torch.stack(want)).abs().max() <= 1e-14


def test_chunked_gradients_match_the_sequential_loop():
    rng = np.random.default_rng(9)
    _, tmodel = make(num_layers=2)
    x = torch.from_numpy(rng.normal(size=(23, 3, 3)))
    h0 = torch.from_numpy(rng.normal(size=(2, 3, 4)))
    d_out = torch.from_numpy(rng.normal(size=(23, 3, 4)))
    grads = {}
    for mode in ("sequential", "chunked"):
        xr, hr = x.clone().requires_grad_(), h0.clone().requires_grad_()
        out, h_n = tmodel(xr, hr, mode=mode)
        wrt = [xr, hr, *tmodel.parameters()]
        grads[mode] = torch.autograd.grad((out * d_out).sum() + h_n.sum(), wrt)
    for a, b in zip(grads["sequential"], grads["chunked"], strict=True):
        assert (a - b).abs().max() <= 1e-12


def test_chunked_gradcheck_and_double_backward():
    from gru_lib.torch.mingru import MinGRUScan

    torch.manual_seed(10)
    pre = torch.randn(9, 2, 6, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(MinGRUScan.apply, (pre, h0))
    assert torch.autograd.gradgradcheck(MinGRUScan.apply, (pre, h0))
    assert torch.autograd.gradcheck(lambda p: MinGRUScan.apply(p, None), (pre,))


def test_sequential_mode_unbinds_once():
    """The loop must not index z[t]: autograd would build a full-size zero gradient per step."""
    _, tmodel = make(num_layers=1)
    x = torch.randn(12, 2, 3, dtype=torch.float64, requires_grad=True)
    out, _ = tmodel(x, mode="sequential")
    seen, stack = set(), [out.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        stack.extend(f for f, _ in fn.next_functions)
    names = [type(f).__name__ for f in seen]
    assert "SelectBackward0" not in names and "UnbindBackward0" in names


def test_mingru_reprs_show_sizes():
    assert repr(TorchMinGRU(3, 4)) == "MinGRU(3, 4)"
    assert repr(TorchMinGRU(3, 4, 2, bias=False, batch_first=True)) == (
        "MinGRU(3, 4, num_layers=2, bias=False, batch_first=True)")
    assert repr(NpMinGRU(3, 4, rng=0)) == "MinGRU(3, 4)"
    assert repr(NpMinGRU(3, 4, 2, bias=False, batch_first=True, rng=0)) == (
        "MinGRU(3, 4, num_layers=2, bias=False, batch_first=True)")


def _step_args(lib, B=2, D=3, H=4, dtype=np.float64):
    rng = np.random.default_rng(11)
    args = [rng.normal(size=s).astype(dtype) for s in ((B, D), (B, H), (2 * H, D), (2 * H,))]
    return [torch.from_numpy(a) for a in args] if lib == "torch" else args


@pytest.mark.parametrize("lib", ["numpy", "torch"])
@pytest.mark.parametrize(
    ("index", "bad", "exc", "words"),
    [
        (0, lambda a: a[:, :2], ValueError, "expected W_ih of shape (2*H, D) = (8, 2), got (8, 3)"),
        (1, lambda a: a[:1], ValueError, "expected h of shape (B, H) with B from x = (2, 4)"),
        (2, lambda a: a[:6], ValueError, "expected W_ih of shape (2*H, D) = (8, 3), got (6, 3)"),
        (3, lambda a: a[:4], ValueError, "expected b_ih of shape (2*H,) = (8,), got (4,)"),
        (0, lambda a: a[0], ValueError, "expected x of rank 2 (B, D)"),
        (1, lambda a: a.astype(np.float32) if isinstance(a, np.ndarray) else a.float(),
         TypeError, "expected one floating dtype"),
        (0, lambda a: a.astype(np.int64) if isinstance(a, np.ndarray) else a.long(),
         TypeError, "got dtype int64"),
        (1, lambda a: a.tolist(), TypeError, "expected h to be a"),
    ],
)
def test_mingru_step_validates(lib, index, bad, exc, words):
    step = torch_mingru_step if lib == "torch" else mingru_step
    args = _step_args(lib)
    args[index] = bad(args[index])
    with pytest.raises(exc) as info:
        step(*args)
    assert words in str(info.value)
    assert str(info.value).startswith("mingru_step: ")


@pytest.mark.parametrize("T", [1, 5, 26])
def test_numpy_chunked_equals_sequential_and_backward_agrees(T):
    rng = np.random.default_rng(12)
    model, _ = make(num_layers=2)
    x, h0 = rng.normal(size=(T, 3, 3)), -rng.uniform(0.1, 2, (2, 3, 4))
    seq = model(x, h0, mode="sequential")
    d = rng.normal(size=seq[0].shape)
    g_seq = model.backward(d)
    chk = model(x, h0, mode="chunked")
    for a, b in zip(seq, chk, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-14)
    for a, b in zip(g_seq, model.backward(d), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_numpy_chunked_scan_matches_torch():
    from gru_lib.numpy.mingru import chunked_scan as np_scan
    from gru_lib.torch.mingru import chunked_scan as torch_scan

    rng = np.random.default_rng(13)
    a, b, h0 = rng.uniform(size=(30, 2, 3)), rng.normal(size=(30, 2, 3)), rng.normal(size=(2, 3))
    want = torch_scan(*(torch.from_numpy(v) for v in (a, b, h0)), chunk=4).numpy()
    np.testing.assert_allclose(np_scan(a, b, h0, chunk=4), want, rtol=0, atol=1e-14)


@pytest.mark.parametrize("lib", ["numpy", "torch"])
def test_initial_state_keyword_is_hx_and_h0_still_works(lib):
    model, tmodel = make(num_layers=2)
    m = model if lib == "numpy" else tmodel
    x = np.random.default_rng(14).normal(size=(4, 3, 3))
    h = np.full((2, 3, 4), 0.3)
    if lib == "torch":
        x, h = torch.from_numpy(x), torch.from_numpy(h)
    want, _ = m(x, h)
    got, _ = m(x, hx=h)
    with pytest.warns(FutureWarning, match="h0= is now hx="):
        old, _ = m(x, h0=h)
    for v in (got, old):
        assert np.allclose(np.asarray(v.detach() if lib == "torch" else v), np.asarray(
            want.detach() if lib == "torch" else want), rtol=0, atol=0)
    with pytest.raises(TypeError, match="both hx= and h0="):
        m(x, hx=h, h0=h)
