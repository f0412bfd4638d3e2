"""Mixed-precision helpers: exact format constants, underflow counts, activation memory."""

import keras
import numpy as np
import pytest

from course_lib import precision
from course_lib.parameters import ParameterError


def test_format_table_knows_the_bit_layouts():
    rows = {row["format"]: row for row in precision.format_table()}
    assert list(rows) == ["float32", "float16", "bfloat16"]
    layout = {name: (row["bits"], row["sign"], row["exponent"], row["mantissa"])
              for name, row in rows.items()}
    assert layout == {"float32": (32, 1, 8, 23), "float16": (16, 1, 5, 10),
                      "bfloat16": (16, 1, 8, 7)}
    half, brain = rows["float16"], rows["bfloat16"]
    assert half["max"] == 65504.0
    assert half["smallest normal"] == 2.0**-14
    assert half["smallest subnormal"] == 2.0**-24
    assert half["epsilon"] == 2.0**-10
    assert brain["smallest normal"] == rows["float32"]["smallest normal"] == 2.0**-126
    assert brain["smallest subnormal"] == 2.0**-133
    assert brain["epsilon"] == 2.0**-7
    assert rows["float32"]["decimal digits"] == pytest.approx(7.2, abs=0.05)


@pytest.mark.parametrize("name", ["int8", "float17"])
def test_format_table_rejects_non_float_formats(name):
    with pytest.raises(ParameterError, match=rf"parameter names\[1\] must be a floating-point "
                       rf"format such as float32, float16, bfloat16; got '{name}'"):
        precision.format_table(["float16", name])
    with pytest.raises(ParameterError, match="parameter dtype must be a floating-point format"):
        precision.underflow_fractions(np.ones(3), name)


def test_underflow_fractions_counts_flushed_subnormal_and_overflowed_values():
    values = np.array([1e-9, -1e-6, 1e-3, 1e5, 0.0, np.inf])  # 0 and inf are not counted
    assert precision.underflow_fractions(values, "float16") == {
        "flushed": 0.25, "subnormal": 0.25, "overflowed": 0.25}
    assert precision.underflow_fractions(values, "bfloat16") == {
        "flushed": 0.0, "subnormal": 0.0, "overflowed": 0.0}


def test_underflow_fractions_needs_a_nonzero_value():
    with pytest.raises(ValueError, match=r"values must hold at least one non-zero finite value; "
                       r"got none in an array of shape \(3,\)"):
        precision.underflow_fractions(np.zeros(3), "float16")


def _tiny_model(dtype_policy=None):
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, dtype=dtype_policy),
                             keras.layers.Dense(2, dtype=dtype_policy)])


def test_activation_bytes_uses_each_layers_compute_dtype():
    # 3 + 2 = 5 activations per example.
    assert precision.activation_bytes(_tiny_model(), batch_size=2) == 5 * 4 * 2
    assert precision.activation_bytes(_tiny_model("mixed_bfloat16"), batch_size=2) == 5 * 2 * 2
    nested = keras.Sequential([keras.Input((4,)), _tiny_model(),
                               keras.layers.Activation("softmax", dtype="float32")])
    assert precision.activation_bytes(nested, batch_size=1) == (5 + 2) * 4


def test_activation_bytes_rejects_bad_input():
    with pytest.raises(ParameterError, match="need 1 ≤ batch_size; got 0"):
        precision.activation_bytes(_tiny_model(), batch_size=0)
    unbuilt = keras.Sequential([keras.layers.Dense(3)])
    with pytest.raises(ValueError, match="not built"):
        precision.activation_bytes(unbuilt, batch_size=1)


@pytest.mark.parametrize(("features", "gpus", "bf16", "fp16"), [
    ({}, [], False, False),
    ({"avx512_bf16": True, "amx_tile": False}, [], True, False),
    ({"avx512_bf16": False, "amx_tile": True}, [], True, False),
    ({}, [(7, 5)], False, True),
    ({}, [(6, 1), (9, 0)], True, True),
])
def test_policy_hardware(features, gpus, bf16, fp16):
    present = {row["policy"]: row["present"] for row in precision.policy_hardware(features, gpus)}
    assert present == {"float32": True, "mixed_bfloat16": bf16, "mixed_float16": fp16}


def test_using_policy_restores_the_previous_policy_even_after_an_error():
    assert keras.mixed_precision.global_policy().name == "float32"
    with precision.using_policy("mixed_bfloat16") as policy:
        assert policy.compute_dtype == "bfloat16" and policy.variable_dtype == "float32"
        assert keras.layers.Dense(2).compute_dtype == "bfloat16"
    assert keras.mixed_precision.global_policy().name == "float32"
    with pytest.raises(RuntimeError), precision.using_policy("mixed_float16"):
        raise RuntimeError("boom")
    assert keras.mixed_precision.global_policy().name == "float32"
