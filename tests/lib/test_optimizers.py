"""Reference optimizers: first steps computed by hand, and agreement with Keras over 20 steps."""

import keras
import numpy as np
import pytest

from course_lib import optimizers as opt
from course_lib.gradients import relative_error
from course_lib.parameters import ParameterError

# θ₀ = 1 and a constant gradient g = 2 make every first step a one-line calculation.
THETA0, GRAD = np.array([1.0]), np.array([2.0])


def two_steps(optimizer):
    first = optimizer.step(THETA0, GRAD)
    return first, optimizer.step(first, GRAD)


def test_sgd_known_answer():
    first, second = two_steps(opt.SGD(0.1))  # 1 - 0.1·2 = 0.8, then 0.6
    assert np.allclose([first, second], [[0.8], [0.6]], rtol=0, atol=1e-15)


def test_momentum_known_answer():
    # v₁ = -0.2, θ₁ = 0.8;  v₂ = 0.9·(-0.2) - 0.2 = -0.38, θ₂ = 0.42
    optimizer = opt.Momentum(0.1, momentum=0.9)
    first, second = two_steps(optimizer)
    assert np.allclose([first, second], [[0.8], [0.42]], rtol=0, atol=1e-15)
    assert np.allclose(optimizer.state["v"], [-0.38], rtol=0, atol=1e-15)


def test_nesterov_known_answer():
    # v₁ = -0.2, θ₁ = 1 + 0.9·(-0.2) - 0.2 = 0.62;  v₂ = -0.38, θ₂ = 0.62 - 0.342 - 0.2 = 0.078
    first, second = two_steps(opt.Nesterov(0.1, momentum=0.9))
    assert np.allclose([first, second], [[0.62], [0.078]], rtol=0, atol=1e-15)


def test_rmsprop_known_answer():
    # ρ = 0.75: s₁ = 0.25·4 = 1, θ₁ = 1 - 0.01·2/√1 = 0.98;
    # s₂ = 0.75 + 1 = 1.75, θ₂ = 0.98 - 0.02/√1.75
    first, second = two_steps(opt.RMSProp(0.01, rho=0.75, epsilon=0.0))
    assert np.allclose([first, second], [[0.98], [0.98 - 0.02 / np.sqrt(1.75)]], rtol=0,
                       atol=1e-15)


def test_adam_known_answer():
    # With ε = 0, bias correction makes every step with a constant gradient exactly η·sign(g).
    first, second = two_steps(opt.Adam(0.01, epsilon=0.0))
    assert np.allclose([first, second], [[0.99], [0.98]], rtol=0, atol=1e-15)


def test_adam_epsilon_hat_form():
    # ε is added to √v, not to √v̂: at step 1, step = η √(1-β₂)|g| / (√(1-β₂)|g| + ε) · sign(g).
    g, eps = 1e-6, 1e-7
    first = opt.Adam(1.0, epsilon=eps).step(np.array([0.0]), np.array([g]))
    root = np.sqrt(1 - 0.999) * g
    assert np.allclose(first, [-root / (root + eps)], rtol=1e-12)


def test_learning_rate_schedule_is_called_with_the_step_count():
    seen = []
    sgd = opt.SGD(lambda step: seen.append(step) or 0.5**step)
    trajectory = opt.minimize(sgd, lambda theta: np.ones_like(theta), [0.0], 3)
    assert seen == [0, 1, 2] and sgd.iterations == 3
    assert np.allclose(trajectory[:, 0], [0.0, -1.0, -1.5, -1.75])


def test_minimize_keeps_float32_and_returns_the_trajectory():
    trajectory = opt.minimize(opt.Adam(0.1), lambda theta: 2 * theta,
                              np.ones((2, 3), np.float32), 4)
    assert trajectory.shape == (5, 2, 3) and trajectory.dtype == np.float32


def keras_trajectory(keras_optimizer, grad_fn, theta0, n_steps):
    variable = keras.Variable(theta0)
    trajectory = [variable.numpy()]
    for _ in range(n_steps):
        keras_optimizer.apply_gradients([(grad_fn(variable.numpy()), variable)])
        trajectory.append(variable.numpy())
    return np.stack(trajectory)


@pytest.mark.parametrize("ours, theirs", [
    (lambda: opt.SGD(0.05), lambda: keras.optimizers.SGD(0.05)),
    (lambda: opt.Momentum(0.05, 0.8), lambda: keras.optimizers.SGD(0.05, momentum=0.8)),
    (lambda: opt.Nesterov(0.05, 0.8),
     lambda: keras.optimizers.SGD(0.05, momentum=0.8, nesterov=True)),
    (lambda: opt.RMSProp(0.02, rho=0.8), lambda: keras.optimizers.RMSprop(0.02, rho=0.8)),
    (lambda: opt.Adam(0.05, 0.8, 0.99), lambda: keras.optimizers.Adam(0.05, 0.8, 0.99)),
])
def test_agrees_with_keras_over_20_steps(ours, theirs):
    rng = np.random.default_rng(0)
    scales = np.geomspace(0.1, 10, 6).astype(np.float32)
    target = rng.normal(size=6).astype(np.float32)

    def grad(theta):  # a quadratic with curvatures 0.1 … 10 and minimum at `target`
        return scales * (theta - target)

    theta0 = np.zeros(6, np.float32)
    mine = opt.minimize(ours(), grad, theta0, 20)
    reference = keras_trajectory(theirs(), grad, theta0, 20)
    assert mine.dtype == np.float32
    assert max(relative_error(a, b) for a, b in zip(mine[1:], reference[1:], strict=True)) < 1e-6


def test_rejects_bad_arguments():
    with pytest.raises(ParameterError, match="need 0 < learning_rate; got 0.0"):
        opt.SGD(0.0)
    with pytest.raises(ParameterError, match="learning_rate must be a number; got str"):
        opt.SGD("0.1")
    with pytest.raises(ParameterError, match="need 0 ≤ momentum < 1; got 1.0"):
        opt.Momentum(0.1, momentum=1.0)
    with pytest.raises(ParameterError, match="momentum must be a number; got bool"):
        opt.Momentum(0.1, momentum=True)
    with pytest.raises(ParameterError, match="beta_2"):
        opt.Adam(beta_2=-0.1)
    with pytest.raises(ParameterError, match="epsilon"):
        opt.RMSProp(epsilon=-1.0)
    with pytest.raises(ParameterError, match="n_steps"):
        opt.minimize(opt.SGD(0.1), lambda theta: theta, [1.0], -1)
    assert opt.Momentum(np.float32(0.1), momentum=np.float64(0.5)).momentum == 0.5


def test_rejects_mismatched_shapes_and_dtypes():
    adam = opt.Adam()
    with pytest.raises(ValueError, match=r"grad must have the shape of theta, \(3,\); got shape"):
        adam.step(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="theta must be a float array"):
        adam.step(np.zeros(3, dtype=int), np.zeros(3))
    adam.step(np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="state this optimizer holds"):
        adam.step(np.zeros(4), np.ones(4))
    with pytest.raises(ValueError, match="state this optimizer holds"):
        adam.step(np.zeros(3, np.float32), np.ones(3, np.float32))
