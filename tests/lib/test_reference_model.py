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
    with pytest.raises(ValueError, match=f"parameter train_size is out of range: need 1 ≤ "
                       f"train_size ≤ 30; got {size}"):
        reference_model.load_mnist(train_size=size)


def test_training_is_deterministic_and_logged(tiny_mnist, capsys):
    first = reference_model.train_reference_cnn(epochs=2, batch_size=10, seed=3, cache=False)
    second = reference_model.train_reference_cnn(epochs=2, batch_size=10, seed=3, log=False,
                                                 cache=False)
    assert capsys.readouterr().out.splitlines()[-1].startswith("baseline epoch 2/2: accuracy")
    assert first.model.name == "mnist_cnn" and 0 <= first.test_accuracy <= 1
    for a, b in zip(first.model.get_weights(), second.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_cache_gives_the_trained_weights_and_keys_on_the_settings(tiny_mnist, capsys):
    trained = reference_model.train_reference_cnn(epochs=1, batch_size=10, seed=3)
    after_training = np.random.random()
    assert "baseline epoch 1/1" in capsys.readouterr().out
    (saved,) = (data.cache_dir() / "models").glob("reference_cnn-*.npz")
    loaded = reference_model.train_reference_cnn(epochs=1, batch_size=10, seed=3)
    assert np.random.random() == after_training  # the same random state either way
    assert f"loaded the weights that an earlier run trained ({saved.name})" in capsys.readouterr(
        ).out.replace(" with these settings on this machine", "")
    assert loaded.test_accuracy == trained.test_accuracy
    for a, b in zip(trained.model.get_weights(), loaded.model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    reference_model.train_reference_cnn(epochs=1, batch_size=10, seed=4)  # another seed: trains
    assert "baseline epoch 1/1" in capsys.readouterr().out
    assert len(list((data.cache_dir() / "models").glob("*.npz"))) == 2
