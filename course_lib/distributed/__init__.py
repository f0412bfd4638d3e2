"""Data parallelism: a cost model for scaling, replica devices, and a multi-worker launcher.

Introduced in notebook 12 (multi-GPU and distributed training). Four modules; the first three
are re-exported here:

- **Cost model** (pure functions, no TensorFlow): the time of a ring all-reduce, Amdahl's law,
  the speed-up of synchronous data parallelism, and the linear learning-rate scaling rule. The
  notebook derives each formula; the unit tests check them against hand-computed answers.
- **Replica devices**: :func:`configure_replica_devices` gives
  ``tf.distribute.MirroredStrategy`` several devices on any machine (real GPUs when there are
  two or more, otherwise logical devices carved from one GPU or from the CPU), so the same
  notebook cells run everywhere.
- **Launcher**: :class:`WorkerGroup` starts the workers of a ``MultiWorkerMirroredStrategy`` job
  as separate processes on this machine (``TF_CONFIG``, free ports), captures each worker's log,
  bounds every wait with a timeout and ends its workers by process group. A TensorFlow worker
  whose peer died waits for it forever inside a collective operation, so stopping a job must
  never rely on the workers' cooperation: each worker runs under ``timeout -k`` (a safety net if
  the notebook itself dies) in a session of its own, and the launcher escalates from SIGTERM to
  SIGKILL on the whole process group.
"""

import importlib

from .cost_model import (
                         amdahl_speedup,
                         data_parallel_speedup,
                         ring_allreduce_bytes,
                         ring_allreduce_seconds,
                         scaled_learning_rate,
)
from .devices import configure_replica_devices, worker_device_env
from .launcher import (
                         WorkerError,
                         WorkerGroup,
                         free_ports,
                         launched_groups,
                         surviving_processes,
                         tf_config,
)

__all__ = ["WorkerError", "WorkerGroup", "amdahl_speedup", "configure_replica_devices",
           "data_parallel_speedup", "free_ports", "launched_groups", "ring_allreduce_bytes",
           "ring_allreduce_seconds", "scaled_learning_rate", "surviving_processes",
           "tf_config", "worker_device_env"]


def __getattr__(name: str):
    """``cl.distributed.worker`` (TensorFlow) is imported on first use, like the topic modules."""
    if name == "worker":
        return importlib.import_module(f"{__name__}.worker")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
