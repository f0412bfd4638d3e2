"""k-means weight sharing: linear initialisation, pruned weights, centroid gradients, tuning."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_lib import weight_sharing as ws
from course_lib.parameters import ParameterError


def test_linear_centroids_span_the_values_evenly():
    np.testing.assert_allclose(ws.linear_centroids(np.array([-1.0, 0.5, 3.0]), 5),
                               [-1, 0, 1, 2, 3])
    with pytest.raises(ValueError, match="empty"):
        ws.linear_centroids(np.array([]), 2)


def test_share_weights_known_answer_keeps_zeros_pruned():
    w = np.array([[0.0, 1.0, 1.2], [-2.0, 0.0, -2.2]], dtype=np.float32)
    shared = ws.share_weights(w, 1)  # two clusters: {1.0, 1.2} and {-2.0, -2.2}
    np.testing.assert_allclose(np.sort(shared.centroids), [-2.1, 1.1], rtol=1e-6)
    np.testing.assert_array_equal(shared.kept, w != 0)
    np.testing.assert_allclose(shared.weights(), [[0, 1.1, 1.1], [-2.1, 0, -2.1]], rtol=1e-6)
    assert shared.indices[0, 0] == ws.PRUNED


def test_share_weights_with_fewer_distinct_values_than_clusters_is_exact():
    w = np.array([0.0, 0.5, 0.5, -1.0], dtype=np.float32)
    shared = ws.share_weights(w, 4)
    assert len(shared.centroids) == 2
    np.testing.assert_array_equal(shared.weights(), w)


def test_share_weights_rejects_all_zero_and_bad_bits():
    with pytest.raises(ValueError, match="every weight is zero"):
        ws.share_weights(np.zeros((2, 2)), 2)
    with pytest.raises(ParameterError, match="bits"):
        ws.share_weights(np.ones(3), 0)


def test_shared_tensor_rejects_indices_out_of_range():
    with pytest.raises(ValueError, match="indices must lie in"):
        ws.SharedTensor(np.float32([1.0]), np.array([0, 1]))
    with pytest.raises(TypeError, match="integers"):
        ws.SharedTensor(np.float32([1.0]), np.array([0.0]))


def test_more_bits_never_increase_the_clustering_error():
    w = np.random.default_rng(0).normal(size=2000).astype(np.float32)
    errors = [np.abs(ws.share_weights(w, b).weights() - w).mean() for b in range(1, 7)]
    assert all(a > b for a, b in zip(errors, errors[1:], strict=False))


def test_centroid_gradients_sum_each_cluster_and_drop_pruned():
    grads = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    slots = tf.constant([0, 2, 0, 1])  # weight 1 pruned (slot 2 = n_clusters)
    np.testing.assert_allclose(ws.centroid_gradients(grads, slots, 2).numpy(), [4.0, 4.0])


def _tiny_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="fc")])
    kernel = np.array([[0.5, 0, -0.5], [0.4, 0.6, 0], [0, -0.45, 0.55], [0.5, 0, 0]],
                      dtype=np.float32)
    model.get_layer("fc").kernel.assign(kernel)
    return model, kernel


def test_finetune_centroids_keeps_sharing_and_pruning_and_lowers_the_loss():
    model, kernel = _tiny_model()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 4)).astype(np.float32)
    y = (x @ np.array([[1, 0, -1]] * 4, dtype=np.float32)).argmax(1)
    shared = {"fc": ws.share_weights(kernel, 1)}
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.get_layer("fc").kernel.assign(shared["fc"].weights())
    before = float(loss(y, model(x)))
    tuned = ws.finetune_centroids(model, shared, x, y, epochs=5, batch_size=32,
                                  learning_rate=0.05, log=False)
    after = float(loss(y, model(x)))
    assert after < before
    np.testing.assert_array_equal(tuned["fc"].indices, shared["fc"].indices)
    assert not np.allclose(tuned["fc"].centroids, shared["fc"].centroids)
    np.testing.assert_array_equal(model.get_layer("fc").kernel.numpy(), tuned["fc"].weights())


def test_one_finetuning_step_moves_each_centroid_by_its_summed_gradient():
    # Plain SGD is not what finetune_centroids uses (Adam), so check the summed gradient
    # against the per-weight gradients that GradientTape gives for the same batch.
    model, kernel = _tiny_model()
    shared = ws.share_weights(kernel, 1)
    model.get_layer("fc").kernel.assign(shared.weights())
    x = np.random.default_rng(1).normal(size=(8, 4)).astype(np.float32)
    y = np.arange(8) % 3
    with tf.GradientTape() as tape:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y, model(x))
    grad = tape.gradient(loss, model.get_layer("fc").kernel).numpy()
    slots = np.where(shared.kept, shared.indices, 2).ravel()
    summed = ws.centroid_gradients(tf.constant(grad), tf.constant(slots), 2).numpy()
    for k in range(2):
        assert summed[k] == pytest.approx(grad[shared.indices == k].sum(), rel=1e-5)


def test_finetune_centroids_rejects_a_shape_mismatch():
    model, _ = _tiny_model()
    shared = {"fc": ws.share_weights(np.ones((3, 3), np.float32), 1)}
    with pytest.raises(ValueError, match="kernel of shape"):
        ws.finetune_centroids(model, shared, np.zeros((1, 4)), np.zeros(1), log=False)
