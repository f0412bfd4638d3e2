"""Known-answer tests for course_lib.sequences: layer sizes, baselines, MAE, step gradients."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_lib.parameters import ParameterError
from course_lib.sequences import (
    mean_absolute_error,
    naive_forecast,
    rnn_param_count,
    seasonal_naive_forecast,
    step_gradient_norms,
)


def test_param_counts_known_values():
    # h = 2 units, d = 3 features: h(h + d + 1) = 12 per block.
    assert rnn_param_count("SimpleRNN", 2, 3) == 12
    assert rnn_param_count("LSTM", 2, 3) == 48
    assert rnn_param_count("GRU", 2, 3, reset_after=False) == 36
    assert rnn_param_count("GRU", 2, 3) == 42  # 3h(h + d + 2): a second bias per block
    assert rnn_param_count("LSTM", 2, 3, reset_after=False) == 48  # ignored for the LSTM


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("reset_after", [True, False])
def test_param_counts_match_keras(kind, reset_after):
    options = {"reset_after": reset_after} if kind == "GRU" else {}
    layer = getattr(keras.layers, kind)(5, **options)
    layer.build((None, 4, 3))
    assert layer.count_params() == rnn_param_count(kind, 5, 3, reset_after=reset_after)


@pytest.mark.parametrize("args, message", [
    (("RNN", 2, 3), "parameter kind must be one of"), (("LSTM", 0, 3), "need 1 ≤ units; got 0"),
    (("GRU", 2, 2.5), "parameter input_dim must be an int; got float"),
    (("LSTM", True, 3), "parameter units must be an int; got bool"),
])
def test_param_count_rejects_bad_arguments(args, message):
    with pytest.raises(ParameterError, match=message):
        rnn_param_count(*args)


def test_naive_and_seasonal_naive_known_values():
    series = np.arange(10.0) * 10  # 0, 10, ..., 90
    origins = np.array([4, 6])
    np.testing.assert_array_equal(naive_forecast(series, origins), [40.0, 60.0])
    # targets series[t + 2]; one period of 4 earlier: series[t + 2 - 4] = series[t - 2]
    np.testing.assert_array_equal(seasonal_naive_forecast(series, origins, 2, 4), [20.0, 40.0])
    # horizon == period: the value observed at the origin itself
    np.testing.assert_array_equal(seasonal_naive_forecast(series, origins, 4, 4), [40.0, 60.0])


def test_seasonal_naive_is_exact_on_a_periodic_series():
    series = np.tile([1.0, 5.0, 2.0], 6)
    origins = np.arange(3, 15)
    targets = series[origins + 2]
    np.testing.assert_array_equal(seasonal_naive_forecast(series, origins, 2, 3), targets)


def test_forecast_errors():
    series = np.arange(10.0)
    with pytest.raises(ValueError, match="origins"):
        naive_forecast(series, np.array([10]))
    with pytest.raises(ValueError, match="ints"):
        naive_forecast(series, np.array([1.0]))
    with pytest.raises(ValueError, match="1-D"):
        naive_forecast(series.reshape(2, 5), np.array([1]))
    with pytest.raises(ParameterError, match="need 1 ≤ horizon ≤ 4; got 5"):
        seasonal_naive_forecast(series, np.array([5]), 5, 4)
    with pytest.raises(ParameterError, match="need 1 ≤ horizon ≤ 4; got 0"):
        seasonal_naive_forecast(series, np.array([5]), 0, 4)
    with pytest.raises(ParameterError, match="need 1 ≤ period; got 0"):
        seasonal_naive_forecast(series, np.array([5]), 1, 0)
    with pytest.raises(ValueError, match="period"):  # needs series[1 + 1 - 4] = series[-2]
        seasonal_naive_forecast(series, np.array([1]), 1, 4)


def test_mean_absolute_error():
    assert mean_absolute_error([1.0, 2.0, 4.0], [2.0, 2.0, 1.0]) == pytest.approx(4 / 3)
    assert mean_absolute_error(np.zeros((2, 3)), np.zeros((2, 3))) == 0.0
    with pytest.raises(ValueError, match="one shape"):
        mean_absolute_error(np.zeros(3), np.zeros((3, 1)))
    with pytest.raises(ValueError, match="non-empty"):
        mean_absolute_error([], [])


def test_step_gradient_norms_of_a_weighted_sum():
    # loss = Σ_b Σ_t c_t Σ_f x[b, t, f]: each step's gradient is c_t in each of the 4 features,
    # so its norm is |c_t| · √4 for every example.
    c = tf.constant([1.0, -3.0, 0.5])
    x = np.random.default_rng(0).normal(size=(2, 3, 4)).astype(np.float32)
    norms = step_gradient_norms(lambda v: tf.reduce_sum(v * c[None, :, None]), x)
    assert norms.dtype == np.float64
    np.testing.assert_allclose(norms, [2.0, 6.0, 1.0], rtol=1e-6)


def test_step_gradient_norms_average_over_the_batch():
    x = np.ones((2, 2, 1), dtype=np.float32)
    weights = tf.constant([[[1.0], [0.0]], [[3.0], [2.0]]])  # per example and step
    norms = step_gradient_norms(lambda v: tf.reduce_sum(v * weights), x)
    np.testing.assert_allclose(norms, [2.0, 1.0])  # means of (1, 3) and (0, 2)


def test_step_gradient_norms_errors():
    with pytest.raises(ValueError, match="shape"):
        step_gradient_norms(tf.reduce_sum, np.zeros((3, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="float"):
        step_gradient_norms(tf.reduce_sum, np.zeros((1, 3, 4), dtype=np.int32))
    with pytest.raises(ValueError, match="scalar"):
        step_gradient_norms(lambda v: v * 2, np.zeros((1, 3, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="does not depend"):
        step_gradient_norms(lambda v: tf.constant(1.0), np.zeros((1, 3, 4), dtype=np.float32))
