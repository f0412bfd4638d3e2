"""The reference model of the compression notebooks: the MNIST CNN, trained one way.

Introduced for notebooks 08 (pruning), 09 (quantization) and 10 (distillation): each calls
:func:`train_reference_cnn` with the same arguments, so every technique is measured against
exactly the same model (training is seeded and deterministic). The architecture is
:func:`course_lib.models.mnist_cnn` from notebook 05.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from . import data
from .models import compile_classifier, mnist_cnn, scale_images
from .training import EpochLogger


@dataclass
class MnistSplits:
    """MNIST scaled to float32 ``(n, 28, 28, 1)`` in [0, 1], with integer labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


@dataclass
class ReferenceModel:
    """A trained baseline model, the data it was trained and tested on, and its accuracy."""

    model: keras.Model
    splits: MnistSplits
    test_accuracy: float


def load_mnist(train_size: int | None = None) -> MnistSplits:
    """MNIST from :func:`course_lib.data.load`, scaled; the first ``train_size`` training
    images if given (the full 10,000-image test set always)."""
    (x_train, y_train), (x_test, y_test) = data.load("mnist")
    if train_size is not None:
        if not 1 <= train_size <= len(x_train):
            raise ValueError(f"train_size must be in 1..{len(x_train)}, got {train_size}")
        x_train, y_train = x_train[:train_size], y_train[:train_size]
    return MnistSplits(scale_images(x_train), y_train.astype(np.int64), scale_images(x_test),
                       y_test.astype(np.int64))


def train_reference_cnn(epochs: int = 3, batch_size: int = 128, train_size: int | None = None,
                   seed: int = 0, log: bool = True) -> ReferenceModel:
    """Train :func:`~course_lib.models.mnist_cnn` with Adam (learning rate 1e-3) and return it
    with its test accuracy. Deterministic for a given seed (with ``cl.setup``'s op determinism).

    ``log`` prints one line per epoch (:class:`~course_lib.training.EpochLogger`).
    """
    splits = load_mnist(train_size)
    keras.utils.set_random_seed(seed)
    model = compile_classifier(mnist_cnn())
    model.fit(splits.x_train, splits.y_train, epochs=epochs, batch_size=batch_size, verbose=0,
              callbacks=[EpochLogger(prefix="baseline ")] if log else [])
    _, accuracy = model.evaluate(splits.x_test, splits.y_test, batch_size=1024, verbose=0)
    return ReferenceModel(model, splits, float(accuracy))
