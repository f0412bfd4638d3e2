"""Replica devices for ``tf.distribute`` on any machine (notebook 12): real GPUs when there are
two or more, otherwise logical devices carved from one GPU or from the CPU."""

from __future__ import annotations

from ..parameters import check_param

# ------------------------------------------------------------------------ replica devices


def configure_replica_devices(n_replicas: int, gpu_memory_mb: int = 1024) -> list[str]:
    """Choose and configure the devices that ``MirroredStrategy`` will mirror over.

    - two or more GPUs: every GPU is one replica (``n_replicas`` is not used), with memory growth
      on (by default TensorFlow reserves nearly all of a GPU's memory for its process);
    - one GPU: it is split into ``n_replicas`` logical GPUs of ``gpu_memory_mb`` each;
    - no GPU: the CPU is split into ``n_replicas`` logical CPU devices (they share its cores).

    Logical devices can only be configured before TensorFlow runs its first operation, so call
    this right after ``cl.setup``; calling it again with the same ``n_replicas`` returns the same
    devices. Returns the device names, e.g. ``['/device:CPU:0', '/device:CPU:1']``.
    """
    import tensorflow as tf

    check_param("n_replicas", n_replicas, int, ge=1)
    gpus = tf.config.list_physical_devices("GPU")
    if len(gpus) >= 2:
        for gpu in gpus:  # take GPU memory as needed, not all of it at once, so that worker
            try:          # processes started later (one GPU each) can still allocate some
                tf.config.experimental.set_memory_growth(gpu, True)
            except RuntimeError:  # TensorFlow already initialized the GPUs: leave them as they are
                pass
        return [device.name for device in tf.config.list_logical_devices("GPU")]
    kind = "GPU" if gpus else "CPU"
    physical = gpus[0] if gpus else tf.config.list_physical_devices("CPU")[0]
    wanted = [tf.config.LogicalDeviceConfiguration(memory_limit=gpu_memory_mb if gpus else None)
              for _ in range(n_replicas)]
    current = tf.config.get_logical_device_configuration(physical)
    if current is None or len(current) != n_replicas:
        try:
            tf.config.set_logical_device_configuration(physical, wanted)
        except RuntimeError as error:
            raise RuntimeError(
                f"cannot split the {kind} into {n_replicas} logical devices: TensorFlow has "
                f"already run an operation in this process ({error}). Restart the kernel and "
                "call configure_replica_devices right after cl.setup.") from error
    return [device.name for device in tf.config.list_logical_devices(kind)]


def worker_device_env(n_workers: int, n_gpus: int) -> list[dict[str, str]]:
    """Environment variables that give each of ``n_workers`` local workers its own GPU.

    With at least one GPU per worker, worker i sees only GPU i; otherwise the workers see no GPU
    at all (two TensorFlow processes sharing a GPU would each try to reserve all its memory).
    """
    check_param("n_workers", n_workers, int, ge=1)
    check_param("n_gpus", n_gpus, int, ge=0)
    if n_gpus >= n_workers:
        return [{"CUDA_VISIBLE_DEVICES": str(i)} for i in range(n_workers)]
    return [{"CUDA_VISIBLE_DEVICES": ""} for _ in range(n_workers)]


