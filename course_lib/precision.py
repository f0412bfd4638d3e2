"""Number formats, underflow counts, activation memory and hardware checks for mixed precision.

Introduced in notebook 11. Mixed precision trades bits for speed and memory; these helpers put
numbers on each side of that trade so the notebook can assert them:

- :func:`format_table` lists the bit layout, range and precision of float32, float16 and
  bfloat16 (from ``ml_dtypes.finfo``, which also knows NumPy's own types);
- :func:`underflow_fractions` counts how many values are flushed to zero, or kept only as
  subnormals, when cast to a narrower format (the reason float16 needs loss scaling);
- :func:`activation_bytes` computes the activation memory of a Keras model from each layer's
  compute dtype, so a mixed policy's saving is computed, not guessed;
- :func:`policy_hardware` says which hardware makes each Keras policy fast, given the CPU
  features in effect (:func:`course_lib.hardware.features`) and the GPUs TensorFlow sees;
- :func:`using_policy` sets a Keras global dtype policy for a ``with`` block only, so that no
  cell leaks its policy into the next.

Timings use :mod:`course_lib.timing`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence

import keras
import ml_dtypes
import numpy as np

from .parameters import ParameterError, check_param

FORMATS = ("float32", "float16", "bfloat16")
POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")


def _float_dtype(param: str, name: str) -> np.dtype:
    """The NumPy dtype of the floating-point format ``name``, the value of parameter ``param``."""
    check_param(param, name, str)
    try:
        dtype = np.dtype(getattr(ml_dtypes, name) if name == "bfloat16" else name)
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind not in "fV":
        raise ParameterError(f"parameter {param} must be a floating-point format such as "
                             f"{', '.join(FORMATS)}; got {name!r}")
    return dtype


def format_table(names: Sequence[str] = FORMATS) -> list[dict]:
    """One row per format: bit layout (sign, exponent, mantissa), range and precision.

    ``max`` is the largest finite value, ``smallest normal`` the smallest value with full
    precision, ``smallest subnormal`` the smallest non-zero value, ``epsilon`` the gap between 1
    and the next larger number, ``decimal digits`` about ``-log10(epsilon / 2)``. Raises
    ValueError for a name that is not a floating-point format.
    """
    rows = []
    for i, name in enumerate(names):
        dtype = _float_dtype(f"names[{i}]", name)
        info = ml_dtypes.finfo(dtype)
        rows.append({"format": name, "bits": info.bits, "sign": 1, "exponent": info.nexp,
                     "mantissa": info.nmant, "max": float(info.max),
                     "smallest normal": float(info.smallest_normal),
                     "smallest subnormal": float(info.smallest_subnormal),
                     "epsilon": float(info.eps),
                     "decimal digits": float(-np.log10(float(info.eps) / 2))})
    return rows


def underflow_fractions(values: np.ndarray, dtype: str) -> dict[str, float]:
    """Of the non-zero finite ``values``, the fractions that ``dtype`` flushes or weakens.

    ``flushed``: the value becomes 0 when cast to ``dtype``. ``subnormal``: it stays non-zero
    but falls below the smallest normal number, so it keeps fewer significant bits.
    ``overflowed``: it becomes infinite. Raises ValueError when there is no non-zero finite
    value to count.
    """
    target = _float_dtype("dtype", dtype)
    values = np.asarray(values, dtype=np.float64)
    shape, values = values.shape, values.ravel()
    values = values[np.isfinite(values) & (values != 0)]
    if values.size == 0:
        raise ValueError(f"values must hold at least one non-zero finite value; got none in an "
                         f"array of shape {shape}")
    with np.errstate(over="ignore"):  # overflow to inf is counted, not warned about
        cast = np.abs(values.astype(target).astype(np.float64))
    tiny = float(ml_dtypes.finfo(target).smallest_normal)
    return {"flushed": float(np.mean(cast == 0)),
            "subnormal": float(np.mean((cast > 0) & (cast < tiny))),
            "overflowed": float(np.mean(np.isinf(cast)))}


def _leaf_layers(model: keras.Model) -> list[keras.layers.Layer]:
    leaves = []
    for layer in model.layers:
        leaves += _leaf_layers(layer) if isinstance(layer, keras.Model) else [layer]
    return leaves


def activation_bytes(model: keras.Model, batch_size: int) -> int:
    """Bytes of the activations (every layer's output) of one forward pass over a batch.

    Each layer's output holds ``prod(output shape without the batch axis)`` numbers per example,
    stored in the layer's ``compute_dtype``. Nested models are counted layer by layer. This is
    what training keeps for the backward pass; weights and optimizer state are not included.
    Raises ValueError for a model that is not built or a batch size below 1.
    """
    check_param("batch_size", batch_size, int, ge=1)
    if not model.built:
        raise ValueError(f"model {model.name!r} is not built: give it an Input first")
    total = 0
    for layer in _leaf_layers(model):
        per_example = int(np.prod(layer.output.shape[1:]))
        total += per_example * np.dtype(layer.compute_dtype).itemsize
    return total * batch_size


def policy_hardware(cpu_features: Mapping[str, bool],
                    gpu_compute_capabilities: Sequence[tuple[int, int]]) -> list[dict]:
    """For each Keras policy: what makes it fast, and whether this machine has it.

    ``cpu_features`` is :func:`course_lib.hardware.features` (the features in effect, after
    ``ONEDNN_MAX_CPU_ISA`` and ``TF_ENABLE_ONEDNN_OPTS``); ``gpu_compute_capabilities``
    one (major, minor) per GPU (from ``tf.config.experimental.get_device_details``). bfloat16
    is fast on CPUs with AVX-512 BF16 or AMX and on GPUs of compute capability 8.0 (Ampere) or
    newer; float16 needs GPU tensor cores (compute capability 7.0, Volta, or newer).
    """
    best_gpu = max(gpu_compute_capabilities, default=(0, 0))
    bf16_cpu = bool(cpu_features.get("avx512_bf16") or cpu_features.get("amx_tile"))
    return [
        {"policy": "float32", "fast on": "any CPU or GPU (the baseline)", "present": True},
        {"policy": "mixed_bfloat16",
         "fast on": "CPU with AVX-512 BF16 or AMX; GPU with compute capability ≥ 8.0",
         "present": bf16_cpu or best_gpu >= (8, 0)},
        {"policy": "mixed_float16", "fast on": "GPU with compute capability ≥ 7.0",
         "present": best_gpu >= (7, 0)},
    ]


@contextlib.contextmanager
def using_policy(name: str) -> Iterator[keras.DTypePolicy]:
    """``with using_policy("mixed_bfloat16"):`` sets Keras's global dtype policy inside the
    block and restores the previous one on the way out, even after an error.

    Layers read the global policy when they are *created*, so build the model inside the block.
    """
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield keras.mixed_precision.global_policy()
    finally:
        keras.mixed_precision.set_global_policy(previous)
