"""gru_lib.numpy.FastGRU (restructured kernel) against torch.nn.GRU and the step-by-step GRU."""

import itertools

import numpy as np
import pytest
import torch

from gru_lib.numpy import GRU, FastGRU


@pytest.mark.parametrize(("layers", "bidir", "batch_first", "bias", "with_h0"),
                         list(itertools.product([1, 2], [False, True], [False, True],
                                                [False, True], [False, True])))
def test_matches_torch_nn_gru(layers, bidir, batch_first, bias, with_h0):
    torch.manual_seed(0)
    kw = dict(num_layers=layers, bidirectional=bidir, batch_first=batch_first, bias=bias)
    ref = torch.nn.GRU(4, 3, dtype=torch.float64, **kw)
    fast = FastGRU(4, 3, **kw)
    fast.load_state_dict(ref.state_dict())
    T, B = 6, 2
    x = torch.randn((B, T, 4) if batch_first else (T, B, 4), dtype=torch.float64,
                    requires_grad=True)
    h0 = (torch.randn(layers * (2 if bidir else 1), B, 3, dtype=torch.float64,
                      requires_grad=True) if with_h0 else None)
    out_r, hn_r = ref(x, h0)
    out, hn = fast(x.detach().numpy(), None if h0 is None else h0.detach().numpy())
    np.testing.assert_allclose(out, out_r.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(hn, hn_r.detach().numpy(), rtol=0, atol=1e-12)
    g_out, g_hn = torch.randn_like(out_r), torch.randn_like(hn_r)
    ((out_r * g_out).sum() + (hn_r * g_hn).sum()).backward()
    dx, dh0 = fast.backward(g_out.numpy(), g_hn.numpy())
    np.testing.assert_allclose(dx, x.grad.numpy(), rtol=0, atol=1e-10)
    if with_h0:
        np.testing.assert_allclose(dh0, h0.grad.numpy(), rtol=0, atol=1e-10)
    for name, p in ref.named_parameters():
        np.testing.assert_allclose(fast.grads[name], p.grad.numpy(), rtol=0, atol=1e-10)


def test_same_numbers_as_the_readable_gru():
    rng = np.random.default_rng(0)
    slow = GRU(5, 4, num_layers=2, bidirectional=True, rng=1)
    fast = FastGRU(5, 4, num_layers=2, bidirectional=True, rng=1)
    x = rng.normal(size=(7, 3, 5))
    for a, b in zip(slow(x), fast(x), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-13)
    d = rng.normal(size=(7, 3, 8))
    for a, b in zip(slow.backward(d), fast.backward(d), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    for k in slow.grads:
        np.testing.assert_allclose(slow.grads[k], fast.grads[k], rtol=0, atol=1e-12)


def test_reset_before_is_refused_with_a_pointer():
    with pytest.raises(ValueError, match=r"reset_after=False.*gru_lib.numpy.GRU"):
        FastGRU(3, 2, reset_after=False)
