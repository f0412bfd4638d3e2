"""Pruning helpers: exact masks, the schedule, masked training, strip, sizes, structured slicing."""

import keras
import numpy as np
import pytest

from course_lib import pruning
from course_lib.parameters import ParameterError


def test_magnitude_mask_known_answer_with_a_tie():
    w = np.array([[0.5, -0.1, 0.3], [-0.3, 0.05, -0.8]])
    # |w| ascending: 0.05, 0.1, then the tie 0.3 (index 2) / -0.3 (index 3): the earlier goes.
    expected = np.array([[True, False, False], [True, False, True]])
    np.testing.assert_array_equal(pruning.magnitude_mask(w, 0.5), expected)


def test_magnitude_mask_counts_and_extremes():
    w = np.arange(1.0, 11.0)
    assert pruning.n_pruned(10, 0.25) == 3  # 2.5 rounds half up
    assert pruning.n_pruned(10, 0.9) == 9  # 0.9·10 = 9.000000000000002 in floating point
    np.testing.assert_array_equal(pruning.magnitude_mask(w, 0.25), w > 3)
    assert pruning.magnitude_mask(w, 0.0).all() and not pruning.magnitude_mask(w, 1.0).any()
    ties = np.ones(4)
    np.testing.assert_array_equal(pruning.magnitude_mask(ties, 0.5), [False, False, True, True])


@pytest.mark.parametrize("bad, message", [
    (-0.1, "need 0 ≤ sparsity ≤ 1; got -0.1"), (1.5, "need 0 ≤ sparsity ≤ 1; got 1.5"),
    (True, "parameter sparsity must be a number; got bool"), ("0.5", "must be a number; got str"),
    (float("nan"), "must be a number; got float nan"),
])
def test_magnitude_mask_rejects_bad_sparsity(bad, message):
    with pytest.raises(ParameterError, match=message):
        pruning.magnitude_mask(np.ones(3), bad)
    with pytest.raises(ParameterError, match=message.replace("sparsity", "fraction_removed")):
        pruning.strongest(np.ones(3), bad)


def test_global_and_layerwise_thresholds():
    weights = {"small": np.array([0.1, 0.2, 0.3, 0.4]), "large": np.array([1.0, 2.0, 3.0, 4.0])}
    global_masks = pruning.magnitude_masks(weights, 0.5, scope="global")
    layer_masks = pruning.magnitude_masks(weights, 0.5, scope="layer")
    np.testing.assert_array_equal(global_masks["small"], [False] * 4)
    np.testing.assert_array_equal(global_masks["large"], [True] * 4)
    for name in weights:
        np.testing.assert_array_equal(layer_masks[name], [False, False, True, True])
    matrix = {"m": np.array([[3.0, -1.0], [2.0, 0.5]]), "v": np.array([-4.0, 0.2])}
    masks = pruning.magnitude_masks(matrix, 0.5)
    np.testing.assert_array_equal(masks["m"], [[True, False], [True, False]])
    np.testing.assert_array_equal(masks["v"], [True, False])
    with pytest.raises(ParameterError, match="parameter scope must be one of"):
        pruning.magnitude_masks(weights, 0.5, scope="everything")


def test_random_masks_counts_reproducibility_and_spread():
    weights = {"a": np.arange(12.0).reshape(3, 4), "b": np.ones(8), "c": np.ones((2, 2, 5))}
    for scope in ("global", "layer"):
        masks = pruning.random_masks(weights, 0.25, np.random.default_rng(0), scope)
        assert {n: m.shape for n, m in masks.items()} == {n: w.shape for n, w in weights.items()}
        assert all(m.dtype == bool for m in masks.values())
        assert sum(int((~m).sum()) for m in masks.values()) == pruning.n_pruned(40, 0.25)
        again = pruning.random_masks(weights, 0.25, np.random.default_rng(0), scope)
        for name in weights:  # the same generator state gives the same draw
            np.testing.assert_array_equal(masks[name], again[name])
    layer = pruning.random_masks(weights, 0.25, np.random.default_rng(1), "layer")
    assert [int((~m).sum()) for m in layer.values()] == [3, 2, 5]  # exactly a quarter of each
    rng = np.random.default_rng(2)
    assert pruning.random_masks(weights, 0.0, rng)["a"].all()
    assert not any(m.any() for m in pruning.random_masks(weights, 1.0, rng).values())
    # Uniform: over many draws every position of a tensor is pruned about equally often.
    counts = sum(~pruning.random_masks({"w": np.ones(10)}, 0.3, rng, "layer")["w"]
                 for _ in range(2000))
    assert np.all(np.abs(counts / 2000 - 0.3) < 0.05)  # tolerance: 5 binomial s.d. (0.0102)
    # Unlike magnitude, the draw ignores the values: the large weights go as often as small ones.
    ramp = {"w": np.arange(1.0, 11.0)}
    kept_large = sum(pruning.random_masks(ramp, 0.5, rng)["w"][5:].sum() for _ in range(500))
    assert abs(kept_large / (500 * 5) - 0.5) < 0.05  # tolerance: > 4 binomial s.d. (0.011)
    with pytest.raises(ParameterError, match="parameter scope must be one of"):
        pruning.random_masks(weights, 0.5, rng, scope="everything")
    with pytest.raises(ParameterError, match="need 0 ≤ sparsity ≤ 1; got 1.5"):
        pruning.random_masks(weights, 1.5, rng)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator, got int"):
        pruning.random_masks(weights, 0.5, 0)


def test_sparsity_of():
    assert pruning.sparsity_of([np.array([0.0, 1.0]), np.zeros((2, 3))]) == 7 / 8
    with pytest.raises(ValueError, match=r"arrays must hold at least one element; got shapes "
                       r"\[\(0,\)\]"):
        pruning.sparsity_of([np.zeros(0)])


def test_polynomial_decay_exact_values():
    schedule = pruning.PolynomialDecay(0.0, 0.9, begin_step=100, end_step=500, frequency=100)
    # τ = (t - t0)/(nΔt) = 0, 1/4, 1/2, 3/4, 1 → s = 0.9·(1 - (1 - τ)³)
    expected = {0: 0.0, 99: 0.0, 100: 0.0, 200: 0.9 * 37 / 64, 300: 0.9 * 7 / 8,
                400: 0.9 * 63 / 64, 500: 0.9, 10_000: 0.9}
    for step, value in expected.items():
        assert schedule(step) == pytest.approx(value, abs=1e-15), step
    assert schedule(299) == schedule(200)  # the last update holds between updates
    assert [s for s in range(600) if schedule.is_update_step(s)] == [100, 200, 300, 400, 500]
    halfway = pruning.PolynomialDecay(0.5, 0.75, 0, 10, 5, power=1)
    assert [halfway(s) for s in (0, 5, 10)] == [0.5, 0.625, 0.75]


@pytest.mark.parametrize("kwargs, message", [
    ({"initial_sparsity": 0.9, "final_sparsity": 0.5}, "need 0 ≤ initial_sparsity ≤ 0.5; got 0.9"),
    ({"end_step": 0}, "need 0 < end_step; got 0"),
    ({"begin_step": -1}, "need 0 ≤ begin_step; got -1"),
    ({"begin_step": 2.0}, "parameter begin_step must be an int; got float"),
    ({"frequency": 3}, "parameter frequency must divide end_step - begin_step = 10; got 3"),
    ({"frequency": 0}, "need 1 ≤ frequency; got 0"),
    ({"final_sparsity": 1.2}, "need 0 ≤ final_sparsity ≤ 1; got 1.2"),
    ({"power": 0}, "need 0 < power; got 0"),
])
def test_polynomial_decay_rejects_bad_settings(kwargs, message):
    settings = {"initial_sparsity": 0.0, "final_sparsity": 0.9, "begin_step": 0,
                "end_step": 10, "frequency": 5, **kwargs}
    with pytest.raises(ParameterError, match=message):
        pruning.PolynomialDecay(**settings)


def _tiny_dense():
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(6, activation="relu",
                                                                  name="hidden"),
                             keras.layers.Dense(2, name="out")], name="tiny")


def test_pruned_training_keeps_zeros_and_strip_returns_a_plain_model():
    base = _tiny_dense()
    original = [w.copy() for w in base.get_weights()]
    model = pruning.PrunedModel(pruning.copy_model(base))
    assert model.layer_names == ["hidden", "out"]
    schedule = pruning.PolynomialDecay(0.0, 0.5, begin_step=0, end_step=4, frequency=2)
    callback = pruning.UpdateMasks(schedule, scope="layer")
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 4)).astype("float32"), rng.normal(size=(32, 2)).astype("float32")
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, callbacks=[callback])
    assert [step for step, _, _ in callback.history] == [0, 2, 4]
    assert callback.history[-1][1:] == (0.5, 0.5)
    for name, mask in model.mask_arrays().items():
        kernel = model.base.get_layer(name).kernel.numpy()
        assert np.all(kernel[~mask] == 0) and np.all(kernel[mask] != 0)
        assert (~mask).sum() == mask.size // 2
    for a, b in zip(base.get_weights(), original, strict=True):  # the original is untouched
        np.testing.assert_array_equal(a, b)
    plain = pruning.strip_pruning(model)
    assert isinstance(plain, keras.Sequential) and not isinstance(plain, pruning.PrunedModel)
    assert len(plain.weights) == len(base.weights) == 4
    assert not any("mask" in v.path for v in plain.weights)
    np.testing.assert_array_equal(plain(x).numpy(), model(x).numpy())
    with pytest.raises(TypeError):
        pruning.strip_pruning(base)


def test_update_masks_never_revives_pruned_weights():
    model = pruning.PrunedModel(_tiny_dense())
    model.update_masks(0.3)
    first = model.mask_arrays()
    model.update_masks(0.6)
    for name, mask in model.mask_arrays().items():
        assert not np.any(mask & ~first[name])


def test_set_masks_applies_given_masks_and_checks_them():
    model = pruning.PrunedModel(_tiny_dense())
    kernels = model.kernels()
    masks = pruning.random_masks(kernels, 0.5, np.random.default_rng(0), "layer")
    model.set_masks(masks)
    for name, mask in model.mask_arrays().items():
        np.testing.assert_array_equal(mask, masks[name])
        np.testing.assert_array_equal(model.kernels()[name], kernels[name] * masks[name])
    first = model.layer_names[0]
    with pytest.raises(ValueError, match="masks must name exactly the layers"):
        model.set_masks({first: masks[first]})
    with pytest.raises(ValueError, match=f"mask of '{first}' has shape"):
        model.set_masks({**masks, first: masks[first].T})


def test_size_helpers():
    weights = [np.zeros((2, 3)), np.ones(4)]
    assert pruning.float32_bytes(weights) == 40
    noise = [np.random.default_rng(0).normal(size=1000)]
    assert pruning.gzip_bytes(noise) == pruning.gzip_bytes(noise)  # deterministic (mtime=0)
    assert pruning.gzip_bytes([np.zeros(1000)]) < pruning.gzip_bytes(noise) / 20


def test_bitmask_known_answer_and_round_trip():
    encoded = pruning.bitmask_encode(np.array([0.0, 1.5, 0.0, -2.0]))
    assert encoded.bits.tolist() == [0b01010000] and encoded.values.tolist() == [1.5, -2.0]
    assert encoded.nbytes == 1 + 2 * 4
    rng = np.random.default_rng(1)
    dense = rng.normal(size=(3, 5, 7)).astype("float32") * (rng.random((3, 5, 7)) > 0.8)
    np.testing.assert_array_equal(pruning.bitmask_decode(pruning.bitmask_encode(dense)), dense)
    broken = pruning.BitmaskTensor((4,), encoded.bits, encoded.values[:1])
    with pytest.raises(ValueError, match="marks 2 values but 1"):
        pruning.bitmask_decode(broken)


def test_l1_norms_and_strongest():
    kernel = np.zeros((1, 1, 2, 4))
    kernel[0, 0, :, 0] = [1.0, -0.5]
    kernel[0, 0, :, 1] = [-3.0, 0.0]
    kernel[0, 0, :, 2] = [1.0, 2.0]
    kernel[0, 0, :, 3] = [0.5, -1.5]
    norms = pruning.l1_norms(kernel)
    np.testing.assert_array_equal(norms, [1.5, 3.0, 3.0, 2.0])
    np.testing.assert_array_equal(pruning.strongest(norms, 0.5), [1, 2])
    np.testing.assert_array_equal(pruning.strongest(np.full(4, 2.0), 0.25), [0, 1, 2])
    np.testing.assert_array_equal(pruning.strongest(norms, 1.0), [1])  # one filter always stays
    with pytest.raises(ValueError, match=r"kernel must have at least 2 axes.*; got shape \(3,\)"):
        pruning.l1_norms(np.ones(3))


def _tiny_cnn():
    keras.utils.set_random_seed(1)
    layers = keras.layers
    model = keras.Sequential([
        keras.Input((7, 7, 2)), layers.Conv2D(3, 2, activation="relu", name="c1"),
        layers.MaxPooling2D(2, name="p1"), layers.Conv2D(4, 2, activation="relu", name="c2"),
        layers.Flatten(name="f"), layers.Dense(5, activation="relu", name="d"),
        layers.Dense(3, name="out")], name="tiny_cnn")
    rng = np.random.default_rng(2)
    model.set_weights([rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
    return model


def test_shrink_model_without_removal_computes_the_same():
    model = _tiny_cnn()
    x = np.random.default_rng(3).random((5, 7, 7, 2)).astype("float32")
    same = pruning.shrink_model(model, {"c1": np.arange(3), "c2": np.arange(4)})
    assert same.count_params() == model.count_params()
    np.testing.assert_allclose(same(x).numpy(), model(x).numpy(),
                               rtol=0, atol=1e-6)


def test_shrink_model_matches_a_hand_built_model():
    model = _tiny_cnn()
    keep = {"c1": np.array([0, 2]), "c2": np.array([1, 3]), "d": np.array([0, 4])}
    small = pruning.shrink_model(model, keep)
    (k1, b1), (k2, b2), (kd, bd), (ko, bo) = (model.get_layer(n).get_weights()
                                              for n in ("c1", "c2", "d", "out"))
    # c2 outputs 2×2 positions × 4 channels, flattened with the channel fastest: keep 1 and 3.
    rows = [p * 4 + c for p in range(4) for c in (1, 3)]
    layers = keras.layers
    hand = keras.Sequential([
        keras.Input((7, 7, 2)), layers.Conv2D(2, 2, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(2, 2, activation="relu"), layers.Flatten(),
        layers.Dense(2, activation="relu"), layers.Dense(3)])
    hand.set_weights([k1[..., [0, 2]], b1[[0, 2]], k2[:, :, [0, 2]][..., [1, 3]], b2[[1, 3]],
                      kd[rows][:, [0, 4]], bd[[0, 4]], ko[[0, 4]], bo])
    x = np.random.default_rng(4).random((5, 7, 7, 2)).astype("float32")
    np.testing.assert_allclose(small(x).numpy(), hand(x).numpy(),
                               rtol=0, atol=1e-6)
    assert [layer.name for layer in small.layers] == ["c1", "p1", "c2", "f", "d", "out"]
    assert small.count_params() == hand.count_params()


@pytest.mark.parametrize("keep, message", [
    ({"p1": np.array([0])}, r"parameter keep must name only Conv2D/Dense layers .*; got \['p1'\]"),
    ({"c1": np.array([2, 0])}, "increasing"),
    ({"c1": np.array([0, 3])}, r"parameter keep\['c1'\] must be increasing indices in 0..2; got"),
    ({"c1": np.array([], dtype=int)}, "increasing"),
])
def test_shrink_model_rejects_bad_keep(keep, message):
    with pytest.raises(ParameterError, match=message):
        pruning.shrink_model(_tiny_cnn(), keep)


def test_shrink_model_rejects_unsupported_layers():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="d"),
                              keras.layers.BatchNormalization(name="bn")])
    with pytest.raises(ValueError, match="BatchNormalization is not supported"):
        pruning.shrink_model(model, {"d": np.array([0, 1])})
