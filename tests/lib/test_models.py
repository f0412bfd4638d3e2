"""The shared model builders: exact architecture, sizes, output shapes, and input scaling."""

import keras
import numpy as np
import pytest

from course_lib import models
from course_lib.convolution import total_macs
from course_lib.parameters import ParameterError


def test_mnist_cnn_layers_and_parameter_count():
    model = models.mnist_cnn()
    assert model.name == "mnist_cnn"
    assert [(type(layer).__name__, layer.name) for layer in model.layers] == [
        ("Conv2D", "conv1"), ("MaxPooling2D", "pool1"), ("Conv2D", "conv2"),
        ("MaxPooling2D", "pool2"), ("Flatten", "flatten"), ("Dense", "dense"),
        ("Dense", "logits")]
    conv1, conv2 = model.get_layer("conv1"), model.get_layer("conv2")
    assert (conv1.filters, conv1.kernel_size, conv1.padding) == (32, (3, 3), "valid")
    assert (conv2.filters, conv2.kernel_size, conv2.padding) == (64, (3, 3), "valid")
    assert model.get_layer("dense").units == 128
    assert [layer.activation.__name__ for layer in (conv1, conv2, model.get_layer("dense"),
                                                    model.get_layer("logits"))] == [
        "relu", "relu", "relu", "linear"]  # the output is logits: no softmax
    assert model.count_params() == models.MNIST_CNN_PARAMS == 225_034
    assert total_macs(model) == 2_631_040
    assert not model.compiled  # returned uncompiled


def test_mnist_cnn_output_shape_and_names():
    model = models.mnist_cnn(name="baseline")
    assert model.name == "baseline"
    assert model.input_shape == (None, 28, 28, 1)
    assert model(np.zeros((2, 28, 28, 1), np.float32)).shape == (2, 10)


def test_mnist_mlp_matches_the_cnn_size():
    mlp = models.mnist_mlp()
    assert [layer.name for layer in mlp.layers] == ["flatten", "hidden1", "logits"]
    assert mlp.count_params() == 224_995
    assert abs(mlp.count_params() / models.MNIST_CNN_PARAMS - 1) < 2e-4
    assert models.mnist_mlp((16, 8)).count_params() == 784 * 16 + 16 + 16 * 8 + 8 + 8 * 10 + 10
    assert mlp(np.zeros((3, 28, 28, 1), np.float32)).shape == (3, 10)


@pytest.mark.parametrize("bad, message", [
    ((), r"parameter hidden_units must be a non-empty list \(each an int\); got tuple \(\)"),
    ((0,), r"need 1 ≤ hidden_units\[0\]; got 0"),
    ((12.5,), r"parameter hidden_units\[0\] must be an int; got float"),
    ((True,), r"parameter hidden_units\[0\] must be an int; got bool"),
])
def test_mnist_mlp_rejects_bad_hidden_units(bad, message):
    with pytest.raises(ParameterError, match=message):
        models.mnist_mlp(bad)


def test_compile_classifier_uses_adam_and_cross_entropy_on_logits():
    model = models.compile_classifier(models.mnist_mlp((8,)), learning_rate=1e-2)
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-2)
    # Logits (0, ln 3) mean probabilities (1/4, 3/4): the loss of label 1 is -ln(3/4).
    loss = model.loss(np.array([1]), np.array([[0.0, np.log(3.0)]], np.float32))
    assert float(loss) == pytest.approx(-np.log(0.75), rel=1e-6)


def test_scale_images():
    images = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    scaled = models.scale_images(images)
    assert scaled.shape == (1, 2, 2, 1) and scaled.dtype == np.float32
    np.testing.assert_allclose(scaled[0, :, :, 0], [[0.0, 1.0], [0.2, 0.4]], rtol=1e-6)


def test_scale_images_rejects_floats_and_bad_shapes():
    with pytest.raises(ValueError, match="images must hold uint8 pixels"):
        models.scale_images(np.zeros((1, 2, 2), np.float32))
    with pytest.raises(ValueError, match=r"stack of greyscale images .*; got shape \(2, 2\)"):
        models.scale_images(np.zeros((2, 2), np.uint8))


def test_accuracy_counts_arg_max_hits():
    # Dense(2) with identity kernel and no bias: the output is the input, so the arg-max is known.
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2, use_bias=False,
                                                                    kernel_initializer="identity")])
    x = np.array([[1.0, 0.0], [0.0, 1.0], [3.0, 2.0], [-1.0, 0.5]], np.float32)
    assert models.accuracy(model, x, np.array([0, 1, 1, 1]), batch_size=3) == 0.75
    with pytest.raises(ValueError, match="as many labels"):
        models.accuracy(model, x, np.array([0, 1]))


def test_lenet_300_100_as_in_deep_compression():
    model = models.lenet_300_100()
    assert [(type(layer).__name__, layer.name) for layer in model.layers] == [
        ("Flatten", "flatten"), ("Dense", "fc1"), ("Dense", "fc2"), ("Dense", "fc3")]
    assert [model.get_layer(n).units for n in ("fc1", "fc2", "fc3")] == [300, 100, 10]
    assert model.get_layer("fc3").activation.__name__ == "linear"
    assert model.count_params() == models.LENET_300_100_PARAMS == 266_610
    assert total_macs(model) == 784 * 300 + 300 * 100 + 100 * 10


def test_lenet5_is_the_caffe_variant():
    model = models.lenet5()
    conv1, conv2 = model.get_layer("conv1"), model.get_layer("conv2")
    assert (conv1.filters, conv1.kernel_size, conv2.filters, conv2.kernel_size) == (
        20, (5, 5), 50, (5, 5))
    assert conv1.activation.__name__ == conv2.activation.__name__ == "linear"  # as in Caffe
    assert model.get_layer("fc1").units == 500
    assert model.count_params() == models.LENET5_PARAMS == 431_080
    assert total_macs(model) == 24 * 24 * 25 * 20 + 8 * 8 * 25 * 20 * 50 + 800 * 500 + 500 * 10
    assert model.predict(np.zeros((2, 28, 28, 1)), verbose=0).shape == (2, 10)
