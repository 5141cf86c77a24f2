"""The PyTorch half of ``gru_lib``: the same cells and layers as :mod:`gru_lib.numpy`, on autograd.

Same names, arguments and parameter names as the NumPy half, so a reader switches backend by
changing one import. The step functions return only the new state(s) (autograd keeps what the
backward needs); the layers are ``nn.Module`` twins of ``torch.nn.RNN``/``GRU``/``LSTM`` written
from tensor operations, with ``torch.nn``'s ``state_dict`` keys, initialisation and outputs, on any
device and floating dtype.
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
