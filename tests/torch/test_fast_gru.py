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
