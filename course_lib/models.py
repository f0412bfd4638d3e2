"""Model builders shared by the course: the classic MNIST CNN and an MLP of the same size.

Introduced in notebook 05; :func:`mnist_cnn` is the common baseline of notebooks 08 (pruning),
09 (quantization) and 10 (distillation), so every one of them starts from exactly the same
architecture. The capstone, notebook 13, compresses the networks of the Deep Compression
paper instead: :func:`lenet_300_100` and :func:`lenet5`.

Conventions (all builders):

- Inputs are float32 images of shape ``(28, 28, 1)`` scaled to ``[0, 1]``; :func:`scale_images`
  turns the ``uint8`` arrays of :func:`course_lib.data.load` into that.
- Models are returned **uncompiled** and output **logits** (no softmax): train them with
  ``SparseCategoricalCrossentropy(from_logits=True)`` (:func:`compile_classifier` does that),
  and apply ``keras.activations.softmax`` when probabilities are needed. Logits keep the loss
  numerically stable and leave the last layer a plain ``Dense`` that pruning, quantization and
  distillation (temperature-scaled logits) can treat like any other.
- Layers have fixed names (``conv1``, ``pool1``, ...), so later notebooks can address them
  with ``model.get_layer(name)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from .parameters import check_param_list

IMAGE_SHAPE = (28, 28, 1)
NUM_CLASSES = 10
MNIST_CNN_PARAMS = 225_034  # parameters of mnist_cnn(), checked by tests/test_models.py
LENET_300_100_PARAMS = 266_610  # parameters of lenet_300_100()
LENET5_PARAMS = 431_080  # parameters of lenet5()


def scale_images(images: np.ndarray) -> np.ndarray:
    """``uint8`` images ``(n, height, width)`` → float32 ``(n, height, width, 1)`` in [0, 1].

    Raises ValueError for another dtype (already scaled data would be divided twice) or a shape
    that is not a stack of 2-D greyscale images.
    """
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ValueError(f"images must hold uint8 pixels (0..255); got dtype {images.dtype}")
    if images.ndim != 3:
        raise ValueError(
            f"images must be a stack of greyscale images of shape (n, height, width); got shape "
            f"{images.shape}")
    return (images.astype(np.float32) / 255.0)[..., np.newaxis]


def mnist_cnn(name: str = "mnist_cnn") -> keras.Model:
    """The classic MNIST CNN, uncompiled, with logits output (225,034 parameters).

    Input(28, 28, 1) → Conv2D(32, 3, relu) → MaxPooling2D(2) → Conv2D(64, 3, relu) →
    MaxPooling2D(2) → Flatten → Dense(128, relu) → Dense(10) (logits). All convolutions use
    ``valid`` padding and stride 1. Layer names: ``conv1, pool1, conv2, pool2, flatten, dense,
    logits``.
    """
    layers = keras.layers
    return keras.Sequential([
        keras.Input(IMAGE_SHAPE, name="image"),
        layers.Conv2D(32, 3, activation="relu", name="conv1"),
        layers.MaxPooling2D(2, name="pool1"),
        layers.Conv2D(64, 3, activation="relu", name="conv2"),
        layers.MaxPooling2D(2, name="pool2"),
        layers.Flatten(name="flatten"),
        layers.Dense(128, activation="relu", name="dense"),
        layers.Dense(NUM_CLASSES, name="logits"),
    ], name=name)


def mnist_mlp(hidden_units: Sequence[int] = (283,), name: str = "mnist_mlp") -> keras.Model:
    """A fully connected MNIST classifier, uncompiled, with logits output.

    Input(28, 28, 1) → Flatten → Dense(h, relu) for each h in ``hidden_units`` → Dense(10).
    The default, one hidden layer of 283 units, has 224,995 parameters: within 0.02 % of
    :func:`mnist_cnn`, so the two compare at equal size. Layer names: ``flatten, hidden1, ...,
    logits``.
    """
    hidden_units = check_param_list("hidden_units", hidden_units, int, ge=1)
    layers = keras.layers
    hidden = [layers.Dense(int(h), activation="relu", name=f"hidden{i + 1}")
              for i, h in enumerate(hidden_units)]
    return keras.Sequential([keras.Input(IMAGE_SHAPE, name="image"), layers.Flatten(name="flatten"),
                             *hidden, layers.Dense(NUM_CLASSES, name="logits")], name=name)


def lenet_300_100(name: str = "lenet_300_100") -> keras.Model:
    """LeNet-300-100 (LeCun et al., 1998), as in Deep Compression (notebook 13): uncompiled,
    logits output, 266,610 parameters.

    Input(28, 28, 1) → Flatten → Dense(300, relu) → Dense(100, relu) → Dense(10) (logits).
    Layer names: ``flatten, fc1, fc2, fc3``.
    """
    layers = keras.layers
    return keras.Sequential([
        keras.Input(IMAGE_SHAPE, name="image"), layers.Flatten(name="flatten"),
        layers.Dense(300, activation="relu", name="fc1"),
        layers.Dense(100, activation="relu", name="fc2"),
        layers.Dense(NUM_CLASSES, name="fc3"),
    ], name=name)


def lenet5(name: str = "lenet5") -> keras.Model:
    """The Caffe variant of LeNet-5 that Deep Compression compresses (notebook 13): uncompiled,
    logits output, 431,080 parameters.

    Input(28, 28, 1) → Conv2D(20, 5) → MaxPooling2D(2) → Conv2D(50, 5) → MaxPooling2D(2) →
    Flatten → Dense(500, relu) → Dense(10) (logits). As in Caffe's ``lenet_train_test.prototxt``
    the convolutions have no activation (max pooling is the only non-linearity before ``fc1``)
    and ``valid`` padding. Layer names: ``conv1, pool1, conv2, pool2, flatten, fc1, fc2``.
    """
    layers = keras.layers
    return keras.Sequential([
        keras.Input(IMAGE_SHAPE, name="image"),
        layers.Conv2D(20, 5, name="conv1"),
        layers.MaxPooling2D(2, name="pool1"),
        layers.Conv2D(50, 5, name="conv2"),
        layers.MaxPooling2D(2, name="pool2"),
        layers.Flatten(name="flatten"),
        layers.Dense(500, activation="relu", name="fc1"),
        layers.Dense(NUM_CLASSES, name="fc2"),
    ], name=name)


def compile_classifier(model: keras.Model,
                       learning_rate: float | keras.optimizers.schedules.LearningRateSchedule
                       = 1e-3) -> keras.Model:
    """Compile a logits classifier with Adam, sparse cross-entropy on logits, and accuracy.

    Returns ``model`` (compiled in place) so that ``compile_classifier(mnist_cnn())`` reads as one
    step. Labels are integer class ids (as :func:`course_lib.data.load` returns them).
    """
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def accuracy(model: keras.Model, x: np.ndarray, y: np.ndarray, batch_size: int = 1000) -> float:
    """Fraction of the images ``x`` whose arg-max output is the label ``y``.

    Works for logits and probabilities alike (the arg-max is the same). Used by notebooks 08, 09
    and 10 to compare a compressed model with its baseline on the test set. Raises ValueError
    when ``x`` and ``y`` differ in length or are empty.
    """
    y = np.asarray(y)
    if len(x) != len(y) or len(y) == 0:
        raise ValueError(f"y must hold as many labels as x holds images (at least one); got "
                         f"{len(x)} images and {len(y)} labels")
    outputs = model.predict(x, batch_size=batch_size, verbose=0)
    return float(np.mean(np.asarray(outputs).argmax(axis=1) == y))
