"""The Horowitz energy model: per-operation values, the formula, and where the weights live."""

import pytest

from course_lib import energy
from course_lib.parameters import ParameterError


def test_horowitz_values_are_the_published_ones():
    pj = energy.HOROWITZ_45NM_PJ
    assert (pj["float32 add"], pj["float32 mult"], pj["int8 add"], pj["int8 mult"]) == (
        0.9, 3.7, 0.03, 0.2)
    assert (pj["32-bit SRAM read (8 KB array)"], pj["32-bit DRAM read"]) == (5.0, 640.0)


def test_mac_energy_is_a_multiply_and_its_accumulators_add():
    assert energy.mac_pj("float32") == pytest.approx(3.7 + 0.9)
    assert energy.mac_pj("float16") == pytest.approx(1.1 + 0.4)
    assert energy.mac_pj("int8") == pytest.approx(0.2 + 0.1)  # int32 accumulator
    with pytest.raises(ParameterError, match="arithmetic"):
        energy.mac_pj("int4")


def test_word_reads_round_up():
    assert [energy.word_reads(b) for b in (0, 1, 32, 33, 64)] == [0, 1, 1, 2, 2]


def test_inference_energy_known_answer():
    # 1,000 float32 MACs, 100 weights of 32 bits in DRAM, 50 activations of 32 bits.
    e = energy.inference_energy(1000, 3200, 50, arithmetic="float32", sram_bytes=64)
    assert e.weight_memory == "dram"
    assert e.compute_pj == pytest.approx(1000 * 4.6)
    assert e.weights_pj == pytest.approx(100 * 640)
    assert e.activations_pj == pytest.approx(2 * 50 * 5)
    assert e.total_pj == pytest.approx(4600 + 64000 + 500)
    assert e.inferences_per_joule == pytest.approx(1e12 / 69100)


def test_weights_come_from_sram_when_they_fit():
    fits = energy.inference_energy(0, 8 * 400, 0, arithmetic="int8", sram_bytes=400)
    spills = energy.inference_energy(0, 8 * 401, 0, arithmetic="int8", sram_bytes=400)
    assert (fits.weight_memory, spills.weight_memory) == ("sram", "dram")
    assert fits.weights_pj == 100 * 5.0 and spills.weights_pj == 101 * 640.0


def test_energy_grows_with_every_count():
    base = energy.inference_energy(100, 320, 10, arithmetic="float32", sram_bytes=10**6)
    for more in (dict(macs=101), dict(weight_bits=352), dict(activations=11)):
        args = dict(macs=100, weight_bits=320, activations=10) | more
        assert energy.inference_energy(**args, arithmetic="float32",
                                       sram_bytes=10**6).total_pj > base.total_pj


def test_bad_counts_raise():
    with pytest.raises(ParameterError, match="macs"):
        energy.inference_energy(-1, 0, 0, arithmetic="float32", sram_bytes=0)


def test_inference_counts_of_lenet_300_100():
    from course_lib.models import lenet_300_100

    model = lenet_300_100()
    assert energy.inference_counts(model) == (266_200, 784 + 300 + 100 + 10)
    macs, _ = energy.inference_counts(model, {"fc1": 0.5, "fc3": 0.0})
    assert macs == 117_600 + 30_000
    with pytest.raises(ValueError, match="lacks"):
        energy.inference_counts(model, {"conv9": 0.5})
    with pytest.raises(ParameterError, match="fc1"):
        energy.inference_counts(model, {"fc1": 1.5})
