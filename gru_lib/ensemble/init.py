"""Initialisation schemes for the atlas's models, and how one member of an ensemble is built.

Three schemes, each applied after ``torch.nn``'s own initialisation, drawing from torch's global
generator (so a seed fixes them):

- ``'default'``: ``torch.nn``'s ``U(−1/√H, 1/√H)`` for every weight and bias (minGRU:
  ``U(−1/√D, 1/√D)``, like ``nn.Linear``).
- ``'orthogonal'``: each ``H × H`` gate block of every ``W_hh`` a random orthogonal matrix
  (Saxe et al. 2014; for a tanh RNN, Le et al. 2015 and Henaff et al. 2016 show it is what lets
  a simple RNN carry information over long delays). Not for minGRU, which has no ``W_hh``.
- ``'chrono'``: gate biases that give the cell's memory time constants spread over ``[1, T]``
  (Tallec & Ollivier 2018): with ``b ~ log U(1, T − 1)`` the gate that keeps the old state is
  ``σ(b)``, i.e. ``1 − 1/(1 + e^b)``. LSTM: forget bias ``+b``, input bias ``−b``. GRU (torch's
  ``h' = (1 − z) ⊙ n + z ⊙ h``, so ``z`` keeps): update bias ``+b``. minGRU
  (``h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ v_t``, so ``z`` writes): update bias ``−b``. Not for the
  simple RNN, which has no gate.

``forget_bias`` (LSTM only) sets the forget gate's total bias to a constant (Gers et al. 2000;
Jozefowicz et al. 2015 recommend 1) after the scheme; torch's two bias vectors are then
``b_ih_f = forget_bias`` and ``b_hh_f = 0``.
"""

from __future__ import annotations

import torch
from torch import nn

from gru_lib.train import SequenceModel, make_model

__all__ = ["CELL_NAMES", "INITS", "build_member", "check_init", "initialize_"]

CELL_NAMES = ("RNN", "LSTM", "GRU", "minGRU")
INITS = ("default", "orthogonal", "chrono")
_GATES = {"RNN": 1, "LSTM": 4, "GRU": 3, "minGRU": 2}


def _canonical_cell(cell) -> str:
    for name in CELL_NAMES:
        if isinstance(cell, str) and cell.lower() == name.lower():
            return name
    raise ValueError(f"unknown cell {cell!r}; expected one of {CELL_NAMES}")


def check_init(cell: str, init: str, forget_bias: float | None) -> None:
    """Raise a ``ValueError`` if ``init``/``forget_bias`` does not apply to ``cell``."""
    if init not in INITS:
        raise ValueError(f"unknown init {init!r}; expected one of {INITS}")
    if init == "orthogonal" and cell == "minGRU":
        raise ValueError("init 'orthogonal' does not apply to minGRU (it has no W_hh)")
    if init == "chrono" and cell == "RNN":
        raise ValueError("init 'chrono' does not apply to the simple RNN (it has no gate)")
    if forget_bias is not None and cell != "LSTM":
        raise ValueError(f"forget_bias applies to the LSTM only, got cell {cell!r}")


@torch.no_grad()
def initialize_(model: SequenceModel, cell: str, init: str = "default", *,
                forget_bias: float | None = None, T_max: int | None = None) -> SequenceModel:
    """Apply ``init`` (and ``forget_bias``) to ``model.core`` in place; return the model.

    ``T_max`` is the longest dependency the chrono scheme should cover (the task's delay); it is
    required for ``'chrono'``. Random draws come from torch's global generator.
    """
    cell = _canonical_cell(cell)
    check_init(cell, init, forget_bias)
    core = model.core
    H, G = core.hidden_size, _GATES[cell]
    for layer in range(core.num_layers):
        if init == "orthogonal":
            W = getattr(core, f"weight_hh_l{layer}")
            for k in range(G):
                nn.init.orthogonal_(W[k * H:(k + 1) * H])
        elif init == "chrono":
            if not isinstance(T_max, int) or T_max < 3:
                raise ValueError(f"init 'chrono' needs an int T_max >= 3, got {T_max!r}")
            b = torch.log(torch.empty(H).uniform_(1.0, T_max - 1.0))
            b_ih = getattr(core, f"bias_ih_l{layer}")
            if cell == "LSTM":          # blocks i | f | g | o
                b_ih[:H], b_ih[H:2 * H] = -b, b
                getattr(core, f"bias_hh_l{layer}")[:2 * H] = 0.0
            elif cell == "GRU":         # blocks r | z | n; z keeps the old state
                b_ih[H:2 * H] = b
                getattr(core, f"bias_hh_l{layer}")[H:2 * H] = 0.0
            else:                       # minGRU, blocks z | h; z writes the candidate
                b_ih[:H] = -b
        if forget_bias is not None:
            getattr(core, f"bias_ih_l{layer}")[H:2 * H] = float(forget_bias)
            getattr(core, f"bias_hh_l{layer}")[H:2 * H] = 0.0
    return model


def build_member(cell: str, input_size: int, hidden_size: int, output_size: int, *,
                 readout: str, seed: int, init: str = "default",
                 forget_bias: float | None = None, T_max: int | None = None,
                 num_layers: int = 1, dtype: torch.dtype = torch.float32) -> SequenceModel:
    """One model exactly as a separate run builds it: ``torch.manual_seed(seed)``, then
    :func:`gru_lib.train.make_model` (``torch.nn`` cores; minGRU from :mod:`gru_lib.torch`),
    then :func:`initialize_`, then the cast to ``dtype``.

    This is the one definition of "the initial weights of seed ``seed``": the reference loop and
    :class:`gru_lib.ensemble.Ensemble` both call it, which is why their weights agree bit for bit.
    """
    cell = _canonical_cell(cell)
    check_init(cell, init, forget_bias)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    torch.manual_seed(seed)
    model = make_model(cell, input_size, hidden_size, output_size, readout=readout,
                       num_layers=num_layers)
    initialize_(model, cell, init, forget_bias=forget_bias, T_max=T_max)
    return model.to(dtype)

