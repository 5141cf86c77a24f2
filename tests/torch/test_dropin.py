"""gru_lib.torch as a drop-in for torch.nn: constructor order, dropout, PackedSequence, lengths=,
flatten_parameters/all_weights, and tracing/export that fails loudly instead of silently."""

from __future__ import annotations

import io
import warnings

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import gru_lib.torch as gt

f64 = torch.float64
NAMES = ["RNN", "GRU", "LSTM"]


def _pair(name, **kw):
    """A torch.nn module and its gru_lib twin holding the same float64 weights."""
    ref = getattr(torch.nn, name)(dtype=f64, **kw)
    ours = getattr(gt, name)(dtype=f64, **kw)
    ours.load_state_dict(ref.state_dict())
    return ref, ours


def _states(out):
    return list(out[1]) if isinstance(out[1], tuple) else [out[1]]


def _hx(name, n, B, H, gen):
    h = torch.randn(n, B, H, dtype=f64, generator=gen)
    return (h, torch.randn(n, B, H, dtype=f64, generator=gen)) if name == "LSTM" else h


def _close(a, b, tol=1e-12):
    assert a.shape == b.shape, (a.shape, b.shape)
    assert (a - b).abs().max().item() <= tol


# ---------------------------------------------------------------- constructor
@pytest.mark.parametrize("name", NAMES)
def test_positional_order_is_torch_nn(name):
    """torch.nn's order: (D, H, num_layers, [nonlinearity,] bias, batch_first, dropout, bidir)."""
    args = (3, 4, 2) + (("relu",) if name == "RNN" else ()) + (False, True, 0.25, True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ref, ours = getattr(torch.nn, name)(*args), getattr(gt, name)(*args)
    for attr in ("num_layers", "bias", "batch_first", "dropout", "bidirectional"):
        assert getattr(ours, attr) == getattr(ref, attr), attr
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert repr(ours).startswith(repr(ref)[:-1]), (repr(ours), repr(ref))


def test_reset_after_is_keyword_only():
    assert gt.GRU(3, 4, reset_after=False).reset_after is False
    with pytest.raises(TypeError):
        gt.GRU(3, 4, 1, True, False, 0.0, False, None, None, False)


def test_old_positional_bidirectional_is_refused_clearly():
    """The old order put bidirectional sixth; now that slot is dropout, and a bool is refused."""
    with pytest.raises(TypeError, match="dropout must be a number"):
        gt.GRU(3, 4, 2, True, False, True)


@pytest.mark.parametrize(("value", "exc"), [(-0.1, ValueError), (1.5, ValueError),
                                            ("0.5", TypeError), (True, TypeError)])
def test_bad_dropout(value, exc):
    with pytest.raises(exc, match="dropout must be a number in \\[0, 1\\]"):
        gt.GRU(3, 4, 2, dropout=value)


@pytest.mark.parametrize("name", NAMES)
def test_dropout_with_one_layer_warns_like_torch(name):
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        getattr(gt, name)(3, 4, dropout=0.5)


def test_lstm_proj_size_refused():
    assert gt.LSTM(3, 4, proj_size=0).proj_size == 0
    with pytest.raises(ValueError, match="proj_size .* not implemented"):
        gt.LSTM(3, 4, proj_size=2)


@pytest.mark.parametrize("name", NAMES)
def test_flatten_parameters_and_all_weights(name):
    ref, ours = _pair(name, input_size=3, hidden_size=4, num_layers=2, bidirectional=True)
    assert ours.flatten_parameters() is None
    assert len(ours.all_weights) == len(ref.all_weights) == 4
    for a, b in zip(ours.all_weights, ref.all_weights, strict=True):
        assert [tuple(p.shape) for p in a] == [tuple(p.shape) for p in b]
        assert all(torch.equal(p, q) and isinstance(p, torch.nn.Parameter)
                   for p, q in zip(a, b, strict=True))


# ---------------------------------------------------------------- dropout
@pytest.mark.parametrize("name", NAMES)
def test_dropout_zero_is_exact_and_eval_switches_dropout_off(name):
    torch.manual_seed(0)
    plain = getattr(gt, name)(3, 5, num_layers=3, dtype=f64)
    dropped = getattr(gt, name)(3, 5, num_layers=3, dropout=0.6, dtype=f64)
    zero = getattr(gt, name)(3, 5, num_layers=3, dropout=0.0, dtype=f64)
    dropped.load_state_dict(plain.state_dict())
    zero.load_state_dict(plain.state_dict())
    x = torch.randn(6, 2, 3, dtype=f64)
    state = torch.get_rng_state()
    assert torch.equal(zero.train()(x)[0], plain(x)[0])
    assert torch.equal(torch.get_rng_state(), state)       # p = 0 draws no random numbers
    assert torch.equal(dropped.eval()(x)[0], plain(x)[0])
    assert not torch.allclose(dropped.train()(x)[0], plain(x)[0])


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_dropout_masks_equal_torch_nn_for_one_seed(name, bidirectional, batch_first):
    """Same seed, same masks: outputs, final states and all gradients equal torch.nn's."""
    ref, ours = _pair(name, input_size=3, hidden_size=4, num_layers=3, dropout=0.4,
                      bidirectional=bidirectional, batch_first=batch_first)
    x = torch.randn(2, 7, 3, dtype=f64) if batch_first else torch.randn(7, 2, 3, dtype=f64)
    results = []
    for model in (ref, ours):
        xr = x.clone().requires_grad_()
        torch.manual_seed(123)
        out = model(xr)
        loss = out[0].square().sum() + sum(s.sum() for s in _states(out))
        loss.backward()
        results.append([out[0], *_states(out), xr.grad, *(p.grad for p in model.parameters())])
    for a, b in zip(*results, strict=True):
        _close(a, b)


def test_dropout_rate_statistically():
    """Between two layers, the fraction of zeroed inputs of layer 1 is p (binomial, 5 sigma)."""
    p, T, B, H = 0.3, 50, 40, 10
    model = gt.RNN(2, H, num_layers=2, dropout=p, dtype=f64)
    seen = []
    model._layer = (lambda orig: lambda x, *a, **k: (seen.append(x), orig(x, *a, **k))[1])(
        model._layer)
    torch.manual_seed(0)
    model(torch.randn(T, B, 2, dtype=f64))
    layer1_in = seen[1]
    n = layer1_in.numel()
    zero_frac = (layer1_in == 0).double().mean().item()
    assert abs(zero_frac - p) <= 5 * (p * (1 - p) / n) ** 0.5
    # survivors are scaled by 1/(1-p): their mean magnitude matches the undropped layer output
    model.eval()
    seen.clear()
    torch.manual_seed(0)
    model(torch.randn(T, B, 2, dtype=f64))
    kept = layer1_in[layer1_in != 0].abs().mean() * (1 - p)
    assert abs(kept.item() / seen[1].abs().mean().item() - 1) < 0.05


# ---------------------------------------------------------------- PackedSequence and lengths=
LENGTHS = [3, 7, 1, 5]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("enforce_sorted", [False, True])
def test_packed_sequence_equals_torch_nn(name, bidirectional, enforce_sorted):
    lengths = sorted(LENGTHS, reverse=True) if enforce_sorted else LENGTHS
    gen = torch.Generator().manual_seed(5)
    ref, ours = _pair(name, input_size=3, hidden_size=4, num_layers=2,
                      bidirectional=bidirectional)
    x = torch.randn(max(lengths), len(lengths), 3, dtype=f64, generator=gen)
    hx = _hx(name, 2 * (2 if bidirectional else 1), len(lengths), 4, gen)
    results = []
    for model in (ref, ours):
        xr = x.clone().requires_grad_()
        packed = pack_padded_sequence(xr, torch.tensor(lengths), enforce_sorted=enforce_sorted)
        out, state = model(packed, hx)
        assert isinstance(out, torch.nn.utils.rnn.PackedSequence)
        padded, out_lengths = pad_packed_sequence(out)
        assert out_lengths.tolist() == lengths
        states = list(state) if name == "LSTM" else [state]
        (padded.sin().sum() + sum(s.square().sum() for s in states)).backward()
        results.append([out.data, padded, *states, xr.grad,
                        *(p.grad for p in model.parameters())])
    for a, b in zip(*results, strict=True):
        _close(a, b)


@pytest.mark.parametrize("name", NAMES)
def test_packed_with_dropout_uses_torch_nn_masks(name):
    ref, ours = _pair(name, input_size=3, hidden_size=4, num_layers=3, dropout=0.5,
                      bidirectional=True)
    x = torch.randn(7, 4, 3, dtype=f64)
    outs = []
    for model in (ref, ours):
        torch.manual_seed(7)
        out, _ = model(pack_padded_sequence(x, torch.tensor(LENGTHS), enforce_sorted=False))
        outs.append(out.data)
    _close(*outs)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("batch_first", [False, True])
def test_lengths_on_a_padded_tensor_equal_packed(name, batch_first):
    """lengths= (the NumPy half's argument) gives torch.nn's packed results, zeros at padding."""
    ref, ours = _pair(name, input_size=3, hidden_size=4, num_layers=2, bidirectional=True,
                      batch_first=batch_first)
    x = torch.randn(7, 4, 3, dtype=f64)
    packed = pack_padded_sequence(x, torch.tensor(LENGTHS), enforce_sorted=False)
    out_ref, state_ref = ref(packed)
    padded_ref, _ = pad_packed_sequence(out_ref, batch_first=batch_first, total_length=7)
    out, state = ours(x.transpose(0, 1) if batch_first else x, lengths=LENGTHS)
    _close(out, padded_ref)
    for a, b in zip(_states((None, state)), _states((None, state_ref)), strict=True):
        _close(a, b)


def test_lengths_all_full_equals_no_lengths():
    model = gt.GRU(3, 4, num_layers=2, bidirectional=True, dtype=f64)
    x = torch.randn(5, 3, 3, dtype=f64)
    out, h = model(x)
    out_l, h_l = model(x, lengths=torch.tensor([5, 5, 5]))
    _close(out, out_l)
    _close(h, h_l)


@pytest.mark.parametrize(("lengths", "exc", "words"), [
    ([3, 2], ValueError, "one length per sequence, B=4"),
    ([3, 2, 0, 1], ValueError, "in [1, T] with T=7"),
    ([3, 2, 8, 1], ValueError, "in [1, T] with T=7"),
    ([3.0, 2, 1, 1], TypeError, "lengths of integers"),
    (5, TypeError, "sequence of B=4 ints"),
])
def test_bad_lengths(lengths, exc, words):
    with pytest.raises(exc) as info:
        gt.GRU(3, 4)(torch.randn(7, 4, 3), lengths=lengths)
    assert words in str(info.value)


def test_packed_with_wrong_feature_size_or_hx():
    packed = pack_padded_sequence(torch.randn(7, 4, 3), torch.tensor(LENGTHS),
                                  enforce_sorted=False)
    with pytest.raises(ValueError, match=r"data of shape \(N, input_size\) with input_size=5"):
        gt.GRU(5, 4)(packed)
    with pytest.raises(ValueError, match=r"= \(1, 4, 4\), got \(1, 3, 4\)"):
        gt.GRU(3, 4)(packed, torch.zeros(1, 3, 4))
    with pytest.raises(ValueError, match="PackedSequence carries its own lengths"):
        gt.GRU(3, 4)(packed, None, [1, 2, 3, 4])


def test_fast_gru_accepts_packed_sequences():
    """FastGRU's kernel has no lengths; packed input runs the generic masked loop, correctly."""
    ref = torch.nn.GRU(3, 4, num_layers=2, bidirectional=True, dtype=f64)
    fast = gt.FastGRU(3, 4, num_layers=2, bidirectional=True, dtype=f64)
    fast.load_state_dict(ref.state_dict())
    packed = pack_padded_sequence(torch.randn(7, 4, 3, dtype=f64), torch.tensor(LENGTHS),
                                  enforce_sorted=False)
    (o1, h1), (o2, h2) = ref(packed), fast(packed)
    _close(o1.data, o2.data)
    _close(h1, h2)


# ---------------------------------------------------------------- nothing silent
@pytest.mark.parametrize("name", NAMES + ["FastGRU"])
def test_jit_trace_refuses_loudly(name):
    model = getattr(gt, name)(3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        with pytest.raises(RuntimeError, match="cannot be traced or exported.*other length") as e:
            torch.jit.trace(model, (torch.randn(5, 2, 3),))
    assert f"Export torch.nn.{model.MODE} instead" in str(e.value)


@pytest.mark.parametrize("name", NAMES + ["FastGRU"])
def test_legacy_onnx_export_refuses_loudly(name):
    model = getattr(gt, name)(3, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(RuntimeError, match="cannot be traced or exported"):
            torch.onnx.export(model, (torch.randn(5, 2, 3),), io.BytesIO(), dynamo=False)


@pytest.mark.parametrize("name", NAMES)
def test_torch_export_refuses_loudly(name):
    with pytest.raises(RuntimeError, match="cannot be traced or exported.*torch.export"):
        torch.export.export(getattr(gt, name)(3, 4), (torch.randn(5, 2, 3),))


def test_dynamo_onnx_export_refuses_loudly():
    pytest.importorskip("onnxscript")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception, match="cannot be traced or exported") as info:
            torch.onnx.export(gt.GRU(3, 4), (torch.randn(5, 2, 3),), dynamo=True)
    # whatever torch wraps it in, our explanation reaches the user
    assert "torch.nn.GRU" in str(info.value)


def test_torch_compile_still_works_for_other_lengths():
    """torch.compile guards on shapes and recompiles: correct for any T, so it is allowed."""
    model = gt.GRU(3, 4, dtype=f64)
    compiled = torch.compile(model, backend="eager")
    for T in (5, 9):
        x = torch.randn(T, 2, 3, dtype=f64)
        _close(compiled(x)[0], model(x)[0])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", NAMES)
def test_packed_and_lengths_on_cuda(name):
    """The masks and packed indices follow the data to the GPU."""
    cpu = getattr(gt, name)(3, 4, num_layers=2, bidirectional=True, dtype=f64)
    gpu = getattr(gt, name)(3, 4, num_layers=2, bidirectional=True, dtype=f64, device="cuda")
    gpu.load_state_dict(cpu.state_dict())
    x = torch.randn(7, 4, 3, dtype=f64)
    packed = pack_padded_sequence(x, torch.tensor(LENGTHS), enforce_sorted=False)
    _close(gpu(packed.to("cuda"))[0].data.cpu(), cpu(packed)[0].data, 1e-10)
    _close(gpu(x.cuda(), lengths=LENGTHS)[0].cpu(), cpu(x, lengths=LENGTHS)[0], 1e-10)
