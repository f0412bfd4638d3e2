"""Known-answer tests for course_lib.regularization."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_lib.parameters import ParameterError
from course_lib.regularization import build_mlp, dense_kernels, near_zero_fraction


def test_near_zero_fraction_counts_strictly_below_the_threshold_over_all_arrays():
    weights = [np.array([0.0, 1e-4, -5e-4, 0.1]), np.array([[2e-3, -1e-3]])]
    assert near_zero_fraction(weights, threshold=1e-3) == 0.5  # 0, 1e-4, -5e-4 of 6
    assert near_zero_fraction(np.array([[0.0, 3.0], [-3.0, 0.0]]), threshold=1.0) == 0.5


@pytest.mark.parametrize("threshold", [0, -1e-3, float("nan"), "small"])
def test_near_zero_fraction_rejects_bad_thresholds(threshold):
    with pytest.raises(ParameterError, match="parameter threshold"):
        near_zero_fraction(np.ones(3), threshold=threshold)


def test_near_zero_fraction_rejects_no_weights():
    with pytest.raises(ValueError, match=r"at least one weight; got shapes \[\(0, 4\)\]"):
        near_zero_fraction([np.zeros((0, 4))])


def test_plain_mlp_has_only_dense_layers_and_no_penalty():
    keras.utils.set_random_seed(0)
    model = build_mlp(6, [5, 4], 3)
    assert [layer.name for layer in model.layers] == ["hidden_1", "hidden_2", "logits"]
    assert [k.shape for k in dense_kernels(model)] == [(6, 5), (5, 4), (4, 3)]
    assert model.losses == []
    assert model(np.zeros((2, 6), dtype="float32")).shape == (2, 3)


def test_penalty_is_l1_sum_abs_plus_l2_sum_squares_of_every_kernel():
    keras.utils.set_random_seed(0)
    model = build_mlp(3, [2], 2, l1=0.1, l2=0.01)
    model.layers[0].kernel.assign(np.array([[1.0, -2.0], [0.5, 0.0], [0.0, 3.0]]))
    model.layers[1].kernel.assign(np.array([[-1.0, 1.0], [2.0, 0.0]]))
    # Σ|w| = 6.5 + 4 = 10.5 and Σw² = 14.25 + 6 = 20.25; biases are not penalized.
    model.layers[0].bias.assign(np.array([100.0, 100.0]))
    penalty = float(sum(model.losses))
    np.testing.assert_allclose(penalty, 0.1 * 10.5 + 0.01 * 20.25, rtol=1e-6)


def test_dropout_layers_follow_the_input_and_every_hidden_layer():
    model = build_mlp(4, [3, 3], 2, input_dropout=0.2, dropout=0.5)
    assert [layer.name for layer in model.layers] == [
        "input_dropout", "hidden_1", "dropout_1", "hidden_2", "dropout_2", "logits"]
    assert [layer.rate for layer in model.layers if "dropout" in layer.name] == [0.2, 0.5, 0.5]


@pytest.mark.parametrize("kwargs, message", [
    ({"dropout": 1.0}, "need 0 ≤ dropout < 1; got 1.0"),
    ({"input_dropout": -0.1}, "need 0 ≤ input_dropout < 1"),
    ({"dropout": True}, "parameter dropout must be a number; got bool"),
    ({"l2": -1e-3}, "need 0 ≤ l2"),
    ({"l1": float("inf")}, "parameter l1 must be a number; got float inf"),
])
def test_bad_regularization_settings_raise(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        build_mlp(4, [3], 2, **kwargs)


@pytest.mark.parametrize("args, message", [
    ((4, [], 2), r"parameter hidden_units must be a non-empty list \(each an int\); got list"),
    ((4, [3, 0], 2), r"need 1 ≤ hidden_units\[1\]; got 0"),
    ((0, [3], 2), "need 1 ≤ input_dim; got 0"),
    ((4, [3], 1), "need 2 ≤ n_classes; got 1"),
])
def test_bad_shapes_raise(args, message):
    with pytest.raises(ParameterError, match=message):
        build_mlp(*args)


@pytest.mark.parametrize("kwargs", [{"l2": 1e-3}, {"l1": 1e-3},
                                    {"input_dropout": 0.2, "dropout": 0.5}])
def test_every_variant_starts_from_the_plain_mlps_initial_weights(kwargs):
    # Notebook 03 compares variants trained "from the same starting point": adding dropout
    # layers (which draw seeds when created) must not shift the draws of the kernels.
    keras.utils.set_random_seed(3)
    plain = dense_kernels(build_mlp(7, [6, 5], 3))
    keras.utils.set_random_seed(3)
    variant = dense_kernels(build_mlp(7, [6, 5], 3, **kwargs))
    assert all(np.array_equal(a, b) for a, b in zip(plain, variant, strict=True))


def _sgd_steps(model, optimizer, x, y, steps):
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x)) + sum(model.losses)
        grads = tape.gradient(loss, model.trainable_weights)
        optimizer.apply_gradients(zip(grads, model.trainable_weights, strict=True))
    return dense_kernels(model)


@pytest.mark.parametrize("momentum, same", [(0.0, True), (0.9, False)])
def test_l2_penalty_equals_decoupled_weight_decay_only_for_plain_sgd(momentum, same):
    # L2(λ) adds 2λw to the gradient; Keras's weight_decay=wd subtracts η·wd·w from the weight.
    # With plain SGD the two are the same update for wd = 2λ; with momentum the penalty's
    # gradient also enters the velocity, so after two steps they differ.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 5)).astype("float32")
    y = rng.integers(0, 3, size=16)
    lr, l2 = 0.1, 0.05
    keras.utils.set_random_seed(0)
    penalized = _sgd_steps(build_mlp(5, [4], 3, l2=l2),
                           keras.optimizers.SGD(lr, momentum=momentum), x, y, steps=2)
    keras.utils.set_random_seed(0)
    decayed = _sgd_steps(build_mlp(5, [4], 3),
                         keras.optimizers.SGD(lr, momentum=momentum, weight_decay=2 * l2),
                         x, y, steps=2)
    close = all(np.allclose(a, b, rtol=1e-5, atol=1e-7)  # float32 round-off of two steps
                for a, b in zip(penalized, decayed, strict=True))
    assert close == same
