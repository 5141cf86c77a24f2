"""Bad inputs: gru_lib.torch rejects them with the type and words of gru_lib._spec, and with the
same message as gru_lib.numpy for the same mistake."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import gru_lib.numpy as gn
import gru_lib.torch as gt

f64, f32 = torch.float64, torch.float32
D, H = 3, 5


def gru(**kw):
    return gt.GRU(D, H, dtype=f64, **kw)


def lstm(**kw):
    return gt.LSTM(D, H, dtype=f64, **kw)


def x(*shape, dtype=f64):
    return torch.zeros(shape, dtype=dtype)


def step_args(B=2, dtype=f64, G=3):
    return [x(B, D, dtype=dtype), x(B, H, dtype=dtype), x(G * H, D, dtype=dtype),
            x(G * H, H, dtype=dtype), x(G * H, dtype=dtype), x(G * H, dtype=dtype)]


def _replace(args, i, value):
    args = list(args)
    args[i] = value
    return args


CASES = {
    # ---- input shape
    "input rank 1": (lambda: gru()(x(D)), ValueError, ["rank 3", "got rank 1", "(3,)"]),
    "input rank 4": (lambda: gru()(x(2, 2, 2, D)), ValueError, ["got rank 4"]),
    "feature size": (lambda: gru()(x(4, 2, D + 1)), ValueError,
                     ["input_size=3", "(4, 2, 4)"]),
    "empty T": (lambda: gru()(x(0, 2, D)), ValueError, ["T >= 1", "(0, 2, 3)"]),
    "empty B": (lambda: gru()(x(4, 0, D)), ValueError, ["B >= 1", "(4, 0, 3)"]),
    "empty B batch_first": (lambda: gru(batch_first=True)(x(0, 4, D)), ValueError, ["B >= 1"]),
    "empty T unbatched": (lambda: gru()(x(0, D)), ValueError, ["T >= 1"]),
    # ---- initial state shape
    "h0 layers*directions": (lambda: gt.GRU(D, H, 2, bidirectional=True, dtype=f64)(
        x(4, 2, D), x(2, 2, H)), ValueError,
        ["num_layers * num_directions", "= (4, 2, 5)", "got (2, 2, 5)"]),
    "x/h0 batch mismatch": (lambda: gru()(x(4, 2, D), x(1, 3, H)), ValueError,
                            ["= (1, 2, 5)", "got (1, 3, 5)"]),
    "h0 hidden size": (lambda: gru()(x(4, 2, D), x(1, 2, H + 1)), ValueError, ["got (1, 2, 6)"]),
    "h0 2-D for batched input": (lambda: gru()(x(4, 2, D), x(1, H)), ValueError,
                                 ["= (1, 2, 5)", "got (1, 5)"]),
    "h0 3-D for unbatched input": (lambda: gru()(x(4, D), x(1, 1, H)), ValueError,
                                   ["unbatched", "= (1, 5)", "got (1, 1, 5)"]),
    "lstm c0 shape": (lambda: lstm()(x(4, 2, D), (x(1, 2, H), x(1, 2, H + 1))), ValueError,
                      ["c0", "got (1, 2, 6)"]),
    "lstm hx not a pair": (lambda: lstm()(x(4, 2, D), x(1, 2, H)), TypeError,
                           ["tuple (h0, c0)", "Tensor"]),
    # ---- dtypes
    "integer input": (lambda: gru()(x(4, 2, D, dtype=torch.int64)), TypeError,
                      ["input", "real floating", "int64"]),
    "bool input": (lambda: gru()(x(4, 2, D, dtype=torch.bool)), TypeError, ["dtype bool"]),
    "complex input": (lambda: gru()(x(4, 2, D, dtype=torch.complex128)), TypeError,
                      ["complex128"]),
    "integer h0": (lambda: gru()(x(4, 2, D), x(1, 2, H, dtype=torch.int32)), TypeError,
                   ["hx", "int32"]),
    "integer c0": (lambda: lstm()(x(4, 2, D), (x(1, 2, H), x(1, 2, H, dtype=torch.int16))),
                   TypeError, ["c0", "int16"]),
    "float32 input, float64 params": (lambda: gru()(x(4, 2, D, dtype=f32)), TypeError,
                                      ["one floating dtype", "input: float32",
                                       "parameters: float64"]),
    "float32 h0, float64 input": (lambda: gru()(x(4, 2, D), x(1, 2, H, dtype=f32)), TypeError,
                                  ["hx: float32", "input: float64"]),
    "not a tensor": (lambda: gru()(np.zeros((4, 2, D))), TypeError,
                     ["input to be a torch.Tensor", "ndarray"]),
    # ---- devices (the meta device stands in for a GPU on a CPU-only machine)
    "device mismatch input": (lambda: gru()(torch.zeros(4, 2, D, dtype=f64, device="meta")),
                              RuntimeError, ["one device", "input: meta", "parameters: cpu"]),
    "device mismatch h0": (lambda: gru()(x(4, 2, D), torch.zeros(1, 2, H, dtype=f64,
                                                                   device="meta")),
                           RuntimeError, ["hx: meta"]),
    # ---- constructor
    "hidden_size 0": (lambda: gt.GRU(D, 0), ValueError, ["hidden_size must be >= 1"]),
    "num_layers float": (lambda: gt.LSTM(D, H, 2.0), TypeError, ["num_layers must be an int"]),
    "bidirectional not bool": (lambda: gt.RNN(D, H, bidirectional=1), TypeError,
                               ["bidirectional must be a bool"]),
    "nonlinearity": (lambda: gt.RNN(D, H, nonlinearity="sigmoid"), ValueError,
                     ["'tanh' or 'relu'", "'sigmoid'"]),
    "reset_after not bool": (lambda: gt.GRU(D, H, reset_after="yes"), TypeError,
                             ["reset_after must be a bool"]),
    "integer parameter dtype": (lambda: gt.GRU(D, H, dtype=torch.int32), TypeError,
                                ["dtype", "int32"]),
    # ---- state dicts
    "state_dict missing key": (lambda: gru().load_state_dict(
        {k: v for k, v in torch.nn.GRU(D, H).state_dict().items() if k != "bias_hh_l0"}),
        ValueError, ["missing keys ['bias_hh_l0']"]),
    "state_dict unexpected key": (lambda: gru(bias=False).load_state_dict(
        torch.nn.GRU(D, H).state_dict()), ValueError, ["unexpected keys", "bias_ih_l0"]),
    "state_dict wrong shape": (lambda: gru().load_state_dict(torch.nn.GRU(D, H - 1).state_dict()),
                               ValueError, ["weight_ih_l0 of shape (15, 3)", "got (12, 3)"]),
    "state_dict of an LSTM into a GRU": (lambda: gru().load_state_dict(
        torch.nn.LSTM(D, H).state_dict()), ValueError, ["expected weight_ih_l0 of shape (15, 3)",
                                                       "got (20, 3)"]),
    # ---- step functions
    "gru_step W_hh shape": (lambda: gt.gru_step(*_replace(step_args(), 3, x(3 * H, H + 1))),
                            ValueError, ["W_hh", "(3*H, H) = (15, 5)", "got (15, 6)"]),
    "gru_step h batch": (lambda: gt.gru_step(*_replace(step_args(), 1, x(3, H))), ValueError,
                         ["expected h", "got (3, 5)"]),
    "rnn_step integer x": (lambda: gt.rnn_step(*_replace(step_args(G=1), 0,
                                                         x(2, D, dtype=torch.int64))),
                           TypeError, ["x", "int64"]),
    "lstm_step mixed dtype": (lambda: gt.lstm_step(*step_args(G=4)[:2], x(2, H, dtype=f32),
                                                   *step_args(G=4)[2:]),
                              TypeError, ["c: float32"]),
    "rnn_step x rank 3": (lambda: gt.rnn_step(*_replace(step_args(G=1), 0, x(1, 2, D))),
                          ValueError, ["rank 2 (B, D)"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_rejected_with_clear_message(case):
    call, exc, fragments = CASES[case]
    with pytest.raises(exc) as info:
        call()
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


def test_nested_state_dict_shape_error_names_both_shapes():
    """Inside a bigger module torch's own loader runs; its message names both shapes too."""
    model = torch.nn.Sequential(gt.GRU(D, H))
    with pytest.raises(RuntimeError, match=r"weight_ih_l0.*\[12, 3\].*\[15, 3\]"):
        model.load_state_dict(torch.nn.Sequential(torch.nn.GRU(D, H - 1)).state_dict())


# ---------------------------------------------------------------- same words as gru_lib.numpy
SAME = {
    "feature size": lambda M, a: M(a(np.zeros((4, 2, D + 1)))),
    "rank": lambda M, a: M(a(np.zeros((2, 2, 2, D)))),
    "empty T": lambda M, a: M(a(np.zeros((0, 2, D)))),
    "empty B": lambda M, a: M(a(np.zeros((4, 0, D)))),
    "h0 shape": lambda M, a: M(a(np.zeros((4, 2, D))), a(np.zeros((2, 3, H)))),
    "integer input": lambda M, a: M(a(np.zeros((4, 2, D), dtype=np.int64))),
    "bool input": lambda M, a: M(a(np.zeros((4, 2, D), dtype=bool))),
    "complex input": lambda M, a: M(a(np.zeros((4, 2, D), dtype=np.complex128))),
    "mixed dtypes": lambda M, a: M(a(np.zeros((4, 2, D), dtype=np.float32))),
    "state_dict shape": lambda M, a: M.load_state_dict(
        {k: a(np.zeros((1,) + v.shape)) for k, v in M.state_dict().items()}),
    "state_dict keys": lambda M, a: M.load_state_dict({}),
}


@pytest.mark.parametrize("case", list(SAME))
def test_same_message_as_numpy(case):
    messages = []
    for model, to_array in ((gn.GRU(D, H, 2), lambda a: a),
                            (gt.GRU(D, H, 2, dtype=f64), torch.from_numpy)):
        with pytest.raises((TypeError, ValueError)) as info:
            SAME[case](model, to_array)
        messages.append(f"{info.type.__name__}: {info.value}")
    assert messages[0] == messages[1]
