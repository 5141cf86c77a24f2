"""The LSTM-step checker of chapter 6: the reference passes, every known mistake is named, an
unattempted scaffold is reported as such, and the checker's reference agrees with the library."""

import numpy as np
import pytest

from gru_lib.exercises.lstm import LSTM_STEP_MISTAKES, check_lstm_step, lstm_step_reference


def test_reference_passes():
    result = check_lstm_step(lstm_step_reference)
    assert result.passed, str(result)
    assert str(result).startswith("[PASSED] LSTM step")


@pytest.mark.parametrize("mistake", LSTM_STEP_MISTAKES, ids=lambda m: m.name)
def test_each_mistake_is_named(mistake):
    result = check_lstm_step(mistake.fn)
    assert not result.passed
    assert result.mistake == mistake.name, str(result)
    assert result.message == mistake.message


def test_mistake_names_are_unique():
    names = [m.name for m in LSTM_STEP_MISTAKES]
    assert len(names) == len(set(names))


def test_required_mistakes_are_covered():
    names = {m.name for m in LSTM_STEP_MISTAKES}
    assert {"order_ifog", "tanh_on_i", "tanh_on_f", "tanh_on_o", "no_tanh_on_c",
            "no_forget_gate", "missing_b_ih", "missing_b_hh", "swapped_outputs"} <= names


def test_stub_is_not_attempted():
    def my_lstm_step(x, h, c, W_ih, W_hh, b_ih, b_hh):
        raise NotImplementedError

    result = check_lstm_step(my_lstm_step)
    assert not result.passed
    assert "not attempted yet" in str(result)
    assert str(result).startswith("[NOT YET] LSTM step")


def test_wrong_shape_is_reported():
    def transposed(x, h, c, W_ih, W_hh, b_ih, b_hh):
        h_next, c_next = lstm_step_reference(x, h, c, W_ih, W_hh, b_ih, b_hh)
        return h_next.T, c_next

    result = check_lstm_step(transposed)
    assert not result.passed and result.mistake is None
    assert "h_next has shape" in result.message


def test_unknown_error_reports_difference():
    def off_by_a_bit(x, h, c, W_ih, W_hh, b_ih, b_hh):
        h_next, c_next = lstm_step_reference(x, h, c, W_ih, W_hh, b_ih, b_hh)
        return h_next + 1e-3, c_next

    result = check_lstm_step(off_by_a_bit)
    assert not result.passed and result.mistake is None
    assert "h_next differs from the reference" in result.message


def test_exception_in_reader_code_is_reported():
    def broken(x, h, c, W_ih, W_hh, b_ih, b_hh):
        return x @ W_hh  # shapes do not match

    result = check_lstm_step(broken)
    assert not result.passed
    assert "raised ValueError" in result.message


def test_reference_matches_torch_lstm_cell():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    B, D, H = 2, 3, 4
    cell = torch.nn.LSTMCell(D, H, dtype=torch.float64)
    x, h, c = rng.standard_normal((B, D)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    with torch.no_grad():
        h_t, c_t = cell(torch.from_numpy(x), (torch.from_numpy(h), torch.from_numpy(c)))
    p = {k: v.detach().numpy() for k, v in cell.state_dict().items()}
    h_n, c_n = lstm_step_reference(x, h, c, p["weight_ih"], p["weight_hh"], p["bias_ih"],
                                   p["bias_hh"])
    np.testing.assert_allclose(h_n, h_t.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(c_n, c_t.numpy(), rtol=1e-12, atol=1e-12)


def test_reference_matches_library_lstm_step():
    lstm = pytest.importorskip("gru_lib.numpy.lstm")
    rng = np.random.default_rng(2)
    B, D, H = 3, 2, 4
    args = (rng.standard_normal((B, D)), rng.standard_normal((B, H)), rng.standard_normal((B, H)),
            rng.standard_normal((4 * H, D)), rng.standard_normal((4 * H, H)),
            rng.standard_normal(4 * H), rng.standard_normal(4 * H))
    h_lib, c_lib, _ = lstm.lstm_step(*args)
    h_ref, c_ref = lstm_step_reference(*args)
    np.testing.assert_allclose(h_ref, h_lib, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(c_ref, c_lib, rtol=1e-12, atol=1e-12)


# -- the step backward (issue 13) ---------------------------------------------------------------

from gru_lib.exercises.lstm import (  # noqa: E402
    LSTM_BACKWARD_MISTAKES,
    check_lstm_step_backward,
    lstm_step_backward_reference,
)


def test_backward_reference_matches_autograd_and_library():
    import torch

    from gru_lib.exercises.lstm import _make_backward_inputs
    from gru_lib.numpy.lstm import lstm_step, lstm_step_backward

    dh, dc, x, h, c, W_ih, W_hh, b_ih, b_hh = _make_backward_inputs(np.random.default_rng(3))
    t = [torch.tensor(v, requires_grad=True) for v in (x, h, c, W_ih, W_hh, b_ih, b_hh)]
    a = t[0] @ t[3].T + t[5] + t[1] @ t[4].T + t[6]
    i, f, g, o = a.chunk(4, dim=1)
    c_next = torch.sigmoid(f) * t[2] + torch.sigmoid(i) * torch.tanh(g)
    h_next = torch.sigmoid(o) * torch.tanh(c_next)
    ((h_next * torch.from_numpy(dh)).sum() + (c_next * torch.from_numpy(dc)).sum()).backward()
    want = [v.grad.numpy() for v in t]          # x, h, c, W_ih, W_hh, b_ih, b_hh
    got = lstm_step_backward_reference(dh, dc, x, h, c, W_ih, W_hh, b_ih, b_hh)
    lib = lstm_step_backward(dh, dc, lstm_step(x, h, c, W_ih, W_hh, b_ih, b_hh)[2])
    for g_, lb, w in zip(got, lib, want, strict=True):
        np.testing.assert_allclose(g_, w, rtol=0, atol=1e-12)
        np.testing.assert_allclose(lb, w, rtol=0, atol=1e-12)


def test_backward_reference_passes_and_scaffold():
    assert check_lstm_step_backward(lstm_step_backward_reference).passed

    def my_lstm_step_backward(dh_next, dc_next, x, h, c, W_ih, W_hh, b_ih, b_hh):
        raise NotImplementedError

    res = check_lstm_step_backward(my_lstm_step_backward)
    assert str(res).startswith("[NOT YET] LSTM step backward: not attempted yet")


@pytest.mark.parametrize("mistake", LSTM_BACKWARD_MISTAKES, ids=lambda m: m.name)
def test_backward_mistake_is_named(mistake):
    res = check_lstm_step_backward(mistake.fn)
    assert not res.passed and res.mistake == mistake.name, res.message
    assert res.message == mistake.message


def test_backward_unlisted_block_error_is_localised():
    def wrong_output_gate(*a):
        out = list(lstm_step_backward_reference(*a))
        H = a[3].shape[1]
        for k in (3, 4, 5, 6):
            out[k] = out[k].copy()
            out[k][3 * H:] *= 0.5
        return tuple(out)

    res = check_lstm_step_backward(wrong_output_gate)
    assert not res.passed and res.mistake is None
    assert "db_ih only the block of the output gate o" in res.message
    assert "(dx, dh, dc are right)" in res.message


def test_backward_solution_for_the_book_passes():
    def my_lstm_step_backward(dh_next, dc_next, x, h, c, W_ih, W_hh, b_ih, b_hh):
        H = h.shape[1]
        a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh            # the forward, recomputed

        def sig(v):
            return 1 / (1 + np.exp(-v))

        i, f = sig(a[:, :H]), sig(a[:, H:2 * H])
        g, o = np.tanh(a[:, 2 * H:3 * H]), sig(a[:, 3 * H:])
        c_next = f * c + i * g
        tc = np.tanh(c_next)
        # the backward, the forward's lines in reverse order
        do = dh_next * tc
        dc_total = dc_next + dh_next * o * (1 - tc**2)
        dc = dc_total * f
        di, df, dg = dc_total * g, dc_total * c, dc_total * i
        dA = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g**2),
                             do * o * (1 - o)], axis=1)
        db = dA.sum(axis=0)
        return dA @ W_ih, dA @ W_hh, dc, dA.T @ x, dA.T @ h, db, db.copy()

    assert check_lstm_step_backward(my_lstm_step_backward).passed
