"""The data-parallel cost model (known answers), the multi-worker launcher and its worker script.

The launcher tests start tiny Python processes (no TensorFlow) and check that no process
outlives a test; one test runs a real two-worker TensorFlow job (a few seconds per worker).
"""

import socket
import sys
import time

import numpy as np
import pytest

from course_lib import distributed as d
from course_lib.distributed import worker as mw
from course_lib.parameters import ParameterError

PY = sys.executable


# ------------------------------------------------------------------------------ cost model


def test_ring_allreduce_known_answers():
    # 2(N-1)/N of the buffer per worker: 1.5× for 4 workers, 0 for one.
    assert d.ring_allreduce_bytes(100e6, 4) == pytest.approx(150e6)
    assert d.ring_allreduce_bytes(100e6, 1) == 0
    assert d.ring_allreduce_bytes(8, 2) == 8
    # 150 MB at 10 GB/s = 15 ms, plus 2·3 messages of 10 µs.
    assert d.ring_allreduce_seconds(100e6, 4, 10e9) == pytest.approx(0.015)
    assert d.ring_allreduce_seconds(100e6, 4, 10e9, latency=1e-5) == pytest.approx(0.01506)
    assert d.ring_allreduce_seconds(100e6, 1, 10e9, latency=1e-5) == 0


def test_ring_allreduce_approaches_twice_the_buffer():
    assert d.ring_allreduce_bytes(1.0, 1000) == pytest.approx(1.998)
    sizes = [d.ring_allreduce_bytes(1.0, n) for n in range(1, 50)]
    assert sizes == sorted(sizes) and max(sizes) < 2


def test_amdahl_known_answers():
    assert d.amdahl_speedup(0.9, 10) == pytest.approx(1 / 0.19)
    assert d.amdahl_speedup(1.0, 8) == pytest.approx(8)
    assert d.amdahl_speedup(0.0, 8) == pytest.approx(1)
    assert d.amdahl_speedup(0.5, 10**9) == pytest.approx(2, rel=1e-6)  # the 1/(1-p) cap


def test_data_parallel_speedup_known_answers():
    # No communication: perfect scaling.
    assert d.data_parallel_speedup(0.1, 0, 8, bandwidth=1e9) == pytest.approx(8)
    # 4 workers, 100 MB, 10 GB/s: all-reduce 15 ms; step 100 ms -> 4·0.1/0.115.
    assert d.data_parallel_speedup(0.1, 100e6, 4, 10e9) == pytest.approx(0.4 / 0.115)
    # Half of the all-reduce hidden behind the backward pass.
    assert d.data_parallel_speedup(0.1, 100e6, 4, 10e9, overlap=0.5) == pytest.approx(0.4 / 0.1075)
    assert d.data_parallel_speedup(0.1, 100e6, 1, 10e9) == 1


def test_ring_allreduce_time_tends_to_bandwidth_term_plus_latency():
    # Moved from notebook 12 (formula checks belong here): at N = 64 the bandwidth term is
    # within 2 % of its limit 2S/β; the latency term 2(N−1)α grows without bound.
    s, beta, alpha = 102.4e6, 1.25e9, 50e-6
    t64 = d.ring_allreduce_seconds(s, 64, beta, alpha)
    assert abs(t64 - (2 * s / beta + 2 * 63 * alpha)) / t64 < 0.02
    assert d.ring_allreduce_seconds(s, 64, beta, alpha) - d.ring_allreduce_seconds(s, 64, beta) \
        == pytest.approx(2 * 63 * alpha)


def test_data_parallel_speedup_of_the_notebook_scenarios():
    # Notebook 12's illustrative ResNet-50-sized scenario (S = 102.4 MB, t_c = 0.1 s), by hand:
    # 10 Gb/s Ethernet, N = 64: T = 2·63/64·102.4e6/1.25e9 + 2·63·50e-6 = 0.16758 s,
    # speed-up = 64·0.1 / (0.1 + 0.16758) = 23.92; a 150 GB/s link with 5 µs: 62.76.
    assert d.data_parallel_speedup(0.1, 102.4e6, 64, 1.25e9, 50e-6) == pytest.approx(23.918,
                                                                                      abs=1e-3)
    assert d.data_parallel_speedup(0.1, 102.4e6, 64, 150e9, 5e-6) == pytest.approx(62.76,
                                                                                    abs=1e-2)
    # Efficiency S(N)/N never rises with N when all else is fixed.
    eff = [d.data_parallel_speedup(0.1, 102.4e6, n, 1.25e9, 50e-6) / n for n in range(1, 65)]
    assert eff == sorted(eff, reverse=True)


def test_amdahl_stays_below_its_cap():
    for n in (2, 64, 10**6):
        assert d.amdahl_speedup(0.9, n) < 1 / (1 - 0.9)


def test_scaled_learning_rate():
    assert d.scaled_learning_rate(0.1, 256, 1024) == pytest.approx(0.4)
    assert d.scaled_learning_rate(0.1, 256, 128) == pytest.approx(0.05)


@pytest.mark.parametrize("call,message", [
    (lambda: d.ring_allreduce_bytes(-1, 2), "need 0 ≤ n_bytes; got -1"),
    (lambda: d.ring_allreduce_bytes(1, 0), "need 1 ≤ n_workers; got 0"),
    (lambda: d.ring_allreduce_bytes(1, 2.5), "n_workers must be an int; got float"),
    (lambda: d.ring_allreduce_bytes(1, True), "n_workers must be an int; got bool"),
    (lambda: d.ring_allreduce_seconds(1, 2, bandwidth=0), "need 0 < bandwidth"),
    (lambda: d.ring_allreduce_seconds(1, 2, bandwidth=1, latency=-1), "need 0 ≤ latency"),
    (lambda: d.amdahl_speedup(1.5, 2), "need 0 ≤ parallel_fraction ≤ 1; got 1.5"),
    (lambda: d.data_parallel_speedup(0, 1, 2, 1), "need 0 < compute_seconds"),
    (lambda: d.data_parallel_speedup(1, 1, 2, 1, overlap=2), "need 0 ≤ overlap ≤ 1"),
    (lambda: d.scaled_learning_rate(0.1, 0, 64), "need 1 ≤ base_batch; got 0"),
    (lambda: d.tf_config(["a:1", "b:2"], 2), "need 0 ≤ index < 2; got 2"),
    (lambda: d.free_ports(0), "need 1 ≤ n; got 0"),
    (lambda: d.worker_device_env(2, -1), "need 0 ≤ n_gpus; got -1"),
])
def test_bad_arguments_raise_parameter_error(call, message):
    with pytest.raises(ParameterError, match=message):
        call()


# ------------------------------------------------------------------------------- launcher


@pytest.fixture
def no_orphans():
    """Fail a test that leaves any launched worker process alive."""
    yield
    assert d.surviving_processes() == []


def test_free_ports_are_distinct_and_bindable():
    ports = d.free_ports(4)
    assert len(set(ports)) == 4
    for port in ports:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_tf_config_and_worker_env():
    assert d.tf_config(["h:1", "h:2"], 1) == {
        "cluster": {"worker": ["h:1", "h:2"]}, "task": {"type": "worker", "index": 1}}
    assert d.worker_device_env(2, 4) == [{"CUDA_VISIBLE_DEVICES": "0"},
                                         {"CUDA_VISIBLE_DEVICES": "1"}]
    assert d.worker_device_env(2, 1) == [{"CUDA_VISIBLE_DEVICES": ""}] * 2


def test_successful_group_gets_tf_config_and_logs(tmp_path, no_orphans):
    show = [PY, "-c", "import json, os; c = json.loads(os.environ['TF_CONFIG']); "
            "print('index', c['task']['index'], 'of', c['cluster']['worker'])"]
    with d.WorkerGroup([show, show], tmp_path, timeout_s=30, env=[{"X": "0"}, {"X": "1"}]) as g:
        assert g.wait() == [0, 0]
    assert g.log(0).startswith("index 0 of") and g.log(1).startswith("index 1 of")
    assert str(g.addresses) in g.log(0) and len(set(g.addresses)) == 2


def test_a_worker_that_fails_to_start_is_named_with_its_log(tmp_path, no_orphans):
    sleeper = [PY, "-c", "import time; time.sleep(60)"]
    broken = [PY, "-m", "course_lib.no_such_module"]
    before = len(d.launched_groups())
    group = d.WorkerGroup([sleeper, broken], tmp_path, timeout_s=30).start()
    assert d.launched_groups()[before:] == [p.pid for p in group.processes]
    with pytest.raises(d.WorkerError, match=r"worker 1 failed with exit code 1") as error:
        group.wait()
    assert error.value.index == 1
    assert "No module named course_lib.no_such_module" in str(error.value)
    assert group.returncodes()[0] is not None  # the healthy worker was stopped too


def test_a_worker_that_hangs_past_its_deadline_is_killed(tmp_path, no_orphans):
    sleeper = [PY, "-c", "print('working', flush=True); import time; time.sleep(60)"]
    start = time.monotonic()
    group = d.WorkerGroup([sleeper], tmp_path, timeout_s=30, grace_s=1).start()
    with pytest.raises(d.WorkerError, match="still running at its deadline") as error:
        group.wait(timeout_s=0.5)
    assert "working" in error.value.log_tail
    assert time.monotonic() - start < 10


def test_stop_escalates_to_sigkill_for_a_worker_that_ignores_sigterm(tmp_path, no_orphans):
    stubborn = [PY, "-c", "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                "print('ready', flush=True); time.sleep(60)"]
    quick = [PY, "-c", "pass"]
    group = d.WorkerGroup([stubborn, quick], tmp_path, timeout_s=30, grace_s=0.5).start()
    group.wait_for_log(0, "ready", timeout_s=20)
    time.sleep(0.3)  # let the quick one exit by itself
    assert group.stop() == ["SIGKILL", "ended"]


def test_timeout_guard_ends_a_worker_nobody_waits_for(tmp_path, no_orphans):
    group = d.WorkerGroup([[PY, "-c", "import time; time.sleep(60)"]], tmp_path,
                          timeout_s=0.5, grace_s=0.5).start()
    deadline = time.monotonic() + 10
    while group.returncodes()[0] is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert group.returncodes() == [124]  # `timeout` ended it, without the launcher's help
    group.stop()


def test_wait_for_log_and_kill(tmp_path, no_orphans):
    counter = [PY, "-c", "import time\nfor i in range(100):\n print(f'step {i}:', flush=True)\n"
               " time.sleep(0.05)"]
    group = d.WorkerGroup([counter], tmp_path, timeout_s=30).start()
    group.wait_for_log(0, "step 3:", timeout_s=20)
    group.kill(0)
    assert group.returncodes() == [-9]
    with pytest.raises(d.WorkerError, match="exited with code -9 before writing 'step 99:'"):
        group.wait_for_log(0, "step 99:")


def test_group_argument_errors(tmp_path):
    with pytest.raises(ParameterError, match="parameter commands must be a non-empty"):
        d.WorkerGroup([], tmp_path)
    with pytest.raises(ParameterError, match=r"env must have one mapping per worker \(1\); got 2"):
        d.WorkerGroup([["true"]], tmp_path, env=[{}, {}])
    with pytest.raises(ParameterError, match="need 0 < grace_s; got 0"):
        d.WorkerGroup([["true"]], tmp_path, grace_s=0)


# --------------------------------------------------------------------------- worker script


def test_synthetic_batches_are_a_function_of_seed_and_step():
    x, y = mw.synthetic_batch(0, 3, 8)
    assert x.shape == (8, mw.N_FEATURES) and x.dtype == np.float32 and y.dtype == np.int32
    again, _ = mw.synthetic_batch(0, 3, 8)
    other, _ = mw.synthetic_batch(0, 4, 8)
    assert np.array_equal(x, again) and not np.array_equal(x, other)
    _, labels = mw.synthetic_batch(0, 0, 4096)
    assert set(np.unique(labels)) == set(range(mw.N_CLASSES))


def test_summarize_log_ignores_other_lines():
    text = ("I0000 tensorflow noise\nrestored at step 10\nstep 11: loss 0.5\n"
            "checkpoint saved at step 11\nstep 12: loss 0.25\nfinished at step 12\n")
    summary = mw.summarize_log(text)
    assert summary == mw.LogSummary(start_step=10, steps=[11, 12], losses=[0.5, 0.25],
                                    checkpoints=[11], finished_step=12)
    assert mw.summarize_log("") == mw.LogSummary()


def test_device_report_names_what_the_launcher_set(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    # (the GPU count is not checked: CUDA read the variable when this process started)
    assert mw.device_report().startswith("CUDA_VISIBLE_DEVICES='' GPUs visible: ")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES")
    assert mw.device_report().startswith("CUDA_VISIBLE_DEVICES='<unset>' GPUs visible: ")


def test_train_step_on_one_device_is_plain_sgd():
    import keras
    import tensorflow as tf

    strategy = tf.distribute.get_strategy()
    model = mw.build_model(0)
    before = [w.numpy() for w in model.trainable_variables]
    x, y = mw.synthetic_batch(0, 0, 8)
    with tf.GradientTape() as tape:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y, model(x))
    grads = tape.gradient(loss, model.trainable_variables)
    step = mw.make_train_step(strategy, model, keras.optimizers.SGD(0.5), global_batch=8)
    assert float(step(mw.distribute_batch(strategy, x, y))) == pytest.approx(float(loss))
    for w0, g, w in zip(before, grads, model.trainable_variables, strict=True):
        np.testing.assert_allclose(w.numpy(), w0 - 0.5 * g.numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="splits evenly over 1 replicas; got 8 inputs"):
        mw.distribute_batch(strategy, x, y[:7])


@pytest.mark.slow
@pytest.mark.timeout(240)  # two TensorFlow workers, 120 s limit of their own
def test_two_worker_job_ends_with_identical_weights(tmp_path, no_orphans):
    command = [PY, "-m", "course_lib.distributed.worker", "--out", str(tmp_path / "out"),
               "--checkpoint-dir", str(tmp_path / "ckpt" / "chief"), "--steps", "3",
               "--checkpoint-every", "2", "--global-batch", "8"]
    with d.WorkerGroup([command, command], tmp_path / "logs", timeout_s=120,
                       env=d.worker_device_env(2, 0)) as group:
        group.wait()
    summaries = [mw.summarize_log(group.log(i)) for i in range(2)]
    assert all("CUDA_VISIBLE_DEVICES='' GPUs visible: 0" in group.log(i) for i in range(2))
    assert [s.finished_step for s in summaries] == [3, 3]
    assert summaries[0].checkpoints == [2, 3] and summaries[0].losses == summaries[1].losses
    first, second = (np.load(tmp_path / "out" / f"worker{i}.npz") for i in range(2))
    assert all(np.array_equal(first[k], second[k]) for k in first.files)
    assert not (tmp_path / "ckpt" / "scratch_worker1").exists()

