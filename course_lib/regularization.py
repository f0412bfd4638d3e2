"""Regularization helpers: one configurable MLP, its weight matrices, and their near-zero share.

Introduced in notebook 03, which trains the same wide MLP again and again, with and without L1/L2
weight penalties and dropout. Building every variant with one function keeps the runs comparable
(same layers, same initialization order, only the regularizer changes); the near-zero fraction
measures how sparse an L1 penalty makes the weights.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import keras
import numpy as np

from .parameters import check_param, check_param_list


def build_mlp(input_dim: int, hidden_units: Sequence[int], n_classes: int, *, l1: float = 0.0,
              l2: float = 0.0, input_dropout: float = 0.0, dropout: float = 0.0
              ) -> keras.Sequential:
    """A ReLU multilayer perceptron that outputs logits, with optional regularization.

    Every Dense kernel (hidden layers and output) gets the penalty
    ``l1 * sum(|w|) + l2 * sum(w**2)``, which Keras adds to the loss (biases are not penalized);
    ``Dropout(input_dropout)`` follows the input and ``Dropout(dropout)`` every hidden layer. A
    rate or factor of 0 adds nothing, so ``build_mlp(784, [512], 10)`` is a plain MLP. The
    weights are drawn from Keras's global seed (``keras.utils.set_random_seed``); after the same
    seed, every variant (penalty or dropout or neither) starts from the same initial weights.
    """
    check_param("input_dim", input_dim, int, ge=1)
    input_dim = int(input_dim)
    check_param("n_classes", n_classes, int, ge=2)
    n_classes = int(n_classes)
    hidden_units = [int(h) for h in check_param_list("hidden_units", hidden_units, int, ge=1)]
    check_param("l1", l1, float, ge=0)
    check_param("l2", l2, float, ge=0)
    check_param("input_dropout", input_dropout, float, ge=0, lt=1)
    check_param("dropout", dropout, float, ge=0, lt=1)
    penalty = keras.regularizers.L1L2(l1=l1, l2=l2) if l1 or l2 else None
    # Every layer without an explicit seed draws one from Keras's global seed when it is
    # created, so creation order matters: the Dense layers are created first, in the same order
    # for every variant, and the Dropout layers after them. That way adding dropout leaves the
    # initial weights unchanged (the same starting point as the plain MLP).
    dense = [keras.layers.Dense(units, activation="relu", kernel_regularizer=penalty,
                                name=f"hidden_{i}") for i, units in enumerate(hidden_units, 1)]
    dense.append(keras.layers.Dense(n_classes, kernel_regularizer=penalty, name="logits"))
    layers = [keras.Input((input_dim,))]
    if input_dropout:
        layers.append(keras.layers.Dropout(input_dropout, name="input_dropout"))
    for i, hidden in enumerate(dense[:-1], start=1):
        layers.append(hidden)
        if dropout:
            layers.append(keras.layers.Dropout(dropout, name=f"dropout_{i}"))
    layers.append(dense[-1])
    return keras.Sequential(layers)


def dense_kernels(model: keras.Model) -> list[np.ndarray]:
    """The weight matrix (kernel) of every Dense layer of ``model``, in order; biases excluded."""
    return [layer.kernel.numpy() for layer in model.layers
            if isinstance(layer, keras.layers.Dense)]


def near_zero_fraction(weights: np.ndarray | Iterable[np.ndarray],
                       threshold: float = 1e-3) -> float:
    """The fraction of all entries of ``weights`` (one array or several) with ``|w| < threshold``.

    Raises ValueError for a threshold that is not a positive number, or when there are no
    weights at all.
    """
    check_param("threshold", threshold, float, gt=0)
    arrays = [weights] if isinstance(weights, np.ndarray) else list(weights)
    total = sum(np.size(w) for w in arrays)
    if total == 0:
        raise ValueError(f"weights must hold at least one weight; got shapes "
                         f"{[np.shape(w) for w in arrays]}")
    return sum(int(np.count_nonzero(np.abs(w) < threshold)) for w in arrays) / total
