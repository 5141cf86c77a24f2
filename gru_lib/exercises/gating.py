"""Checker for the coding exercise of chapter {ref}`ch-gating`: one step of the gated integrator.

- :func:`check_gated_step`: ``fn(x, h, p) -> h_next``, equation ``eq-ch05-gated`` for a batch of
  row vectors,

      z  = σ(x W_iz^T + h W_hz^T + b_z),
      ñ  = tanh(x W_in^T + h W_hn^T + b_n),
      h' = z ⊙ h + (1 − z) ⊙ ñ,

  with ``x`` (B, D), ``h`` (B, H) and ``p`` a dict of NumPy arrays with the chapter's names:
  ``W_iz``, ``W_in`` (H, D), ``W_hz``, ``W_hn`` (H, H), ``b_z``, ``b_n`` (H,). It is the chapter's
  ``gated_step`` (written there for one column vector, in torch) for a batch, in NumPy: the GRU of
  chapter 7 without its reset gate. ``z`` is the fraction of the OLD state that is kept, as in
  ``torch.nn.GRU``.

Float32 policy: accepted, with a float32 tolerance (the exercise is about the formula).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gru_lib.exercises._core import CheckResult, Mistake, run_check
from gru_lib.exercises._progress import checked
from gru_lib.numpy.functional import sigmoid

__all__ = ["GATED_STEP_MISTAKES", "check_gated_step", "gated_step_reference"]

_B, _D, _H = 4, 3, 5


def _make_inputs(rng: np.random.Generator) -> tuple:
    """Random (x, h, p) with pre-activations of order 1, so that neither σ nor tanh saturates."""
    p = {"W_iz": rng.normal(scale=0.7, size=(_H, _D)), "W_hz": rng.normal(scale=0.7, size=(_H, _H)),
         "b_z": rng.normal(scale=0.5, size=_H),
         "W_in": rng.normal(scale=0.7, size=(_H, _D)), "W_hn": rng.normal(scale=0.7, size=(_H, _H)),
         "b_n": rng.normal(scale=0.5, size=_H)}
    return rng.normal(size=(_B, _D)), rng.uniform(-0.9, 0.9, size=(_B, _H)), p


def _gated(x, h, p, *, swap_z=False, gate_act=sigmoid, cand_act=np.tanh, h_in_gate=True,
           h_in_cand=True, t_hz=True, t_hn=True, keep="convex", swap_weights=False,
           column=False):
    """eq-ch05-gated with a switch for each known mistake; the defaults are the right step."""
    Wz, Wn = (p["W_in"], p["W_iz"]) if swap_weights else (p["W_iz"], p["W_in"])
    Uz, Un = (p["W_hn"], p["W_hz"]) if swap_weights else (p["W_hz"], p["W_hn"])
    bz, bn = (p["b_n"], p["b_z"]) if swap_weights else (p["b_z"], p["b_n"])
    z = gate_act(x @ Wz.T + bz + (h @ (Uz.T if t_hz else Uz) if h_in_gate else 0.0))
    n = cand_act(x @ Wn.T + bn + (h @ (Un.T if t_hn else Un) if h_in_cand else 0.0))
    if swap_z:
        z = 1.0 - z
    if keep == "convex":
        out = z * h + (1.0 - z) * n
    elif keep == "additive":      # h + (1 - z) n: the old state is never reduced
        out = h + (1.0 - z) * n
    else:                         # z h + n: the candidate is never reduced
        out = z * h + n
    return out.T if column else out


def gated_step_reference(x, h, p):
    """One step of eq-ch05-gated for row-vector batches: ``z * h + (1 - z) * tanh(...)``."""
    return _gated(x, h, p)


GATED_STEP_MISTAKES: tuple[Mistake, ...] = (
    Mistake("swap_z", "the roles of z and 1 - z are swapped: in eq-ch05-gated z is the fraction of "
            "the OLD state that is kept, h' = z * h + (1 - z) * ñ (the convention of "
            "torch.nn.GRU); you wrote (1 - z) * h + z * ñ",
            lambda x, h, p: _gated(x, h, p, swap_z=True)),
    Mistake("tanh_gate", "the gate uses tanh: a gate is a fraction in (0, 1) and uses the "
            "sigmoid; with tanh it can be negative and flip the sign of the state",
            lambda x, h, p: _gated(x, h, p, gate_act=np.tanh)),
    Mistake("sigmoid_candidate", "the candidate uses the sigmoid: it is the new value written "
            "into the state and uses tanh, range (-1, 1), so the state can move down as well as up",
            lambda x, h, p: _gated(x, h, p, cand_act=sigmoid)),
    Mistake("no_h_in_gate", "the gate ignores the state: z = σ(x W_iz^T + h W_hz^T + b_z), the "
            "decision to keep or overwrite depends on what is stored",
            lambda x, h, p: _gated(x, h, p, h_in_gate=False)),
    Mistake("no_h_in_candidate", "the candidate ignores the state: ñ = tanh(x W_in^T + "
            "h W_hn^T + b_n); without h W_hn^T it is a function of the input alone (that is "
            "minGRU's candidate, chapter 14, not this cell's)",
            lambda x, h, p: _gated(x, h, p, h_in_cand=False)),
    Mistake("transposed_W_hz", "W_hz is used transposed: with row-vector batches the product is "
            "h @ W_hz.T (W_hz[i, j] is the weight from old unit j to gate unit i); W_hz is square, "
            "so no shape error warns you", lambda x, h, p: _gated(x, h, p, t_hz=False)),
    Mistake("transposed_W_hn", "W_hn is used transposed: with row-vector batches the product is "
            "h @ W_hn.T; W_hn is square, so no shape error warns you",
            lambda x, h, p: _gated(x, h, p, t_hn=False)),
    Mistake("transposed_both", "W_hz and W_hn are both used transposed: with row-vector batches "
            "the products are h @ W_hz.T and h @ W_hn.T",
            lambda x, h, p: _gated(x, h, p, t_hz=False, t_hn=False)),
    Mistake("additive", "the old state is never reduced: h' = z * h + (1 - z) * ñ is a convex "
            "combination (the weights sum to one); h + (1 - z) * ñ can grow without bound",
            lambda x, h, p: _gated(x, h, p, keep="additive")),
    Mistake("candidate_not_gated", "the candidate is added in full: it enters multiplied by "
            "1 - z, h' = z * h + (1 - z) * ñ, so that keeping (z = 1) means writing nothing",
            lambda x, h, p: _gated(x, h, p, keep="no_1_minus_z")),
    Mistake("swapped_weights", "the gate's and the candidate's parameters are swapped: z uses "
            "W_iz, W_hz, b_z and the candidate W_in, W_hn, b_n",
            lambda x, h, p: _gated(x, h, p, swap_weights=True)),
    Mistake("column_layout", "the result is transposed, shape (H, B): the numbers are right for "
            "column vectors (as in the chapter's gated_step), but a batch is kept as rows here, "
            "so h_next has shape (B, H), like h",
            lambda x, h, p: _gated(x, h, p, column=True)),
)


@checked("ex-ch05-gated")
def check_gated_step(fn: Callable) -> CheckResult:
    """Check a reader's gated integrator step, ``fn(x, h, p) -> h_next`` (eq-ch05-gated).

    ``x`` (B, D), ``h`` (B, H), ``p`` a dict with ``W_iz``, ``W_in`` (H, D), ``W_hz``, ``W_hn``
    (H, H), ``b_z``, ``b_n`` (H,); ``h_next`` (B, H). Names the mistake when it recognises one
    (z and 1 - z swapped, tanh and sigmoid confused, the state left out of the gate or of the
    candidate, a transposed square weight, a non-convex update, the two parameter sets swapped, a
    result in column layout).
    """
    return run_check("gated integrator step", fn, gated_step_reference, _make_inputs,
                     ("h_next",), GATED_STEP_MISTAKES)
