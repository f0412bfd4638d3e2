"""One worker of a small ``MultiWorkerMirroredStrategy`` training job, with checkpoints.

Introduced in notebook 12, whose launcher (:class:`course_lib.distributed.WorkerGroup`) starts
it once per worker::

    python -m course_lib.distributed.worker --out DIR [--steps 30 --checkpoint-every 5 ...]

``TF_CONFIG`` (set by the launcher) tells the worker who it is. It trains a tiny classifier on
synthetic data with a custom loop (``strategy.run``), because Keras 3 ``model.fit`` fails under
``MultiWorkerMirroredStrategy`` (keras-team/keras#20585, tensorflow/tensorflow#72388;
``--fit`` reproduces the failure). The global batch of step s is a pure function of
``(seed, s)`` and each replica takes its own contiguous slice of it, so a job that is killed
and resumed from a checkpoint sees exactly the batches an uninterrupted job sees.

The worker writes one line per event to stdout (the launcher captures it): first the GPU
environment it was given (``CUDA_VISIBLE_DEVICES=... GPUs visible: n``, see
:func:`device_report`), then ``restored at step r`` or ``starting at step 0``, ``step s: loss
L``, ``checkpoint saved at step s``, ``finished at step s`` (:func:`summarize_log` parses the
events); and its final weights to
``DIR/worker{i}.npz`` (arrays ``w0, w1, ...`` and ``step``). Checkpoints follow TensorFlow's
multi-worker recipe: every worker saves (the save is collective), the chief into
``--checkpoint-dir``, the others into a scratch directory that they delete; everybody restores
from the chief's.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

N_FEATURES, N_HIDDEN, N_CLASSES = 16, 32, 4


def synthetic_batch(seed: int, step: int, global_batch: int) -> tuple[np.ndarray, np.ndarray]:
    """The global batch of training step ``step``: a pure function of ``(seed, step)``.

    Features are standard normal (``global_batch × 16``, float32); the label is the arg-max of a
    fixed random linear "teacher" drawn from ``seed``, so the task is learnable.
    """
    teacher = np.random.default_rng([seed, 2**31]).normal(size=(N_FEATURES, N_CLASSES))
    x = np.random.default_rng([seed, step]).normal(size=(global_batch, N_FEATURES))
    return x.astype(np.float32), np.argmax(x @ teacher, axis=1).astype(np.int32)


def build_model(seed: int) -> keras.Model:
    """A 16-32-4 multilayer perceptron with logits output; the same weights for the same seed."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((N_FEATURES,)),
                             keras.layers.Dense(N_HIDDEN, activation="relu"),
                             keras.layers.Dense(N_CLASSES)], name="mlp")


def device_report() -> str:
    """One line on the GPUs this process was given: ``CUDA_VISIBLE_DEVICES`` as the launcher set
    it (``<unset>`` if absent) and how many GPUs TensorFlow sees.

    CUDA reads ``CUDA_VISIBLE_DEVICES`` once, when TensorFlow first initializes the GPUs, so it
    must be in the environment before the process starts: that is why the launcher passes it per
    worker (:func:`course_lib.distributed.worker_device_env`) instead of the program setting it.
    """
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "<unset>")
    return (f"CUDA_VISIBLE_DEVICES={visible!r} GPUs visible: "
            f"{len(tf.config.list_physical_devices('GPU'))}")


def distribute_batch(strategy: tf.distribute.Strategy, x, y):
    """Give replica r of ``strategy`` rows r·b … (r+1)·b − 1 of the global batch (b = B/N).

    The same call works for one device, ``MirroredStrategy`` (N local replicas) and
    ``MultiWorkerMirroredStrategy`` (where every worker holds the whole global batch and each
    replica picks its slice by its global replica id).
    """
    n = strategy.num_replicas_in_sync
    if len(x) != len(y) or len(x) % n:
        raise ValueError(f"x and y must hold one global batch that splits evenly over {n} "
                         f"replicas; got {len(x)} inputs (x) and {len(y)} labels (y)")
    per_replica = len(x) // n

    def replica_slice(context):
        start = context.replica_id_in_sync_group * per_replica
        return x[start:start + per_replica], y[start:start + per_replica]

    return strategy.experimental_distribute_values_from_function(replica_slice)


def make_train_step(strategy: tf.distribute.Strategy, model: keras.Model,
                    optimizer: keras.optimizers.Optimizer, global_batch: int) -> Callable:
    """A compiled training step: ``train_step(distributed_batch) -> loss of the global batch``.

    Each replica computes the cross-entropy of its slice divided by the *global* batch size
    (``tf.nn.compute_average_loss``), so the replicas' losses, and their gradients, add up to
    those of the global batch; Keras's optimizer all-reduces (sums) the gradients across
    replicas inside ``apply_gradients``, and every replica applies the same update.
    """
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="none")

    def replica_step(x, y):
        with tf.GradientTape() as tape:
            per_example = loss_fn(y, model(x, training=True))
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return loss

    @tf.function
    def train_step(batch):
        return strategy.reduce("SUM", strategy.run(replica_step, args=batch), axis=None)

    return train_step


@dataclass
class LogSummary:
    """What a worker's log says it did (see :func:`summarize_log`)."""

    start_step: int | None = None  # 0 for a fresh start, r when restored at step r
    steps: list[int] = field(default_factory=list)  # every completed step, in order
    losses: list[float] = field(default_factory=list)  # the global batch's loss at each step
    checkpoints: list[int] = field(default_factory=list)  # steps at which a save completed
    finished_step: int | None = None  # the last step, once the worker saved its weights


_EVENTS = re.compile(r"^(?:(starting|restored) at step (\d+)|step (\d+): loss (\S+)"
                     r"|checkpoint saved at step (\d+)|finished at step (\d+))$")


def summarize_log(text: str) -> LogSummary:
    """Parse the event lines of a worker's log, ignoring TensorFlow's own messages."""
    summary = LogSummary()
    for line in text.splitlines():
        match = _EVENTS.match(line.strip())
        if not match:
            continue
        start, start_step, step, loss, saved, finished = match.groups()
        if start:
            summary.start_step = int(start_step)
        elif step:
            summary.steps.append(int(step))
            summary.losses.append(float(loss))
        elif saved:
            summary.checkpoints.append(int(saved))
        else:
            summary.finished_step = int(finished)
    return summary


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="where worker{i}.npz goes")
    parser.add_argument("--checkpoint-dir", type=Path, help="checkpoint here (none if omitted)")
    parser.add_argument("--steps", type=int, default=30, help="train until this step")
    parser.add_argument("--checkpoint-every", type=int, default=5, help="steps between saves")
    parser.add_argument("--global-batch", type=int, default=64, help="examples per step")
    parser.add_argument("--learning-rate", type=float, default=0.1, help="SGD step size")
    parser.add_argument("--seed", type=int, default=0, help="weights and data")
    parser.add_argument("--step-seconds", type=float, default=0.0,
                        help="sleep after each step: stands in for a longer computation")
    parser.add_argument("--fit", action="store_true", help="train with model.fit instead")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.checkpoint_every < 1 or args.global_batch < 1:
        parser.error("--steps, --checkpoint-every and --global-batch must be ≥ 1")
    return args


def _fit(strategy, args) -> None:
    """Keras 3 ``model.fit`` under the strategy: raises ValueError (the upstream bug)."""
    with strategy.scope():
        model = build_model(args.seed)
        model.compile(keras.optimizers.SGD(args.learning_rate),
                      keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = synthetic_batch(args.seed, 0, args.global_batch)
    model.fit(tf.data.Dataset.from_tensor_slices((x, y)).batch(args.global_batch), verbose=0)


def train(args: argparse.Namespace) -> None:
    keras.utils.set_random_seed(args.seed)
    tf.config.experimental.enable_op_determinism()
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    task = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
    print(device_report())
    if args.fit:
        _fit(strategy, args)
        return
    with strategy.scope():
        model = build_model(args.seed)
        optimizer = keras.optimizers.SGD(args.learning_rate, momentum=0.9)
        optimizer.build(model.trainable_variables)
    train_step = make_train_step(strategy, model, optimizer, args.global_batch)

    manager, scratch = None, None
    if args.checkpoint_dir is not None:
        checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer)
        latest = tf.train.latest_checkpoint(args.checkpoint_dir)
        if latest is not None:
            checkpoint.restore(latest).assert_existing_objects_matched()
        directory = args.checkpoint_dir
        if task != 0:  # non-chief workers save too (collectively), but into scratch
            directory = scratch = args.checkpoint_dir.parent / f"scratch_worker{task}"
        manager = tf.train.CheckpointManager(checkpoint, directory, max_to_keep=2)
    step = int(optimizer.iterations.numpy())
    print(f"restored at step {step}" if step else "starting at step 0")

    while step < args.steps:
        x, y = synthetic_batch(args.seed, step, args.global_batch)
        loss = train_step(distribute_batch(strategy, x, y))
        step += 1
        print(f"step {step}: loss {float(loss):.6f}")
        if manager is not None and (step % args.checkpoint_every == 0 or step == args.steps):
            manager.save(checkpoint_number=step)
            print(f"checkpoint saved at step {step}")
        time.sleep(args.step_seconds)
    if scratch is not None:
        shutil.rmtree(scratch, ignore_errors=True)
    args.out.mkdir(parents=True, exist_ok=True)
    arrays = {f"w{i}": w.numpy() for i, w in enumerate(model.weights)}
    np.savez(args.out / f"worker{task}.npz", step=step, **arrays)
    print(f"finished at step {step}")


def main(argv: Sequence[str] | None = None) -> None:
    train(parse_args(argv))


if __name__ == "__main__":
    main(sys.argv[1:])
