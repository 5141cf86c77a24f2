r"""Recurrent-layer weights across frameworks: Keras and ONNX ↔ ``torch.nn`` state dicts.

Chapter {ref}`ch-gru` (the conventions table) explains why a GRU checkpoint does not simply load
elsewhere: the frameworks agree on the equations up to three things, all handled here.

1. **Orientation.** Keras stores *kernels* ``(D, G·H)`` for row vectors (``x @ kernel``); torch and
   ONNX store ``(G·H, D)`` matrices (``x @ W.T``).
2. **Gate order.** The ``G`` blocks of ``H`` rows (columns in Keras) are stacked differently:

   =========  ============  ============  ==============
   cell       ``torch.nn``  Keras         ONNX
   =========  ============  ============  ==============
   GRU        ``r|z|n``     ``z|r|h``     ``z|r|h``
   LSTM       ``i|f|g|o``   ``i|f|c|o``   ``i|o|f|c``
   RNN        one block     one block     one block
   =========  ============  ============  ==============

   (``n``, ``h`` and ``c``/``g`` all name the candidate.) All three use ``h' = (1 − z) ⊙ n + z ⊙ h``
   for the GRU, so ``z`` means the same everywhere.
3. **Biases and the reset placement.** (``lbr``: ONNX's ``linear_before_reset`` attribute;
   ``GRU(reset_after=False)``: :class:`gru_lib.torch.GRU` or its NumPy twin.)

   ===========================  ===================================  ==========================
   source                       bias arrays                          loads into
   ===========================  ===================================  ==========================
   torch.nn GRU/LSTM/RNN        ``b_ih``, ``b_hh``: ``(G·H,)`` each  itself
   Keras GRU reset_after=True   ``bias (2, 3H)``: rows b_ih, b_hh    ``torch.nn.GRU``
   Keras GRU reset_after=False  ``bias (3H,)``: b_ih; b_hh = 0       ``GRU(reset_after=False)``
   Keras LSTM, SimpleRNN        ``bias (G·H,)``: b_ih; b_hh = 0      ``torch.nn.LSTM``/``RNN``
   ONNX LSTM, RNN               ``B (dirs, 2·G·H)`` = b_ih | b_hh    ``torch.nn.LSTM``/``RNN``
   ONNX GRU, lbr = 1            ``B (dirs, 6H)`` = b_ih | b_hh       ``torch.nn.GRU``
   ONNX GRU, lbr = 0 (default)  ``B (dirs, 6H)`` = b_ih | b_hh       ``GRU(reset_after=False)``
   ===========================  ===================================  ==========================

   Keras 2 / ``tf.keras`` under TF1 defaulted to ``reset_after=False`` (and ``hard_sigmoid``):
   such a GRU cannot be a ``torch.nn.GRU`` — ``r`` multiplies ``h`` *before* the product — so
   its weights go to :class:`gru_lib.torch.GRU` ``(reset_after=False)``. Where one framework
   has a single bias vector the other's two are merged by addition (exact in real arithmetic,
   one rounding in floats). A reset-after GRU has no reset-before equivalent (``b_hn`` is scaled
   by ``r``): a state dict does not record which GRU it came from, so the ``torch → Keras/ONNX``
   functions take ``reset_after`` as a declaration (default True, ``torch.nn.GRU``). Only
   weights are converted: activations must be the defaults (sigmoid gates, tanh candidate),
   which :func:`keras_layer_to_state_dict` checks.

State dicts use ``torch.nn``'s keys (``weight_ih_l0``, ``..._reverse``) and hold ``torch.Tensor``
values of the source's dtype; Keras and ONNX arrays come back as NumPy arrays. A Keras layer
converts to layer ``layer`` (and the ``reverse`` direction, for ``keras.layers.Bidirectional``)
of a stack, so a multi-layer model is converted layer by layer into one state dict.
"""

from gru_lib.convert._common import KERAS_ORDER, ONNX_ORDER
from gru_lib.convert._keras import (
    keras_layer_to_state_dict,
    keras_to_state_dict,
    state_dict_to_keras,
)
from gru_lib.convert._onnx import onnx_to_state_dict, state_dict_to_onnx

__all__ = [
    "KERAS_ORDER",
    "ONNX_ORDER",
    "keras_layer_to_state_dict",
    "keras_to_state_dict",
    "onnx_to_state_dict",
    "state_dict_to_keras",
    "state_dict_to_onnx",
]
