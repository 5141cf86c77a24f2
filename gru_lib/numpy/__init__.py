"""The NumPy reference: every cell's forward and hand-derived backward, and layers built on them.

Readable first: each backward sits under its forward and undoes it line by line. The mirror
package :mod:`gru_lib.torch` has the same names with torch tensors and autograd.

Return conventions: a step returns its new state(s) *and* a cache for its backward
(``rnn_step``/``gru_step``: ``(h_next, cache)``; ``lstm_step``: ``(h_next, c_next, cache)``);
the torch twins return only the new state(s), since autograd keeps what the backward needs. The
layers, ``model(x, hx=None, lengths=None)``, return ``(output, h_n)`` (LSTM
``(output, (h_n, c_n))``) in both halves; ``model.backward(d_output, d_h_n)`` returns
``(dx, dhx)`` and fills ``model.grads``. The constructors take ``torch.nn``'s arguments in its
positional order, ``dropout`` included (``train()``/``eval()`` switch it on and off).
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
