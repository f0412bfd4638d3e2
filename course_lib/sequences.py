"""Helpers for sequence models: recurrent-layer sizes, forecasting baselines, per-step gradients.

Introduced in notebook 06 (recurrent neural networks). The notebook derives the parameter counts
of Keras's SimpleRNN, LSTM and GRU layers and checks them against ``count_params()``; it judges
an LSTM forecaster against the two baselines every forecast must beat (naive and seasonal
naive), scored by the mean absolute error; and it makes vanishing gradients visible by the norm
of the loss's gradient with respect to each time step's input. These are the tested versions of
those pieces, so that the notebook's later sections and its exercises reuse them without
re-typing; section 6 reuses :func:`rnn_param_count` for its text classifier.

This module imports TensorFlow only inside :func:`step_gradient_norms`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from .parameters import check_param

#: Blocks of (input kernel, recurrent kernel, bias) in each Keras recurrent layer: one for the
#: SimpleRNN, four gates for the LSTM (input, forget, cell candidate, output), three for the GRU
#: (update, reset, candidate).
BLOCKS = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}


def rnn_param_count(kind: str, units: int, input_dim: int, reset_after: bool = True) -> int:
    """Trainable parameters of one Keras recurrent layer ``kind`` (with its default biases).

    Each block has an input kernel (``input_dim × units``), a recurrent kernel
    (``units × units``) and a bias (``units``): ``blocks · h(h + d + 1)`` with ``h = units``,
    ``d = input_dim``. A GRU with ``reset_after=True`` (the Keras 3 default) applies the reset
    gate after the recurrent product, ``r ⊙ (h W + b_rec)``, so it keeps a second bias per block:
    ``3h(h + d + 2)``. ``reset_after`` is ignored for the other kinds.

    Raises ValueError for an unknown ``kind`` or a size below 1.
    """
    check_param("kind", kind, str, choices=BLOCKS)
    check_param("units", units, int, ge=1)
    check_param("input_dim", input_dim, int, ge=1)
    biases = 2 if kind == "GRU" and reset_after else 1
    return BLOCKS[kind] * units * (units + input_dim + biases)


def _series_and_origins(series: ArrayLike, origins: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    series, origins = np.asarray(series), np.asarray(origins)
    if series.ndim != 1 or series.size == 0:
        raise ValueError(f"series must be a non-empty 1-D array; got shape {series.shape}")
    if origins.ndim != 1 or not np.issubdtype(origins.dtype, np.integer):
        raise ValueError(f"origins must be a 1-D array of ints; got shape {origins.shape} and "
                         f"dtype {origins.dtype}")
    return series, origins


def _check_indices(indices: np.ndarray, length: int, what: str) -> None:
    if indices.size and (indices.min() < 0 or indices.max() >= length):
        raise ValueError(f"{what} must lie in [0, {length - 1}] for a series of length {length}; "
                         f"got {indices.min()}..{indices.max()}")


def naive_forecast(series: ArrayLike, origins: ArrayLike) -> np.ndarray:
    """The naive forecast: the last observed value, ``series[t]``, for every origin ``t``.

    The forecast is the same for any horizon. Raises ValueError for a series that is not 1-D,
    origins that are not ints, or an origin outside the series.
    """
    series, origins = _series_and_origins(series, origins)
    _check_indices(origins, len(series), "origins")
    return series[origins]


def seasonal_naive_forecast(series: ArrayLike, origins: ArrayLike, horizon: int,
                            period: int) -> np.ndarray:
    """The seasonal-naive forecast of ``series[t + horizon]``: the value one period earlier.

    That is ``series[t + horizon - period]`` for every origin ``t``; it needs
    ``1 ≤ horizon ≤ period`` so that the value is already observed at time ``t``. Raises
    ValueError otherwise, or when an index falls outside the series.
    """
    series, origins = _series_and_origins(series, origins)
    check_param("period", period, int, ge=1)
    # horizon ≤ period: the seasonal value must already be observed at the origin
    check_param("horizon", horizon, int, ge=1, le=period)
    _check_indices(origins, len(series), "origins")
    _check_indices(origins + horizon - period, len(series), "origins + horizon - period")
    return series[origins + horizon - period]


def mean_absolute_error(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """``mean |y_true - y_pred|``, in the units of the data. Shapes must match exactly.

    Raises ValueError for different shapes (no broadcasting: a (n, 1) prediction against (n,)
    targets would silently give an n × n average) or empty arrays.
    """
    y_true, y_pred = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred must have one shape; got shapes {y_true.shape} and "
                         f"{y_pred.shape}")
    if y_true.size == 0:
        raise ValueError(f"y_true and y_pred must be non-empty; got shape {y_true.shape}")
    return float(np.mean(np.abs(y_true - y_pred)))


def step_gradient_norms(loss_fn: Callable, x: ArrayLike) -> np.ndarray:
    """For each time step ``t``, the batch mean of ``‖∂loss/∂x[b, t, :]‖₂``.

    ``x`` has shape ``(batch, steps, features)``; ``loss_fn`` maps such a tensor to one scalar
    loss (e.g. ``lambda x: loss(y, model(x))``). Returns a float64 array of length ``steps``.
    When the loss is a batch mean, every example's gradient carries a factor ``1 / batch``;
    ratios between steps do not depend on it.

    Raises ValueError for an ``x`` that is not a 3-D float array, a loss that is not a scalar,
    or a loss that does not depend on ``x``.
    """
    import tensorflow as tf

    array = np.asarray(x)
    if array.ndim != 3 or not np.issubdtype(array.dtype, np.floating):
        raise ValueError("x must be a float array of shape (batch, steps, features); got shape "
                         f"{array.shape} and dtype {array.dtype}")
    inputs = tf.convert_to_tensor(array)
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        loss = loss_fn(inputs)
    if tf.convert_to_tensor(loss).shape.rank != 0:
        raise ValueError(f"loss_fn must return a scalar (shape ()); got shape "
                         f"{tuple(loss.shape)}")
    grad = tape.gradient(loss, inputs)
    if grad is None:
        raise ValueError("the loss does not depend on x (its gradient is None)")
    return np.linalg.norm(grad.numpy().astype(np.float64), axis=2).mean(axis=0)
