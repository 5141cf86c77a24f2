"""Messages that teach (issue 13): exceptions with the reader's line and both shapes, localised
differences (time step, gate block, bias, factor, transpose, the root quantity first), and the
form of an answer (None, a list, a tuple) named correctly."""

import numpy as np

from gru_lib.exercises import bptt, gru, rnn
from gru_lib.exercises._core import run_check


def test_transposed_weight_names_both_shapes_and_the_fix():
    def my_rnn_step(x, h, W_ih, W_hh, b_ih, b_hh):
        a = x @ W_ih + b_ih + h @ W_hh.T + b_hh   # raises: W_ih is (H, D)
        return np.tanh(a)

    res = rnn.check_rnn_step(my_rnn_step)
    # recognised on square inputs, and the first error was a shape error
    assert res.mistake == "transposed_W_ih", res.message


def test_exception_reports_the_readers_line_and_shapes():
    def my_gru_step(x, h, W_ih, W_hh, b_ih, b_hh):
        gi = x @ W_ih.T + b_ih
        gh = h @ W_ih.T + b_hh
        return gi + gh

    res = gru.check_gru_step(my_gru_step)
    assert not res.passed and res.mistake is None
    assert "raised ValueError" in res.message
    assert "test_exercises_explain.py" in res.message and "gh = h @ W_ih.T + b_hh" in res.message
    assert "`h` has shape (4, 3)" in res.message and "`W_ih.T` has shape (5, 9)" in res.message


def test_product_mismatch_suggests_the_transpose():
    def f(x, W):
        return x @ W

    res = run_check("demo", f, lambda x, W: x @ W.T,
                    lambda rng: (rng.normal(size=(2, 3)), rng.normal(size=(4, 3))), ("y",))
    assert "Did you mean `x @ W.T`?" in res.message


def test_broadcast_error_is_explained():
    def my_rnn_step(x, h, W_ih, W_hh, b_ih, b_hh):
        return np.tanh(x @ W_ih.T + h + b_ih)[:, :2] * h

    res = rnn.check_rnn_step(my_rnn_step)
    assert "could not be broadcast" in res.message and "same shape" in res.message


def test_name_error_is_explained():
    def my_rnn_step(x, h, W_ih, W_hh, b_ih, b_hh):
        return np.tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh + undefined_bias)  # noqa: F821

    res = rnn.check_rnn_step(my_rnn_step)
    assert "NameError" in res.message and "another cell" in res.message


def test_list_none_and_value_counts_are_named():
    def rows(x, h, W_ih, W_hh, b_ih, b_hh):
        return [list(r) for r in rnn._reference_step(x, h, W_ih, W_hh, b_ih, b_hh)]

    res = rnn.check_rnn_step(rows)
    assert "h_next is a Python list" in res.message and "value(s)" not in res.message

    def no_return(dh_next, x, h, W_ih, W_hh, b_ih, b_hh):
        bptt._reference_step_backward(dh_next, x, h, W_ih, W_hh, b_ih, b_hh)

    res = bptt.check_rnn_step_backward(no_return)
    assert "returned None" in res.message and "return dx, dh, dW_ih" in res.message

    res = bptt.check_rnn_step_backward(lambda *a: bptt._reference_step_backward(*a)[0])
    assert "returned one ndarray, expected 6 values" in res.message


def test_time_step_localisation():
    def late_bias(x, h0, W_ih, W_hh, b_ih, b_hh):
        h, outs = h0, []
        for t in range(x.shape[0]):
            h = np.tanh(x[t] @ W_ih.T + b_ih + h @ W_hh.T + (b_hh if t < 3 else 0))
            outs.append(h)
        return np.stack(outs), h

    res = rnn.check_rnn_forward(late_bias)
    assert "output is right for time steps 0 .. 2 and wrong from t = 3 on" in res.message


def test_bias_only_localisation():
    def double_bias(x, h, W_ih, W_hh, b_ih, b_hh):
        return np.tanh(x @ W_ih.T + 2 * b_ih + h @ W_hh.T + b_hh)

    res = rnn.check_rnn_step(double_bias)
    assert "right when the biases are zero" in res.message


def test_gate_block_localisation():
    def wrong_z_block(*a):
        out = list(gru._reference_step_backward(*a))
        H = a[2].shape[1]
        out[3] = out[3].copy()
        out[3][H:2 * H] *= 1.5
        return tuple(out)

    res = gru.check_gru_step_backward(wrong_z_block)
    assert "in dW_hh only the block of the update gate z (rows 3..5) is wrong" in res.message


def test_transpose_localisation():
    def transposed(*a):
        out = list(bptt._reference_step_backward(*a))
        out[3] = out[3].T * 1.0
        return tuple(out)

    res = run_check("demo", transposed, bptt._reference_step_backward,
                    bptt._make_step_inputs, bptt._GRAD_NAMES)
    assert "dW_hh is the transpose of the reference" in res.message


def test_root_quantity_first_in_clipping():
    from gru_lib.analysis import clip_global_norm

    def sum_not_squared(grads, max_norm):
        total = sum(float(np.abs(g).sum()) ** 1.0 for g in grads.values()) * 0.5
        clipped, _ = clip_global_norm(grads, max_norm)
        return clipped, total

    res = bptt.check_clip_global_norm(sum_not_squared)
    assert not res.passed and res.message.startswith("total_norm"), res.message


def test_clip_and_latch_failure_classes():
    res = bptt.check_clip_global_norm(lambda g, m: None)
    assert not res.passed and "return a pair" in res.message
    res = rnn.check_pattern_11_weights(lambda: None)
    assert not res.passed and "five" in res.message
