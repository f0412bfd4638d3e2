"""Number formats, underflow counts, activation memory and hardware checks for mixed precision.

Introduced in notebook 11. Mixed precision trades bits for speed and memory; these helpers put
numbers on each side of that trade so the notebook can assert them:

- :func:`format_table` lists the bit layout, range and precision of float32, float16 and
  bfloat16 (from ``ml_dtypes.finfo``, which also knows NumPy's own types);
- :func:`underflow_fractions` counts how many values are flushed to zero, or kept only as
  subnormals, when cast to a narrower format (the reason float16 needs loss scaling);
- :func:`activation_bytes` computes the activation memory of a Keras model from each layer's
  compute dtype, so a mixed policy's saving is computed, not guessed;
- :func:`policy_hardware` says which hardware makes each Keras policy fast, given
  :func:`course_lib.environment.cpu_features` and the GPUs TensorFlow sees;
- :class:`EpochTimer` records wall-clock and CPU seconds per epoch of ``model.fit``,
  :func:`median_seconds` times a function, and :func:`using_policy` sets a Keras global dtype
  policy for a ``with`` block only, so that no cell leaks its policy into the next.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence

import keras
import ml_dtypes
import numpy as np

FORMATS = ("float32", "float16", "bfloat16")
POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")


def _dtype(name: str) -> np.dtype:
    try:
        return np.dtype(getattr(ml_dtypes, name) if name == "bfloat16" else name)
    except TypeError as error:
        raise ValueError(f"unknown floating-point format {name!r}") from error


def format_table(names: Sequence[str] = FORMATS) -> list[dict]:
    """One row per format: bit layout (sign, exponent, mantissa), range and precision.

    ``max`` is the largest finite value, ``smallest normal`` the smallest value with full
    precision, ``smallest subnormal`` the smallest non-zero value, ``epsilon`` the gap between 1
    and the next larger number, ``decimal digits`` about ``-log10(epsilon / 2)``. Raises
    ValueError for a name that is not a floating-point format.
    """
    rows = []
    for name in names:
        dtype = _dtype(name)
        if dtype.kind not in "fV":
            raise ValueError(f"{name!r} is not a floating-point format")
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
    values = np.asarray(values, dtype=np.float64).ravel()
    values = values[np.isfinite(values) & (values != 0)]
    if values.size == 0:
        raise ValueError("underflow_fractions needs at least one non-zero finite value")
    target = _dtype(dtype)
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
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
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

    ``cpu_features`` is :func:`course_lib.environment.cpu_features`; ``gpu_compute_capabilities``
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


class EpochTimer(keras.callbacks.Callback):
    """Record the seconds of every epoch of ``model.fit``: wall clock in ``seconds``, and CPU
    time of this process (all its threads) in ``cpu_seconds``.

    The lists keep growing over several ``fit`` calls, so one timer can follow a model that is
    trained an epoch at a time. CPU time is what the computation itself costs: unlike the wall
    clock, it does not grow when other programs share the cores.
    """

    def __init__(self):
        super().__init__()
        self.seconds: list[float] = []
        self.cpu_seconds: list[float] = []

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = (time.perf_counter(), time.process_time())

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.seconds.append(time.perf_counter() - self._start[0])
        self.cpu_seconds.append(time.process_time() - self._start[1])


def median_seconds(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> float:
    """Median wall-clock seconds of ``fn()`` over ``repeats`` calls, after ``warmup`` untimed
    calls (the first call often pays one-off costs such as tracing a ``tf.function``).

    ``fn`` must finish its work before it returns (e.g. call ``.numpy()`` on a TensorFlow
    result). Raises ValueError for ``repeats`` < 1 or ``warmup`` < 0.
    """
    if repeats < 1 or warmup < 0:
        raise ValueError(f"need repeats ≥ 1 and warmup ≥ 0, got {repeats} and {warmup}")
    for _ in range(warmup):
        fn()
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - start)
    return float(np.median(seconds))


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
