"""Convolution arithmetic: known answers for tiny layers, agreement with Keras, error cases."""

import keras
import pytest

from course_lib import convolution as conv
from course_lib.parameters import ParameterError


@pytest.mark.parametrize(("n", "k", "s", "padding", "expected"), [
    (28, 3, 1, "valid", 26),
    (26, 2, 2, "valid", 13),  # pooling 2×2, stride 2
    (11, 2, 2, "valid", 5),  # floor: the last row and column are dropped
    (5, 5, 1, "valid", 1),
    (7, 3, 2, "valid", 3),
    (28, 3, 1, "same", 28),
    (7, 3, 2, "same", 4),  # ceil(7 / 2)
    (4, 1, 3, "same", 2),
])
def test_conv_output_size_known_answers(n, k, s, padding, expected):
    assert conv.conv_output_size(n, k, s, padding) == expected


@pytest.mark.parametrize(("n", "k", "s", "expected"), [
    (28, 3, 1, 2), (7, 3, 2, 2), (8, 3, 2, 1), (6, 4, 2, 2), (5, 1, 2, 0), (4, 1, 3, 0)])
def test_total_padding_same(n, k, s, expected):
    assert conv.total_padding(n, k, s, "same") == expected
    assert conv.total_padding(n, k, s, "valid") == 0


def test_output_sizes_match_keras_on_a_grid():
    for n in range(3, 10):
        for k in range(1, 4):
            for s in range(1, 4):
                for padding in conv.PADDINGS:
                    layer = keras.layers.Conv2D(1, (k, 1), strides=(s, 1), padding=padding)
                    expected = layer.compute_output_shape((1, n, 1, 1))[1]
                    assert conv.conv_output_size(n, k, s, padding) == expected, (n, k, s, padding)


def test_params_and_macs_known_answers():
    assert conv.conv2d_params(3, 3, 1, 32) == 320
    assert conv.conv2d_params(3, 3, 32, 64) == 18_496
    assert conv.conv2d_params(3, 3, 32, 64, bias=False) == 18_432
    assert conv.conv2d_macs(26, 26, 3, 3, 1, 32) == 194_688
    assert conv.conv2d_macs(1, 1, 2, 2, 3, 4) == 48


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ParameterError, match="parameter k must be ≤ n .* does not fit.*; got 3"):
        conv.conv_output_size(2, 3)
    with pytest.raises(ParameterError, match="parameter padding must be one of"):
        conv.conv_output_size(5, 3, 1, "full")
    with pytest.raises(ParameterError, match="need 1 ≤ s; got 0"):
        conv.conv_output_size(5, 3, 0)
    with pytest.raises(ParameterError, match="parameter n must be an int; got float 2.5"):
        conv.total_padding(2.5, 1)
    with pytest.raises(ParameterError, match="parameter k must be an int; got bool"):
        conv.total_padding(2, True)


def tiny_model():
    return keras.Sequential([
        keras.Input((6, 5, 2)),
        keras.layers.Conv2D(4, 3, name="c1"),
        keras.layers.Conv2D(3, (2, 3), strides=2, padding="same", use_bias=False, name="c2"),
        keras.layers.MaxPooling2D(2, padding="same", name="p"),
        keras.layers.Dropout(0.5, name="drop"),
        keras.layers.Flatten(name="f"),
        keras.layers.Dense(7, name="d"),
    ])


def test_layer_costs_known_answers_for_a_tiny_model():
    rows = conv.layer_costs(tiny_model())
    # c1: 6×5 → 4×3, 3·3·2·4 + 4 = 76 params, 4·3·3·3·2·4 = 864 MACs.
    # c2 (same, stride 2): 4×3 → 2×2, 2·3·4·3 = 72 params, no bias, 2·2·72 = 288 MACs.
    # p (same, 2): 2×2 → 1×1; f: 3 values; d: 3·7 + 7 = 28 params, 21 MACs.
    assert [(r["layer"], r["output_shape"], r["params"], r["macs"]) for r in rows] == [
        ("c1", (4, 3, 4), 76, 864),
        ("c2", (2, 2, 3), 72, 288),
        ("p", (1, 1, 3), 0, 0),
        ("drop", (1, 1, 3), 0, 0),
        ("f", (3,), 0, 0),
        ("d", (7,), 28, 21),
    ]
    assert conv.total_macs(tiny_model()) == 864 + 288 + 21


def test_layer_costs_agree_with_keras_and_count_dense_on_every_position():
    sequence_model = keras.Sequential([keras.Input((4, 3)), keras.layers.Dense(5)])
    (row,) = conv.layer_costs(sequence_model)
    assert row["output_shape"] == (4, 5) and row["macs"] == 4 * 3 * 5
    for model in (tiny_model(), sequence_model):
        for row, layer in zip(conv.layer_costs(model), model.layers, strict=True):
            assert row["output_shape"] == tuple(layer.output.shape[1:])
            assert row["params"] == layer.count_params()


def test_functional_models_skip_the_input_layer():
    inputs = keras.Input((4, 4, 1))
    model = keras.Model(inputs, keras.layers.Conv2D(2, 3, name="c")(inputs))
    assert [r["layer"] for r in conv.layer_costs(model)] == ["c"]


def test_unsupported_layers_raise_naming_the_layer():
    model = keras.Sequential([keras.Input((8, 8, 1)),
                              keras.layers.AveragePooling2D(2, name="avg")])
    with pytest.raises(ValueError, match="'avg' of type AveragePooling2D is not supported"):
        conv.layer_costs(model)
    dilated = keras.Sequential([keras.Input((8, 8, 1)),
                                keras.layers.Conv2D(1, 3, dilation_rate=2, name="dil")])
    with pytest.raises(ValueError, match="'dil': dilated or grouped"):
        conv.layer_costs(dilated)


def test_a_model_without_a_fixed_input_shape_is_rejected():
    model = keras.Sequential([keras.Input((None, None, 1)), keras.layers.Conv2D(1, 3)])
    with pytest.raises(ValueError, match="fixed input shape"):
        conv.layer_costs(model)


def test_the_course_cnn_costs_what_notebook_05_quotes():
    """Moved from notebook 05: the totals its text quotes for ``cl.models.mnist_cnn()``."""
    from course_lib.models import mnist_cnn

    model = mnist_cnn()
    rows = conv.layer_costs(model)
    assert sum(row["params"] for row in rows) == model.count_params() == 225_034
    assert conv.total_macs(model) == sum(row["macs"] for row in rows) == 2_631_040
