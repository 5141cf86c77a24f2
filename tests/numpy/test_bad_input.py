"""Bad input is refused at the public boundary with a message naming expected and actual.

Each case is (callable, exception type, fragments that must all appear in the message): the
fragments are the expected and the actual shape or type, so a vague message fails the test.
Nothing is broadcast silently: a state of the wrong batch size or layer count is an error.
"""

import re

import numpy as np
import pytest
import torch

from gru_lib.numpy import GRU, LSTM, RNN, gru_step, gru_step_backward, lstm_step, rnn_step
from gru_lib.numpy.lstm import lstm_step_backward

D, H = 3, 4
rng = np.random.default_rng(0)


def x_(*shape, dtype=np.float64):
    return rng.standard_normal(shape).astype(dtype)


def gru(**kw):
    return GRU(D, H, **kw)


def after_forward(model, x, *args):
    model(x, *args)
    return model


def gru_step_args(B=2):
    return [x_(B, D), x_(B, H), x_(3 * H, D), x_(3 * H, H), x_(3 * H), x_(3 * H)]


def with_arg(args, i, value):
    return args[:i] + [value] + args[i + 1:]


CASES = {
    # --- layer forward: x ---------------------------------------------------------------------
    "x rank 1": (lambda: gru()(x_(5)), ValueError, ["rank 3 (T, B, input_size)", "(5,)"]),
    "x rank 4": (lambda: gru()(x_(5, 2, 1, D)), ValueError, ["rank 3", "(5, 2, 1, 3)"]),
    "x wrong feature size": (lambda: gru()(x_(5, 2, 7)), ValueError,
                             ["input_size=3", "(5, 2, 7)"]),
    "x wrong feature size, batch_first": (lambda: gru(batch_first=True)(x_(2, 5, 2)),
                                          ValueError, ["input_size=3", "(2, 5, 2)"]),
    "x empty sequence": (lambda: gru()(x_(0, 2, D)), ValueError, ["T >= 1", "(0, 2, 3)"]),
    "x empty batch": (lambda: gru()(x_(5, 0, D)), ValueError, ["B >= 1", "(5, 0, 3)"]),
    "x empty batch, batch_first": (lambda: gru(batch_first=True)(x_(0, 5, D)), ValueError,
                                   ["B >= 1", "(0, 5, 3)"]),
    "x int": (lambda: gru()(np.ones((5, 2, D), dtype=np.int64)), TypeError,
              ["real floating dtype", "int64"]),
    "x bool": (lambda: gru()(np.ones((5, 2, D), dtype=bool)), TypeError,
               ["real floating dtype", "bool"]),
    "x complex": (lambda: gru()(np.ones((5, 2, D), dtype=np.complex128)), TypeError,
                  ["real floating dtype", "complex128"]),
    "x object": (lambda: gru()(np.ones((5, 2, D), dtype=object)), TypeError,
                 ["real floating dtype", "object"]),
    "x a list": (lambda: gru()([[0.0] * D] * 5), TypeError, ["numpy.ndarray", "list"]),
    "x a torch tensor": (lambda: gru()(torch.zeros(5, 2, D, dtype=torch.float64)), TypeError,
                         ["numpy.ndarray", "Tensor"]),
    "x float32 into a float64 model": (lambda: gru()(x_(5, 2, D, dtype=np.float32)), TypeError,
                                       ["input: float32", "parameters: float64"]),
    # --- layer forward: initial state ---------------------------------------------------------
    "h0 missing the layer*direction count": (
        lambda: gru(num_layers=2, bidirectional=True)(x_(5, 2, D), x_(2, 2, H)), ValueError,
        ["(num_layers * num_directions, B, hidden_size) = (4, 2, 4)", "got (2, 2, 4)"]),
    "h0 batch differs from x": (lambda: gru()(x_(5, 2, D), x_(1, 3, H)), ValueError,
                                ["(1, 2, 4)", "got (1, 3, 4)"]),
    "h0 wrong hidden size": (lambda: gru()(x_(5, 2, D), x_(1, 2, H + 1)), ValueError,
                             ["(1, 2, 4)", "got (1, 2, 5)"]),
    "h0 without its batch axis (no broadcasting)": (lambda: gru()(x_(5, 2, D), x_(1, H)),
                                                    ValueError, ["(1, 2, 4)", "got (1, 4)"]),
    "h0 batched for an unbatched x": (lambda: gru()(x_(5, D), x_(1, 1, H)), ValueError,
                                      ["(1, 4)", "got (1, 1, 4)"]),
    "h0 float32 with float64 x": (lambda: gru()(x_(5, 2, D), x_(1, 2, H, dtype=np.float32)),
                                  TypeError, ["hx: float32", "input: float64"]),
    "h0 int": (lambda: RNN(D, H)(x_(5, 2, D), np.zeros((1, 2, H), dtype=np.int32)), TypeError,
               ["real floating dtype", "int32"]),
    "LSTM hx a single array": (lambda: LSTM(D, H)(x_(5, 2, D), x_(1, 2, H)), TypeError,
                               ["tuple (h, c)", "ndarray"]),
    "LSTM hx of length 3": (lambda: LSTM(D, H)(x_(5, 2, D), (x_(1, 2, H),) * 3), TypeError,
                            ["tuple (h, c)", "length 3"]),
    "LSTM c0 wrong shape": (lambda: LSTM(D, H)(x_(5, 2, D), (x_(1, 2, H), x_(1, 2, 2))),
                            ValueError, ["c0", "(1, 2, 4)", "got (1, 2, 2)"]),
    # --- layer backward -----------------------------------------------------------------------
    "backward before forward": (lambda: gru().backward(x_(5, 2, H)), RuntimeError,
                                ["call forward before backward"]),
    "d_output wrong shape": (lambda: after_forward(gru(), x_(5, 2, D)).backward(x_(5, 2, H + 1)),
                             ValueError, ["d_output", "(5, 2, 4)", "got (5, 2, 5)"]),
    "d_output time-major for a batch_first model": (
        lambda: after_forward(gru(batch_first=True), x_(2, 5, D)).backward(x_(5, 2, H)),
        ValueError, ["(2, 5, 4)", "got (5, 2, 4)"]),
    "d_h_n wrong shape": (
        lambda: after_forward(gru(num_layers=2), x_(5, 2, D)).backward(x_(5, 2, H), x_(1, 2, H)),
        ValueError, ["d_h_n", "(2, 2, 4)", "got (1, 2, 4)"]),
    "d_output float32": (
        lambda: after_forward(gru(), x_(5, 2, D)).backward(x_(5, 2, H, dtype=np.float32)),
        TypeError, ["d_output: float32", "parameters: float64"]),
    "LSTM d_c_n wrong shape": (
        lambda: after_forward(LSTM(D, H), x_(5, 2, D)).backward(x_(5, 2, H), (None, x_(2, H))),
        ValueError, ["d_c_n", "(1, 2, 4)", "got (2, 4)"]),
    # --- load_state_dict ----------------------------------------------------------------------
    "state_dict missing a key": (
        lambda: gru().load_state_dict({k: v for k, v in gru().state_dict().items()
                                       if k != "bias_hh_l0"}),
        ValueError, ["missing keys ['bias_hh_l0']"]),
    "state_dict unexpected key": (
        lambda: gru().load_state_dict({**gru().state_dict(), "weight_ih_l1": x_(12, 4)}),
        ValueError, ["unexpected keys ['weight_ih_l1']"]),
    "state_dict from a bidirectional model": (
        lambda: gru().load_state_dict(torch.nn.GRU(D, H, bidirectional=True).state_dict()),
        ValueError, ["unexpected keys", "weight_ih_l0_reverse"]),
    "state_dict wrong shape": (
        lambda: gru().load_state_dict({**gru().state_dict(), "weight_ih_l0": x_(12, 5)}),
        ValueError, ["weight_ih_l0 of shape (12, 3)", "got (12, 5)"]),
    "state_dict of an LSTM into a GRU": (
        lambda: gru().load_state_dict(torch.nn.LSTM(D, H).state_dict()), ValueError,
        ["weight_ih_l0 of shape (12, 3)", "got (16, 3)"]),
    "state_dict int values": (
        lambda: gru().load_state_dict({k: v.astype(np.int64)
                                       for k, v in gru().state_dict().items()}),
        TypeError, ["real floating dtype", "int64"]),
    # --- constructors -------------------------------------------------------------------------
    "hidden_size 0": (lambda: GRU(D, 0), ValueError, ["hidden_size must be >= 1", "got 0"]),
    "num_layers float": (lambda: GRU(D, H, num_layers=2.0), TypeError,
                         ["num_layers must be an int", "float"]),
    "RNN nonlinearity sigmoid": (lambda: RNN(D, H, nonlinearity="sigmoid"), ValueError,
                                 ["'tanh' or 'relu'", "'sigmoid'"]),
    "GRU reset_after a string": (lambda: GRU(D, H, reset_after="no"), TypeError,
                                 ["reset_after must be a bool", "str"]),
    "dtype float16": (lambda: GRU(D, H, dtype=np.float16), TypeError,
                      ["float32 or float64", "float16"]),
    # --- step functions -----------------------------------------------------------------------
    "gru_step x rank 3": (lambda: gru_step(*with_arg(gru_step_args(), 0, x_(1, 2, D))),
                          ValueError, ["rank 2 (B, D)", "(1, 2, 3)"]),
    "gru_step h batch differs": (lambda: gru_step(*with_arg(gru_step_args(), 1, x_(3, H))),
                                 ValueError, ["(2, 4)", "got (3, 4)"]),
    "gru_step W_hh transposed-looking": (
        lambda: gru_step(*with_arg(gru_step_args(), 3, x_(H, 3 * H))), ValueError,
        ["W_hh of shape (3*H, H) = (12, 4)", "got (4, 12)"]),
    "gru_step bias of an LSTM": (lambda: gru_step(*with_arg(gru_step_args(), 4, x_(4 * H))),
                                 ValueError, ["(12,)", "got (16,)"]),
    "rnn_step int weights": (
        lambda: rnn_step(x_(2, D), x_(2, H), np.ones((H, D), dtype=np.int64), x_(H, H)),
        TypeError, ["W_ih", "real floating dtype", "int64"]),
    "rnn_step mixed precision": (
        lambda: rnn_step(x_(2, D, dtype=np.float32), x_(2, H), x_(H, D), x_(H, H)), TypeError,
        ["x: float32", "h: float64"]),
    "lstm_step c wrong shape": (
        lambda: lstm_step(x_(2, D), x_(2, H), x_(2, H + 1), x_(4 * H, D), x_(4 * H, H)),
        ValueError, ["c of shape", "(2, 4)", "got (2, 5)"]),
    "gru_step_backward dh_next wrong shape": (
        lambda: gru_step_backward(x_(2, H + 1), gru_step(*gru_step_args())[1]), ValueError,
        ["dh_next", "(2, 4)", "got (2, 5)"]),
    "lstm_step_backward dc_next float32": (
        lambda: lstm_step_backward(
            x_(2, H), x_(2, H, dtype=np.float32),
            lstm_step(x_(2, D), x_(2, H), x_(2, H), x_(4 * H, D), x_(4 * H, H))[2]),
        TypeError, ["dc_next: float32", "forward: float64"]),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_is_refused_clearly(case, numpy_report):
    call, exc, fragments = CASES[case]
    with pytest.raises(exc) as info:
        call()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in message {message!r}"
    numpy_report.bad_input()


def test_unbatched_input_with_batch_first_is_time_major():
    """As in torch.nn: a 2-D input is (T, input_size) whatever batch_first says."""
    model = GRU(D, H, batch_first=True, rng=0)
    out, h_n = model(x_(6, D))
    assert out.shape == (6, H) and h_n.shape == (1, H)
    assert re.search(r"GRU\(3, 4, batch_first=True\)", repr(model))
