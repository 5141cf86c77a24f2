"""``reset_after=False`` against an independent transcription of Cho et al. (2014), Section 2.3.

The paper works with column vectors and one sequence at a time, without biases::

    r = σ(W_r x + U_r h_{t-1})                    reset gate
    z = σ(W_z x + U_z h_{t-1})                    update gate
    h~ = tanh(W x + U (r ⊙ h_{t-1}))              candidate: r acts on h BEFORE U multiplies
    h_t = z ⊙ h_{t-1} + (1 − z) ⊙ h~             update

Mapping to the library (torch layout): W_r, W_z, W are the row blocks r | z | n of
``weight_ih_l0`` and U_r, U_z, U those of ``weight_hh_l0``. The paper puts ``z`` on the *old* state
and ``1 − z`` on the candidate, which is exactly torch's ``h' = (1 − z) ⊙ n + z ⊙ h``: the two
``z`` are the same gate, no ``z ↔ 1 − z`` swap is needed (Chung et al. 2014 is the paper that
swaps them). The only difference from ``torch.nn.GRU`` is where ``r`` acts. With biases, the
natural extension (Keras ``reset_after=False``) adds ``b_i*`` and ``b_h*`` inside each
nonlinearity, ``b_hn`` after the product ``U (r ⊙ h)``.
"""

import numpy as np
import pytest

from gru_lib.numpy import GRU, gru_step


def sigma(a):
    return 1.0 / (1.0 + np.exp(-a))


def cho2014_sequence(x, h0, W_ih, W_hh, b_ih=None, b_hh=None):
    """The paper's equations, literally: column vectors, one sequence and one step at a time."""
    T, B, _ = x.shape
    H = h0.shape[1]
    W_r, W_z, W = W_ih[:H], W_ih[H:2 * H], W_ih[2 * H:]
    U_r, U_z, U = W_hh[:H], W_hh[H:2 * H], W_hh[2 * H:]
    zero = np.zeros((3 * H, 1))
    bi = zero if b_ih is None else b_ih.reshape(-1, 1)
    bh = zero if b_hh is None else b_hh.reshape(-1, 1)
    outputs = np.empty((T, B, H))
    for b in range(B):
        h = h0[b].reshape(H, 1)                                   # column vector h_{t-1}
        for t in range(T):
            xt = x[t, b].reshape(-1, 1)                           # column vector x_t
            r = sigma(W_r @ xt + bi[:H] + U_r @ h + bh[:H])
            z = sigma(W_z @ xt + bi[H:2 * H] + U_z @ h + bh[H:2 * H])
            h_tilde = np.tanh(W @ xt + bi[2 * H:] + U @ (r * h) + bh[2 * H:])
            h = z * h + (1.0 - z) * h_tilde
            outputs[t, b] = h[:, 0]
    return outputs


@pytest.mark.parametrize("bias", [False, True])
def test_layer_matches_cho2014(bias, numpy_report):
    rng = np.random.default_rng(2014)
    T, B, D, H = 7, 3, 4, 5
    model = GRU(D, H, bias=bias, reset_after=False, rng=rng)
    for k in model.params:  # larger weights than the default init, so r matters a lot
        model.params[k] = rng.standard_normal(model.params[k].shape)
    x, h0 = rng.standard_normal((T, B, D)), rng.standard_normal((1, B, H))
    p = model.params
    ref = cho2014_sequence(x, h0[0], p["weight_ih_l0"], p["weight_hh_l0"],
                           p.get("bias_ih_l0"), p.get("bias_hh_l0"))
    out, h_n = model(x, h0)
    diff = max(np.abs(out - ref).max(), np.abs(h_n[0] - ref[-1]).max())
    assert diff <= 1e-12
    numpy_report.compared(diff)
    # The test can tell the two placements apart: torch's placement gives another answer.
    model.reset_after = True
    assert np.abs(model(x, h0)[0] - ref).max() > 1e-2


def test_step_matches_cho2014():
    rng = np.random.default_rng(1406)
    B, D, H = 4, 3, 6
    x, h = rng.standard_normal((B, D)), rng.standard_normal((B, H))
    W_ih, W_hh = rng.standard_normal((3 * H, D)), rng.standard_normal((3 * H, H))
    h_next, _ = gru_step(x, h, W_ih, W_hh, reset_after=False)
    ref = cho2014_sequence(x[None], h, W_ih, W_hh)[0]
    np.testing.assert_allclose(h_next, ref, rtol=0, atol=1e-13)
