"""Knowledge distillation: known answers for the loss, its gradient, the Distiller, errors."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_lib import distillation, numerical_gradient, relative_error
from course_lib.parameters import ParameterError

LOGITS = np.array([[0.0, math.log(2.0), math.log(4.0)]])  # softmax = (1, 2, 4) / 7


def tiny_model(units: int, seed: int, outputs: int = 10) -> keras.Model:
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(units, activation="relu"),
                             keras.layers.Dense(outputs)])


@pytest.fixture
def tiny_problem():
    rng = np.random.default_rng(0)
    return rng.normal(size=(32, 4)).astype(np.float32), rng.integers(0, 10, size=32)


def test_softmax_with_temperature_known_values():
    soft = distillation.softmax_with_temperature
    np.testing.assert_allclose(soft(LOGITS, 1.0), [[1 / 7, 2 / 7, 4 / 7]], rtol=1e-6)
    r2 = math.sqrt(2.0)  # T = 2 takes square roots of the unnormalised probabilities
    np.testing.assert_allclose(soft(LOGITS, 2.0), np.array([[1, r2, 2]]) / (3 + r2), rtol=1e-6)
    np.testing.assert_allclose(soft(LOGITS, 0.5), [[1 / 21, 4 / 21, 16 / 21]], rtol=1e-6)
    np.testing.assert_allclose(soft(LOGITS, 1e6), [[1 / 3] * 3], rtol=1e-5)  # T → ∞: uniform


def test_soft_loss_known_answer_and_t_squared_scaling():
    # Teacher (3/4, 1/4) against a uniform student: KL = 3/4 ln(3/2) + 1/4 ln(1/2).
    kl = 0.75 * math.log(1.5) + 0.25 * math.log(0.5)
    student = np.zeros((1, 2))
    for temperature in (1.0, 2.0, 5.0):
        teacher = np.array([[temperature * math.log(3.0), 0.0]])  # same (3/4, 1/4) at every T
        loss = float(distillation.soft_loss(teacher, student, temperature))
        assert loss == pytest.approx(temperature ** 2 * kl, rel=1e-6)
    assert float(distillation.soft_loss(LOGITS, LOGITS, 3.0)) == pytest.approx(0.0, abs=1e-7)


def test_hard_and_combined_loss_known_answers():
    labels, student = np.array([0, 1]), np.zeros((2, 2))
    assert float(distillation.hard_loss(labels, student)) == pytest.approx(math.log(2.0))
    teacher = np.array([[math.log(3.0), 0.0]] * 2)
    kl = 0.75 * math.log(1.5) + 0.25 * math.log(0.5)
    for alpha in (0.0, 0.3, 1.0):
        loss = float(distillation.distillation_loss(labels, teacher, student, 1.0, alpha))
        assert loss == pytest.approx(alpha * math.log(2.0) + (1 - alpha) * kl, rel=1e-6)


@pytest.mark.parametrize(("temperature", "alpha"), [(1.0, 0.5), (4.0, 0.1), (0.5, 0.0)])
def test_gradient_formula_matches_tape_and_finite_differences(temperature, alpha):
    rng = np.random.default_rng(1)
    teacher, student = rng.normal(size=(3, 5)) * 3, rng.normal(size=(3, 5))
    labels = np.array([0, 3, 4])
    formula = distillation.distillation_gradient(labels, teacher, student, temperature, alpha)
    z = tf.Variable(student)  # float64 throughout
    with tf.GradientTape() as tape:
        loss = distillation.distillation_loss(labels, teacher, z, temperature, alpha)
    assert relative_error(formula, tape.gradient(loss, z).numpy()) < 1e-12
    numeric = numerical_gradient(
        lambda s: float(distillation.distillation_loss(labels, teacher, s, temperature, alpha)),
        student)
    assert relative_error(formula, numeric) < 1e-8


def test_distiller_training_reduces_the_loss_and_keeps_the_teacher_frozen(tiny_problem):
    x, y = tiny_problem
    teacher, student = tiny_model(16, seed=1), tiny_model(4, seed=2)
    teacher_before, student_before = teacher.get_weights(), student.get_weights()
    distiller = distillation.Distiller(teacher, student, temperature=2.0, alpha=0.5)
    distiller.compile(optimizer=keras.optimizers.Adam(0.01), metrics=["accuracy"],
                      run_eagerly=True)  # eager: no tracing, faster for a few tiny steps
    before = distiller.evaluate(x, y, verbose=0, return_dict=True)
    history = distiller.fit(x, y, epochs=3, batch_size=16, verbose=0)
    after = distiller.evaluate(x, y, verbose=0, return_dict=True)
    assert set(history.history) == {"loss", "hard_loss", "soft_loss", "accuracy"}
    assert after["loss"] < before["loss"]
    assert after["loss"] == pytest.approx(0.5 * after["hard_loss"] + 0.5 * after["soft_loss"],
                                          rel=1e-5)
    assert not teacher.trainable and not distiller.teacher.trainable_weights
    for a, b in zip(teacher_before, teacher.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b)
               for a, b in zip(student_before, student.get_weights(), strict=True))


def test_cached_teacher_logits_train_exactly_like_the_live_teacher(tiny_problem):
    x, y = tiny_problem
    teacher = tiny_model(16, seed=1)
    weights = []
    for targets in (y, (y, teacher(x).numpy())):
        student = tiny_model(4, seed=2)
        distiller = distillation.Distiller(teacher, student, temperature=3.0, alpha=0.2)
        distiller.compile(optimizer=keras.optimizers.Adam(0.01), run_eagerly=True)
        keras.utils.set_random_seed(5)
        distiller.fit(x, targets, epochs=2, batch_size=16, verbose=0)
        weights.append(student.get_weights())
    for a, b in zip(*weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


@pytest.mark.parametrize("temperature, message", [
    (0, "need 0 < temperature; got 0"), (-1.0, "need 0 < temperature"),
    (float("nan"), "parameter temperature must be a number; got float nan"),
    (float("inf"), "must be a number; got float inf"), (True, "must be a number; got bool"),
    ("2", "must be a number; got str"),
])
def test_bad_temperatures_raise(temperature, message):
    with pytest.raises(ParameterError, match=message):
        distillation.softmax_with_temperature(LOGITS, temperature)
    with pytest.raises(ParameterError, match=message):
        distillation.Distiller(tiny_model(4, 0), tiny_model(2, 1), temperature=temperature)


@pytest.mark.parametrize("alpha, message", [
    (-0.1, "need 0 ≤ alpha ≤ 1; got -0.1"), (1.5, "need 0 ≤ alpha ≤ 1; got 1.5"),
    (float("nan"), "parameter alpha must be a number"), (False, "must be a number; got bool"),
])
def test_bad_alphas_raise(alpha, message):
    with pytest.raises(ParameterError, match=message):
        distillation.distillation_loss([0], LOGITS, LOGITS, 1.0, alpha)
    with pytest.raises(ParameterError, match=message):
        distillation.Distiller(tiny_model(4, 0), tiny_model(2, 1), alpha=alpha)


def test_shape_mismatches_raise():
    with pytest.raises(ValueError, match=r"logits must have the same shape; got \(2, 10\) and "
                       r"\(2, 5\)"):
        distillation.soft_loss(np.zeros((2, 10)), np.zeros((2, 5)), 2.0)
    with pytest.raises(ValueError, match="same shape"):
        distillation.distillation_gradient([0, 1], np.zeros((2, 10)), np.zeros((3, 10)), 2.0, 0.5)
    with pytest.raises(ValueError, match=r"student_logits must be 2-D .*; got shapes \(10,\)"):
        distillation.soft_loss(np.zeros(10), np.zeros(10), 2.0)
    with pytest.raises(ValueError, match=r"labels must have shape \(2,\).*; got shape \(2, 1\)"):
        distillation.hard_loss(np.zeros((2, 1), dtype=int), np.zeros((2, 10)))
    with pytest.raises(ValueError, match=r"labels must have shape \(3,\).*; got shape \(2,\)"):
        distillation.distillation_gradient([0, 1], np.zeros((3, 10)), np.zeros((3, 10)), 2.0, 0.5)
    with pytest.raises(ValueError, match="outputs must have the same shape"):
        distillation.Distiller(tiny_model(4, 0, outputs=10), tiny_model(2, 1, outputs=5))


def test_sample_weights_are_refused(tiny_problem):
    x, y = tiny_problem
    distiller = distillation.Distiller(tiny_model(4, 0), tiny_model(2, 1))
    with pytest.raises(ValueError, match="sample weights"):
        distiller.compute_loss(x, y, distiller(x), sample_weight=np.ones(len(x)))


def test_student_cnn_and_gap_closed():
    student = distillation.student_cnn()
    assert student.count_params() == 2346
    assert tuple(student.outputs[0].shape) == (None, 10)
    with pytest.raises(ParameterError, match=r"parameter filters must be a list of 2"):
        distillation.student_cnn((4,))
    with pytest.raises(ParameterError, match=r"need 1 ≤ filters\[1\]; got 0"):
        distillation.student_cnn((4, 0))
    assert distillation.student_cnn((np.int64(2), 3)).count_params() > 0
    assert distillation.gap_closed(0.90, 0.93, 0.99) == pytest.approx(1 / 3)
    with pytest.raises(ParameterError, match="acc_teacher must be > acc_alone.*swapped"):
        distillation.gap_closed(0.99, 0.95, 0.90)
