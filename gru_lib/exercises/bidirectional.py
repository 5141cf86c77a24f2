"""Checker for the exercise of chapter {ref}`ch-deep-bidirectional`: the summary vector of a deep
bidirectional GRU.

- :func:`check_bidirectional_summary`: ``fn(output, h_n, num_layers) -> summary``, the top layer's
  final forward state followed by its final backward state, from the outputs of a real
  ``torch.nn.GRU(..., bidirectional=True)`` (as NumPy arrays). Also importable from
  :mod:`gru_lib.exercises.gru`, where chapter 9 imports it.

Float32 policy: accepted (the answer is a selection of the inputs, compared with a float32
tolerance if it comes back in float32).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gru_lib.exercises._core import CheckResult, Mistake, run_check
from gru_lib.exercises._progress import checked

__all__ = ["check_bidirectional_summary"]

_B, _D, _H, _T = 4, 5, 3, 6



def _make_bidirectional_inputs(rng: np.random.Generator) -> tuple:
    """(output, h_n, num_layers) of a real bidirectional ``torch.nn.GRU`` on a random input."""
    import torch

    num_layers = int(rng.integers(2, 4))
    gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
    gru = torch.nn.GRU(_D, _H, num_layers=num_layers, bidirectional=True, dtype=torch.float64)
    with torch.no_grad():
        for p in gru.parameters():
            p.uniform_(-0.8, 0.8, generator=gen)
        x = torch.randn(_T, _B, _D, generator=gen, dtype=torch.float64)
        output, h_n = gru(x)
    return output.numpy(), h_n.numpy(), num_layers


def _reference_summary(output, h_n, num_layers):
    """Top layer: [final forward state | final backward state], shape (B, 2H)."""
    return np.concatenate([h_n[2 * num_layers - 2], h_n[2 * num_layers - 1]], axis=1)


_SUMMARY_MISTAKES: list[Mistake] = [
    Mistake(
        name="last_output",
        message=("output[-1] is not the summary: its second half is the backward direction's "
                 "state after reading only x_T; the backward direction finishes at t = 1, so its "
                 "final state is output[0, :, H:] (or h_n[2*num_layers - 1])"),
        fn=lambda output, h_n, n_layers: output[-1],
    ),
    Mistake(
        name="bottom_layer",
        message=("these are the final states of the BOTTOM layer (h_n[0], h_n[1]); the top "
                 "layer's are h_n[2*num_layers - 2] (forward) and h_n[2*num_layers - 1] "
                 "(backward)"),
        fn=lambda output, h_n, n_layers: np.concatenate([h_n[0], h_n[1]], axis=1),
    ),
    Mistake(
        name="directions_swapped",
        message=("the two directions are swapped: torch.nn.GRU puts the forward direction first, "
                 "in h_n and in the two halves of output"),
        fn=lambda output, h_n, n_layers: np.concatenate([h_n[2 * n_layers - 1],
                                                         h_n[2 * n_layers - 2]], axis=1),
    ),
    Mistake(
        name="direction_major",
        message=("h_n is indexed as direction * num_layers + layer, but torch.nn.GRU's layout is "
                 "layer * num_directions + direction: h_n.view(num_layers, 2, B, H)[layer, "
                 "direction]"),
        fn=lambda output, h_n, n_layers: np.concatenate([h_n[n_layers - 1],
                                                         h_n[2 * n_layers - 1]], axis=1),
    ),
]


@checked("ex-ch09-5")
def check_bidirectional_summary(fn: Callable) -> CheckResult:
    """Check a reader's summary of a deep bidirectional GRU's run.

    ``fn(output, h_n, num_layers) -> summary`` where ``output`` (T, B, 2H) and ``h_n``
    (2*num_layers, B, H) come from ``torch.nn.GRU(..., bidirectional=True)`` (as NumPy arrays),
    and ``summary`` (B, 2H) is the top layer's final forward state followed by its final backward
    state. Names the mistake when it recognises one (taking output[-1], the bottom layer, the
    directions swapped, a direction-major reading of h_n).
    """
    return run_check("bidirectional GRU summary", fn, _reference_summary,
                     _make_bidirectional_inputs, ("summary",), _SUMMARY_MISTAKES)
