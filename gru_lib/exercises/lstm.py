"""Auto-checked exercise of chapter 6 (LSTM, label ``ch-lstm``): one step of an LSTM cell, in NumPy.

The reader writes ``fn(x, h, c, W_ih, W_hh, b_ih, b_hh) -> (h_next, c_next)`` implementing
eq. ``eq-ch06-gates``–``eq-ch06-hidden`` with ``torch.nn.LSTM``'s conventions: row-major batches
(``x`` is ``(B, D)``, ``h`` and ``c`` are ``(B, H)``), weights in torch layout (``W_ih`` is
``(4H, D)``, ``W_hh`` is ``(4H, H)``, biases ``(4H,)``) and the four gate blocks stacked in the
order input | forget | candidate | output (``i|f|g|o``).

The checker compares the reader's function with the reference on random inputs. On a mismatch it
tries the mistakes people actually make (other libraries' gate orders, a ``tanh`` where a sigmoid
belongs, the output gate applied to ``c`` without its ``tanh``, a cell update that forgets the
forget gate, a missing bias, the two outputs swapped, ...) and reports the one that matches.
"""

from __future__ import annotations

import numpy as np

from gru_lib.exercises._core import CheckResult, Layout, Mistake, run_check
from gru_lib.exercises._progress import checked
from gru_lib.numpy.functional import sigmoid

__all__ = ["LSTM_BACKWARD_MISTAKES", "LSTM_STEP_MISTAKES", "check_lstm_step",
           "check_lstm_step_backward", "lstm_step_backward_reference", "lstm_step_reference"]



def _lstm_step(x, h, c, W_ih, W_hh, b_ih, b_hh, *, order="ifgo", gate_act=None, cand_act=None,
               use_b_ih=True, use_b_hh=True, forget=True, coupled=False, tanh_cell=True,
               new_cell_in_h=True, swap_outputs=False):
    """One LSTM step with switches for each known mistake (all off: the correct cell).

    ``order`` names the block order the code *assumes* the stacked weights are in; torch's is
    ``"ifgo"``. ``gate_act`` maps a gate name (``"i"``, ``"f"``, ``"o"``) to the activation used
    on it (default: the sigmoid for all three), ``cand_act`` is the candidate's (default tanh).
    """
    H = h.shape[1]
    a = x @ W_ih.T + h @ W_hh.T
    if use_b_ih and b_ih is not None:
        a = a + b_ih
    if use_b_hh and b_hh is not None:
        a = a + b_hh
    blocks = {name: a[:, k * H:(k + 1) * H] for k, name in enumerate(order)}
    acts = {"i": sigmoid, "f": sigmoid, "o": sigmoid}
    acts.update(gate_act or {})
    i = acts["i"](blocks["i"])
    f = acts["f"](blocks["f"])
    o = acts["o"](blocks["o"])
    g = (cand_act or np.tanh)(blocks["g"])
    if coupled:
        c_next = f * c + (1.0 - f) * g
    elif forget:
        c_next = f * c + i * g
    else:
        c_next = c + i * g
    c_out = c_next if new_cell_in_h else c
    h_next = o * (np.tanh(c_out) if tanh_cell else c_out)
    return (c_next, h_next) if swap_outputs else (h_next, c_next)


def lstm_step_reference(x, h, c, W_ih, W_hh, b_ih=None, b_hh=None):
    """The correct step, eq. ``eq-ch06-gates``–``eq-ch06-hidden``: returns ``(h_next, c_next)``.

    Mirrors ``gru_lib.numpy.lstm.lstm_step`` without its cache (the tests check that they agree),
    so the checker has no dependency on the chapter's library code.
    """
    return _lstm_step(x, h, c, W_ih, W_hh, b_ih, b_hh)


def _mistake(name: str, message: str, **switches) -> Mistake:
    def fn(x, h, c, W_ih, W_hh, b_ih=None, b_hh=None):
        return _lstm_step(x, h, c, W_ih, W_hh, b_ih, b_hh, **switches)

    fn.__name__ = f"lstm_step_{name}"
    return Mistake(name, message, fn)


def _sigmoid_name(gate: str) -> str:
    return {"i": "input gate i", "f": "forget gate f", "o": "output gate o"}[gate]


LSTM_STEP_MISTAKES: tuple[Mistake, ...] = (
    _mistake("order_ifog",
             "your gate blocks are read in the order i|f|o|g, but torch.nn.LSTM stacks the rows of "
             "W_ih, W_hh and the biases as input | forget | candidate g | output (i|f|g|o): the "
             "candidate is the third block and the output gate the fourth", order="ifog"),
    _mistake("order_iofg",
             "your gate blocks are read in the order i|o|f|g, which is ONNX's layout (W[iofc]); "
             "torch.nn.LSTM stacks them as input | forget | candidate g | output (i|f|g|o)",
             order="iofg"),
    _mistake("order_igfo",
             "your gate blocks are read in the order i|g|f|o, which is the layout of "
             "TensorFlow 1's LSTMCell (i, j, f, o); torch.nn.LSTM stacks them as input | forget | "
             "candidate g | output (i|f|g|o)", order="igfo"),
    *(
        _mistake(f"tanh_on_{gate}",
                 f"the {_sigmoid_name(gate)} uses tanh, but gates use the logistic sigmoid, so "
                 "that they lie in (0, 1) and act as a fraction; only the candidate g uses tanh",
                 gate_act={gate: np.tanh})
        for gate in ("i", "f", "o")
    ),
    _mistake("sigmoid_on_g",
             "the candidate g uses the sigmoid, but it is the value written into the cell and "
             "uses tanh (range (-1, 1)), so that the cell can be pushed down as well as up",
             cand_act=sigmoid),
    _mistake("no_tanh_on_c",
             "the output gate is applied to c_next directly: h_next = o * tanh(c_next), the tanh "
             "squashes the cell (which can grow beyond 1) before it is exposed", tanh_cell=False),
    _mistake("old_cell_in_h",
             "h_next is computed from the old cell c; it uses the new one: "
             "h_next = o * tanh(c_next), with c_next = f * c + i * g computed first",
             new_cell_in_h=False),
    _mistake("no_forget_gate",
             "the cell update is missing the forget gate: c_next = f * c + i * g, not c + i * g "
             "(c + i * g is the 1997 LSTM without a forget gate; torch.nn.LSTM has one)",
             forget=False),
    _mistake("coupled_gates",
             "the cell update uses (1 - f) in place of the input gate (a 'coupled' LSTM "
             "variant); this exercise asks for torch.nn.LSTM's c_next = f * c + i * g, with its "
             "own input gate",
             coupled=True),
    _mistake("missing_b_ih",
             "b_ih is missing: torch.nn.LSTM adds both biases, "
             "x @ W_ih.T + b_ih + h @ W_hh.T + b_hh",
             use_b_ih=False),
    _mistake("missing_b_hh",
             "b_hh is missing: torch.nn.LSTM adds both biases, "
             "x @ W_ih.T + b_ih + h @ W_hh.T + b_hh",
             use_b_hh=False),
    _mistake("missing_both_biases",
             "both biases are missing: torch.nn.LSTM adds x @ W_ih.T + b_ih + h @ W_hh.T + b_hh",
             use_b_ih=False, use_b_hh=False),
    _mistake("swapped_outputs",
             "your function returns (c_next, h_next); the exercise (and torch.nn.LSTMCell) returns "
             "(h_next, c_next)", swap_outputs=True),
)


def _make_inputs(rng: np.random.Generator) -> tuple:
    B, D, H = 3, 4, 5
    return (
        rng.standard_normal((B, D)),
        rng.standard_normal((B, H)) * 0.5,
        rng.standard_normal((B, H)) * 1.5,  # |c| > 1 often, so "no tanh on c" is caught
        rng.standard_normal((4 * H, D)),
        rng.standard_normal((4 * H, H)),
        rng.standard_normal(4 * H) * 0.5,
        rng.standard_normal(4 * H) * 0.5,
    )


@checked("ex-ch06-4")
def check_lstm_step(fn) -> CheckResult:
    """Check the reader's ``fn(x, h, c, W_ih, W_hh, b_ih, b_hh) -> (h_next, c_next)``.

    Runs it against :func:`lstm_step_reference` on three random batches (``B=3, D=4, H=5``, float64)
    and, on a mismatch, names the known mistake it matches (see :data:`LSTM_STEP_MISTAKES`).
    """
    return run_check("LSTM step", fn, lstm_step_reference, _make_inputs,
                     ("h_next", "c_next"), LSTM_STEP_MISTAKES,
                     layout=Layout(bias_args=("b_ih", "b_hh")))


# ------------------------------------------------------------------------------------------------
# The step backward (chapter 6, after eq-ch06-hidden)
# ------------------------------------------------------------------------------------------------

_BACKWARD_NAMES = ("dx", "dh", "dc", "dW_ih", "dW_hh", "db_ih", "db_hh")


def _lstm_step_backward(dh_next, dc_next, x, h, c, W_ih, W_hh, b_ih, b_hh, *, dh_into_c=True,
                        tanh_prime_c=True, dc_through_f=True, order="ifgo", g_prime="tanh",
                        gate_prime=True, t_w=True, db_sum=True):
    """Backward of one LSTM step, the forward's lines in reverse order, with a switch for each
    known mistake (defaults: the right gradients, as autograd computes them)."""
    H = h.shape[1]
    a = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i, f = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H])
    g, o = np.tanh(a[:, 2 * H:3 * H]), sigmoid(a[:, 3 * H:])
    c_next = f * c + i * g
    tc = np.tanh(c_next)
    # h_next = o * tanh(c_next): the cell gets gradient from h_next as well as from c_next
    do = dh_next * tc
    dc_total = dc_next
    if dh_into_c:
        dc_total = dc_total + dh_next * o * ((1.0 - tc**2) if tanh_prime_c else 1.0)
    # c_next = f * c + i * g
    dc = (dc_total if dc_through_f else dc_next) * f
    df, di, dg = dc_total * c, dc_total * g, dc_total * i
    # the activations
    sp = (lambda s: s * (1.0 - s)) if gate_prime else (lambda s: 1.0)
    da = {"i": di * sp(i), "f": df * sp(f), "o": do * sp(o),
          "g": dg * ((1.0 - g**2) if g_prime == "tanh" else g * (1.0 - g))}
    dA = np.concatenate([da[k] for k in order], axis=1)
    # a = x W_ih^T + b_ih + h W_hh^T + b_hh
    dx, dh = dA @ W_ih, dA @ W_hh
    dW_ih = dA.T @ x if t_w else x.T @ dA
    dW_hh = dA.T @ h if t_w else h.T @ dA
    db = dA.sum(axis=0) if db_sum else dA
    return dx, dh, dc, dW_ih, dW_hh, db, db.copy()


def lstm_step_backward_reference(dh_next, dc_next, x, h, c, W_ih, W_hh, b_ih, b_hh):
    """The gradients of one LSTM step: ``(dx, dh, dc, dW_ih, dW_hh, db_ih, db_hh)``.

    Mirrors ``gru_lib.numpy.lstm.lstm_step_backward`` taking the step's inputs instead of a cache
    (the tests check both against torch autograd).
    """
    return _lstm_step_backward(dh_next, dc_next, x, h, c, W_ih, W_hh, b_ih, b_hh)


def _bmistake(name: str, message: str, **switches) -> Mistake:
    def fn(*args):
        return _lstm_step_backward(*args, **switches)

    fn.__name__ = f"lstm_step_backward_{name}"
    return Mistake(name, message, fn)


LSTM_BACKWARD_MISTAKES: tuple[Mistake, ...] = (
    _bmistake("no_dh_into_c", "the cell's gradient forgets the path through h_next: "
              "h_next = o * tanh(c_next), so c_next receives dh_next * o * (1 - tanh(c_next)**2) "
              "on top of dc_next; add it before using the cell gradient", dh_into_c=False),
    _bmistake("no_tanh_prime_on_c", "the derivative of tanh(c_next) is missing: the cell receives "
              "dh_next * o * (1 - tanh(c_next)**2) from h_next, not dh_next * o",
              tanh_prime_c=False),
    _bmistake("dc_without_h_path", "dc (the gradient for the previous cell) uses dc_next alone: "
              "it is f times the TOTAL cell gradient, dc_next plus what comes from h_next",
              dc_through_f=False),
    _bmistake("order_ifog", "the gate gradients are stacked in the order i|f|o|g; W_ih's rows are "
              "i|f|g|o, so the gradients of the pre-activations must be stacked in that order",
              order="ifog"),
    _bmistake("g_sigmoid_prime", "the candidate's derivative uses the sigmoid's g * (1 - g); "
              "g = tanh(a_g), so it is 1 - g**2", g_prime="sigmoid"),
    _bmistake("no_gate_prime", "the derivatives of the sigmoids are missing: for a gate "
              "s = σ(a), ds/da = s * (1 - s) (for i, f and o)", gate_prime=False),
    _bmistake("transposed_weight_gradients", "the weight gradients are transposed: dW_ih must "
              "have W_ih's shape (4H, D), dA.T @ x, not x.T @ dA (likewise dW_hh = dA.T @ h)",
              t_w=False),
    _bmistake("bias_not_summed", "the bias gradients are not summed over the batch: the same "
              "bias is added to every row, so db = dA.sum(axis=0), shape (4H,)", db_sum=False),
)


def _make_backward_inputs(rng: np.random.Generator) -> tuple:
    x, h, c, W_ih, W_hh, b_ih, b_hh = _make_inputs(rng)
    B, H = h.shape
    return (rng.standard_normal((B, H)), rng.standard_normal((B, H)), x, h, c,
            W_ih * 0.6, W_hh * 0.6, b_ih, b_hh)


_BACKWARD_LAYOUT = Layout(
    blocks={n: (0, "ifgo") for n in ("dW_ih", "dW_hh", "db_ih", "db_hh")},
    order=("dc", "db_ih", "db_hh", "dW_ih", "dW_hh", "dx", "dh"),
    sizes=lambda a: {"B": a[0].shape[0]})


@checked("ex-ch06-backward")
def check_lstm_step_backward(fn) -> CheckResult:
    """Check ``fn(dh_next, dc_next, x, h, c, W_ih, W_hh, b_ih, b_hh) -> (dx, dh, dc, dW_ih, dW_hh,
    db_ih, db_hh)``, the backward of one LSTM step (torch.nn.LSTM's conventions).

    ``dh_next``, ``dc_next`` (B, H) are dL/dh_next and dL/dc_next; every output has the shape of
    the matching input. The function recomputes the forward it needs (no cache). The cell gradient
    is compared first (it is the root of the gate gradients), and a gate gradient that is wrong in
    one block only is reported by block (i|f|g|o). Float32 is accepted with a float32 tolerance.
    """
    return run_check("LSTM step backward", fn, lstm_step_backward_reference,
                     _make_backward_inputs, _BACKWARD_NAMES, LSTM_BACKWARD_MISTAKES,
                     layout=_BACKWARD_LAYOUT)
