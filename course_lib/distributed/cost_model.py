"""The cost model of synchronous data parallelism (notebook 12): the ring all-reduce, Amdahl's
law, the speed-up of data parallelism and the linear learning-rate scaling rule. Pure
functions, no TensorFlow."""

from __future__ import annotations

from ..parameters import check_param

# --------------------------------------------------------------------------- cost model


def ring_allreduce_bytes(n_bytes: float, n_workers: int) -> float:
    """Bytes that each worker sends (and receives) in a ring all-reduce of ``n_bytes``.

    The buffer is cut into N chunks; N − 1 reduce-scatter steps and N − 1 all-gather steps each
    pass one chunk to the next worker in the ring: 2(N − 1)/N · n_bytes, which tends to
    2 · n_bytes, independent of N, as N grows. Zero for one worker.
    """
    check_param("n_bytes", n_bytes, float, ge=0)
    check_param("n_workers", n_workers, int, ge=1)
    return 2 * (n_workers - 1) / n_workers * n_bytes


def ring_allreduce_seconds(n_bytes: float, n_workers: int, bandwidth: float,
                           latency: float = 0.0) -> float:
    """Time of a ring all-reduce: 2(N − 1)/N · n_bytes / bandwidth + 2(N − 1) · latency.

    ``bandwidth`` in bytes per second per link, ``latency`` in seconds per message; the 2(N − 1)
    steps run one after another, and every worker sends over its own link at the same time.
    """
    check_param("bandwidth", bandwidth, float, gt=0)
    check_param("latency", latency, float, ge=0)
    return ring_allreduce_bytes(n_bytes, n_workers) / bandwidth + 2 * (n_workers - 1) * latency


def amdahl_speedup(parallel_fraction: float, n_workers: int) -> float:
    """Amdahl's law: 1 / ((1 − p) + p / N) for a job whose fraction p runs in parallel.

    The serial part (1 − p) caps the speed-up at 1 / (1 − p), however large N is.
    """
    check_param("parallel_fraction", parallel_fraction, float, ge=0, le=1)
    check_param("n_workers", n_workers, int, ge=1)
    return 1 / ((1 - parallel_fraction) + parallel_fraction / n_workers)


def data_parallel_speedup(compute_seconds: float, n_bytes: float, n_workers: int,
                          bandwidth: float, latency: float = 0.0, overlap: float = 0.0) -> float:
    """Throughput speed-up of synchronous data parallelism over one worker (weak scaling).

    Each of the N workers processes its own per-replica batch in ``compute_seconds`` and then
    all-reduces ``n_bytes`` of gradients; a fraction ``overlap`` of the all-reduce hides behind
    the backward pass. One step handles N batches, so the speed-up in examples per second is
    N · t / (t + (1 − overlap) · T_allreduce(N)).
    """
    check_param("compute_seconds", compute_seconds, float, gt=0)
    check_param("overlap", overlap, float, ge=0, le=1)
    communication = ring_allreduce_seconds(n_bytes, n_workers, bandwidth, latency)
    return n_workers * compute_seconds / (compute_seconds + (1 - overlap) * communication)


def scaled_learning_rate(base_learning_rate: float, base_batch: int, global_batch: int) -> float:
    """The linear scaling rule: multiply the learning rate by the factor the batch grew by.

    With k times the global batch, one step averages k times as many examples, so it should move
    as far as k small steps did: η_k = η · global_batch / base_batch (Goyal et al., 2017; with a
    warm-up for large k).
    """
    check_param("base_learning_rate", base_learning_rate, float, ge=0)
    check_param("base_batch", base_batch, int, ge=1)
    check_param("global_batch", global_batch, int, ge=1)
    return base_learning_rate * global_batch / base_batch


