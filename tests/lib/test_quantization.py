"""Quantization helpers: exact codes, the round-trip bound, integer matmul, fake quantization and
its straight-through gradient, the QAT layers, LiteRT conversion and size accounting."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_lib import quantization as q
from course_lib.parameters import ParameterError

# --- ranges and parameters ---------------------------------------------------------------------

def test_qrange_known_answers():
    assert q.qrange(8) == (-128, 127)
    assert q.qrange(8, narrow=True) == (-127, 127)
    assert q.qrange(8, signed=False) == (0, 255)
    assert q.qrange(4) == (-8, 7)
    assert q.qrange(2, narrow=True) == (-1, 1)


@pytest.mark.parametrize("bad, message", [
    (1, "need 2 ≤ bits ≤ 16; got 1"), (17, "need 2 ≤ bits ≤ 16; got 17"),
    (0, "need 2 ≤ bits ≤ 16; got 0"), (8.0, "bits must be an int; got float"),
    (True, "bits must be an int; got bool"), ("8", "bits must be an int; got str"),
    (None, "bits must be an int; got NoneType"),
])
def test_bad_bit_widths_are_rejected(bad, message):
    with pytest.raises(ParameterError, match=message):
        q.qrange(bad)
    with pytest.raises(ParameterError, match=message):
        q.affine_params(np.array([-1.0, 1.0]), bits=bad)
    with pytest.raises(ParameterError, match=message):
        q.fake_quant(tf.constant([0.5]), 0.0, 1.0, bits=bad)
    with pytest.raises(ParameterError, match=message.replace("bits", "weight_bits")):
        q.QATDense(3, weight_bits=bad)
    if bad is not None:  # activation_bits=None: no activation quantization
        with pytest.raises(ParameterError, match=message.replace("bits", "activation_bits")):
            q.QATDense(3, activation_bits=bad, activation_range=(0.0, 1.0))
    assert q.qrange(np.int64(4)) == (-8, 7)


def test_narrow_unsigned_range_is_rejected():
    with pytest.raises(ParameterError, match="parameter narrow must be False for unsigned"):
        q.qrange(8, signed=False, narrow=True)


def test_zero_range_is_rejected():
    with pytest.raises(ValueError, match="zero range"):
        q.affine_params(np.zeros(5))
    with pytest.raises(ValueError, match="zero range"):
        q.symmetric_params(np.zeros((3, 2)), axis=1)
    with pytest.raises(ValueError, match="zero range"):  # one all-zero channel is enough
        q.symmetric_params(np.array([[1.0, 0.0], [2.0, 0.0]]), axis=1)
    with pytest.raises(ParameterError, match=r"lo and hi must not both be 0 \(zero range\)"):
        q.fake_quant(tf.constant([0.0]), 0.0, 0.0)


@pytest.mark.parametrize("bad", [np.array([]), np.array([1.0, np.nan]), np.array([np.inf])])
def test_empty_or_non_finite_arrays_are_rejected(bad):
    with pytest.raises(ValueError, match="x must be a non-empty array of finite values"):
        q.affine_params(bad)


def test_affine_known_answer_8_bit():
    x = np.array([-1.0, 0.0, 0.25, 1.0, 2.0])
    params = q.affine_params(x)  # range [-1, 2]: s = 3/255, z = round(-128 + 85) = -43
    assert params.scale == pytest.approx(3 / 255) and params.zero_point == -43
    codes = q.quantize(x, params)
    assert codes.dtype == np.int8
    np.testing.assert_array_equal(codes, [-128, -43, -22, 42, 127])  # 0.25·85 = 21.25 → 21
    assert q.dequantize(codes, params)[1] == 0.0  # zero is exactly representable


def test_affine_range_is_widened_to_contain_zero():
    params = q.affine_params(np.array([0.5, 2.0]), signed=False)  # range [0, 2]
    assert params.scale == pytest.approx(2 / 255) and params.zero_point == 0
    np.testing.assert_array_equal(q.quantize(np.array([0.5, 2.0]), params), [64, 255])
    assert q.quantize(np.array([1.0]), params).dtype == np.uint8


def test_rounding_is_half_away_from_zero_and_clips_at_the_edges():
    params = q.affine_params(np.array([-2.0, 1.0]), bits=2)  # codes -2..1, s = 1, z = 0
    assert params.scale == 1.0 and params.zero_point == 0
    x = np.array([-0.5, 0.5, -1.5, -3.7, 1.2, 7.0, -0.49])
    np.testing.assert_array_equal(q.quantize(x, params), [-1, 1, -2, -2, 1, 1, 0])
    np.testing.assert_array_equal(q.round_half_away(np.array([2.5, -2.5, 0.5, -0.5, 1.4])),
                                  [3, -3, 1, -1, 1])


def test_symmetric_known_answers_per_tensor_and_per_channel():
    w = np.array([[1.0, -2.2, 0.5], [-4.0, 0.75, 0.2]])
    per_tensor = q.symmetric_params(w)  # s = 4/127
    assert per_tensor.zero_point == 0 and per_tensor.qmin == -127
    # 31.75 → 32, -69.85 → -70, 15.875 → 16, -127, 23.8125 → 24, 6.35 → 6
    np.testing.assert_array_equal(q.quantize(w, per_tensor), [[32, -70, 16], [-127, 24, 6]])
    per_column = q.symmetric_params(w, axis=1)  # absmax per column: 4, 2.2, 0.5
    np.testing.assert_allclose(per_column.scale, np.array([4.0, 2.2, 0.5]) / 127)
    # column 1: 0.75·127/2.2 = 43.30 → 43; column 2: 0.2·127/0.5 = 50.8 → 51
    np.testing.assert_array_equal(q.quantize(w, per_column), [[32, -127, 127], [-127, 43, 51]])
    np.testing.assert_array_equal(q.quantize(-w, per_column), -q.quantize(w, per_column))


def test_affine_per_channel_known_answer():
    x = np.array([[0.0, 1.0, 3.0], [-1.0, 0.0, 1.0]])
    params = q.affine_params(x, bits=2, signed=False, axis=0)  # rows: [0, 3] and [-1, 1]
    np.testing.assert_allclose(params.scale, [1.0, 2 / 3])
    np.testing.assert_array_equal(params.zero_point, [0, 2])  # round(1.5) = 2, away from 0
    np.testing.assert_array_equal(q.quantize(x, params), [[0, 1, 3], [0, 2, 3]])


def test_per_channel_parameters_must_fit_the_array():
    params = q.symmetric_params(np.ones((2, 3)), axis=1)
    with pytest.raises(ValueError, match="per-channel parameters for 3 channels"):
        q.quantize(np.ones((3, 2)), params)
    with pytest.raises(ParameterError, match="need -2 ≤ axis < 2; got 2"):
        q.symmetric_params(np.ones((2, 3)), axis=2)


def test_dequantize_rejects_floats():
    with pytest.raises(ValueError, match="q must be an array of integer codes; got dtype float"):
        q.dequantize(np.array([1.5]), q.symmetric_params(np.array([1.0])))


def test_round_trip_error_is_at_most_half_a_step_inside_the_range():
    rng = np.random.default_rng(0)
    samplers = [lambda n: rng.normal(size=n), lambda n: rng.uniform(0.2, 3.0, size=n),
                lambda n: rng.standard_t(2, size=n), lambda n: -rng.exponential(size=n)]
    for trial in range(200):
        bits = int(rng.integers(2, 17))
        x = samplers[trial % len(samplers)]((int(rng.integers(1, 6)), int(rng.integers(1, 40))))
        for params in (q.affine_params(x, bits), q.affine_params(x, bits, signed=False),
                       q.affine_params(x, bits, axis=1), q.symmetric_params(x, bits),
                       q.symmetric_params(x, bits, axis=0)):
            error = np.abs(q.dequantize(q.quantize(x, params), params) - x)
            assert np.all(error <= params.scale_for(x) / 2 * (1 + 1e-9)), (trial, bits)


# --- integer matmul ----------------------------------------------------------------------------

def test_int_matmul_known_answer():
    px = q.QuantParams(np.array(0.5), np.array(-1), -128, 127)
    pw = q.QuantParams(np.array([0.25, 1.0]), np.array([0, 0]), -127, 127, axis=1)
    qx = np.array([[1, 3]], dtype=np.int8)  # x̂ = 0.5·(q + 1) = [1, 2]
    qw = np.array([[4, -1], [2, 3]], dtype=np.int8)  # ŵ = [[1, -1], [0.5, 3]]
    np.testing.assert_allclose(q.int_matmul(qx, px, qw, pw), [[2.0, 5.0]])


def test_int_matmul_is_within_the_derived_bound():
    rng = np.random.default_rng(1)
    x = np.maximum(rng.normal(size=(20, 300)), 0)  # ReLU-like activations
    w = rng.normal(scale=0.1, size=(300, 7))
    for bits in (8, 4):
        px, pw = q.affine_params(x, bits), q.symmetric_params(w, bits, axis=1)
        qx, qw = q.quantize(x, px), q.quantize(w, pw)
        y = q.int_matmul(qx, px, qw, pw)
        np.testing.assert_allclose(y, q.dequantize(qx, px) @ q.dequantize(qw, pw), rtol=1e-10,
                                   atol=1e-10)
        assert np.all(np.abs(y - x @ w) <= q.matmul_error_bound(qx, px, qw, pw) + 1e-12)


def test_int_matmul_detects_int32_overflow_and_bad_inputs():
    k = 70_000  # 255 · 127 · 70,000 > 2^31
    px = q.QuantParams(np.array(1.0), np.array(-128), -128, 127)
    pw = q.QuantParams(np.array(1.0), np.array(0), -127, 127)
    qx, qw = np.full((1, k), 127, dtype=np.int8), np.full((k, 1), 127, dtype=np.int8)
    with pytest.raises(OverflowError, match="int32 accumulation overflowed"):
        q.int_matmul(qx, px, qw, pw)
    with pytest.raises(ValueError, match=r"\(n, k\) @ \(k, m\); got shapes \(1, 70000\) and "
                       r"\(10, 1\)"):
        q.int_matmul(qx, px, qw[:10], pw)
    affine_w = q.QuantParams(np.array(1.0), np.array(3), -128, 127)
    with pytest.raises(ValueError, match="pw must quantize the weights w symmetrically"):
        q.int_matmul(qx, px, qw, affine_w)
    per_channel_x = q.QuantParams(np.ones(k), np.zeros(k, dtype=np.int64), -128, 127, axis=1)
    with pytest.raises(ValueError, match=r"px must quantize .* per tensor .*; got axis=1"):
        q.int_matmul(qx, per_channel_x, qw, pw)


# --- fake quantization and the straight-through estimator ---------------------------------------

def test_fake_quant_forward_values_and_ste_gradient():
    x = tf.constant([-0.3, 0.1, 0.26, 0.9, 1.4, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = q.fake_quant(x, 0.0, 1.5, bits=2)  # codes 0..3, step 0.5
    np.testing.assert_allclose(y.numpy(), [0.0, 0.0, 0.5, 1.0, 1.5, 1.5])
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [0, 1, 1, 1, 1, 0])


def test_fake_quant_matches_numpy_and_tensorflow():
    rng = np.random.default_rng(2)
    x = rng.normal(size=1000).astype(np.float32)
    for lo, hi, bits in ((-1.0, 2.0, 8), (0.0, 1.3, 4), (-0.7, 0.2, 3)):
        ours = q.fake_quant(tf.constant(x), lo, hi, bits).numpy()
        params = q.affine_params(np.array([lo, hi]), bits, signed=False)
        np.testing.assert_allclose(ours, q.dequantize(q.quantize(x, params), params), atol=1e-6)
        theirs = tf.quantization.fake_quant_with_min_max_vars(x, lo, hi, num_bits=bits).numpy()
        np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_fake_quant_weights_values_and_identity_gradient():
    w = tf.constant([[0.9, -0.2], [-0.3, 0.1]])
    with tf.GradientTape() as tape:
        tape.watch(w)
        w_q = q.fake_quant_weights(w, bits=2)  # ternary codes per column: scale = max|w|
        loss = tf.reduce_sum(w_q * tf.constant([[1.0, 2.0], [3.0, 4.0]]))
    # column 0: -0.3/0.9 → 0; column 1: 0.1/0.2 = 0.5 → 1 (half away from zero)
    np.testing.assert_allclose(w_q.numpy(), [[0.9, -0.2], [0.0, 0.2]], atol=1e-7)
    np.testing.assert_array_equal(tape.gradient(loss, w).numpy(), [[1, 2], [3, 4]])
    per_tensor = q.fake_quant_weights(w, bits=2, axis=None).numpy()  # scale 0.9
    np.testing.assert_allclose(per_tensor, [[0.9, 0.0], [0.0, 0.0]], atol=1e-7)


# --- QAT layers --------------------------------------------------------------------------------

def _tiny_cnn():
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((5, 5, 1)),
                             keras.layers.Conv2D(2, 3, activation="relu", name="conv"),
                             keras.layers.Flatten(name="flatten"),
                             keras.layers.Dense(3, name="out")])


def test_quantize_for_training_computes_with_quantized_kernels():
    model = _tiny_cnn()
    x = np.random.default_rng(3).uniform(size=(4, 5, 5, 1)).astype(np.float32)
    qat = q.quantize_for_training(model, weight_bits=4)
    assert isinstance(qat.get_layer("conv"), q.QATConv2D)
    conv_q = q.fake_quant_weights(model.get_layer("conv").kernel, 4).numpy()
    dense_q = q.fake_quant_weights(model.get_layer("out").kernel, 4).numpy()
    for kernel in (conv_q, dense_q):  # 4 bits: at most 15 values per output channel
        assert max(len(np.unique(kernel[..., c])) for c in range(kernel.shape[-1])) <= 15
    manual = keras.models.clone_model(model)
    manual.set_weights([conv_q, model.get_weights()[1], dense_q, model.get_weights()[3]])
    np.testing.assert_allclose(qat(x).numpy(), manual(x).numpy(), atol=1e-5)
    np.testing.assert_array_equal(model.get_layer("conv").kernel.numpy(),
                                  qat.get_layer("conv").kernel.numpy())  # weights copied


def test_qat_gradient_is_the_straight_through_estimate():
    model = _tiny_cnn()
    x = np.random.default_rng(4).uniform(size=(4, 5, 5, 1)).astype(np.float32)
    qat = q.quantize_for_training(model, weight_bits=3)
    manual = keras.models.clone_model(model)
    manual.set_weights([q.fake_quant_weights(v, 3).numpy() if v.ndim > 1 else v
                        for v in model.get_weights()])
    grads = []
    for m in (qat, manual):
        with tf.GradientTape() as tape:
            loss = tf.reduce_sum(m(x) ** 2)
        grads.append([g.numpy() for g in tape.gradient(loss, m.trainable_weights)])
    for ours, expected in zip(*grads, strict=True):  # dL/dW = dL/dQ(W): rounding skipped
        np.testing.assert_allclose(ours, expected, rtol=1e-4, atol=1e-6)


def test_activation_quantization_uses_calibrated_ranges():
    model = _tiny_cnn()
    x = np.random.default_rng(5).uniform(size=(8, 5, 5, 1)).astype(np.float32)
    ranges = q.activation_ranges(model, x)
    assert set(ranges) == {"input", "conv", "out"} and ranges["conv"][0] == 0.0  # ReLU
    qat = q.quantize_for_training(model, 8, activation_bits=2, ranges=ranges)
    out = qat(x).numpy()
    assert len(np.unique(out)) <= 4  # 2-bit logits: at most four values
    with pytest.raises(ParameterError, match="parameter ranges must be given"):
        q.quantize_for_training(model, 8, activation_bits=4)
    with pytest.raises(TypeError, match="needs a keras.Sequential"):
        q.quantize_for_training(keras.Model(model.inputs, model.outputs), 8)
    with pytest.raises(ParameterError, match=r"activation_range must be \(lo, hi\) with lo < hi"):
        q.QATDense(3, activation_bits=4, activation_range=(1.0, 1.0))


# --- LiteRT ------------------------------------------------------------------------------------

def test_convert_rejects_bad_arguments():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(ParameterError, match="parameter mode must be one of"):
        q.convert(model, "int4")
    with pytest.raises(ParameterError, match="representative .* must be given for mode 'int8'"):
        q.convert(model, "int8")
    with pytest.raises(ParameterError, match="representative .* must be given for mode 'int8'"):
        q.convert(model, "float16", np.zeros((1, 2)))


def test_full_int8_conversion_runs_and_its_bytes_add_up(capfd):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(3)])
    x = np.random.default_rng(6).uniform(size=(32, 6)).astype(np.float32)
    content = q.convert(model, "int8", x)
    assert capfd.readouterr().out == ""  # the converter's temp paths were silenced
    lite = q.LiteModel(content)
    assert lite.input_details["dtype"] == np.int8
    np.testing.assert_allclose(lite.predict(x, batch_size=5), model(x).numpy(), atol=0.05)
    sizes = q.size_breakdown(content)
    assert sum(sizes.values()) == len(content) and sizes["int8 data"] == 6 * 4 + 4 * 3
    constants = q.constant_tensors(content)
    assert sum(row["bytes"] for row in constants if row["dtype"] == "int8") == 36
    for row in constants:
        assert lite.interpreter().get_tensor(row["index"]).nbytes == row["bytes"]
    with pytest.raises(ValueError, match=r"x must have shape \(n, 6\); got \(2, 5\)"):
        lite.predict(np.zeros((2, 5)))


def test_operators_lists_the_graph_with_dtypes():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(3)])
    float16_ops = q.operators(q.convert(model, "float16"))
    # the two kernels are stored as float16, each turned into float32 for the float math
    assert [op["op"] for op in float16_ops].count("DEQUANTIZE") == 2
    for op in float16_ops:
        if op["op"] == "DEQUANTIZE":
            assert op["inputs"] == ("float16",) and op["outputs"] == ("float32",)
        else:
            assert op["op"] == "FULLY_CONNECTED" and set(op["inputs"]) == {"float32"}
    x = np.random.default_rng(7).uniform(size=(8, 6)).astype(np.float32)
    int8_ops = q.operators(q.convert(model, "int8", x))
    assert [op["op"] for op in int8_ops] == ["FULLY_CONNECTED", "FULLY_CONNECTED"]
    assert all(op["inputs"][:2] == ("int8", "int8") for op in int8_ops)  # input, kernel
