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
from gru_lib.exercises.progress import checked
from gru_lib.numpy.functional import sigmoid

__all__ = ["LSTM_STEP_MISTAKES", "check_lstm_step", "lstm_step_reference"]



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
