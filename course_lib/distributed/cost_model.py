"""The cost model of synchronous data parallelism (notebook 12): the ring all-reduce, Amdahl's
law, the speed-up of data parallelism and the linear learning-rate scaling rule. Pure
functions, no TensorFlow."""

from __future__ import annotations

import numbers

# --------------------------------------------------------------------------- cost model


def _check_workers(n_workers: int) -> None:
    if isinstance(n_workers, bool) or not isinstance(n_workers, numbers.Integral) or n_workers < 1:
        raise ValueError(f"n_workers must be an int ≥ 1, got {n_workers!r}")


def _check_nonnegative(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"{name} must be a number ≥ 0, got {value!r}")


def _check_fraction(name: str, value: float) -> None:
    _check_nonnegative(name, value)
    if value > 1:
        raise ValueError(f"{name} must be between 0 and 1, got {value!r}")


def ring_allreduce_bytes(n_bytes: float, n_workers: int) -> float:
    """Bytes that each worker sends (and receives) in a ring all-reduce of ``n_bytes``.

    The buffer is cut into N chunks; N − 1 reduce-scatter steps and N − 1 all-gather steps each
    pass one chunk to the next worker in the ring: 2(N − 1)/N · n_bytes, which tends to
    2 · n_bytes, independent of N, as N grows. Zero for one worker.
    """
    _check_nonnegative("n_bytes", n_bytes)
    _check_workers(n_workers)
    return 2 * (n_workers - 1) / n_workers * n_bytes


def ring_allreduce_seconds(n_bytes: float, n_workers: int, bandwidth: float,
                           latency: float = 0.0) -> float:
    """Time of a ring all-reduce: 2(N − 1)/N · n_bytes / bandwidth + 2(N − 1) · latency.

    ``bandwidth`` in bytes per second per link, ``latency`` in seconds per message; the 2(N − 1)
    steps run one after another, and every worker sends over its own link at the same time.
    """
    if isinstance(bandwidth, bool) or not isinstance(bandwidth, numbers.Real) or not bandwidth > 0:
        raise ValueError(f"bandwidth must be a number > 0 (bytes/s), got {bandwidth!r}")
    _check_nonnegative("latency", latency)
    return ring_allreduce_bytes(n_bytes, n_workers) / bandwidth + 2 * (n_workers - 1) * latency


def amdahl_speedup(parallel_fraction: float, n_workers: int) -> float:
    """Amdahl's law: 1 / ((1 − p) + p / N) for a job whose fraction p runs in parallel.

    The serial part (1 − p) caps the speed-up at 1 / (1 − p), however large N is.
    """
    _check_fraction("parallel_fraction", parallel_fraction)
    _check_workers(n_workers)
    return 1 / ((1 - parallel_fraction) + parallel_fraction / n_workers)


def data_parallel_speedup(compute_seconds: float, n_bytes: float, n_workers: int,
                          bandwidth: float, latency: float = 0.0, overlap: float = 0.0) -> float:
    """Throughput speed-up of synchronous data parallelism over one worker (weak scaling).

    Each of the N workers processes its own per-replica batch in ``compute_seconds`` and then
    all-reduces ``n_bytes`` of gradients; a fraction ``overlap`` of the all-reduce hides behind
    the backward pass. One step handles N batches, so the speed-up in examples per second is
    N · t / (t + (1 − overlap) · T_allreduce(N)).
    """
    if (isinstance(compute_seconds, bool) or not isinstance(compute_seconds, numbers.Real)
            or not compute_seconds > 0):
        raise ValueError(f"compute_seconds must be a number > 0, got {compute_seconds!r}")
    _check_fraction("overlap", overlap)
    communication = ring_allreduce_seconds(n_bytes, n_workers, bandwidth, latency)
    return n_workers * compute_seconds / (compute_seconds + (1 - overlap) * communication)


def scaled_learning_rate(base_learning_rate: float, base_batch: int, global_batch: int) -> float:
    """The linear scaling rule: multiply the learning rate by the factor the batch grew by.

    With k times the global batch, one step averages k times as many examples, so it should move
    as far as k small steps did: η_k = η · global_batch / base_batch (Goyal et al., 2017; with a
    warm-up for large k).
    """
    _check_nonnegative("base_learning_rate", base_learning_rate)
    for name, batch in (("base_batch", base_batch), ("global_batch", global_batch)):
        if isinstance(batch, bool) or not isinstance(batch, numbers.Integral) or batch < 1:
            raise ValueError(f"{name} must be an int ≥ 1, got {batch!r}")
    return base_learning_rate * global_batch / base_batch


