"""One-call notebook setup (seeds, determinism, quiet logs, plot style) and an environment report.

Introduced in notebook 00; every notebook starts with ``cl.setup(SEED)``.
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from pathlib import Path

from . import hardware
from .paths import require_checkout

PLOT_STYLE = {
    "figure.figsize": (6.4, 3.6),
    "figure.dpi": 80,  # small, readable figures keep committed notebooks light
    "savefig.dpi": 80,
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
}

def setup(seed: int = 0) -> None:
    """Make a notebook reproducible and tidy: call once, right after the imports.

    Seeds Python's ``random``, NumPy and TensorFlow (``keras.utils.set_random_seed``), turns on
    TensorFlow op determinism (bit-identical results across runs on the same machine, at some
    speed cost), quiets TensorFlow's Python-side logging and sets the course's plot style.
    (Its C++ logging is quieted when ``course_lib`` is imported, which must precede TensorFlow's
    import to take effect.)
    """
    import absl.logging
    import keras
    import matplotlib.pyplot as plt
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    tf.get_logger().setLevel("ERROR")
    absl.logging.set_verbosity(absl.logging.ERROR)
    plt.rcParams.update(PLOT_STYLE)


def environment_report() -> list[tuple[str, str]]:
    """(item, value) rows describing this machine and the course's key packages.

    Used by notebook 00's environment check.
    """
    import tensorflow as tf

    rows = [("Python", sys.version.split()[0]), ("platform", platform.platform(terse=True))]
    for package in ("tensorflow", "tensorflow-cpu", "keras", "numpy", "ai-edge-litert"):
        try:
            rows.append((package, metadata.version(package)))
        except metadata.PackageNotFoundError:
            pass
    rows.append(("CPU cores", str(os.cpu_count())))
    rows += hardware.report()  # the CPU features in effect for TensorFlow, with any cap
    gpus = tf.config.list_physical_devices("GPU")
    rows.append(("GPUs visible to TensorFlow", str(len(gpus)) if gpus else "none (CPU only)"))
    return rows


def lock_mismatches(lock: Path | None = None) -> list[tuple[str, str, str]]:
    """(package, pinned, installed) for every package of the lock that this machine lacks or
    has at another version; empty when the environment matches the lock exactly.

    ``lock`` defaults to the checkout's ``requirements.txt`` (course_lib installed outside a
    checkout raises :class:`course_lib.paths.CheckoutNotFoundError`: pass the lock's path).
    Its ``--hash`` lines are skipped. Used by notebook 00: nbval outputs depend on exact
    versions, so a learner who installed by hand learns early why results may differ.
    """
    from packaging.requirements import Requirement

    if lock is None:
        lock = require_checkout("requirements.txt",
                                user="lock_mismatches() without a lock path")
        lock = lock / "requirements.txt"
    mismatches = []
    for line in lock.read_text().splitlines():
        if not line or line[0] in "# \t-":
            continue
        requirement = Requirement(line.removesuffix("\\").strip())
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        (pin,) = requirement.specifier
        try:
            installed = metadata.version(requirement.name)
        except metadata.PackageNotFoundError:
            installed = "missing"
        if installed != pin.version:
            mismatches.append((requirement.name, pin.version, installed))
    return mismatches
