"""Reference implementations of the classic optimizers, in NumPy, matching Keras step for step.

Introduced in notebook 02, which derives each update, checks these classes against
``keras.optimizers`` (``SGD``, ``SGD(momentum=...)``, ``SGD(momentum=..., nesterov=True)``,
``RMSprop``, ``Adam``) and uses them to draw trajectories on test functions. They live here,
tested, because Keras hides its optimizer state inside variables: these classes keep it in
plain NumPy arrays (``optimizer.state``) that a learner can print and plot.

Every class follows the exact formulas of Keras 3 (where ε sits, the form of Nesterov momentum,
Adam's bias correction folded into the step size), so with float32 parameters the two agree to
float32 round-off. The arithmetic runs in the parameters' own dtype. The learning rate is a
number or a schedule: a callable that maps the 0-based step count to a learning rate, as Keras
calls ``keras.optimizers.schedules`` objects.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from .parameters import check_param

LearningRate = float | Callable[[int], float]


class Optimizer:
    """Common machinery: learning rate (or schedule), step counter and explicit state.

    ``step(theta, grad)`` returns the updated parameters (a new array; ``theta`` is not
    modified) and advances the state. The state is created on the first step, as zeros shaped
    like ``theta``, and from then on the optimizer accepts only parameters of that shape and
    dtype. ``iterations`` counts the steps taken, like Keras's ``optimizer.iterations``.
    """

    state_names: tuple[str, ...] = ()

    def __init__(self, learning_rate: LearningRate) -> None:
        if not callable(learning_rate):  # else a schedule: a callable of the step
            check_param("learning_rate", learning_rate, float, gt=0)
            learning_rate = float(learning_rate)
        self.learning_rate = learning_rate
        self.iterations = 0
        self.state: dict[str, np.ndarray] = {}

    def current_learning_rate(self) -> float:
        """The learning rate of the next step: the schedule evaluated at ``iterations``."""
        if callable(self.learning_rate):
            return float(self.learning_rate(self.iterations))
        return self.learning_rate

    def step(self, theta: ArrayLike, grad: ArrayLike) -> np.ndarray:
        """One update of the parameters ``theta`` with the gradient ``grad`` (same shape)."""
        theta = np.asarray(theta)
        if not np.issubdtype(theta.dtype, np.floating):
            raise ValueError(f"theta must be a float array; got dtype {theta.dtype}")
        grad = np.asarray(grad)
        if grad.shape != theta.shape:
            raise ValueError(f"grad must have the shape of theta, {theta.shape}; got shape "
                             f"{grad.shape}")
        if not self.state and self.state_names:
            self.state = {name: np.zeros_like(theta) for name in self.state_names}
        elif self.state:
            first = next(iter(self.state.values()))
            if first.shape != theta.shape or first.dtype != theta.dtype:
                raise ValueError(
                    f"theta must have the shape {first.shape} and dtype {first.dtype} of the "
                    f"state this optimizer holds; got shape {theta.shape}, dtype {theta.dtype}; "
                    "use a new optimizer for other parameters")
        lr = self.current_learning_rate()
        new_theta = self._update(theta, grad.astype(theta.dtype), lr)
        self.iterations += 1
        return new_theta

    def _update(self, theta: np.ndarray, grad: np.ndarray, lr: float) -> np.ndarray:
        raise NotImplementedError


class SGD(Optimizer):
    """Plain gradient descent, ``keras.optimizers.SGD(learning_rate)``:

    θ ← θ − η g
    """

    def _update(self, theta, grad, lr):
        return theta - lr * grad


class Momentum(Optimizer):
    """Heavy-ball momentum, ``keras.optimizers.SGD(learning_rate, momentum=β)``:

    v ← β v − η g;   θ ← θ + v        (state: ``v``, zeros at the start)
    """

    state_names = ("v",)

    def __init__(self, learning_rate: LearningRate, momentum: float = 0.9) -> None:
        super().__init__(learning_rate)
        check_param("momentum", momentum, float, ge=0, lt=1)
        self.momentum = float(momentum)

    def _update(self, theta, grad, lr):
        self.state["v"] = self.momentum * self.state["v"] - lr * grad
        return theta + self.state["v"]


class Nesterov(Momentum):
    """Nesterov momentum, ``keras.optimizers.SGD(learning_rate, momentum=β, nesterov=True)``:

    v ← β v − η g;   θ ← θ + β v − η g

    θ here is the *look-ahead* point θ_classic + β v of the textbook form
    v ← β v − η ∇L(θ_classic + β v), θ_classic ← θ_classic + v; both give the same iterates.
    """

    def _update(self, theta, grad, lr):
        self.state["v"] = self.momentum * self.state["v"] - lr * grad
        return theta + self.momentum * self.state["v"] - lr * grad


class RMSProp(Optimizer):
    """RMSProp, ``keras.optimizers.RMSprop(learning_rate, rho=ρ, epsilon=ε)``:

    s ← ρ s + (1 − ρ) g²;   θ ← θ − η g / √(s + ε)      (ε inside the square root, as Keras)
    """

    state_names = ("s",)

    def __init__(self, learning_rate: LearningRate = 0.001, rho: float = 0.9,
                 epsilon: float = 1e-7) -> None:
        super().__init__(learning_rate)
        check_param("rho", rho, float, ge=0, lt=1)
        self.rho = float(rho)
        check_param("epsilon", epsilon, float, ge=0)
        self.epsilon = float(epsilon)

    def _update(self, theta, grad, lr):
        self.state["s"] = self.rho * self.state["s"] + (1 - self.rho) * grad**2
        return theta - lr * grad / np.sqrt(self.state["s"] + self.epsilon)


class Adam(Optimizer):
    """Adam with bias correction, ``keras.optimizers.Adam(learning_rate, beta_1, beta_2, epsilon)``:

    m ← β₁ m + (1 − β₁) g;   v ← β₂ v + (1 − β₂) g²;   t = step number (1, 2, ...)
    η_t = η √(1 − β₂ᵗ) / (1 − β₁ᵗ);   θ ← θ − η_t m / (√v + ε)

    This is the "ε-hat" form of Kingma & Ba (2015, end of section 2), used by Keras: it equals
    the textbook θ ← θ − η m̂ / (√v̂ + ε_t) with m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ) and
    ε_t = ε / √(1 − β₂ᵗ).
    """

    state_names = ("m", "v")

    def __init__(self, learning_rate: LearningRate = 0.001, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-7) -> None:
        super().__init__(learning_rate)
        check_param("beta_1", beta_1, float, ge=0, lt=1)
        self.beta_1 = float(beta_1)
        check_param("beta_2", beta_2, float, ge=0, lt=1)
        self.beta_2 = float(beta_2)
        check_param("epsilon", epsilon, float, ge=0)
        self.epsilon = float(epsilon)

    def _update(self, theta, grad, lr):
        t = self.iterations + 1
        m = self.state["m"] = self.beta_1 * self.state["m"] + (1 - self.beta_1) * grad
        v = self.state["v"] = self.beta_2 * self.state["v"] + (1 - self.beta_2) * grad**2
        # The powers βᵗ in the parameters' dtype, as Keras: in float32, 0.999 is 0.99900001, so
        # 1 - β₂ differs from 0.001 by 1.3e-5 (relative), which float64 powers would miss.
        beta_1, beta_2 = theta.dtype.type(self.beta_1), theta.dtype.type(self.beta_2)
        lr_t = theta.dtype.type(lr) * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        return theta - lr_t * m / (np.sqrt(v) + self.epsilon)


def minimize(optimizer: Optimizer, grad_fn: Callable[[np.ndarray], ArrayLike],
             theta0: ArrayLike, n_steps: int) -> np.ndarray:
    """Run ``n_steps`` steps of ``optimizer`` from ``theta0``; the trajectory θ₀ … θ_T as rows.

    ``grad_fn(theta)`` returns the gradient at ``theta``. The result has shape
    ``(n_steps + 1, *theta0.shape)`` and the dtype of ``theta0`` (float64 for a list). A run
    that overflows is not stopped: its later rows hold inf or NaN, which is how a divergence
    shows.
    """
    check_param("n_steps", n_steps, int, ge=0)
    theta = np.asarray(theta0)
    if not np.issubdtype(theta.dtype, np.floating):
        theta = theta.astype(np.float64)
    trajectory = [theta]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(n_steps):
            trajectory.append(optimizer.step(trajectory[-1], grad_fn(trajectory[-1])))
    return np.stack(trajectory)
