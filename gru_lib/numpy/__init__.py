"""The NumPy reference: every cell's forward and hand-derived backward, and layers built on them.

Readable first: each backward sits under its forward and undoes it line by line. The mirror
package :mod:`gru_lib.torch` has the same names with torch tensors and autograd.
"""

from gru_lib.numpy.functional import relu, sigmoid, tanh
from gru_lib.numpy.gru import GRUCache, gru_step, gru_step_backward
from gru_lib.numpy.lstm import LSTMCache, lstm_step, lstm_step_backward
from gru_lib.numpy.rnn import RNNCache, rnn_step, rnn_step_backward

__all__ = [
    "GRUCache",
    "LSTMCache",
    "RNNCache",
    "gru_step",
    "gru_step_backward",
    "lstm_step",
    "lstm_step_backward",
    "relu",
    "rnn_step",
    "rnn_step_backward",
    "sigmoid",
    "tanh",
]
