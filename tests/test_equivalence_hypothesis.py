"""Property test: gru_lib.numpy and gru_lib.torch compute the same function and the same gradients.

Hypothesis draws a model (RNN tanh/relu, GRU with either reset-gate placement, LSTM), its shape
(layers, directions, bias, batch_first, sizes), an input of random length and batch (batched or
not), an optional initial state and random upstream gradients. The NumPy model is built with its
own generator; its ``state_dict`` is loaded into the torch twin. Then, in float64:

* forward: output and final state(s) agree to 1e-10;
* backward: NumPy's hand-derived BPTT (``backward`` → ``dx``, ``dh0`` [, ``dc0``], ``.grads``)
  agrees with torch autograd on the same upstream gradients to 1e-10.

``derandomize=True`` with a fixed ``max_examples`` makes the run the same every time (CI), and
``database=None`` leaves no ``.hypothesis`` directory behind.
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gru_lib.numpy as gn
import gru_lib.torch as gt

TOL = 1e-10
KINDS = ["rnn_tanh", "rnn_relu", "gru", "gru_reset_before", "lstm"]


def build(kind, D, H, L, bias, batch_first, bidirectional, seed):
    common = dict(num_layers=L, bias=bias, batch_first=batch_first, bidirectional=bidirectional)
    if kind.startswith("rnn"):
        extra = {"nonlinearity": kind[4:]}
        np_model, t_model = gn.RNN, gt.RNN
    elif kind.startswith("gru"):
        extra = {"reset_after": kind == "gru"}
        np_model, t_model = gn.GRU, gt.GRU
    else:
        extra, np_model, t_model = {}, gn.LSTM, gt.LSTM
    a = np_model(D, H, **common, **extra, dtype=np.float64, rng=seed)
    b = t_model(D, H, **common, **extra, dtype=torch.float64)
    b.load_state_dict(a.state_dict())
    return a, b


@st.composite
def configs(draw):
    return dict(
        kind=draw(st.sampled_from(KINDS)),
        L=draw(st.integers(1, 3)),
        bidirectional=draw(st.booleans()),
        batch_first=draw(st.booleans()),
        bias=draw(st.booleans()),
        batched=draw(st.booleans()),
        with_state=draw(st.booleans()),
        upstream_state=draw(st.booleans()),
        T=draw(st.integers(1, 6)),
        B=draw(st.integers(1, 4)),
        D=draw(st.integers(1, 5)),
        H=draw(st.integers(1, 5)),
        seed=draw(st.integers(0, 2**16)),
    )


def _max_abs(a, b):
    a = a.detach().numpy() if isinstance(a, torch.Tensor) else a
    b = b.detach().numpy() if isinstance(b, torch.Tensor) else b
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.abs(a - b).max())


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_numpy_and_torch_agree(c):
    lstm = c["kind"] == "lstm"
    np_model, t_model = build(c["kind"], c["D"], c["H"], c["L"], c["bias"], c["batch_first"],
                              c["bidirectional"], c["seed"])
    rng = np.random.default_rng(c["seed"] + 1)
    T, B, D, H = c["T"], c["B"], c["D"], c["H"]
    n_states = c["L"] * (2 if c["bidirectional"] else 1)
    if c["batched"]:
        x = rng.normal(size=(B, T, D) if c["batch_first"] else (T, B, D))
        s_shape = (n_states, B, H)
    else:
        x, s_shape = rng.normal(size=(T, D)), (n_states, H)
    k = 2 if lstm else 1
    states = [rng.normal(size=s_shape) if c["with_state"] else np.zeros(s_shape)
              for _ in range(k)]

    # ---- forward
    np_hx = None
    if c["with_state"]:
        np_hx = tuple(states) if lstm else states[0]
    np_out, np_fin = np_model(x, np_hx)
    np_fin = list(np_fin) if lstm else [np_fin]

    xt = torch.from_numpy(x.copy()).requires_grad_()
    st_t = [torch.from_numpy(s.copy()).requires_grad_() for s in states]  # zeros == None
    t_out, t_fin = t_model(xt, tuple(st_t) if lstm else st_t[0])
    t_fin = list(t_fin) if lstm else [t_fin]

    worst = max(_max_abs(a, b) for a, b in zip([np_out, *np_fin], [t_out, *t_fin], strict=True))
    assert worst <= TOL, f"forward max |Δ| = {worst}"

    # ---- backward: the same upstream gradients
    d_out = rng.normal(size=np_out.shape)
    d_fin = [rng.normal(size=f.shape) if c["upstream_state"] else None for f in np_fin]
    if lstm:
        dx, (dh0, dc0) = np_model.backward(d_out, tuple(d_fin))
        d_states = [dh0, dc0]
    else:
        dx, dh0 = np_model.backward(d_out, d_fin[0])
        d_states = [dh0]
    outs = [t_out, *(f for f, d in zip(t_fin, d_fin, strict=True) if d is not None)]
    ups = [torch.from_numpy(d_out), *(torch.from_numpy(d) for d in d_fin if d is not None)]
    names = [n for n, _ in t_model.named_parameters()]
    grads = torch.autograd.grad(outs, [xt, *st_t, *t_model.parameters()], ups)
    t_dx, t_ds, t_dp = grads[0], grads[1:1 + k], grads[1 + k:]

    assert list(np_model.grads) == names
    pairs = [(dx, t_dx), *zip(d_states, t_ds, strict=True),
             *((np_model.grads[n], g) for n, g in zip(names, t_dp, strict=True))]
    worst = max(_max_abs(a, b) for a, b in pairs)
    assert worst <= TOL, f"gradient max |Δ| = {worst}"
