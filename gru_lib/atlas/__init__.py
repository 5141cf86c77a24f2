"""The trainability atlas: grids too large for a notebook, computed, stored and re-checked.

``python -m gru_lib.atlas run|verify|list`` (see :mod:`gru_lib.atlas.__main__`); what a grid
contains and how a cell is run in :mod:`gru_lib.atlas.grid`; result files and their provenance in
:mod:`gru_lib.atlas.store`; re-running a sample in :mod:`gru_lib.atlas.verify`.
"""

from gru_lib.atlas.grid import CellConfig, Variant, run_cell
from gru_lib.atlas.grids import GRIDS, grid_cells
from gru_lib.atlas.store import StaleResultError, load_grid, load_result, source_hash

__all__ = ["GRIDS", "CellConfig", "StaleResultError", "Variant", "grid_cells", "load_grid",
           "load_result", "run_cell", "source_hash"]
