"""Gradient checking: central finite differences and a scale-free relative error.

Introduced in notebook 01, where a gradient derived by hand (the MSE of linear regression, then
backpropagation through a small network) is checked against finite differences and against
``tf.GradientTape``. Every later notebook that writes a gradient or a custom training step by hand
checks it the same way, so the two helpers live here, tested, instead of being re-typed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from .parameters import check_param

TINY = float(np.finfo(np.float64).tiny)  # smallest positive normal float64: avoids 0 / 0


def numerical_gradient(f: Callable[[np.ndarray], float], x: ArrayLike,
                       eps: float = 1e-6) -> np.ndarray:
    """Gradient of the scalar function ``f`` at ``x`` by central differences.

    Each entry is ``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)``, where ``e_i`` is the i-th unit
    array of ``x``'s shape. Central differences are exact for quadratics (up to round-off) and
    have an error of order ``eps**2`` otherwise, against order ``eps`` for one-sided ones.

    ``x`` may have any shape and must hold floats: ``f`` is always called with a float64 array
    of that shape (a perturbation of 1e-6 would be lost in float32), and ``x`` itself is not
    modified. ``f`` must return a single number. Returns a float64 array shaped like ``x``.

    Costs ``2 * x.size`` calls of ``f``, so it is a checking tool, not a training tool.

    Raises ValueError for a non-float or empty ``x``, a ``eps`` that is not positive and finite,
    or an ``f`` that does not return one finite number.
    """
    array = np.asarray(x)
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"x must be a float array; got dtype {array.dtype} "
                         "(use e.g. np.asarray(x, dtype=np.float64))")
    if array.size == 0:
        raise ValueError(f"x must be a non-empty array; got shape {array.shape}")
    check_param("eps", eps, float, gt=0)
    point = array.astype(np.float64, copy=True)
    grad = np.empty_like(point)
    flat_point, flat_grad = point.reshape(-1), grad.reshape(-1)  # views into point and grad
    for i in range(flat_point.size):
        original = flat_point[i]
        flat_point[i] = original + eps
        f_plus = _scalar(f(point))
        flat_point[i] = original - eps
        f_minus = _scalar(f(point))
        flat_point[i] = original
        flat_grad[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def _scalar(value: object) -> float:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        array = np.array([np.nan])
    if array.size != 1 or not np.isfinite(array).all():
        raise ValueError(f"f must return one finite number; got {value!r}")
    return float(array.reshape(()))


def relative_error(a: ArrayLike, b: ArrayLike) -> float:
    """Scale-free distance between two arrays: ``max|a - b| / max(|a| + |b|)``.

    Both maxima run over all entries; the denominator is floored at the smallest positive
    float64 so that two all-zero arrays give 0.0 rather than NaN. The result is 0 for equal
    arrays and at most 1 (reached when ``b == -a``); around 1e-16 to 1e-12 means "equal up to
    float64 round-off". Dividing by the size of the values, not by ``|b|`` alone, keeps the
    measure symmetric and meaningful when some entries are (nearly) zero.

    Raises ValueError when the shapes differ or the arrays are empty.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have one shape; got shapes {a.shape} and {b.shape}")
    if a.size == 0:
        raise ValueError(f"a and b must be non-empty; got shape {a.shape}")
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(a) + np.abs(b))), TINY))
