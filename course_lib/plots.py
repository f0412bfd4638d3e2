"""Plotting helpers shared by the training notebooks.

Introduced in notebook 02. Plots follow the course style set by :func:`course_lib.setup`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt


def _curves(history) -> Mapping[str, Sequence[float]]:
    """Accept a Keras ``History`` (its ``.history`` dict) or a plain dict of lists."""
    return getattr(history, "history", history)


def plot_history(histories: Mapping[str, object], metric: str = "loss", ax=None,
                 ylabel: str | None = None, logy: bool = False):
    """Plot ``metric`` per epoch for several runs: training solid, validation dashed.

    ``histories`` maps a run's label to its Keras ``History`` or a dict of per-epoch lists.
    Returns the axes. Raises KeyError naming the run when it did not log ``metric``.
    """
    if ax is None:
        _, ax = plt.subplots()
    for i, (label, history) in enumerate(histories.items()):
        curves = _curves(history)
        if metric not in curves:
            raise KeyError(f"run {label!r} logged no {metric!r}; it has {sorted(curves)}")
        epochs = range(1, len(curves[metric]) + 1)
        color = f"C{i}"
        ax.plot(epochs, curves[metric], color=color, label=f"{label} (train)")
        if f"val_{metric}" in curves:
            ax.plot(epochs, curves[f"val_{metric}"], color=color, linestyle="--",
                    label=f"{label} (validation)")
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel or metric)
    if logy:
        ax.set_yscale("log")
    ax.legend()
    return ax
