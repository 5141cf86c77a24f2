"""gru_lib: the library behind "Recurrent Neural Networks: from simple to gated architectures".

Two mirror-image halves with the same file, class, function and parameter names:

- ``gru_lib.numpy``: the readable reference, forward and hand-derived backward (BPTT);
- ``gru_lib.torch``: ``torch.nn.Module`` versions built from torch ops, gradients by autograd.

Switching backend is a one-line change of import. Shared helpers (seeding, figure style, showing
library source in a notebook) are in :mod:`gru_lib.utils`; the chapters' ``glue`` (numbers quoted
in the prose, readable in JupyterLab too) in :mod:`gru_lib.notebook`; exercise checkers in
:mod:`gru_lib.exercises`.
"""

from gru_lib.utils import (
    MODEL_COLORS,
    PALETTE,
    model_color,
    progress,
    seed_everything,
    show_source,
    use_book_style,
)

__version__ = "0.1.0"

__all__ = [
    "MODEL_COLORS",
    "PALETTE",
    "model_color",
    "progress",
    "seed_everything",
    "show_source",
    "use_book_style",
]
