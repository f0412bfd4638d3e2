"""Knowledge distillation (Hinton, Vinyals & Dean, 2015) for Keras 3: the loss and a Distiller.

Introduced in notebook 10 (knowledge distillation), which derives the loss and its gradient and
checks both numerically. The loss
functions (:func:`softmax_with_temperature`, :func:`soft_loss`, :func:`hard_loss`,
:func:`distillation_loss`) work on batches of logits ``(n, classes)`` with ``keras.ops``, so they
run on NumPy arrays and TensorFlow tensors alike, inside or outside a ``tf.function``;
:func:`distillation_gradient` is the closed-form gradient in NumPy. :class:`Distiller` trains a
student with that loss (Keras 3 ``Model`` with its own ``compute_loss``), :func:`student_cnn`
builds the notebook's tiny student, and :func:`gap_closed` measures the result.

Keras 3.15 has its own ``keras.distillation.Distiller``; its ``LogitsDistillation`` loss is only
the loss below when given ``loss=keras.losses.KLDivergence()``: its default
``loss="kl_divergence"`` resolves to the *function* ``keras.losses.kl_divergence``, fails its
``isinstance(..., KLDivergence)`` test and applies KL to the scaled logits, without ``T²``
(notebook 10 shows it).

Convention (the one Keras's own ``keras.distillation.Distiller`` uses too)::

    L = alpha · CE(y, softmax(z_s)) + (1 - alpha) · T² · KL(softmax(z_t / T) ‖ softmax(z_s / T))

with ``alpha`` in [0, 1] the weight of the hard-label cross-entropy, ``T > 0`` the temperature,
``z_t`` the teacher's and ``z_s`` the student's logits, both terms averaged over the batch. The
factor ``T²`` keeps the soft term's gradient, ``T·(softmax(z_s/T) - softmax(z_t/T))`` per
example, of the same order for every temperature (:func:`distillation_gradient`).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from .parameters import ParameterError, check_param, check_param_list

IMAGE_SHAPE = (28, 28, 1)
NUM_CLASSES = 10


def _check_logits(teacher_logits, student_logits) -> None:
    t_shape, s_shape = tuple(teacher_logits.shape), tuple(student_logits.shape)
    if len(t_shape) != 2 or len(s_shape) != 2:
        raise ValueError(f"teacher_logits and student_logits must be 2-D (batch, classes); got "
                         f"shapes {t_shape} and {s_shape}")
    pairs = zip(t_shape, s_shape, strict=True)
    if any(t is not None and s is not None and t != s for t, s in pairs):
        raise ValueError(f"teacher_logits and student_logits must have the same shape; got "
                         f"{t_shape} and {s_shape}")


def softmax_with_temperature(logits, temperature: float):
    """``softmax(logits / T)`` along the last axis: ``T > 1`` softens, ``T < 1`` sharpens."""
    check_param("temperature", temperature, float, gt=0)
    temperature = float(temperature)
    return ops.softmax(ops.convert_to_tensor(logits) / temperature, axis=-1)


def soft_loss(teacher_logits, student_logits, temperature: float):
    """``T² · mean_batch KL(softmax(z_t/T) ‖ softmax(z_s/T))``, from log-softmaxes (stable).

    The teacher's side is treated as a constant (no gradient flows into the teacher).
    """
    check_param("temperature", temperature, float, gt=0)
    temperature = float(temperature)
    teacher_logits = ops.stop_gradient(ops.convert_to_tensor(teacher_logits))
    student_logits = ops.convert_to_tensor(student_logits)
    _check_logits(teacher_logits, student_logits)
    log_p_t = ops.log_softmax(teacher_logits / temperature, axis=-1)
    log_p_s = ops.log_softmax(student_logits / temperature, axis=-1)
    kl = ops.sum(ops.exp(log_p_t) * (log_p_t - log_p_s), axis=-1)
    return temperature ** 2 * ops.mean(kl)


def hard_loss(labels, student_logits):
    """Mean cross-entropy of integer ``labels`` under ``softmax(student_logits)`` (T = 1)."""
    student_logits = ops.convert_to_tensor(student_logits)
    labels = ops.convert_to_tensor(labels)
    if tuple(labels.shape)[:1] != tuple(student_logits.shape)[:1] or len(labels.shape) != 1:
        raise ValueError(f"labels must have shape {tuple(student_logits.shape)[:1]}, one entry "
                         f"per row of student_logits {tuple(student_logits.shape)}; got shape "
                         f"{tuple(labels.shape)}")
    return ops.mean(ops.sparse_categorical_crossentropy(labels, student_logits, from_logits=True))


def distillation_loss(labels, teacher_logits, student_logits, temperature: float, alpha: float):
    """``alpha · hard_loss + (1 - alpha) · soft_loss`` (see the module docstring)."""
    check_param("alpha", alpha, float, ge=0, le=1)
    alpha = float(alpha)
    return (alpha * hard_loss(labels, student_logits)
            + (1.0 - alpha) * soft_loss(teacher_logits, student_logits, temperature))


def distillation_gradient(labels, teacher_logits, student_logits, temperature: float,
                          alpha: float) -> np.ndarray:
    """The closed-form gradient of :func:`distillation_loss` with respect to the student logits.

    Per example ``alpha · (softmax(z_s) - onehot(y)) + (1 - alpha) · T · (softmax(z_s/T) -
    softmax(z_t/T))``, divided by the batch size (the loss is a batch mean). NumPy, float64.
    """
    check_param("temperature", temperature, float, gt=0)
    temperature = float(temperature)
    check_param("alpha", alpha, float, ge=0, le=1)
    alpha = float(alpha)
    z_t = np.asarray(teacher_logits, dtype=np.float64)
    z_s = np.asarray(student_logits, dtype=np.float64)
    _check_logits(z_t, z_s)
    labels = np.asarray(labels)
    if labels.shape != z_s.shape[:1]:
        raise ValueError(f"labels must have shape {z_s.shape[:1]}, one entry per row of "
                         f"student_logits {z_s.shape}; got shape {labels.shape}")

    def softmax(z):
        e = np.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    onehot = np.eye(z_s.shape[1])[labels]
    grad = (alpha * (softmax(z_s) - onehot)
            + (1 - alpha) * temperature * (softmax(z_s / temperature) - softmax(z_t / temperature)))
    return grad / len(z_s)


def _output_shape(model: keras.Model) -> tuple | None:
    """The symbolic output shape of a built functional/Sequential model, else None."""
    outputs = getattr(model, "outputs", None)
    return tuple(outputs[0].shape) if outputs and len(outputs) == 1 else None


class Distiller(keras.Model):
    """Train ``student`` on ``alpha`` · hard labels + ``(1 - alpha)`` · T² · KL to ``teacher``.

    ``fit(x, y)`` with integer labels ``y``: each step runs the frozen teacher (inference mode)
    and the student on the batch and minimises :func:`distillation_loss`; only the student's
    weights change (the teacher is set ``trainable = False``). ``fit(x, (y, teacher_logits))``
    uses teacher logits computed once beforehand (``teacher.predict(x)``) instead: the same
    loss when the teacher is frozen and ``x`` is not augmented, without a teacher forward pass
    per step. ``call`` returns the student's logits, so ``evaluate``/``predict`` and compiled
    metrics such as ``"accuracy"`` describe the student. The two parts of the loss are logged as
    ``hard_loss`` and ``soft_loss``.

    Compile it without a loss: ``distiller.compile(optimizer=..., metrics=["accuracy"])``.
    Raises ValueError for a bad temperature or alpha, or when the teacher's and the student's
    outputs (or logits) differ in shape.
    """

    def __init__(self, teacher: keras.Model, student: keras.Model, temperature: float = 4.0,
                 alpha: float = 0.1, **kwargs):
        super().__init__(**kwargs)
        check_param("temperature", temperature, float, gt=0)
        self.temperature = float(temperature)
        check_param("alpha", alpha, float, ge=0, le=1)
        self.alpha = float(alpha)
        t_shape, s_shape = _output_shape(teacher), _output_shape(student)
        if None not in (t_shape, s_shape) and t_shape != s_shape:
            raise ValueError(f"teacher and student outputs must have the same shape; got "
                             f"{t_shape} (teacher) and {s_shape} (student)")
        teacher.trainable = False
        self.teacher, self.student = teacher, student
        self.hard_tracker = keras.metrics.Mean(name="hard_loss")
        self.soft_tracker = keras.metrics.Mean(name="soft_loss")

    def call(self, inputs, training=None):
        return self.student(inputs, training=training)

    def _labels_and_teacher_logits(self, x, y):
        if isinstance(y, (tuple, list)):
            labels, teacher_logits = y
            return labels, teacher_logits
        return y, self.teacher(x, training=False)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if sample_weight is not None:
            raise ValueError("Distiller does not support sample weights")
        if y_pred is None:
            y_pred = self(x, training=training)
        labels, teacher_logits = self._labels_and_teacher_logits(x, y)
        hard = hard_loss(labels, y_pred)
        soft = soft_loss(teacher_logits, y_pred, self.temperature)
        self.hard_tracker.update_state(hard)
        self.soft_tracker.update_state(soft)
        return self.alpha * hard + (1.0 - self.alpha) * soft

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        labels = y[0] if isinstance(y, (tuple, list)) else y
        return super().compute_metrics(x, labels, y_pred, sample_weight)


def student_cnn(filters: tuple[int, int] = (4, 8), name: str = "student_cnn") -> keras.Model:
    """A tiny MNIST CNN, uncompiled, with logits output: the course's distillation student.

    Input(28, 28, 1) → Conv2D(f1, 3, relu) → MaxPooling2D(2) → Conv2D(f2, 3, relu) →
    MaxPooling2D(2) → Flatten → Dense(10) (logits); the same layout as
    :func:`course_lib.models.mnist_cnn` without its Dense(128) layer. The default ``(4, 8)`` has
    2,346 parameters, about 1/96 of ``mnist_cnn``'s 225,034.
    """
    filters = [int(f) for f in check_param_list("filters", filters, int, length=2, ge=1)]
    layers = keras.layers
    return keras.Sequential([
        keras.Input(IMAGE_SHAPE, name="image"),
        layers.Conv2D(filters[0], 3, activation="relu", name="conv1"),
        layers.MaxPooling2D(2, name="pool1"),
        layers.Conv2D(filters[1], 3, activation="relu", name="conv2"),
        layers.MaxPooling2D(2, name="pool2"),
        layers.Flatten(name="flatten"),
        layers.Dense(NUM_CLASSES, name="logits"),
    ], name=name)


def gap_closed(acc_alone: float, acc_distilled: float, acc_teacher: float) -> float:
    """Fraction of the teacher-student accuracy gap closed by distillation.

    ``(acc_distilled - acc_alone) / (acc_teacher - acc_alone)``: 0 means no gain, 1 means the
    distilled student matches the teacher. ValueError unless the teacher is better than the
    student alone (otherwise the gap, and the comparison, make no sense: check for swapped models).
    """
    for name, value in (("acc_alone", acc_alone), ("acc_distilled", acc_distilled),
                        ("acc_teacher", acc_teacher)):
        check_param(name, value, float)
    if not acc_teacher > acc_alone:
        raise ParameterError(f"parameter acc_teacher must be > acc_alone = {acc_alone} (the "
                             f"teacher more accurate than the student alone; are teacher and "
                             f"student swapped?); got {acc_teacher}")
    return (acc_distilled - acc_alone) / (acc_teacher - acc_alone)
