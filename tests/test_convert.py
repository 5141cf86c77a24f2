"""gru_lib.convert against the real frameworks: Keras 3 (torch backend), ONNX's reference evaluator.

Every conversion is checked by what the converted weights compute, not by their layout: a Keras
layer or an ONNX node with random weights *and biases* runs on a random input, the converted state
dict is loaded into ``torch.nn`` (or ``gru_lib.torch.GRU(reset_after=False)`` and the NumPy twin
where ``torch.nn`` cannot represent the cell), and the outputs and final states must agree in
float64 (tolerance 1e-10 for ONNX; Keras rounds its products to float32, see KERAS_TOL). The
other direction starts from a ``torch.nn``/``gru_lib`` module and checks the Keras layer or ONNX
node built from the converted arrays. Keras and ONNX are test-only
dependencies (requirements.txt); each group skips with its reason where the package is missing.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

import gru_lib.numpy as gn
import gru_lib.torch as gt
from gru_lib.convert import (
    keras_layer_to_state_dict,
    keras_to_state_dict,
    onnx_to_state_dict,
    state_dict_to_keras,
    state_dict_to_onnx,
)

# Keras 3.15 on NumPy 2 warns about its own __array__ (a DeprecationWarning inside keras)
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


TOL = 1e-10
# Keras 3.15's torch backend multiplies float64 matrices in float32 (its dtypes.result_type gives
# float32 for two float64 operands), so Keras comparisons get a float32 tolerance; a swapped gate
# or a misplaced bias shows as differences of order 0.1.
KERAS_TOL = 1e-6
D, H = 3, 4
SIZES = [(1, 1), (6, 3), (17, 2)]            # (T, B)
TORCH_NN = {"RNN": torch.nn.RNN, "GRU": torch.nn.GRU, "LSTM": torch.nn.LSTM}
GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}


def _torch_model(kind, reset_after=True, bias=True, bidirectional=False):
    """The module that loads a converted state dict: torch.nn, or gru_lib for reset-before GRU."""
    kw = dict(bias=bias, batch_first=True, bidirectional=bidirectional, dtype=torch.float64)
    if kind == "GRU" and not reset_after:
        return gt.GRU(D, H, reset_after=False, **kw)
    return TORCH_NN[kind](D, H, **kw)


def _run_torch(model, x):
    with torch.no_grad():
        out, h = model(torch.from_numpy(x))
    h = h[0] if isinstance(h, tuple) else h
    return out.numpy(), h.numpy()


# ============================================================================== Keras
def _keras():
    backend = os.environ.setdefault("KERAS_BACKEND", "torch")
    if backend != "torch":
        pytest.skip(f"Keras tests need KERAS_BACKEND=torch, got {backend!r}")
    return pytest.importorskip("keras", reason="keras is not installed (requirements.txt)")


def _keras_layer(keras, kind, reset_after=True, use_bias=True, seed=0):
    cls = {"RNN": keras.layers.SimpleRNN, "GRU": keras.layers.GRU, "LSTM": keras.layers.LSTM}[kind]
    kw = dict(return_sequences=True, return_state=True, use_bias=use_bias, dtype="float64")
    if kind == "GRU":
        kw["reset_after"] = reset_after
    layer = cls(H, **kw)
    layer.build((None, None, D))
    rng = np.random.default_rng(seed)   # Keras initialises biases to zero: draw them, too
    layer.set_weights([rng.uniform(-0.6, 0.6, w.shape) for w in layer.get_weights()])
    return layer


def _run_keras(keras, layer, x):
    # an explicit float64 tensor: Keras converts a NumPy float64 input to floatx (float32)
    out, h, *_ = layer(keras.ops.convert_to_tensor(x, dtype="float64"))
    return keras.ops.convert_to_numpy(out), keras.ops.convert_to_numpy(h)


KERAS_CASES = [("RNN", True), ("LSTM", True), ("GRU", True), ("GRU", False)]


@pytest.mark.parametrize("use_bias", [True, False])
@pytest.mark.parametrize("kind,reset_after", KERAS_CASES)
def test_keras_to_torch_matches_keras(kind, reset_after, use_bias):
    keras = _keras()
    layer = _keras_layer(keras, kind, reset_after, use_bias)
    # array form (reset_after read from the bias shape unless there is no bias) and layer form
    ra = None if use_bias else reset_after
    state = keras_to_state_dict(kind, layer.get_weights(), reset_after=ra)
    for k, v in keras_layer_to_state_dict(layer).items():
        assert torch.equal(v, state[k])
    model = _torch_model(kind, reset_after, bias=use_bias)
    model.load_state_dict(state)
    rng = np.random.default_rng(1)
    for T, B in SIZES:
        x = rng.standard_normal((B, T, D))
        ours, theirs = _run_torch(model, x), _run_keras(keras, layer, x)
        np.testing.assert_allclose(ours[0], theirs[0], atol=KERAS_TOL, rtol=0)
        np.testing.assert_allclose(ours[1][0], theirs[1], atol=KERAS_TOL, rtol=0)
        if kind == "GRU" and not reset_after:   # and the NumPy twin of gru_lib's GRU
            twin = gn.GRU(D, H, bias=use_bias, batch_first=True, reset_after=False)
            twin.load_state_dict(state)
            np.testing.assert_allclose(twin(x)[0], theirs[0], atol=KERAS_TOL, rtol=0)


@pytest.mark.parametrize("kind,reset_after", KERAS_CASES)
def test_torch_to_keras_matches_torch(kind, reset_after):
    keras = _keras()
    torch.manual_seed(2)
    model = _torch_model(kind, reset_after)
    with torch.no_grad():                    # torch's init is small: widen it, biases included
        for p in model.parameters():
            p.uniform_(-0.6, 0.6)
    layer = _keras_layer(keras, kind, reset_after)
    layer.set_weights(state_dict_to_keras(kind, model.state_dict(), reset_after=reset_after))
    back = keras_to_state_dict(kind, layer.get_weights(), reset_after=reset_after)
    x = np.random.default_rng(3).standard_normal((2, 9, D))
    ours, theirs = _run_torch(model, x), _run_keras(keras, layer, x)
    np.testing.assert_allclose(ours[0], theirs[0], atol=KERAS_TOL, rtol=0)
    np.testing.assert_allclose(ours[1][0], theirs[1], atol=KERAS_TOL, rtol=0)
    state = model.state_dict()               # round trip: weights exact, biases merged (+0)
    for k, v in back.items():
        if k.startswith("weight") or (kind == "GRU" and reset_after):
            assert torch.equal(v, state[k]), k
    if kind != "GRU" or not reset_after:
        merged = back["bias_ih_l0"] + back["bias_hh_l0"]
        torch.testing.assert_close(merged, state["bias_ih_l0"] + state["bias_hh_l0"])


@pytest.mark.parametrize("kind", ["GRU", "LSTM"])
def test_keras_bidirectional_and_float32(kind):
    keras = _keras()
    inner = {"GRU": keras.layers.GRU, "LSTM": keras.layers.LSTM}[kind](H, return_sequences=True)
    layer = keras.layers.Bidirectional(inner)
    layer.build((None, None, D))
    rng = np.random.default_rng(4)
    layer.set_weights([rng.uniform(-0.6, 0.6, w.shape).astype(np.float32)
                       for w in layer.get_weights()])
    model = TORCH_NN[kind](D, H, batch_first=True, bidirectional=True)
    model.load_state_dict(keras_layer_to_state_dict(layer))
    x = rng.standard_normal((3, 7, D)).astype(np.float32)
    with torch.no_grad():
        ours = model(torch.from_numpy(x))[0].numpy()
    np.testing.assert_allclose(ours, keras.ops.convert_to_numpy(layer(x)), atol=1e-5, rtol=0)


@pytest.mark.parametrize("reset_after", [True, False])
def test_keras_stack_converts_layer_by_layer(reset_after):
    # two stacked Keras GRUs -> one two-layer state dict (layer=0, layer=1)
    keras = _keras()
    first = _keras_layer(keras, "GRU", reset_after, seed=10)
    second = keras.layers.GRU(H, return_sequences=True, reset_after=reset_after, dtype="float64")
    second.build((None, None, H))
    rng = np.random.default_rng(11)
    second.set_weights([rng.uniform(-0.6, 0.6, w.shape) for w in second.get_weights()])
    state = {**keras_layer_to_state_dict(first, layer=0),
             **keras_layer_to_state_dict(second, layer=1)}
    kw = dict(num_layers=2, batch_first=True, dtype=torch.float64)
    model = torch.nn.GRU(D, H, **kw) if reset_after else gt.GRU(D, H, reset_after=False, **kw)
    model.load_state_dict(state)
    x = rng.standard_normal((2, 8, D))
    xt = keras.ops.convert_to_tensor(x, dtype="float64")
    theirs = keras.ops.convert_to_numpy(second(first(xt)[0]))
    np.testing.assert_allclose(_run_torch(model, x)[0], theirs, atol=KERAS_TOL, rtol=0)


def test_keras_relu_simple_rnn():
    keras = _keras()
    layer = keras.layers.SimpleRNN(H, activation="relu", return_sequences=True, dtype="float64")
    layer.build((None, None, D))
    rng = np.random.default_rng(12)
    layer.set_weights([rng.uniform(-0.6, 0.6, w.shape) for w in layer.get_weights()])
    model = torch.nn.RNN(D, H, nonlinearity="relu", batch_first=True, dtype=torch.float64)
    model.load_state_dict(keras_layer_to_state_dict(layer))
    x = rng.standard_normal((2, 8, D))
    theirs = keras.ops.convert_to_numpy(layer(keras.ops.convert_to_tensor(x, dtype="float64")))
    np.testing.assert_allclose(_run_torch(model, x)[0], theirs, atol=KERAS_TOL, rtol=0)


def test_keras_layer_refuses_what_torch_cannot_compute():
    keras = _keras()
    for layer, words in [(keras.layers.GRU(H, recurrent_activation="hard_sigmoid"),
                          "recurrent_activation='hard_sigmoid'"),
                         (keras.layers.LSTM(H, go_backwards=True), "go_backwards=True"),
                         (keras.layers.Dense(H), "got Dense")]:
        layer.build((None, None, D) if not isinstance(layer, keras.layers.Dense) else (None, D))
        with pytest.raises(ValueError, match=words):
            keras_layer_to_state_dict(layer)


# ============================================================================== ONNX
def _onnx_run(kind, inits, attrs, x):
    """Run one ONNX node (time-major X (T, B, D)) with the reference evaluator: Y, Y_h."""
    onnx = pytest.importorskip("onnx", reason="onnx is not installed (requirements.txt)")
    from onnx import TensorProto, helper, numpy_helper
    from onnx.reference import ReferenceEvaluator

    (T, B, _), dirs = x.shape, inits["W"].shape[0]
    names = ["X", "W", "R"] + (["B"] if "B" in inits else [])
    node = helper.make_node(kind, names, ["Y", "Y_h"], **attrs)
    graph = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("X", TensorProto.DOUBLE, list(x.shape))],
        [helper.make_tensor_value_info("Y", TensorProto.DOUBLE, [T, dirs, B, H]),
         helper.make_tensor_value_info("Y_h", TensorProto.DOUBLE, [dirs, B, H])],
        initializer=[numpy_helper.from_array(v, name=k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 22)])
    onnx.checker.check_model(model)
    Y, Y_h = ReferenceEvaluator(model).run(None, {"X": x})   # Y (T, dirs, B, H)
    return Y.transpose(0, 2, 1, 3).reshape(T, B, dirs * H), Y_h


ONNX_CASES = [("RNN", 0), ("LSTM", 0), ("GRU", 1), ("GRU", 0)]   # (kind, linear_before_reset)


@pytest.mark.parametrize("direction", ["forward", "bidirectional"])
@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("kind,lbr", ONNX_CASES)
def test_onnx_to_torch_matches_reference(kind, lbr, with_bias, direction):
    pytest.importorskip("onnx", reason="onnx is not installed (requirements.txt)")
    dirs, G = (2 if direction == "bidirectional" else 1), GATES[kind]
    rng = np.random.default_rng(5)
    inits = {"W": rng.uniform(-0.6, 0.6, (dirs, G * H, D)),
             "R": rng.uniform(-0.6, 0.6, (dirs, G * H, H))}
    if with_bias:
        inits["B"] = rng.uniform(-0.6, 0.6, (dirs, 2 * G * H))
    attrs = {"hidden_size": H, "direction": direction}
    if kind == "GRU":
        attrs["linear_before_reset"] = lbr
    state = onnx_to_state_dict(kind, inits["W"], inits["R"], inits.get("B"), direction=direction,
                               linear_before_reset=lbr)
    model = _torch_model(kind, reset_after=bool(lbr), bias=with_bias,
                         bidirectional=dirs == 2)
    model.batch_first = False
    model.load_state_dict(state)
    for T, B in SIZES:
        x = rng.standard_normal((T, B, D))
        Y, Y_h = _onnx_run(kind, inits, attrs, x)
        ours = _run_torch(model, x)
        np.testing.assert_allclose(ours[0], Y, atol=TOL, rtol=0)
        np.testing.assert_allclose(ours[1], Y_h, atol=TOL, rtol=0)
        if kind == "GRU" and not lbr:              # and the NumPy twin of gru_lib's GRU
            twin = gn.GRU(D, H, bias=with_bias, bidirectional=dirs == 2, reset_after=False)
            twin.load_state_dict(state)
            np.testing.assert_allclose(twin(x)[0], Y, atol=TOL, rtol=0)


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("kind,reset_after", KERAS_CASES)
def test_torch_to_onnx_matches_reference(kind, reset_after, bidirectional):
    pytest.importorskip("onnx", reason="onnx is not installed (requirements.txt)")
    torch.manual_seed(6)
    model = _torch_model(kind, reset_after, bidirectional=bidirectional)
    model.batch_first = False
    with torch.no_grad():
        for p in model.parameters():
            p.uniform_(-0.6, 0.6)
    inits, attrs = state_dict_to_onnx(kind, model.state_dict(), reset_after=reset_after)
    assert attrs["direction"] == ("bidirectional" if bidirectional else "forward")
    x = np.random.default_rng(7).standard_normal((11, 2, D))
    Y, Y_h = _onnx_run(kind, inits, attrs, x)
    ours = _run_torch(model, x)
    np.testing.assert_allclose(ours[0], Y, atol=TOL, rtol=0)
    np.testing.assert_allclose(ours[1], Y_h, atol=TOL, rtol=0)
    back = onnx_to_state_dict(kind, inits["W"], inits["R"], inits["B"],
                              direction=attrs["direction"],
                              linear_before_reset=attrs.get("linear_before_reset", 0))
    for k, v in model.state_dict().items():                   # exact round trip
        assert torch.equal(back[k], v), k


# ============================================================================== bad input
def _gru_keras_arrays(reset_after=True):
    rng = np.random.default_rng(0)
    bias = rng.normal(size=(2, 3 * H) if reset_after else (3 * H,))
    return [rng.normal(size=(D, 3 * H)), rng.normal(size=(H, 3 * H)), bias]


def _gru_state():
    return gt.GRU(D, H, dtype=torch.float64).state_dict()


BAD = [
    (lambda: keras_to_state_dict("GRU", _gru_keras_arrays()[:1]), ValueError, "got 1 arrays"),
    (lambda: keras_to_state_dict("GRU", np.zeros((3, 4))), TypeError,
     "expected weights as a list.*got ndarray"),
    (lambda: keras_to_state_dict("GRU", _gru_keras_arrays(), reset_after=1), TypeError,
     "reset_after must be None or a bool, got int"),
    (lambda: keras_to_state_dict("Conv", _gru_keras_arrays()), ValueError,
     "expected kind 'RNN'.*got 'Conv'"),
    (lambda: keras_to_state_dict("LSTM", _gru_keras_arrays()), ValueError,
     r"wrong gate count: a LSTM has 4 gate blocks.*needs 4\*H = 16.*got 12 \(3 gate blocks\)"),
    (lambda: keras_to_state_dict("GRU", [np.zeros((D, 8)), np.zeros((H, 8)), np.zeros((2, 8))]),
     ValueError, r"wrong gate count: a GRU has 3 gate blocks.*got 8 \(2 gate blocks\)"),
    (lambda: keras_to_state_dict("GRU", [np.zeros((D, 15)), np.zeros((H, 12))],
                                 reset_after=True), ValueError,
     r"expected kernel of shape \(D, 3\*H\) with H = 4 = \(3, 12\), got \(3, 15\)"),
    (lambda: keras_to_state_dict("GRU", _gru_keras_arrays(), reset_after=False), ValueError,
     r"expected bias of shape \(3\*H,\) for reset_after=False, H = 4 = \(12,\), got \(2, 12\)"),
    (lambda: keras_to_state_dict("GRU", _gru_keras_arrays()[:2]), ValueError,
     "pass reset_after=True or reset_after=False"),
    (lambda: keras_to_state_dict("RNN", [np.zeros((D, H), int), np.zeros((H, H))]), TypeError,
     "expected kernel with a real floating dtype, got dtype int"),
    (lambda: state_dict_to_keras("GRU", {k: v for k, v in _gru_state().items()
                                         if k != "bias_hh_l0"}), ValueError,
     "missing bias: state dict has bias_ih_l0 but not bias_hh_l0"),
    (lambda: state_dict_to_keras("GRU", {"weight_ih_l0": torch.zeros(12, D)}), ValueError,
     r"state dict has no \['weight_hh_l0'\]"),
    (lambda: state_dict_to_keras("LSTM", _gru_state()), ValueError, "wrong gate count"),
    (lambda: state_dict_to_keras("GRU", {**_gru_state(), "bias_ih_l0": torch.zeros(11)}),
     ValueError, r"expected bias_ih_l0 of shape \(3\*H,\) with H = 4 = \(12,\), got \(11,\)"),
    (lambda: state_dict_to_keras("GRU", {**_gru_state(), "weight_ih_l0": torch.zeros(9, D)}),
     ValueError,
     r"expected weight_ih_l0 of shape \(3\*H, D\) with H = 4 = \(12, 3\), got \(9, 3\)"),
    (lambda: onnx_to_state_dict("GRU", np.zeros((1, 12, D)), np.zeros((1, 12, H)),
                                direction="sideways"), ValueError,
     "unknown direction 'sideways'; expected 'forward' or 'bidirectional'"),
    (lambda: onnx_to_state_dict("GRU", np.zeros((1, 12, D)), np.zeros((1, 12, H)),
                                direction="reverse"), ValueError, "direction 'reverse' has no"),
    (lambda: onnx_to_state_dict("GRU", np.zeros((1, 12, D)), np.zeros((1, 12, H)),
                                direction="bidirectional"), ValueError,
     r"expected R of shape \(num_directions, 3\*H, H\) with direction='bidirectional', H = 4 = "
     r"\(2, 12, 4\), got \(1, 12, 4\)"),
    (lambda: onnx_to_state_dict("GRU", np.zeros((1, 12, D)), np.zeros((1, 12, H)),
                                np.zeros((1, 12))), ValueError,
     r"expected B of shape \(num_directions, 2\*3\*H\).* = \(1, 24\), got \(1, 12\)"),
    (lambda: onnx_to_state_dict("GRU", np.zeros((1, 12, D)), np.zeros((1, 12, H)),
                                linear_before_reset=2), ValueError,
     "expected linear_before_reset 0 or 1, got 2"),
    (lambda: onnx_to_state_dict("LSTM", np.zeros((1, 16, D)), np.zeros((1, 16, H)),
                                P=np.ones((1, 12))), ValueError, "nonzero peepholes"),
    (lambda: onnx_to_state_dict("RNN", np.zeros((1, 12, D)), np.zeros((1, 12, H))), ValueError,
     r"a RNN has 1 gate blocks.*got 12 \(3 gate blocks\)"),
    (lambda: state_dict_to_onnx("LSTM", torch.nn.LSTM(D, H, proj_size=2).state_dict()),
     ValueError, "has weight_hr_l0 \\(an LSTM with proj_size > 0\\)"),
    (lambda: state_dict_to_onnx("GRU", _gru_state(), reset_after=1), TypeError,
     "reset_after must be a bool, got int"),
]


@pytest.mark.parametrize("call,error,words", BAD, ids=range(len(BAD)))
def test_bad_input_is_named(call, error, words):
    with pytest.raises(error, match=words):
        call()



@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning",
                            "ignore:Converting a tensor to a Python boolean")
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("kind", ["RNN", "GRU", "LSTM"])
def test_agrees_with_torch_onnx_exporter(kind, bidirectional):
    # A third implementation of the same layout: torch's own (TorchScript-based) ONNX exporter.
    # Its initializers must be exactly what state_dict_to_onnx writes, and convert back exactly.
    onnx = pytest.importorskip("onnx", reason="onnx is not installed (requirements.txt)")
    import io

    from onnx import numpy_helper

    torch.manual_seed(8)
    model = TORCH_NN[kind](D, H, bidirectional=bidirectional)
    f = io.BytesIO()
    torch.onnx.export(model, (torch.randn(5, 2, D),), f, dynamo=False)
    graph = onnx.load_from_string(f.getvalue()).graph
    node = next(n for n in graph.node if n.op_type == kind)
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    W, R, B = (inits[name] for name in node.input[1:4])
    direction = attrs.get("direction", b"forward").decode()
    back = onnx_to_state_dict(kind, W, R, B, direction=direction,
                              linear_before_reset=attrs.get("linear_before_reset", 0))
    state = model.state_dict()
    assert list(back) == list(state)
    for k, v in state.items():
        assert torch.equal(back[k], v), k
    ours, our_attrs = state_dict_to_onnx(kind, state)
    for name, theirs in zip("WRB", (W, R, B), strict=True):
        np.testing.assert_array_equal(ours[name], theirs)
    assert our_attrs["direction"] == direction and our_attrs["hidden_size"] == attrs["hidden_size"]
    if kind == "GRU":
        assert our_attrs["linear_before_reset"] == attrs["linear_before_reset"] == 1
