"""The Part I exercise checkers: each reference passes (and agrees with torch), every known mistake
is named, an untouched scaffold is reported as not attempted, other errors are reported in words."""

import numpy as np
import pytest
import torch

from gru_lib.exercises import rnn as ex
from gru_lib.exercises.rnn import check_pattern_11_weights, check_rnn_forward, check_rnn_step

# --- the RNN step ---------------------------------------------------------------------------------


def _torch_rnn(x, h0, W_ih, W_hh, b_ih, b_hh):
    """torch.nn.RNN (tanh, one layer, time-major) with the given weights, in float64."""
    rnn = torch.nn.RNN(W_ih.shape[1], W_ih.shape[0]).double()
    sd = {k: torch.from_numpy(v) for k, v in zip(
        ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"), (W_ih, W_hh, b_ih, b_hh),
        strict=True)}
    rnn.load_state_dict(sd)
    with torch.no_grad():
        out, h_n = rnn(torch.from_numpy(x), torch.from_numpy(h0)[None])
    return out.numpy(), h_n[0].numpy()


def test_reference_step_matches_torch():
    x, h, *w = ex._make_step_inputs(np.random.default_rng(1))
    _, want = _torch_rnn(x[None], h, *w)
    np.testing.assert_allclose(ex._reference_step(x, h, *w), want, rtol=0, atol=1e-13)


def test_reference_forward_matches_torch():
    args = ex._make_forward_inputs(np.random.default_rng(2))
    out, h_n = ex._reference_forward(*args)
    want_out, want_h = _torch_rnn(*args)
    np.testing.assert_allclose(out, want_out, rtol=0, atol=1e-13)
    np.testing.assert_allclose(h_n, want_h, rtol=0, atol=1e-13)


def test_step_reference_passes():
    res = check_rnn_step(ex._reference_step)
    assert res.passed, res.message
    assert str(res).startswith("[PASSED] RNN step")


def test_step_torch_implementation_passes():
    def step(x, h, W_ih, W_hh, b_ih, b_hh):
        t = torch.from_numpy
        return torch.tanh(t(x) @ t(W_ih).T + t(b_ih) + t(h) @ t(W_hh).T + t(b_hh))

    assert check_rnn_step(step).passed


@pytest.mark.parametrize("mistake", ex._STEP_MISTAKES, ids=lambda m: m.name)
def test_step_mistake_is_named(mistake):
    res = check_rnn_step(mistake.fn)
    assert not res.passed
    assert res.mistake == mistake.name, (res.mistake, res.message)
    assert res.message.startswith(mistake.message)


def test_step_mistakes_are_distinct():
    args = ex._make_square_step_inputs(np.random.default_rng(3))
    ref = ex._reference_step(*args)
    outs = [m.fn(*args) for m in ex._STEP_MISTAKES]
    for i, a in enumerate(outs):
        assert a.shape != ref.shape or not np.allclose(a, ref)
        for b in outs[i + 1:]:
            assert a.shape != b.shape or not np.allclose(a, b)


def test_transposed_input_weight_is_named_after_shape_error():
    def reader(x, h, W_ih, W_hh, b_ih, b_hh):  # the way readers write it
        return np.tanh(x @ W_ih + b_ih + h @ W_hh.T + b_hh)

    res = check_rnn_step(reader)
    assert res.mistake == "transposed_W_ih"
    assert "x @ W_ih.T" in res.message and "raised an error" in res.message


def test_step_stub_not_attempted():
    def stub(x, h, W_ih, W_hh, b_ih, b_hh):
        raise NotImplementedError

    res = check_rnn_step(stub)
    assert not res.passed and res.mistake is None
    assert str(res) == ("[NOT YET] RNN step: not attempted yet: replace the "
                        "`raise NotImplementedError` with your implementation")


def test_step_unknown_errors_are_reported():
    res = check_rnn_step(lambda *a: ex._reference_step(*a) + 0.1)
    assert not res.passed and res.mistake is None and "differs" in res.message
    res = check_rnn_step(lambda *a: 1 / 0)
    assert not res.passed and "ZeroDivisionError" in res.message
    res = check_rnn_step(lambda *a: ex._reference_step(*a)[:, :2])
    assert not res.passed and "shape" in res.message
    with pytest.raises(TypeError):
        check_rnn_step("not a function")


# --- the loop over time ---------------------------------------------------------------------------


def test_forward_reference_passes():
    res = check_rnn_forward(ex._reference_forward)
    assert res.passed, res.message


def test_forward_torch_passes():
    def fwd(x, h0, W_ih, W_hh, b_ih, b_hh):
        return _torch_rnn(x, h0, W_ih, W_hh, b_ih, b_hh)

    assert check_rnn_forward(fwd).passed


@pytest.mark.parametrize("mistake", ex._FORWARD_MISTAKES, ids=lambda m: m.name)
def test_forward_mistake_is_named(mistake):
    res = check_rnn_forward(mistake.fn)
    assert not res.passed
    assert res.mistake == mistake.name, (res.mistake, res.message)
    assert res.message == mistake.message


def test_forward_stub_and_h_n_shape():
    def stub(x, h0, W_ih, W_hh, b_ih, b_hh):
        raise NotImplementedError

    assert "not attempted" in check_rnn_forward(stub).message

    def torch_shaped(*a):  # h_n with torch's leading layer axis
        out, h = ex._reference_forward(*a)
        return out, h[None]

    res = check_rnn_forward(torch_shaped)
    assert not res.passed and "h_n has shape (1, 4, 3), expected (4, 3)" in res.message


# --- the hand-set threshold network of chapter 1 ------------------------------------------------


def _latch_weights():
    """Unit 0 copies the input; unit 1 latches 'previous input and current input were 1'."""
    W_ih = np.array([[1.0], [1.0]])
    W_hh = np.array([[0.0, 0.0], [1.0, 2.0]])
    b = np.array([-0.5, -1.5])
    return W_ih, W_hh, b, np.array([0.0, 1.0]), -0.5


def test_pattern_reference_passes():
    res = check_pattern_11_weights(_latch_weights)
    assert res.passed, res.message


def test_pattern_delayed_is_named():
    def chained():  # copy -> pair detector -> latch: each arrow costs a step
        W_ih = np.array([[1.0], [1.0], [0.0]])
        W_hh = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 2.0]])
        b = np.array([-0.5, -1.5, -0.5])
        return W_ih, W_hh, b, np.array([0.0, 0.0, 1.0]), -0.5

    res = check_pattern_11_weights(chained)
    assert res.mistake == "delayed", res.message


def test_pattern_not_latched_is_named():
    def pair_only():
        W_ih = np.array([[1.0], [1.0]])
        W_hh = np.array([[0.0, 0.0], [1.0, 0.0]])
        b = np.array([-0.5, -1.5])
        return W_ih, W_hh, b, np.array([0.0, 1.0]), -0.5

    res = check_pattern_11_weights(pair_only)
    assert res.mistake == "not_latched", res.message


def test_pattern_wrong_answers_and_stub():
    def stub():
        raise NotImplementedError

    assert "not attempted" in check_pattern_11_weights(stub).message

    def bad_shape():
        W_ih, W_hh, b, w_out, b_out = _latch_weights()
        return W_ih.T, W_hh, b, w_out, b_out

    res = check_pattern_11_weights(bad_shape)
    assert not res.passed and "W_ih must have shape (H, 1)" in res.message

    def any_one():  # 'seen a 1' is not 'seen two consecutive ones'
        return np.array([[1.0]]), np.array([[2.0]]), np.array([-0.5]), np.array([1.0]), -0.5

    res = check_pattern_11_weights(any_one)
    assert not res.passed and res.mistake is None and "y differs" in res.message
    with pytest.raises(TypeError):
        check_pattern_11_weights(_latch_weights())
