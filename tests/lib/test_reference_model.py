"""The shared compression baseline: scaled splits, deterministic training, clear errors."""

import numpy as np
import pytest

from course_lib import data, reference_model


@pytest.fixture
def tiny_mnist(monkeypatch):
    images = np.random.default_rng(0).integers(0, 256, size=(40, 28, 28), dtype=np.uint8)
    labels = np.arange(40, dtype=np.uint8) % 10

    def fake_load(name):
        assert name == "mnist"
        return (images[:30], labels[:30]), (images[30:], labels[30:])

    monkeypatch.setattr(data, "load", fake_load)


def test_load_mnist_scales_and_subsets(tiny_mnist):
    splits = reference_model.load_mnist(train_size=12)
    assert splits.x_train.shape == (12, 28, 28, 1) and splits.x_test.shape == (10, 28, 28, 1)
    assert splits.x_train.dtype == np.float32 and 0 <= splits.x_train.min() <= 1
    assert splits.y_train.tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]


@pytest.mark.parametrize("size", [0, 31])
def test_load_mnist_rejects_bad_sizes(tiny_mnist, size):
    with pytest.raises(ValueError, match="train_size must be in 1..30"):
        reference_model.load_mnist(train_size=size)


def test_training_is_deterministic_and_logged(tiny_mnist, capsys):
    first = reference_model.train_reference_cnn(epochs=2, batch_size=10, seed=3)
    second = reference_model.train_reference_cnn(epochs=2, batch_size=10, seed=3, log=False)
    assert capsys.readouterr().out.splitlines()[-1].startswith("baseline epoch 2/2: accuracy")
    assert first.model.name == "mnist_cnn" and 0 <= first.test_accuracy <= 1
    for a, b in zip(first.model.get_weights(), second.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
