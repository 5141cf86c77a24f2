"""Tests of gru_lib.train: models, parameter budgets, and the training loop."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gru_lib import tasks
from gru_lib.train import (
    CELLS,
    SequenceModel,
    as_tensor,
    count_parameters,
    hidden_size_for_budget,
    make_core,
    make_model,
    train,
)
from gru_lib.train import _model_size as model_size


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("kw", [dict(), dict(num_embeddings=11), dict(num_layers=2)])
def test_size_formula_matches_count(cell, kw):
    model = make_model(cell, 5, 7, 3, **kw)
    assert count_parameters(model) == model_size(cell, 5, 7, 3, kw.get("num_embeddings"),
                                                 kw.get("num_layers", 1))


@pytest.mark.parametrize("budget", [500, 3000, 20000])
def test_budget_matching_within_ten_percent(budget):
    sizes = {}
    for cell in CELLS:
        H = hidden_size_for_budget(cell, budget, 2, 1)
        sizes[cell] = count_parameters(make_model(cell, 2, H, 1))
        # no other hidden size is closer to the budget
        for other in (H - 1, H + 1):
            if other >= 1:
                n = count_parameters(make_model(cell, 2, other, 1))
                assert abs(n - budget) >= abs(sizes[cell] - budget)
    assert max(sizes.values()) / min(sizes.values()) < 1.10


def test_sequence_model_shapes():
    T, B = 6, 4
    x = torch.randn(T, B, 3)
    for cell in CELLS:
        y, h = make_model(cell, 3, 8, 5)(x)
        assert y.shape == (T, B, 5)
        y_last, _ = make_model(cell, 3, 8, 2, readout="last")(x)
        assert y_last.shape == (B, 2)
        if cell == "LSTM":
            assert isinstance(h, tuple) and h[0].shape == h[1].shape == (1, B, 8)
        else:
            assert h.shape == (1, B, 8)
    tokens = torch.randint(0, 10, (T, B))
    y, _ = make_model("GRU", 4, 8, 10, num_embeddings=10)(tokens)
    assert y.shape == (T, B, 10)


def test_state_is_carried():
    """Feeding a sequence in two halves with the state carried equals feeding it whole."""
    torch.manual_seed(0)
    model = make_model("LSTM", 3, 6, 2)
    x = torch.randn(10, 2, 3)
    y_full, _ = model(x)
    y1, h = model(x[:5])
    y2, _ = model(x[5:], h)
    torch.testing.assert_close(torch.cat([y1, y2]), y_full)


def test_bad_arguments():
    with pytest.raises(ValueError, match="cell"):
        make_core("transformer", 2, 4)
    with pytest.raises(ValueError, match="backend"):
        make_core("GRU", 2, 4, backend="jax")
    with pytest.raises(ValueError, match="readout"):
        SequenceModel(torch.nn.GRU(2, 4), 1, readout="first")
    with pytest.raises(ValueError, match="steps"):
        train(make_model("GRU", 2, 4, 1), lambda s: None, lambda m, b: None, -1)


def test_gru_lib_backend_matches_torch_nn():
    gt = pytest.importorskip("gru_lib.torch")
    if not hasattr(gt, "GRU"):
        pytest.skip("gru_lib.torch.GRU not available yet")
    torch.manual_seed(0)
    ref = make_model("GRU", 3, 5, 2)
    ours = make_model("GRU", 3, 5, 2, backend="gru_lib")
    ours.load_state_dict(ref.state_dict())
    x = torch.randn(7, 2, 3)
    torch.testing.assert_close(ours(x)[0], ref(x)[0])


def _regression_setup(seed, clip=1.0, steps=60, eval_every=None):
    """Predict the running mean of the inputs: learnable in a few dozen steps."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = make_model("GRU", 1, 8, 1)

    def data_fn(step):
        x = rng.normal(size=(10, 16, 1)).astype(np.float32)
        y = np.cumsum(x, axis=0) / np.arange(1, 11)[:, None, None]
        return as_tensor(x), as_tensor(y.astype(np.float32))

    def loss_fn(m, batch):
        return F.mse_loss(m(batch[0])[0], batch[1])

    x_eval, y_eval = data_fn(0)
    hist = train(model, data_fn, loss_fn, steps, lr=1e-2, clip=clip,
                 eval_fn=lambda m: loss_fn(m, (x_eval, y_eval)).item(), eval_every=eval_every)
    return model, hist


def test_loss_decreases():
    _, hist = _regression_setup(0)
    first, last = np.mean(hist["loss"][:10]), np.mean(hist["loss"][-10:])
    assert last < 0.5 * first


def test_history_fields():
    _, hist = _regression_setup(0, steps=25, eval_every=10)
    assert set(hist) == {"step", "loss", "grad_norm", "eval_step", "eval"}
    assert hist["step"] == list(range(1, 26))
    assert len(hist["loss"]) == len(hist["grad_norm"]) == 25
    assert hist["eval_step"] == [10, 20, 25]  # every 10 steps, and after the last
    assert all(isinstance(v, float) and v > 0 for v in hist["eval"])


def test_deterministic_given_seed():
    m1, h1 = _regression_setup(3, steps=10)
    m2, h2 = _regression_setup(3, steps=10)
    assert h1["loss"] == h2["loss"] and h1["eval"] == h2["eval"]
    for p1, p2 in zip(m1.parameters(), m2.parameters(), strict=True):
        torch.testing.assert_close(p1, p2, rtol=0, atol=0)
    _, h3 = _regression_setup(4, steps=10)
    assert h3["loss"] != h1["loss"]


def test_clipping_bounds_the_update():
    """grad_norm is recorded before clipping; clipping changes the trajectory only if it bites."""
    _, loose = _regression_setup(0, clip=None, steps=5)
    _, tight = _regression_setup(0, clip=1e-3, steps=5)
    assert loose["grad_norm"][0] == pytest.approx(tight["grad_norm"][0])  # same first gradient
    assert loose["grad_norm"][0] > 1e-3
    assert loose["loss"][1:] != tight["loss"][1:]


def test_clipping_is_global_norm():
    model = make_model("RNN", 2, 3, 1)
    for p in model.parameters():
        p.grad = torch.ones_like(p)
    total = torch.nn.utils.clip_grad_norm_(list(model.parameters()), 1.0)
    assert float(total) == pytest.approx(np.sqrt(count_parameters(model)))
    norm = torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters()))
    assert float(norm) == pytest.approx(1.0, rel=1e-5)


def test_trains_on_a_task_from_gru_lib_tasks():
    """Integration: an LSTM learns the adding problem at T = 6 well below the baseline."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    model = make_model("LSTM", 2, 16, 1, readout="last")

    def data_fn(step):
        x, y = tasks.adding_problem(rng, 32, 6)
        return as_tensor(x), as_tensor(y)

    def loss_fn(m, batch):
        return F.mse_loss(m(batch[0])[0].squeeze(-1), batch[1])

    x, y = data_fn(0)
    hist = train(model, data_fn, loss_fn, 150, lr=2e-2,
                 eval_fn=lambda m: loss_fn(m, (x, y)).item())
    assert hist["eval"][-1] < 0.25 * tasks.adding_baseline()


def test_make_core_builds_mingru_and_counts_its_parameters():
    from gru_lib.torch import MinGRU

    for layers in (1, 2):
        core = make_core("minGRU", 3, 5, num_layers=layers)
        assert isinstance(core, MinGRU)
        model = make_model("mingru", 3, 5, 2, num_layers=layers, readout="last")
        assert count_parameters(model) == model_size("minGRU", 3, 5, 2, None, layers)
    H = hidden_size_for_budget("minGRU", 2000, 2, 1, num_layers=2)
    assert abs(model_size("minGRU", 2, H, 1, None, 2) - 2000) < 2 * (2 * H + 2)
