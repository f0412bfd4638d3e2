"""The reference model of the compression notebooks: the MNIST CNN, trained one way.

Introduced for notebooks 08 (pruning), 09 (quantization) and 10 (distillation): each calls
:func:`train_reference_cnn` with the same arguments, so every technique is measured against
exactly the same model (training is seeded and deterministic). The architecture is
:func:`course_lib.models.mnist_cnn` from notebook 05.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from . import data
from .hardware import cpu_flags, onednn_enabled, onednn_isa_cap
from .models import compile_classifier, mnist_cnn, scale_images
from .parameters import check_param
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
        check_param("train_size", train_size, int, ge=1, le=len(x_train))
        x_train, y_train = x_train[:train_size], y_train[:train_size]
    return MnistSplits(scale_images(x_train), y_train.astype(np.int64), scale_images(x_test),
                       y_test.astype(np.int64))


def _without_names(config):
    """A Keras config without its ``name`` entries, which count up with every model built."""
    if isinstance(config, dict):
        return {k: _without_names(v) for k, v in config.items() if k != "name"}
    if isinstance(config, list | tuple):
        return [_without_names(v) for v in config]
    return config


def _cache_file(epochs: int, batch_size: int, train_size: int | None, seed: int,
                model: keras.Model) -> Path:
    """Where the trained weights for these settings are kept: the name hashes everything that
    decides them -- the arguments, the architecture and optimizer, the library versions and the
    CPU kernels in use (oneDNN picks kernels by CPU, so another CPU trains other last digits)."""
    settings = {
        "arguments": [epochs, batch_size, train_size, seed],
        "model": _without_names(model.get_config()),
        "optimizer": _without_names(model.optimizer.get_config()),
        "versions": [keras.__version__, tf.__version__, np.__version__],
        "cpu": [platform.machine(), sorted(cpu_flags() or []), onednn_enabled(),
                onednn_isa_cap()],
    }
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    return data.cache_dir() / "models" / f"reference_cnn-{digest.hexdigest()[:16]}.npz"


def train_reference_cnn(epochs: int = 3, batch_size: int = 128, train_size: int | None = None,
                        seed: int = 0, log: bool = True, cache: bool = True) -> ReferenceModel:
    """Train :func:`~course_lib.models.mnist_cnn` with Adam (learning rate 1e-3) and return it
    with its test accuracy. Deterministic for a given seed (with ``cl.setup``'s op determinism).

    ``log`` prints one line per epoch (:class:`~course_lib.training.EpochLogger`). With
    ``cache``, the trained weights are saved in the course cache (:func:`course_lib.data.
    cache_dir`, ``models/``) and the next call with the same settings on the same machine loads
    them instead of training again: notebooks 08, 09 and 10 share one reference model, trained
    once. Training is deterministic, so the loaded weights are the ones training would give;
    the accuracy is always measured afresh.
    """
    splits = load_mnist(train_size)
    keras.utils.set_random_seed(seed)
    model = compile_classifier(mnist_cnn())
    saved = _cache_file(epochs, batch_size, train_size, seed, model) if cache else None
    if saved is not None and saved.is_file():
        with np.load(saved) as arrays:  # the model's weights only, so Keras has nothing to say
            model.set_weights([arrays[f"w{i}"] for i in range(len(arrays.files))])
        if log:
            print(f"reference CNN: loaded the weights that an earlier run trained with these "
                  f"settings on this machine ({saved.name})")
    else:
        model.fit(splits.x_train, splits.y_train, epochs=epochs, batch_size=batch_size,
                  verbose=0, callbacks=[EpochLogger(prefix="baseline ")] if log else [])
        if saved is not None:
            saved.parent.mkdir(parents=True, exist_ok=True)
            partial = saved.with_suffix(f".{os.getpid()}.npz")
            np.savez(partial, **{f"w{i}": w for i, w in enumerate(model.get_weights())})
            partial.replace(saved)  # atomic: a notebook running beside this one sees all or none
    _, accuracy = model.evaluate(splits.x_test, splits.y_test, batch_size=1024, verbose=0)
    keras.utils.set_random_seed(seed)  # what follows draws the same numbers, trained or loaded
    return ReferenceModel(model, splits, float(accuracy))
