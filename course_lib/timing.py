"""The course's one way to time code: warm-up, interleaved rounds, medians.

Introduced in notebook 00 (a matrix product's speed); every notebook that times anything uses
it. A timing on a shared machine is noisy: another program may take a core for a second, the
first call pays one-off costs (tracing a ``tf.function``, filling caches), and the clock speed
drifts. Three habits make comparisons trustworthy, and :func:`compare` has all three:

- **warm-up** calls of every candidate before any timed call;
- **interleaved rounds**: each round calls every candidate once, so a busy spell slows them all
  alike (and the order is reversed every other round, so none always runs first);
- **medians**, which ignore the few rounds a hiccup ruined.

It reports wall-clock seconds and the CPU seconds of this process (all its threads): CPU time is
the work done, which does not grow while the process waits for a core that another program
holds, so it is the steadier measure on a busy machine (but it misses time spent in other
processes, and counts spinning threads).

:class:`EpochTimer` records the same two clocks for every epoch of ``model.fit``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import keras
import numpy as np

from .parameters import check_param


@dataclass(frozen=True)
class Timing:
    """The timed calls of one candidate: ``wall`` and ``cpu`` seconds of each, in order."""

    wall: tuple[float, ...]
    cpu: tuple[float, ...]

    @property
    def seconds(self) -> float:
        """Median wall-clock seconds of one call."""
        return float(np.median(self.wall))

    @property
    def cpu_seconds(self) -> float:
        """Median CPU seconds (this process, all threads) of one call."""
        return float(np.median(self.cpu))


def compare(calls: Mapping[str, Callable[[], object]], repeats: int = 7, warmup: int = 1
            ) -> dict[str, Timing]:
    """Time each zero-argument function of ``calls``; return a :class:`Timing` per name.

    First ``warmup`` untimed rounds, then ``repeats`` timed rounds; every round calls each
    function once, in the order given, reversed every other round. A function must finish its
    work before it returns (e.g. call ``.numpy()`` on a TensorFlow result). One candidate is
    fine too: ``compare({"matmul": f})["matmul"].seconds``. Raises ValueError for no calls,
    ``repeats`` < 1 or ``warmup`` < 0.
    """
    check_param("repeats", repeats, int, ge=1)
    check_param("warmup", warmup, int, ge=0)
    if not calls:
        raise ValueError("compare needs at least one function to time")
    names = list(calls)
    for round_ in range(warmup):
        for name in names if round_ % 2 == 0 else names[::-1]:
            calls[name]()
    wall: dict[str, list[float]] = {name: [] for name in names}
    cpu: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(repeats):
        for name in names if round_ % 2 == 0 else names[::-1]:
            start_wall, start_cpu = time.perf_counter(), time.process_time()
            calls[name]()
            wall[name].append(time.perf_counter() - start_wall)
            cpu[name].append(time.process_time() - start_cpu)
    return {name: Timing(tuple(wall[name]), tuple(cpu[name])) for name in names}


class EpochTimer(keras.callbacks.Callback):
    """Record the seconds of every epoch of ``model.fit``: wall clock in ``seconds``, and CPU
    time of this process (all its threads) in ``cpu_seconds``.

    The lists keep growing over several ``fit`` calls, so one timer can follow a model that is
    trained an epoch at a time (notebook 11 interleaves three models that way, one epoch each,
    for the same reason as :func:`compare`). The first epoch also traces the training graph:
    leave it out of a median.
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
