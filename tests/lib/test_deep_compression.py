"""The Deep Compression storage format: relative positions with padding, exact bit accounting,
and a byte-exact round trip back into a Keras model."""

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from course_lib import deep_compression as dc
from course_lib import weight_sharing as ws


def test_relative_positions_known_answer_with_the_papers_padding():
    # Positions 1, 4, 15 with 3 bits (span 8): gaps 2, 3, 11; 11 > 8 becomes a filler 8, then 3.
    kept = np.zeros(16, dtype=bool)
    kept[[1, 4, 15]] = True
    gaps, filler = dc.relative_positions(kept, 3)
    assert gaps.tolist() == [2, 3, 8, 3]
    assert filler.tolist() == [False, False, True, False]
    assert dc.absolute_positions(gaps, filler).tolist() == [1, 4, 15]


def test_relative_positions_gap_of_exactly_the_span_needs_no_filler():
    kept = np.zeros(20, dtype=bool)
    kept[[7, 15, 16]] = True  # gaps 8, 8, 1 with span 8
    gaps, filler = dc.relative_positions(kept, 3)
    assert gaps.tolist() == [8, 8, 1] and not filler.any()
    kept = np.zeros(20, dtype=bool)
    kept[16] = True  # gap 17 = 8 + 8 + 1
    assert dc.relative_positions(kept, 3)[0].tolist() == [8, 8, 1]


@settings(max_examples=100, deadline=None)
@given(hnp.arrays(bool, st.integers(1, 300)), st.integers(1, 6))
def test_relative_positions_round_trip_and_bounds(kept, bits):
    gaps, filler = dc.relative_positions(kept, bits)
    assert np.all((gaps >= 1) & (gaps <= 2**bits))
    np.testing.assert_array_equal(dc.absolute_positions(gaps, filler), np.flatnonzero(kept))


def _shared(rng, shape, density, bits):
    w = rng.normal(size=shape).astype(np.float32) * (rng.random(shape) < density)
    if not w.any():
        w.flat[0] = 1.0
    return ws.share_weights(w, bits)


def _model():
    model = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(3, 3, name="conv"),
                              keras.layers.Flatten(), keras.layers.Dense(5, name="fc")])
    return model


def _shared_model(seed=0, density=0.2):
    rng = np.random.default_rng(seed)
    model = _model()
    shared = {"conv": _shared(rng, (3, 3, 1, 3), 0.5, 2), "fc": _shared(rng, (48, 5), density, 3)}
    for name, tensor in shared.items():
        model.get_layer(name).kernel.assign(tensor.weights())
        model.get_layer(name).bias.assign(rng.normal(size=model.get_layer(name).bias.shape))
    return model, shared


@pytest.mark.parametrize("huffman", [True, False])
def test_encode_decode_round_trip_is_exact_and_bits_add_up(huffman):
    model, shared = _shared_model()
    data, layers = dc.encode_model(model, shared, huffman=huffman)
    assert len(data) == -(-sum(layer.total_bits for layer in layers) // 8)
    decoded = dc.decode_model(data, model)
    for a, b in zip(model.get_weights(), decoded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    x = np.random.default_rng(1).random((4, 6, 6, 1)).astype(np.float32)
    np.testing.assert_array_equal(model.predict(x, verbose=0), decoded.predict(x, verbose=0))


def test_bit_accounting_known_answer_for_fixed_width():
    model, shared = _shared_model()
    fc = shared["fc"]
    bits = 4
    _, layers = dc.encode_model(model, shared, position_bits={"conv": 2, "fc": bits},
                                huffman=False)
    row = layers[1]
    gaps, filler = dc.relative_positions(fc.kept, bits)
    k = len(fc.centroids)
    assert row.kept == int(fc.kept.sum()) and row.entries == len(gaps)
    assert row.bits["header"] == 8 + 2 * 32 + 32 + 16 + 8 + 1 + 1 + 32
    assert row.bits["codebook"] == 32 * k and row.bits["biases"] == 32 * 5
    assert row.bits["tables"] == 0
    assert row.bits["indices"] == len(gaps) * int(np.ceil(np.log2(k + filler.any())))
    assert row.bits["positions"] == len(gaps) * bits


def test_huffman_tables_are_counted():
    model, shared = _shared_model()
    _, layers = dc.encode_model(model, shared, position_bits={"conv": 2, "fc": 4})
    fc = layers[1]
    has_filler = dc.relative_positions(shared["fc"].kept, 4)[1].any()
    assert fc.bits["tables"] == 5 * (fc.clusters + has_filler + 2**4)


def test_best_position_bits_is_the_smallest_encoding():
    _, shared = _shared_model(density=0.05)
    best = dc.best_position_bits(shared["fc"])
    sizes = {b: dc.encode_layer(dc.BitWriter(), "fc", shared["fc"], np.zeros(0), b).total_bits
             for b in dc.POSITION_BITS}
    assert sizes[best] == min(sizes.values())


def test_encode_model_checks_the_layers():
    model, shared = _shared_model()
    with pytest.raises(ValueError, match="exactly the layers"):
        dc.encode_model(model, {"fc": shared["fc"]})
    with pytest.raises(ValueError, match="kernel of shape"):
        dc.encode_model(model, {"conv": shared["conv"], "fc": shared["conv"]})
    with_norm = keras.Sequential([keras.Input((4,)), keras.layers.BatchNormalization(),
                                  keras.layers.Dense(2, name="fc")])
    with pytest.raises(ValueError, match="not Dense or Conv2D"):
        dc.encode_model(with_norm, {"fc": ws.share_weights(np.ones((4, 2)), 1)})


def test_decode_into_another_architecture_raises():
    model, shared = _shared_model()
    data, _ = dc.encode_model(model, shared)
    other = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(4, 3, name="conv"),
                              keras.layers.Flatten(), keras.layers.Dense(5, name="fc")])
    with pytest.raises(ValueError, match="the data's layer 'conv'"):
        dc.decode_model(data, other)


def test_pruned_float32_bits_counts_a_value_and_a_gap_per_entry():
    kept = np.zeros((4, 5), dtype=bool)
    kept[0, 1] = kept[3, 4] = True  # flattened 1 and 19: gaps 2 and 18
    header = 8 + 2 * 32 + 32 + 16 + 8 + 1 + 1 + 32
    # 5 bits (span 32): 2 entries of 37 bits; 4 bits (span 16): 3 entries (a filler) of 36.
    assert dc.pruned_float32_bits(kept, 3) == header + 3 * 32 + 2 * 37
