"""gru_lib.ensemble: N models in one batched run == N separate runs of gru_lib.train.train.

The requirement of issue 11: losses at every step and final weights agree to 1e-10 in float64,
for every cell (RNN, LSTM, GRU, minGRU with one and two layers), with per-member learning
rates, seeds and initialisations, and global-norm clipping that actually clips.
"""

import numpy as np
import pytest
import torch

from gru_lib.ensemble import Ensemble, Member, build_member, make_task, run_single, train_ensemble
from gru_lib.train import make_model

TOL = 1e-10
STEPS, B, H = 30, 4, 6

CASES = [  # cell, layers, task, T, inits (cycled over the members)
    ("RNN", 1, "adding", 10, ("default", "orthogonal")),
    ("LSTM", 1, "copy", 5, ("default", "chrono", "orthogonal")),
    ("GRU", 1, "selective", 8, ("chrono", "orthogonal", "default")),
    ("minGRU", 1, "adding", 10, ("default", "chrono")),
    ("minGRU", 2, "copy", 5, ("chrono", "default")),
    ("GRU", 1, "reber", 30, ("default",)),
]


def _members(cell, inits):
    out = []
    for k, (seed, lr) in enumerate([(0, 1e-2), (1, 3e-2), (7, 3e-3)]):
        fb = 1.0 if cell == "LSTM" and k == 0 else None
        out.append(Member(seed=seed, lr=lr, init=inits[k % len(inits)], forget_bias=fb))
    return out


@pytest.mark.parametrize(("cell", "layers", "task_name", "T", "inits"), CASES,
                         ids=[f"{c[0]}x{c[1]}-{c[2]}" for c in CASES])
def test_ensemble_equals_separate_runs(cell, layers, task_name, T, inits):
    task = make_task(task_name, T)
    members = _members(cell, inits)
    ens = Ensemble.build(cell, task, H, members, num_layers=layers, dtype=torch.float64)
    hist = train_ensemble(ens, task, STEPS, batch_size=B, clip=0.5)
    finals = ens.state_dicts()
    clipped = False
    for k, m in enumerate(members):
        model, ref = run_single(cell, task, H, m, STEPS, batch_size=B, clip=0.5,
                                num_layers=layers, dtype=torch.float64)
        np.testing.assert_allclose(hist["loss"][:, k], ref["loss"], rtol=0, atol=TOL)
        np.testing.assert_allclose(hist["grad_norm"][:, k], ref["grad_norm"], rtol=TOL, atol=TOL)
        for name, w in model.state_dict().items():
            assert (finals[k][name] - w).abs().max().item() <= TOL, name
        clipped |= max(ref["grad_norm"]) > 0.5
    assert clipped, "the test should exercise clipping"


def test_members_differ_and_start_from_their_seed():
    task = make_task("adding", 10)
    members = [Member(0, 1e-2), Member(1, 1e-2), Member(0, 1e-2, init="orthogonal")]
    ens = Ensemble.build("RNN", task, H, members)
    sd = ens.state_dicts()
    ref = build_member("RNN", 2, H, 1, readout="last", seed=0).state_dict()
    assert all(torch.equal(sd[0][k], ref[k]) for k in ref)
    assert not torch.equal(sd[0]["core.weight_hh_l0"], sd[1]["core.weight_hh_l0"])
    W = sd[2]["core.weight_hh_l0"].double()
    torch.testing.assert_close(W @ W.T, torch.eye(H, dtype=torch.float64), atol=1e-5, rtol=0)


def test_chrono_and_forget_bias():
    task = make_task("adding", 50)
    lstm = Ensemble.build("LSTM", task, H, [Member(0, 1e-2, init="chrono"),
                                            Member(0, 1e-2, forget_bias=1.0)]).state_dicts()
    b_f = lstm[0]["core.bias_ih_l0"][H:2 * H]
    assert torch.all((b_f >= 0) & (b_f <= np.log(49) + 1e-6))
    torch.testing.assert_close(lstm[0]["core.bias_ih_l0"][:H], -b_f)
    assert torch.all(lstm[1]["core.bias_ih_l0"][H:2 * H] == 1.0)
    assert torch.all(lstm[1]["core.bias_hh_l0"][H:2 * H] == 0.0)
    mg = Ensemble.build("minGRU", task, H, [Member(0, 1e-2, init="chrono")]).state_dicts()[0]
    assert torch.all(mg["core.bias_ih_l0"][:H] <= 0)   # z writes: a small write rate


def test_freeze_solved_drops_members_and_keeps_their_weights():
    task = make_task("adding", 6)
    members = [Member(s, 3e-2) for s in range(4)]
    ens = Ensemble.build("GRU", task, 8, members)
    val = task.batch(np.random.default_rng(123), 64)
    hist = train_ensemble(ens, task, 60, batch_size=16, eval_data=val, eval_every=10,
                          solved=lambda m: np.arange(len(m)) == 0, freeze_solved=True)
    # the member in position 0 of the live set is frozen at every evaluation
    assert np.sum(~np.isnan(hist["time_to_solve"])) >= 4
    assert hist["steps_run"] <= 40
    assert len(ens.state_dicts()) == 4


BAD = [
    (lambda t: Ensemble.build("transformer", t, 4, [Member(0, 1e-2)]), "unknown cell"),
    (lambda t: Ensemble.build("GRU", t, 4, []), "non-empty"),
    (lambda t: Ensemble.build("GRU", t, 4, [Member(0, 0.0)]), "positive"),
    (lambda t: Ensemble.build("GRU", t, 4, [Member(0, -1e-3)]), "positive"),
    (lambda t: Ensemble.build("GRU", t, 4, [Member(0, float("nan"))]), "positive"),
    (lambda t: Ensemble.build("RNN", t, 4, [Member(0, 1e-2, init="chrono")]), "chrono"),
    (lambda t: Ensemble.build("minGRU", t, 4, [Member(0, 1e-2, init="orthogonal")]), "W_hh"),
    (lambda t: Ensemble.build("GRU", t, 4, [Member(0, 1e-2, forget_bias=1.0)]), "LSTM only"),
    (lambda t: Ensemble.build("GRU", t, 4, [Member(0, 1e-2, init="xavier")]), "unknown init"),
    (lambda t: Ensemble.from_models([make_model("GRU", 2, 4, 1, readout="last"),
                                     make_model("GRU", 2, 5, 1, readout="last")], "GRU",
                                    [1e-2, 1e-2]), "does not match model 0"),
    (lambda t: Ensemble.from_models([make_model("GRU", 2, 4, 1)], "GRU", [1e-2, 1e-2]),
     "one learning rate per model"),
    (lambda t: Ensemble.build("GRU", t, 4, [Member(0, 1e-2)])(torch.zeros(5, 3, 7)),
     r"expected x of shape \(L, 1, B, 2\) or \(L, B, 2\), got \(5, 3, 7\)"),
    (lambda t: train_ensemble(Ensemble.build("GRU", t, 4, [Member(0, 1e-2)]), t, -1,
                              batch_size=2), "steps"),
    (lambda t: make_task("adding", 1), "T must be"),
    (lambda t: make_task("parity", 10), "task must be one of"),
]


@pytest.mark.parametrize(("make", "match"), BAD, ids=[m for _, m in BAD])
def test_bad_input_raises_clear_value_error(make, match):
    with pytest.raises(ValueError, match=match):
        make(make_task("adding", 6))


def test_mismatch_message_names_expected_and_actual_shapes():
    with pytest.raises(ValueError) as info:
        Ensemble.from_models([make_model("GRU", 2, 4, 1), make_model("GRU", 2, 5, 1)], "GRU",
                             [1e-2, 1e-2])
    msg = str(info.value)
    assert "core.weight_hh_l0" in msg and "(12, 4)" in msg and "(15, 5)" in msg
