"""The PyTorch half of ``gru_lib``: the same cells and layers as :mod:`gru_lib.numpy`, on autograd.

Same names, arguments and parameter names as the NumPy half, so a reader switches backend by
changing one import. The layers are ``nn.Module`` twins of ``torch.nn.RNN``/``GRU``/``LSTM`` written
from tensor operations, with ``torch.nn``'s constructor (same positional order, ``dropout``),
``state_dict`` keys, initialisation and outputs, ``PackedSequence`` inputs, on any device and
floating dtype; the initial state is ``hx`` in both halves.

Return conventions, the one place the halves differ:

- ``rnn_step``, ``gru_step``: NumPy ``(h_next, cache)``, torch ``h_next``;
- ``lstm_step``: NumPy ``(h_next, c_next, cache)``, torch ``(h_next, c_next)``;
- layers, called as ``model(x, hx)``: ``(output, h_n)`` (LSTM ``(output, (h_n, c_n))``) in both.

The torch steps keep no cache because autograd records what the backward needs. Beware the NumPy
habit ``h, _ = gru_step(...)`` in torch code: it unpacks the *rows* of ``h_next``, silently when
the batch has two rows. Write ``h = gru_step(...)``.

``torch.jit.trace``, ``torch.export`` and ONNX export of the layers raise an error rather than
record the Python loop over time for one sequence length
(:meth:`gru_lib.torch.base.RecurrentBase._refuse_fixed_length_graph`).
"""

try:
    import torch as _torch  # noqa: F401 - only to fail early, with a message naming the extra
except ImportError as _exc:
    from gru_lib._optional import missing_extra

    raise missing_extra("torch", "gru_lib.torch") from _exc

from gru_lib.torch.fast_gru import FastGRU
from gru_lib.torch.functional import relu, sigmoid, tanh
from gru_lib.torch.gru import GRU, gru_step
from gru_lib.torch.lstm import LSTM, lstm_step
from gru_lib.torch.mingru import MinGRU, mingru_step
from gru_lib.torch.rnn import RNN, rnn_step

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "FastGRU",
    "MinGRU",
    "gru_step",
    "lstm_step",
    "mingru_step",
    "relu",
    "rnn_step",
    "sigmoid",
    "tanh",
]
