"""Checkers for the GRU exercises of chapters 7 to 9 ({ref}`ch-gru`, {ref}`ch-numpy-to-pytorch`,
{ref}`ch-deep-bidirectional`).

Chapter 7 has two exercises, both in PyTorch's convention (gate blocks stacked ``r|z|n``, the
reset gate applied *after* the recurrent matrix product, ``h' = (1 - z) * n + z * h``; equations
``eq-ch07-r`` to ``eq-ch07-h`` of the chapter):

- :func:`check_gru_step`: the forward step ``fn(x, h, W_ih, W_hh, b_ih, b_hh) -> h_next``;
- :func:`check_gru_step_backward`: the backward step
  ``fn(dh_next, x, h, W_ih, W_hh, b_ih, b_hh) -> (dx, dh, dW_ih, dW_hh, db_ih, db_hh)``. It takes
  the step's inputs rather than a cache, so the reader recomputes the forward quantities they need
  and no cache format has to be agreed on.

Chapter 8 adds :func:`check_gru_sequence` (a whole sequence, torch.nn.GRU's outputs); chapter 9's
:func:`check_bidirectional_summary` lives in :mod:`gru_lib.exercises.bidirectional` and is
re-exported here, where the chapter imports it. Float32 policy: accepted, with a float32 tolerance.

Shapes (row-major batches, as in the rest of the library): ``x`` (B, D), ``h`` (B, H), ``W_ih``
(3H, D), ``W_hh`` (3H, H), ``b_ih`` and ``b_hh`` (3H,).

Each known mistake below is a complete wrong implementation, built from one parametrised forward
(:func:`_forward`) and one parametrised backward (:func:`_backward`), so that a mistake differs
from the reference in exactly the one place its message names.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import permutations

import numpy as np

from gru_lib.exercises._core import CheckResult, Layout, Mistake, cycle_lengths, run_check
from gru_lib.exercises._progress import checked
from gru_lib.exercises.bidirectional import check_bidirectional_summary  # ch. 9 imports it here
from gru_lib.numpy.functional import sigmoid

__all__ = [
    "check_bidirectional_summary",
    "check_gru_sequence",
    "check_gru_step",
    "check_gru_step_backward",
]

# Sizes of the random test problems: D != 3H and H != 3H so that a transposed weight gradient has
# a different shape from the right one, and a batch B > 1 so that bias gradients must be summed.
_B, _D, _H = 4, 5, 3



def _make_forward_inputs(rng: np.random.Generator) -> tuple:
    """Random (x, h, W_ih, W_hh, b_ih, b_hh), large enough that every mistake shows."""
    x = rng.normal(size=(_B, _D))
    h = rng.uniform(-0.9, 0.9, size=(_B, _H))
    W_ih = rng.normal(scale=0.8, size=(3 * _H, _D))
    W_hh = rng.normal(scale=0.8, size=(3 * _H, _H))
    b_ih = rng.normal(scale=0.8, size=3 * _H)
    b_hh = rng.normal(scale=0.8, size=3 * _H)
    return x, h, W_ih, W_hh, b_ih, b_hh


def _make_backward_inputs(rng: np.random.Generator) -> tuple:
    dh_next = rng.normal(size=(_B, _H))
    return (dh_next, *_make_forward_inputs(rng))


def _forward(x, h, W_ih, W_hh, b_ih, b_hh, *, order: str = "rzn", reset_after: bool = True,
             swap_z: bool = False, bhn_outside: bool = False, use_b_ih: bool = True,
             use_b_hh: bool = True, swap_act: bool = False) -> tuple[np.ndarray, dict]:
    """One GRU step with switches for each known mistake; the defaults are PyTorch's GRU.

    ``order`` says how the reader *read* the three stacked blocks (PyTorch stacks ``r|z|n``).
    Returns ``h_next`` and the intermediate values the backward needs.
    """
    H = h.shape[1]
    gi = x @ W_ih.T + (b_ih if (use_b_ih and b_ih is not None) else 0.0)
    blocks_i = {g: gi[:, k * H:(k + 1) * H] for k, g in enumerate(order)}
    Whh = {g: W_hh[k * H:(k + 1) * H] for k, g in enumerate(order)}
    bhh = {g: (b_hh[k * H:(k + 1) * H] if (use_b_hh and b_hh is not None) else 0.0)
           for k, g in enumerate(order)}
    gate, cand = (np.tanh, sigmoid) if swap_act else (sigmoid, np.tanh)
    r = gate(blocks_i["r"] + h @ Whh["r"].T + bhh["r"])
    z = gate(blocks_i["z"] + h @ Whh["z"].T + bhh["z"])
    if reset_after:
        hn = h @ Whh["n"].T + (0.0 if bhn_outside else bhh["n"])
        a_n = blocks_i["n"] + r * hn + (bhh["n"] if bhn_outside else 0.0)
    else:  # Cho et al. (2014): the reset gate scales h before the product
        hn = h @ Whh["n"].T + bhh["n"]  # kept only for symmetry; not used below
        a_n = blocks_i["n"] + (r * h) @ Whh["n"].T + bhh["n"]
    n = cand(a_n)
    h_next = z * n + (1.0 - z) * h if swap_z else (1.0 - z) * n + z * h
    return h_next, {"r": r, "z": z, "n": n, "hn": hn}


def _reference_step(x, h, W_ih, W_hh, b_ih, b_hh):
    """The GRU step exactly as ``torch.nn.GRU`` computes it (PyTorch convention)."""
    return _forward(x, h, W_ih, W_hh, b_ih, b_hh)[0]


def _order_mistake(order: str) -> Mistake:
    shown = "|".join(order)
    return Mistake(
        name=f"gate_order_{order}",
        message=(f"the gate blocks are read in the order {shown}, but PyTorch stacks the rows of "
                 "W_ih, W_hh, b_ih and b_hh as r|z|n: rows 0..H-1 are the reset gate, H..2H-1 "
                 "the update gate, 2H..3H-1 the candidate"),
        fn=lambda *a, _o=order: _forward(*a, order=_o)[0],
    )


_STEP_MISTAKES: list[Mistake] = [
    Mistake(
        name="reset_before",
        message=("the reset gate is applied to h before the matrix product, "
                 "W_hn (r * h) + b_hn, which is Cho et al. (2014)'s convention (Keras "
                 "reset_after=False); this exercise asks for PyTorch's: r * (W_hn h + b_hn)"),
        fn=lambda *a: _forward(*a, reset_after=False)[0],
    ),
    Mistake(
        name="swap_z",
        message=("the roles of z and 1 - z are swapped: you wrote h' = z * n + (1 - z) * h "
                 "(Chung et al. 2014's convention), but in PyTorch z is the fraction of the OLD "
                 "state that is kept: h' = (1 - z) * n + z * h"),
        fn=lambda *a: _forward(*a, swap_z=True)[0],
    ),
    Mistake(
        name="bhn_outside_reset",
        message=("b_hn is added outside the reset gate: PyTorch puts the recurrent bias of the "
                 "candidate block inside the product with r, n = tanh(W_in x + b_in + "
                 "r * (W_hn h + b_hn)), so that r = 0 removes it too"),
        fn=lambda *a: _forward(*a, bhn_outside=True)[0],
    ),
    Mistake(
        name="no_bias",
        message="the biases b_ih and b_hh are missing: both are added, in every gate block",
        fn=lambda *a: _forward(*a, use_b_ih=False, use_b_hh=False)[0],
    ),
    Mistake(
        name="no_b_hh",
        message=("the recurrent bias b_hh is missing: PyTorch's GRU has two biases, b_ih and "
                 "b_hh, and adds both"),
        fn=lambda *a: _forward(*a, use_b_hh=False)[0],
    ),
    Mistake(
        name="no_b_ih",
        message=("the input bias b_ih is missing: PyTorch's GRU has two biases, b_ih and b_hh, "
                 "and adds both"),
        fn=lambda *a: _forward(*a, use_b_ih=False)[0],
    ),
    Mistake(
        name="swap_activations",
        message=("tanh and sigmoid are swapped: the gates r and z use the sigmoid (values in "
                 "(0, 1), a fraction to keep), the candidate n uses tanh (values in (-1, 1))"),
        fn=lambda *a: _forward(*a, swap_act=True)[0],
    ),
] + [_order_mistake("".join(p)) for p in permutations("rzn") if "".join(p) != "rzn"]


@checked("ex-ch07-4")
def check_gru_step(fn: Callable) -> CheckResult:
    """Check a reader's GRU forward step against PyTorch's convention.

    ``fn(x, h, W_ih, W_hh, b_ih, b_hh) -> h_next`` with ``x`` (B, D), ``h`` (B, H), ``W_ih``
    (3H, D), ``W_hh`` (3H, H), ``b_ih``, ``b_hh`` (3H,), gate blocks ``r|z|n``. Returns a
    :class:`~gru_lib.exercises._core.CheckResult` that names the mistake when it recognises one
    (reset before the product, z and 1 - z swapped, gate blocks in the wrong order, b_hn outside
    the reset gate, a missing bias, tanh and sigmoid swapped).
    """
    return run_check("GRU step (PyTorch convention)", fn, _reference_step,
                     _make_forward_inputs, ("h_next",), _STEP_MISTAKES,
                     layout=Layout(bias_args=("b_ih", "b_hh")))


def _backward(dh_next, x, h, W_ih, W_hh, b_ih, b_hh, *, direct_path: bool = True,
              r_in_hn: bool = True, dz_sign: float = 1.0, transpose_ih: bool = True,
              transpose_hh: bool = True, tanh_prime: bool = True) -> tuple:
    """Backward of one PyTorch-convention GRU step, with a switch for each known mistake.

    Lines in the reverse order of the forward (chapter 7, section on the backward pass).
    """
    _, c = _forward(x, h, W_ih, W_hh, b_ih, b_hh)
    r, z, n, hn = c["r"], c["z"], c["n"], c["hn"]
    # h' = (1 - z) * n + z * h
    dn = dh_next * (1.0 - z)
    dz = dz_sign * dh_next * (h - n)
    dh = dh_next * z if direct_path else np.zeros_like(h)
    # n = tanh(a_n),  a_n = i_n + r * hn,  hn = W_hn h + b_hn
    da_n = dn * (1.0 - n * n) if tanh_prime else dn
    dr = da_n * hn
    dhn = da_n * r if r_in_hn else da_n
    # z = sigmoid(a_z), r = sigmoid(a_r)
    da_z = dz * z * (1.0 - z)
    da_r = dr * r * (1.0 - r)
    # the pre-activations of the two products, blocks r|z|n
    dgi = np.concatenate([da_r, da_z, da_n], axis=1)
    dgh = np.concatenate([da_r, da_z, dhn], axis=1)
    dx = dgi @ W_ih
    dh = dh + dgh @ W_hh
    dW_ih = dgi.T @ x if transpose_ih else x.T @ dgi
    dW_hh = dgh.T @ h if transpose_hh else h.T @ dgh
    db_ih = dgi.sum(axis=0) if b_ih is not None else None
    db_hh = dgh.sum(axis=0) if b_hh is not None else None
    return dx, dh, dW_ih, dW_hh, db_ih, db_hh


_BACKWARD_LAYOUT = Layout(
    blocks={n: (0, "rzn") for n in ("dW_ih", "dW_hh", "db_ih", "db_hh")},
    bias_args=("b_ih", "b_hh"), sizes=lambda a: {"B": a[1].shape[0]})


def _reference_step_backward(dh_next, x, h, W_ih, W_hh, b_ih, b_hh):
    """The gradients of one PyTorch-convention GRU step, as autograd computes them."""
    return _backward(dh_next, x, h, W_ih, W_hh, b_ih, b_hh)


_TRANSPOSE_MESSAGE = ("a weight gradient is transposed: dW_ih must have W_ih's shape (3H, D), "
                      "which is dA^T x, not x^T dA (likewise dW_hh = dA_h^T h, shape (3H, H))")

_BACKWARD_MISTAKES: list[Mistake] = [
    Mistake(
        name="missing_direct_path",
        message=("dh is missing the direct path z * dh_next: h' = (1 - z) * n + z * h depends on "
                 "h directly, not only through the three matrix products"),
        fn=lambda *a: _backward(*a, direct_path=False),
    ),
    Mistake(
        name="missing_r_in_hn",
        message=("the gradient into the n-block of W_hh (and b_hn, and dh through it) forgets the "
                 "reset gate: W_hn h + b_hn enters the candidate multiplied by r, so its "
                 "gradient is r * dA_n, not dA_n"),
        fn=lambda *a: _backward(*a, r_in_hn=False),
    ),
    Mistake(
        name="dz_sign",
        message=("dz has the wrong sign: h' = (1 - z) * n + z * h gives dh'/dz = h - n, "
                 "so dz = dh_next * (h - n), not dh_next * (n - h)"),
        fn=lambda *a: _backward(*a, dz_sign=-1.0),
    ),
    Mistake(
        name="not_transposed",
        message=_TRANSPOSE_MESSAGE,
        fn=lambda *a: _backward(*a, transpose_ih=False, transpose_hh=False),
    ),
    Mistake(
        name="not_transposed_ih",
        message=_TRANSPOSE_MESSAGE,
        fn=lambda *a: _backward(*a, transpose_ih=False),
    ),
    Mistake(
        name="not_transposed_hh",
        message=_TRANSPOSE_MESSAGE,
        fn=lambda *a: _backward(*a, transpose_hh=False),
    ),
    Mistake(
        name="missing_tanh_prime",
        message=("the derivative of tanh is missing: n = tanh(a_n), so dA_n = dn * (1 - n**2)"),
        fn=lambda *a: _backward(*a, tanh_prime=False),
    ),
]


@checked("ex-ch07-5")
def check_gru_step_backward(fn: Callable) -> CheckResult:
    """Check a reader's GRU backward step (PyTorch convention).

    ``fn(dh_next, x, h, W_ih, W_hh, b_ih, b_hh) -> (dx, dh, dW_ih, dW_hh, db_ih, db_hh)``, where
    ``dh_next`` (B, H) is dL/dh' and every output has the shape of the matching input. The
    function recomputes the forward quantities it needs from its inputs (no cache). Names the
    mistake when it recognises one (missing direct path z * dh_next, missing r in the n-block of
    dW_hh, wrong sign of h - n in dz, transposed weight gradients, missing tanh derivative).
    """
    return run_check("GRU step backward (PyTorch convention)", fn, _reference_step_backward,
                     _make_backward_inputs, ("dx", "dh", "dW_ih", "dW_hh", "db_ih", "db_hh"),
                     _BACKWARD_MISTAKES, layout=_BACKWARD_LAYOUT)


# ---------------------------------------------------------------------------------------------
# Chapter 8: a whole sequence, with torch.nn.GRU's output layout

_T = 6


def _make_sequence_inputs(rng: np.random.Generator, T: int = _T) -> tuple:
    x, _, W_ih, W_hh, b_ih, b_hh = _make_forward_inputs(rng)
    xs = rng.normal(size=(T, *x.shape))
    h0 = rng.uniform(-0.9, 0.9, size=(1, _B, _H))
    return xs, h0, W_ih, W_hh, b_ih, b_hh


def _sequence(x, h0, W_ih, W_hh, b_ih, b_hh, *, shift: bool = False, carry: bool = True,
              first_as_final: bool = False, reverse: bool = False, reset_after: bool = True):
    """Run the reference step over time; switches produce the known mistakes."""
    steps = range(x.shape[0] - 1, -1, -1) if reverse else range(x.shape[0])
    h = h0[0]
    states = {}
    for t in steps:
        h_in = h if carry else h0[0]
        h_new = _forward(x[t], h_in, W_ih, W_hh, b_ih, b_hh, reset_after=reset_after)[0]
        states[t] = h_in if shift else h_new
        h = h_new
    output = np.stack([states[t] for t in range(x.shape[0])])
    h_n = (output[0] if first_as_final else h)[None]
    return output, h_n


def _reference_sequence(x, h0, W_ih, W_hh, b_ih, b_hh):
    """A one-layer, one-direction GRU over a sequence, exactly ``torch.nn.GRU``'s outputs."""
    return _sequence(x, h0, W_ih, W_hh, b_ih, b_hh)


_SEQUENCE_MISTAKES: list[Mistake] = [
    Mistake(
        name="shifted_outputs",
        message=("output is shifted by one step: output[t] must be the state AFTER reading x[t] "
                 "(h_1 ... h_T), not the state before it (h_0 ... h_{T-1})"),
        fn=lambda *a: _sequence(*a, shift=True),
    ),
    Mistake(
        name="state_not_carried",
        message=("the state is not carried from step to step: every step starts from h0 instead "
                 "of the previous step's h"),
        fn=lambda *a: _sequence(*a, carry=False),
    ),
    Mistake(
        name="h_n_first_step",
        message=("h_n is the state after the FIRST step; torch.nn.GRU returns the state after "
                 "the last step, h_T (equal to output[-1] for one forward layer)"),
        fn=lambda *a: _sequence(*a, first_as_final=True),
    ),
    Mistake(
        name="time_reversed",
        message=("the sequence is read backwards (from x[T-1] to x[0]); a forward GRU reads x[0] "
                 "first"),
        fn=lambda *a: _sequence(*a, reverse=True),
    ),
    Mistake(
        name="reset_before",
        message=("the steps use Cho et al.'s convention (reset gate applied to h before the "
                 "product); torch.nn.GRU applies it after: r * (W_hn h + b_hn)"),
        fn=lambda *a: _sequence(*a, reset_after=False),
    ),
]


@checked("ex-ch08-4")
def check_gru_sequence(fn: Callable) -> CheckResult:
    """Check a reader's one-layer GRU over a whole sequence against ``torch.nn.GRU``'s outputs.

    ``fn(x, h0, W_ih, W_hh, b_ih, b_hh) -> (output, h_n)`` with ``x`` (T, B, D), ``h0`` (1, B, H)
    and weights as in :func:`check_gru_step`; ``output`` (T, B, H) holds ``h_1 ... h_T`` and ``h_n``
    (1, B, H) is ``h_T``. Names the mistake when it recognises one (outputs shifted by one step,
    state not carried, h_n taken at the first step, time reversed, Cho's reset convention).
    """
    return run_check("GRU over a sequence (torch.nn.GRU layout)", fn, _reference_sequence,
                     cycle_lengths(_make_sequence_inputs, (_T, 33, 7)), ("output", "h_n"),
                     _SEQUENCE_MISTAKES,
                     layout=Layout(time_axis={"output": 0}, bias_args=("b_ih", "b_hh")))
