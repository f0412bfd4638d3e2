"""Property-based tests (hypothesis) of the formula helpers: each property is the definition or
the guarantee stated in the helper's docstring, checked on many generated inputs."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from course_lib import convolution, pruning
from course_lib import quantization as q

# Every test: 100 examples, no per-example deadline (the first call of a helper may be slow).
fast = settings(max_examples=100, deadline=None)

# Finite values of moderate magnitude: the quantizers work in float64, so values near the float
# limits would only test overflow, which the docstrings do not promise anything about.
finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, allow_subnormal=False)
arrays = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=6),
                    elements=finite)
bits = st.integers(2, 16)


# ---------------------------------------------------------------- quantization
def _error_bound_holds(x, params):
    error = np.abs(x - q.dequantize(q.quantize(x, params), params))
    scale = np.broadcast_to(params.scale_for(x), x.shape)
    # scale/2 up to the float64 rounding of x/scale and scale·(q - z).
    return np.all(error <= scale / 2 * (1 + 1e-9) + 1e-12 * np.abs(x))


@fast
@given(arrays, bits, st.booleans())
def test_affine_round_trip_error_is_at_most_half_a_step(x, b, signed):
    assume(np.any(x != 0))
    params = q.affine_params(x, bits=b, signed=signed)
    assert _error_bound_holds(x, params)


@fast
@given(arrays, bits)
def test_symmetric_round_trip_error_is_at_most_half_a_step(x, b):
    assume(np.any(x != 0))
    assert _error_bound_holds(x, q.symmetric_params(x, bits=b))


@fast
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 5)), elements=finite),
       bits, st.sampled_from([0, 1, -1]))
def test_per_channel_round_trip_error_is_at_most_half_its_channels_step(x, b, axis):
    others = tuple(i for i in range(x.ndim) if i != axis % x.ndim)
    assume(np.all(np.any(x != 0, axis=others)))
    assert _error_bound_holds(x, q.affine_params(x, bits=b, axis=axis))
    assert _error_bound_holds(x, q.symmetric_params(x, bits=b, axis=axis))


@fast
@given(arrays, bits, st.booleans())
def test_quantize_stays_in_range_and_represents_zero_exactly(x, b, signed):
    assume(np.any(x != 0))
    params = q.affine_params(x, bits=b, signed=signed)
    codes = q.quantize(x, params)
    assert np.all((params.qmin <= codes) & (codes <= params.qmax))
    zero = q.quantize(np.zeros(1), params)
    assert q.dequantize(zero, params)[0] == 0.0


@fast
@given(st.floats(-1e6, 1e6, allow_nan=False))
def test_round_half_away_is_nearest_with_halves_away_from_zero(x):
    r = float(q.round_half_away(x))
    assert r == int(r) and abs(r - x) <= 0.5
    if abs(r - x) == 0.5:
        assert abs(r) > abs(x)


# ---------------------------------------------------------------- convolution
sizes = st.integers(1, 64)
paddings = st.sampled_from(convolution.PADDINGS)


@fast
@given(sizes, sizes, st.integers(1, 8))
def test_same_padding_gives_ceil_n_over_s_with_the_least_padding(n, k, s):
    p = convolution.total_padding(n, k, s, "same")
    assert p >= 0
    assert convolution.conv_output_size(n, k, s, "same") == math.ceil(n / s)
    # The least padding that gives ceil(n / s) outputs (every window fits in n + p).
    assert p == max((math.ceil(n / s) - 1) * s + k - n, 0)
    if p > 0:
        assert (n + p - 1 - k) // s + 1 < math.ceil(n / s)


@fast
@given(sizes, sizes, st.integers(1, 8), paddings)
def test_output_size_counts_the_windows_that_fit(n, k, s, padding):
    p = convolution.total_padding(n, k, s, padding)
    if n + p < k:
        with pytest.raises(ValueError, match="does not fit"):
            convolution.conv_output_size(n, k, s, padding)
        return
    out = convolution.conv_output_size(n, k, s, padding)
    # By definition: the windows start at 0, s, 2s, ... and must end inside the padded input.
    starts = [start for start in range(0, n + p) if start % s == 0 and start + k <= n + p]
    assert out == len(starts) == (n + p - k) // s + 1
    if padding == "valid":
        assert p == 0


# ---------------------------------------------------------------- pruning
@fast
@given(hnp.arrays(np.float32, hnp.array_shapes(min_dims=1, max_dims=3, max_side=8),
                  elements=st.floats(-10, 10, width=32)),
       st.floats(0, 1))
def test_magnitude_mask_prunes_exactly_n_pruned_of_the_smallest(w, sparsity):
    keep = pruning.magnitude_mask(w, sparsity)
    k = pruning.n_pruned(w.size, sparsity)
    assert keep.shape == w.shape and keep.dtype == bool
    assert int((~keep).sum()) == k == min(w.size, math.floor(sparsity * w.size + 0.5))
    magnitude = np.abs(w)
    if 0 < k < w.size:  # every pruned weight is no larger than every kept one
        assert magnitude[~keep].max() <= magnitude[keep].min()


@fast
@given(st.lists(st.floats(-10, 10, width=32), min_size=1, max_size=50),
       st.floats(0, 1), st.floats(0, 1))
def test_a_sparser_mask_prunes_a_superset(values, s1, s2):
    w = np.array(values, dtype=np.float32)
    low, high = sorted((s1, s2))
    assert np.all(pruning.magnitude_mask(w, high) <= pruning.magnitude_mask(w, low))


@st.composite
def schedules(draw):
    initial = draw(st.floats(0, 1))
    final = draw(st.floats(initial, 1))
    begin = draw(st.integers(0, 50))
    frequency = draw(st.integers(1, 10))
    updates = draw(st.integers(1, 20))
    power = draw(st.floats(0.1, 5))
    return pruning.PolynomialDecay(initial, final, begin, begin + updates * frequency,
                                   frequency, power)


@fast
@given(schedules())
def test_polynomial_decay_hits_its_end_points_and_never_decreases(schedule):
    assert schedule(schedule.begin_step - 1) == 0.0  # nothing is pruned before begin_step
    assert schedule(schedule.begin_step) == pytest.approx(schedule.initial_sparsity)
    assert schedule(schedule.end_step) == schedule.final_sparsity
    assert schedule(schedule.end_step + 1000) == schedule.final_sparsity
    values = [schedule(t) for t in range(schedule.end_step + 3)]
    assert all(a <= b + 1e-12 for a, b in itertools.pairwise(values))
    assert all(0.0 <= v <= 1.0 for v in values)


@fast
@given(schedules(), st.integers(0, 400))
def test_polynomial_decay_holds_its_target_between_updates(schedule, step):
    last_update = max(t for t in range(min(step, schedule.end_step) + 1)
                      if schedule.is_update_step(t)) if step >= schedule.begin_step else None
    if last_update is None:
        assert schedule(step) == 0.0
    else:
        assert schedule(step) == schedule(last_update)
