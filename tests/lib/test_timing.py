"""The one timing helper: warm-up, interleaved rounds (alternating order), medians; epoch timer."""

import time

import keras
import numpy as np
import pytest

from course_lib import timing


def test_compare_warms_up_then_interleaves_rounds_in_alternating_order():
    calls = []
    result = timing.compare({"a": lambda: calls.append("a"), "b": lambda: calls.append("b"),
                             "c": lambda: calls.append("c")}, repeats=3, warmup=1)
    # warm-up round, then timed rounds 0 (given order), 1 (reversed), 2 (given order)
    assert "".join(calls) == "abc" + "abc" + "cba" + "abc"
    assert list(result) == ["a", "b", "c"]
    assert all(len(t.wall) == len(t.cpu) == 3 for t in result.values())


def test_compare_reports_medians_of_wall_and_cpu_seconds():
    result = timing.compare({"sleep": lambda: time.sleep(0.02)}, repeats=3, warmup=0)["sleep"]
    assert result.seconds == float(np.median(result.wall)) >= 0.02
    assert result.cpu_seconds < 0.01  # sleeping costs wall time, not CPU time
    known = timing.Timing(wall=(3.0, 1.0, 2.0, 100.0, 2.5), cpu=(1.0, 1.0, 9.0, 1.0, 1.0))
    assert known.seconds == 2.5 and known.cpu_seconds == 1.0  # one hiccup does not move a median


@pytest.mark.parametrize("kwargs", [{"repeats": 0}, {"warmup": -1}, {"repeats": 2.0},
                                    {"repeats": True}])
def test_compare_rejects_bad_counts(kwargs):
    with pytest.raises(ValueError, match="parameter (repeats|warmup) (is out|must be an int)"):
        timing.compare({"a": lambda: None}, **kwargs)
    with pytest.raises(ValueError, match="at least one"):
        timing.compare({})


def test_epoch_timer_records_every_epoch_of_every_fit():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    timer = timing.EpochTimer()
    model.fit(np.zeros((8, 4)), np.zeros((8, 2)), epochs=3, verbose=0, callbacks=[timer])
    model.fit(np.zeros((8, 4)), np.zeros((8, 2)), epochs=1, verbose=0, callbacks=[timer])
    assert len(timer.seconds) == len(timer.cpu_seconds) == 4  # accumulated over both calls
    assert all(s > 0 for s in timer.seconds) and all(s >= 0 for s in timer.cpu_seconds)
