"""gru_lib.ensemble.optim: per-model clipping and Adam equal torch's, model by model."""

import pytest
import torch

from gru_lib.ensemble import adam_state, adam_step_per_model_, clip_grad_norm_per_model_


def _separate_runs(init, grads_seq, lrs, max_norm):
    """Each model alone: torch.nn.utils.clip_grad_norm_ then torch.optim.Adam."""
    out, norms = [], []
    for k, lr in enumerate(lrs):
        ps = [torch.nn.Parameter(p[k].clone()) for p in init]
        opt = torch.optim.Adam(ps, lr=lr)
        for grads in grads_seq:
            for p, g in zip(ps, grads, strict=True):
                p.grad = g[k].clone()
            norms.append(float(torch.nn.utils.clip_grad_norm_(ps, max_norm)))
            opt.step()
        out.append([p.detach() for p in ps])
    return out, norms


def test_stacked_steps_equal_separate_torch_runs():
    gen = torch.Generator().manual_seed(0)
    N, lrs = 3, [1e-3, 1e-2, 3e-2]
    init = [torch.randn(N, 4, 5, generator=gen, dtype=torch.float64),
            torch.randn(N, 5, generator=gen, dtype=torch.float64)]
    # gradients of very different sizes: some steps clip, some do not
    grads_seq = [[s * torch.randn(N, 4, 5, generator=gen, dtype=torch.float64),
                  s * torch.randn(N, 5, generator=gen, dtype=torch.float64)]
                 for s in (0.05, 3.0, 0.2, 10.0, 0.01)]
    params = [p.clone() for p in init]
    state = adam_state(params)
    norms = []
    for step, grads in enumerate(grads_seq, start=1):
        grads = [g.clone() for g in grads]
        norms.append(clip_grad_norm_per_model_(grads, 1.0))
        adam_step_per_model_(params, grads, state, torch.tensor(lrs, dtype=torch.float64), step)
    ref, ref_norms = _separate_runs(init, grads_seq, lrs, 1.0)
    for k in range(N):
        for p, r in zip(params, ref[k], strict=True):
            torch.testing.assert_close(p[k], r, rtol=0, atol=1e-12)
    torch.testing.assert_close(torch.stack(norms).T.flatten(),
                               torch.tensor(ref_norms, dtype=torch.float64), rtol=1e-12, atol=0)


def test_clip_none_measures_without_changing():
    g = [torch.full((2, 3), 2.0)]
    norms = clip_grad_norm_per_model_(g, None)
    torch.testing.assert_close(norms, torch.full((2,), 2.0 * 3 ** 0.5))
    assert bool((g[0] == 2.0).all())


@pytest.mark.parametrize("call, match", [
    (lambda: clip_grad_norm_per_model_([], 1.0), "non-empty list"),
    (lambda: clip_grad_norm_per_model_([torch.zeros(2, 3), torch.zeros(3, 3)], 1.0),
     "2 models along its first axis"),
    (lambda: clip_grad_norm_per_model_([torch.zeros(2, 3)], -1.0),
     "max_norm must be a positive number"),
    (lambda: clip_grad_norm_per_model_(torch.zeros(2, 3), 1.0), "non-empty list"),
    (lambda: adam_step_per_model_([torch.zeros(2, 3)], [torch.zeros(2, 4)],
                                  adam_state([torch.zeros(2, 3)]), torch.ones(2), 1), "shape"),
    (lambda: adam_step_per_model_([torch.zeros(2, 3)], [torch.zeros(2, 3)],
                                  adam_state([torch.zeros(2, 3)]), torch.ones(3), 1),
     r"lrs must be a tensor of shape \(2,\), got \(3,\)"),
    (lambda: adam_step_per_model_([torch.zeros(2, 3)], [torch.zeros(2, 3)],
                                  adam_state([torch.zeros(2, 3)]), torch.tensor([1.0, 0.0]), 1),
     "positive"),
    (lambda: adam_step_per_model_([torch.zeros(2, 3)], [torch.zeros(2, 3)],
                                  adam_state([torch.zeros(2, 3)]), torch.ones(2), 0), "step"),
    (lambda: adam_step_per_model_([torch.zeros(2, 3)], [torch.zeros(2, 3)], [],
                                  torch.ones(2), 1), "moment pairs"),
])
def test_bad_input(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()
