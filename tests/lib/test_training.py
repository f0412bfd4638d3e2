"""EpochLogger prints deterministic per-epoch lines; plot_history draws every curve it is given."""

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_lib.plots import plot_history  # noqa: E402
from course_lib.training import EpochLogger  # noqa: E402


def test_epoch_logger_prints_every_nth_and_the_last_epoch(capsys):
    logger = EpochLogger(every=2, digits=3, prefix="[run] ")
    logger.set_params({"epochs": 5})
    for epoch in range(5):
        logger.on_epoch_end(epoch, {"loss": 1 / (epoch + 1), "accuracy": 0.5})
    assert capsys.readouterr().out.splitlines() == [
        "[run] epoch 2/5: accuracy 0.500, loss 0.500",
        "[run] epoch 4/5: accuracy 0.500, loss 0.250",
        "[run] epoch 5/5: accuracy 0.500, loss 0.200",
    ]


def test_epoch_logger_inside_fit(capsys):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(np.ones((8, 2)), np.ones((8, 1)), epochs=2, verbose=0,
              callbacks=[EpochLogger()])
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["epoch 1/2", "epoch 2/2"]
    assert "loss" in lines[0]


def test_epoch_logger_rejects_bad_every():
    with pytest.raises(ValueError, match="need 1 ≤ every; got 0"):
        EpochLogger(every=0)


def test_plot_history_draws_train_and_validation():
    histories = {"a": {"loss": [3, 2, 1], "val_loss": [3, 2.5, 2]}, "b": {"loss": [1, 0.5]}}
    ax = plot_history(histories, ylabel="loss (cross-entropy)", logy=True)
    assert [line.get_label() for line in ax.get_lines()] == [
        "a (train)", "a (validation)", "b (train)"]
    assert list(ax.get_lines()[1].get_ydata()) == [3, 2.5, 2]
    assert ax.get_yscale() == "log" and ax.get_ylabel() == "loss (cross-entropy)"


def test_plot_history_names_a_missing_metric():
    with pytest.raises(KeyError, match="run 'a' logged no 'accuracy'"):
        plot_history({"a": {"loss": [1.0]}}, metric="accuracy")
