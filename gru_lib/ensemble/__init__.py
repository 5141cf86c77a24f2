"""Many small recurrent models trained as one batched computation (issue 11).

- :mod:`gru_lib.ensemble.specs`: the atlas's tasks as training specifications.
- :mod:`gru_lib.ensemble.init`: initialisation schemes (default, orthogonal, chrono, forget bias)
  and :func:`build_member`, the one definition of a seed's initial weights.
- :mod:`gru_lib.ensemble.batched`: the cells' forward passes with a model axis.
- :mod:`gru_lib.ensemble.core`: :class:`Ensemble` and :func:`train_ensemble`.
- :mod:`gru_lib.ensemble.optim`: its per-model clipping and Adam steps, for any stacked models.
- :mod:`gru_lib.ensemble.reference`: the single-model run each member reproduces.
"""

from gru_lib.ensemble.core import Ensemble, Member, stack_batches, train_ensemble
from gru_lib.ensemble.init import CELL_NAMES, INITS, build_member, initialize_
from gru_lib.ensemble.optim import adam_state, adam_step_per_model_, clip_grad_norm_per_model_
from gru_lib.ensemble.reference import run_single
from gru_lib.ensemble.specs import TASK_NAMES, TaskSpec, make_task

__all__ = [
    "CELL_NAMES",
    "INITS",
    "TASK_NAMES",
    "Ensemble",
    "Member",
    "TaskSpec",
    "adam_state",
    "adam_step_per_model_",
    "build_member",
    "clip_grad_norm_per_model_",
    "initialize_",
    "make_task",
    "run_single",
    "stack_batches",
    "train_ensemble",
]
