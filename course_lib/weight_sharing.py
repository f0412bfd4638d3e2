"""Weight sharing by k-means, with centroid fine-tuning (Deep Compression, stage 2).

Introduced in notebook 13 (the capstone). Han, Mao & Dally (2016) replace the surviving weights
of each pruned layer by ``k = 2**bits`` shared values: a layer then stores a small codebook of
``k`` float32 centroids and, per weight, a ``bits``-wide index into it.

- :func:`linear_centroids`: the paper's initialisation, ``k`` values evenly spaced between the
  smallest and the largest weight. Unlike random or density-based starts it keeps centroids
  at the rare large weights, which matter most.
- :func:`share_weights`: 1-D k-means (scikit-learn's ``KMeans``, started at the linear
  centroids, one run) over a layer's kept weights; pruned weights stay exactly zero and get no
  index.
- :func:`finetune_centroids`: retrain the codebooks. The gradient of a centroid is the sum of
  the gradients of the weights that share it, ``∂L/∂c_k = Σ_{i: idx_i = k} ∂L/∂w_i``; after each
  step every kernel is rewritten from its codebook, so the model stays exactly shared.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf
from sklearn.cluster import KMeans

from .parameters import check_param
from .training import EpochLogger

PRUNED = -1  # the index of a pruned weight


@dataclass(frozen=True)
class SharedTensor:
    """A weight tensor as a codebook and indices: ``centroids`` (float32, ``k``) and
    ``indices`` (int, the tensor's shape; :data:`PRUNED` where the weight is zero)."""

    centroids: np.ndarray
    indices: np.ndarray

    def __post_init__(self):
        indices = np.asarray(self.indices)
        if not np.issubdtype(indices.dtype, np.integer):
            raise TypeError(f"indices must be integers, got dtype {indices.dtype}")
        if indices.size and (indices.min() < PRUNED or indices.max() >= len(self.centroids)):
            raise ValueError(f"indices must lie in [{PRUNED}, {len(self.centroids) - 1}] for "
                             f"{len(self.centroids)} centroids; got [{indices.min()}, "
                             f"{indices.max()}]")

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(np.shape(self.indices))

    @property
    def kept(self) -> np.ndarray:
        """Boolean mask of the weights that are not pruned."""
        return np.asarray(self.indices) != PRUNED

    def weights(self) -> np.ndarray:
        """The dense float32 tensor: each kept weight its centroid, pruned weights 0."""
        table = np.append(np.asarray(self.centroids, dtype=np.float32), np.float32(0))
        return table[np.asarray(self.indices)]  # PRUNED = -1 picks the appended 0


def linear_centroids(values: np.ndarray, n_clusters: int) -> np.ndarray:
    """``n_clusters`` centroids evenly spaced from ``min(values)`` to ``max(values)``."""
    check_param("n_clusters", n_clusters, int, ge=1)
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        raise ValueError("values must not be empty")
    return np.linspace(values.min(), values.max(), n_clusters)


def share_weights(weights: np.ndarray, bits: int) -> SharedTensor:
    """Cluster the nonzero ``weights`` into ``2**bits`` shared values by 1-D k-means.

    k-means starts at :func:`linear_centroids` and runs once (Lloyd's algorithm to
    convergence). Zeros are pruned weights: they stay zero and take no cluster. With fewer
    distinct nonzero values than ``2**bits`` each distinct value becomes its own centroid (the
    codebook is then shorter). Raises ValueError when every weight is zero.
    """
    check_param("bits", bits, int, ge=1, le=16)
    weights = np.asarray(weights, dtype=np.float32)
    kept = weights != 0
    values = weights[kept].astype(np.float64)
    if values.size == 0:
        raise ValueError(f"cannot share the weights of a tensor of shape {weights.shape}: every "
                         f"weight is zero (pruned)")
    n_clusters = min(2**bits, np.unique(values).size)
    kmeans = KMeans(n_clusters, init=linear_centroids(values, n_clusters)[:, None], n_init=1,
                    random_state=0)
    with warnings.catch_warnings():  # duplicate values can leave k-means fewer distinct points
        warnings.simplefilter("ignore")
        labels = kmeans.fit_predict(values[:, None])
    indices = np.full(weights.shape, PRUNED, dtype=np.int64)
    indices[kept] = labels
    return SharedTensor(kmeans.cluster_centers_.ravel().astype(np.float32), indices)


def centroid_gradients(weight_gradients: tf.Tensor, indices: tf.Tensor, n_clusters: int
                       ) -> tf.Tensor:
    """Sum the gradients of the weights of each cluster: entry ``k`` is
    ``Σ_{i: indices_i = k} ∂L/∂w_i``. ``indices`` are flat, with pruned weights at slot
    ``n_clusters`` (dropped)."""
    sums = tf.math.unsorted_segment_sum(tf.reshape(weight_gradients, [-1]), indices,
                                        n_clusters + 1)
    return sums[:n_clusters]


def finetune_centroids(model: keras.Model, shared: Mapping[str, SharedTensor], x: np.ndarray,
                       y: np.ndarray, *, epochs: int = 1, batch_size: int = 128,
                       learning_rate: float = 1e-4, seed: int = 0, log: bool = True
                       ) -> dict[str, SharedTensor]:
    """Fine-tune the codebooks of the layers in ``shared`` (by layer name) on ``(x, y)``.

    The model's kernels are first set from the codebooks. Each step computes the gradients of
    the cross-entropy (the model outputs logits) for every kernel, sums them per cluster
    (:func:`centroid_gradients`) and lets Adam update the centroids and the model's other
    trainable variables (biases); then each kernel is rewritten from its codebook, so pruned
    weights stay zero and the indices never change. Returns the new codebooks; ``model`` is
    changed in place. ``log`` prints one line per epoch.
    """
    check_param("epochs", epochs, int, ge=1)
    check_param("batch_size", batch_size, int, ge=1)
    check_param("learning_rate", learning_rate, float, gt=0)
    names = list(shared)
    kernels = [model.get_layer(n).kernel for n in names]
    for name, kernel in zip(names, kernels, strict=True):
        if tuple(kernel.shape) != shared[name].shape:
            raise ValueError(f"layer {name!r} has a kernel of shape {tuple(kernel.shape)}, its "
                             f"shared tensor {shared[name].shape}")
    kernel_ids = {id(k) for k in kernels}
    others = [v for v in model.trainable_variables if id(v) not in kernel_ids]
    centroids = [tf.Variable(shared[n].centroids, dtype=tf.float32) for n in names]
    slots = [tf.constant(np.where(shared[n].kept, shared[n].indices,
                                  len(shared[n].centroids)).ravel(), tf.int32) for n in names]
    optimizer = keras.optimizers.Adam(learning_rate)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    accuracy = keras.metrics.SparseCategoricalAccuracy()
    mean_loss = keras.metrics.Mean()

    def write_kernels():
        for kernel, table, slot in zip(kernels, centroids, slots, strict=True):
            values = tf.gather(tf.concat([table, tf.zeros([1])], 0), slot)
            kernel.assign(tf.reshape(values, kernel.shape))

    @tf.function
    def step(xb, yb):
        with tf.GradientTape() as tape:
            logits = model(xb, training=True)
            loss = loss_fn(yb, logits)
        grads = tape.gradient(loss, kernels + others)
        summed = [centroid_gradients(g, s, int(c.shape[0]))
                  for g, s, c in zip(grads[:len(kernels)], slots, centroids, strict=True)]
        optimizer.apply(summed + grads[len(kernels):], centroids + others)
        write_kernels()
        mean_loss.update_state(loss)
        accuracy.update_state(yb, logits)

    write_kernels()
    rng = np.random.default_rng(seed)
    logger = EpochLogger(prefix="centroid fine-tuning ")
    logger.params = {"epochs": epochs}
    for epoch in range(epochs):
        mean_loss.reset_state()
        accuracy.reset_state()
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch_size):
            batch = order[start:start + batch_size]
            step(tf.constant(x[batch]), tf.constant(y[batch]))
        if log:
            logger.on_epoch_end(epoch, {"loss": mean_loss.result(),
                                        "accuracy": accuracy.result()})
    return {n: SharedTensor(c.numpy(), shared[n].indices)
            for n, c in zip(names, centroids, strict=True)}
