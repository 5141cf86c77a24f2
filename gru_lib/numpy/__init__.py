"""The NumPy reference: every cell's forward and hand-derived backward, and layers built on them.

Readable first: each backward sits under its forward and undoes it line by line. The mirror
package :mod:`gru_lib.torch` has the same names with torch tensors and autograd.
"""

from gru_lib.numpy.fast_gru import FastGRU
from gru_lib.numpy.functional import relu, sigmoid, tanh
from gru_lib.numpy.gradcheck import gradcheck, numerical_gradient, relative_error
from gru_lib.numpy.gru import GRU, GRUCache, gru_step, gru_step_backward
from gru_lib.numpy.lstm import LSTM, LSTMCache, lstm_step, lstm_step_backward
from gru_lib.numpy.mingru import MinGRU, mingru_step, mingru_step_backward
from gru_lib.numpy.rnn import RNN, RNNCache, rnn_step, rnn_step_backward

__all__ = [
    "FastGRU",
    "GRU",
    "MinGRU",
    "mingru_step",
    "mingru_step_backward",
    "LSTM",
    "RNN",
    "GRUCache",
    "LSTMCache",
    "RNNCache",
    "gradcheck",
    "gru_step",
    "gru_step_backward",
    "lstm_step",
    "lstm_step_backward",
    "numerical_gradient",
    "relative_error",
    "relu",
    "rnn_step",
    "rnn_step_backward",
    "sigmoid",
    "tanh",
]
