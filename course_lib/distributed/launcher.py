"""Start the workers of a ``MultiWorkerMirroredStrategy`` job as processes on this machine
(notebook 12), with every wait bounded and every worker ended by process group."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import psutil

from ..parameters import ParameterError, check_param

# ------------------------------------------------------------------------------- launcher

_LAUNCHED: list[subprocess.Popen] = []  # every worker this Python process has started


class WorkerError(RuntimeError):
    """A worker of a :class:`WorkerGroup` failed, or did not finish in time.

    ``index`` is the worker's index, ``problem`` what went wrong (e.g. ``"failed with exit code
    1"``) and ``log_tail`` the last lines of its log; the message has all three.
    """

    def __init__(self, index: int, problem: str, log_tail: str):
        self.index, self.problem, self.log_tail = index, problem, log_tail
        super().__init__(f"worker {index} {problem}; the last lines of its log:\n{log_tail}")


def free_ports(n: int, host: str = "127.0.0.1") -> list[int]:
    """``n`` distinct TCP ports on ``host`` that were free a moment ago (asked from the OS).

    All sockets stay open until every port is chosen, so the ports are distinct.
    """
    check_param("n", n, int, ge=1)
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
                   for _ in range(n)]
        for sock in sockets:
            sock.bind((host, 0))
        return [sock.getsockname()[1] for sock in sockets]


def tf_config(addresses: Sequence[str], index: int) -> dict:
    """The ``TF_CONFIG`` of worker ``index`` in a cluster of workers at ``addresses``."""
    check_param("index", index, int, ge=0, lt=len(addresses))
    return {"cluster": {"worker": list(addresses)}, "task": {"type": "worker", "index": index}}


def _group_alive(pgid: int) -> list[psutil.Process]:
    alive = []
    for process in psutil.process_iter(["status"]):
        try:
            if (os.getpgid(process.pid) == pgid
                    and process.info["status"] != psutil.STATUS_ZOMBIE):
                alive.append(process)
        except (ProcessLookupError, psutil.NoSuchProcess):
            pass
    return alive


def launched_groups() -> list[int]:
    """The process groups (one per worker) that :class:`WorkerGroup` has started in this Python
    process, oldest first."""
    return [process.pid for process in _LAUNCHED]  # a session leader's PID is its group's ID


def surviving_processes() -> list[int]:
    """PIDs of processes that any :class:`WorkerGroup` of this Python process started and that
    are still alive (zombies excluded). Empty when every worker has ended."""
    return sorted(p.pid for pgid in launched_groups() for p in _group_alive(pgid))


def _kill_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


@atexit.register
def _kill_leftovers() -> None:
    """If the notebook's kernel exits with workers still running, take them with it."""
    for process in _LAUNCHED:
        if process.poll() is None:  # not reaped yet, so its group ID cannot have been reused
            _kill_group(process.pid, signal.SIGKILL)


class WorkerGroup:
    """The worker processes of one multi-worker job on this machine.

    ``commands[i]`` is worker i's command line (``[sys.executable, "-m", module, ...]``); worker i
    gets ``TF_CONFIG`` for a cluster of ``len(commands)`` workers on free ports of ``host``,
    ``PYTHONUNBUFFERED=1`` (so its log is written as it happens), ``env[i]`` if given, and its
    output (stdout and stderr) in ``log_dir/worker{i}.log``. Every worker is limited to
    ``timeout_s`` seconds (``timeout -k`` where available) and runs in its own process group,
    which :meth:`kill` and :meth:`stop` signal as a whole. Use it as a context manager: leaving
    the ``with`` block stops any worker still running.
    """

    def __init__(self, commands: Sequence[Sequence[str]], log_dir: Path | str, *,
                 timeout_s: float = 120, grace_s: float = 3, host: str = "127.0.0.1",
                 env: Sequence[Mapping[str, str]] | None = None):
        if not commands or any(not command for command in commands):
            raise ParameterError(f"parameter commands must be a non-empty list of non-empty "
                                 f"command lines; got {commands!r}")
        if env is not None and len(env) != len(commands):
            raise ParameterError(f"parameter env must have one mapping per worker "
                                 f"({len(commands)}); got {len(env)}")
        check_param("timeout_s", timeout_s, float, gt=0)
        check_param("grace_s", grace_s, float, gt=0)
        self.commands = [list(command) for command in commands]
        self.log_dir = Path(log_dir)
        self.timeout_s, self.grace_s, self.host = timeout_s, grace_s, host
        self.env = [dict(e) for e in env] if env is not None else [{} for _ in commands]
        self.processes: list[subprocess.Popen] = []
        self.addresses: list[str] = []

    def __len__(self) -> int:
        return len(self.commands)

    def log_path(self, index: int) -> Path:
        return self.log_dir / f"worker{index}.log"

    def log(self, index: int) -> str:
        """Everything worker ``index`` has written so far."""
        path = self.log_path(index)
        return path.read_text(errors="replace") if path.exists() else ""

    def log_tail(self, index: int, lines: int = 12) -> str:
        return "\n".join(self.log(index).rstrip().splitlines()[-lines:])

    def start(self) -> WorkerGroup:
        """Start every worker (once); returns ``self``."""
        if self.processes:
            raise RuntimeError("this WorkerGroup was already started")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.addresses = [f"{self.host}:{port}" for port in free_ports(len(self), self.host)]
        guard = shutil.which("timeout")
        for index, command in enumerate(self.commands):
            env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env[index],
                   "TF_CONFIG": json.dumps(tf_config(self.addresses, index))}
            if guard:  # ends the worker even if this process dies without cleaning up;
                # its SIGKILL comes later than stop()'s, which keeps stop()'s report accurate
                command = [guard, "-k", f"{2 * self.grace_s + 1:g}", f"{self.timeout_s:g}",
                           *command]
            with self.log_path(index).open("wb") as log:
                process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                           stderr=subprocess.STDOUT, env=env,
                                           start_new_session=True)
            self.processes.append(process)
            _LAUNCHED.append(process)
        self._deadline = time.monotonic() + self.timeout_s
        return self

    def __enter__(self) -> WorkerGroup:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def returncodes(self) -> list[int | None]:
        return [process.poll() for process in self.processes]

    def wait_for_log(self, index: int, text: str, timeout_s: float | None = None,
                     poll_s: float = 0.02) -> None:
        """Return as soon as worker ``index``'s log contains ``text``.

        Stops the whole group and raises :class:`WorkerError` if the worker exits first or
        ``timeout_s`` (default: the group's remaining time) passes.
        """
        deadline = time.monotonic() + (timeout_s if timeout_s is not None
                                       else self._deadline - time.monotonic())
        while text not in self.log(index):
            code = self.processes[index].poll()
            if code is not None and text not in self.log(index):
                self.stop()
                raise WorkerError(index, f"exited with code {code} before writing {text!r}",
                                  self.log_tail(index))
            if time.monotonic() > deadline:
                self.stop()
                raise WorkerError(index, f"did not write {text!r} in time: stopped the group",
                                  self.log_tail(index))
            time.sleep(poll_s)

    def kill(self, index: int) -> None:
        """Kill worker ``index`` at once (SIGKILL to its process group), like a machine crash."""
        if self.processes[index].poll() is None:
            _kill_group(self.processes[index].pid, signal.SIGKILL)
        self.processes[index].wait(timeout=self.grace_s)

    def wait(self, timeout_s: float | None = None, poll_s: float = 0.05) -> list[int]:
        """Wait until every worker has exited with code 0 and return the codes.

        As soon as one worker fails, or when ``timeout_s`` (default: the group's remaining time)
        has passed, stops the others (they would wait for the failed peer forever) and raises
        :class:`WorkerError` naming the worker and showing its log tail.
        """
        deadline = time.monotonic() + (timeout_s if timeout_s is not None
                                       else self._deadline - time.monotonic())
        while True:
            codes = self.returncodes()
            for index, code in enumerate(codes):
                if code not in (None, 0):
                    self.stop()
                    raise WorkerError(index, f"failed with exit code {code}",
                                      self.log_tail(index))
            if all(code == 0 for code in codes):
                return codes
            if time.monotonic() > deadline:
                index = codes.index(None)
                self.stop()
                raise WorkerError(index, "was still running at its deadline: stopped the group",
                                  self.log_tail(index))
            time.sleep(poll_s)

    def stop(self) -> list[str]:
        """End every worker still running: SIGTERM to its process group, then SIGKILL after
        ``grace_s`` seconds. Returns, per worker, how it ended: ``"ended"`` (before this call:
        it exited or was killed), ``"SIGTERM"`` or ``"SIGKILL"`` (what it took to end it)."""
        endings = ["ended" if process.poll() is not None else "SIGTERM"
                   for process in self.processes]
        for process, ending in zip(self.processes, endings, strict=True):
            if ending == "SIGTERM":
                _kill_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.grace_s
        for index, process in enumerate(self.processes):
            group_left = _group_alive(process.pid)
            while group_left and time.monotonic() < deadline:
                time.sleep(0.05)
                group_left = _group_alive(process.pid)
            if group_left:
                _kill_group(process.pid, signal.SIGKILL)
                if endings[index] == "SIGTERM":
                    endings[index] = "SIGKILL"
            process.wait()
        for process in self.processes:
            psutil.wait_procs(_group_alive(process.pid), timeout=self.grace_s)
        return endings
