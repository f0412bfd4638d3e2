"""An energy model of inference from operation and memory-access counts (notebook 13).

A CPU's power meter is not something a notebook can read everywhere, but the energy of the basic
operations is well known. Horowitz (ISSCC 2014, "Computing's energy problem", 45 nm, 0.9 V)
gives per-operation energies, :data:`HOROWITZ_45NM_PJ`; Han et al. (2015, 2016) use them to
argue that fetching a weight from off-chip DRAM costs two orders of magnitude more than the
arithmetic done with it, which is why a model small enough for on-chip SRAM saves energy.

The model (:func:`inference_energy`), per inference:

- **compute**: each multiply-accumulate (MAC) costs one multiply and one add of the arithmetic's
  type (int8 multiplies accumulate into int32, so their add is a 32-bit integer add);
- **weights**: every stored weight bit is read once, in 32-bit words, from SRAM if the model's
  weights fit in ``sram_bytes`` of on-chip memory, else from DRAM;
- **activations**: every activation is read once and written once, in 32-bit words of SRAM
  (a perfect-reuse dataflow, the same for the models compared).

Its limits, which the notebook states: 45 nm energies (newer processes are cheaper, the ratios
move less); no control, instruction-fetch or leakage energy; a sparse model's MACs count only
its nonzero weights, which needs hardware that skips zeros (an accelerator such as EIE), not a
CPU's dense kernels; decoding Huffman and indices costs energy this model does not count.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from .convolution import layer_costs
from .parameters import check_param

HOROWITZ_45NM_PJ = MappingProxyType({
    "int8 add": 0.03, "int32 add": 0.1, "float16 add": 0.4, "float32 add": 0.9,
    "int8 mult": 0.2, "int32 mult": 3.1, "float16 mult": 1.1, "float32 mult": 3.7,
    "32-bit SRAM read (8 KB array)": 5.0, "32-bit DRAM read": 640.0,
})
ARITHMETIC = ("float32", "float16", "int8")
MEMORY = {"sram": "32-bit SRAM read (8 KB array)", "dram": "32-bit DRAM read"}


def mac_pj(arithmetic: str) -> float:
    """Energy of one multiply-accumulate, in pJ: the type's multiply plus its accumulator's add
    (int8 accumulates in int32)."""
    check_param("arithmetic", arithmetic, str, choices=ARITHMETIC)
    accumulator = "int32" if arithmetic == "int8" else arithmetic
    return HOROWITZ_45NM_PJ[f"{arithmetic} mult"] + HOROWITZ_45NM_PJ[f"{accumulator} add"]


def word_reads(bits: int) -> int:
    """32-bit words needed to read ``bits`` bits: ``ceil(bits / 32)``."""
    check_param("bits", bits, int, ge=0)
    return math.ceil(bits / 32)


def weight_memory(weight_bytes: int, sram_bytes: int) -> str:
    """``"sram"`` when ``weight_bytes`` fit in ``sram_bytes`` of on-chip memory, else ``"dram"``."""
    check_param("weight_bytes", weight_bytes, int, ge=0)
    check_param("sram_bytes", sram_bytes, int, ge=0)
    return "sram" if weight_bytes <= sram_bytes else "dram"


@dataclass(frozen=True)
class InferenceEnergy:
    """Energy of one inference, in picojoules, by where it goes."""

    compute_pj: float
    weights_pj: float
    activations_pj: float
    weight_memory: str

    @property
    def total_pj(self) -> float:
        return self.compute_pj + self.weights_pj + self.activations_pj

    @property
    def inferences_per_joule(self) -> float:
        """The energy-efficiency ratio: work per joule, ``1e12 / total_pj``."""
        return 1e12 / self.total_pj


def inference_energy(macs: int, weight_bits: int, activations: int, *, arithmetic: str,
                     sram_bytes: int, activation_bits: int = 32) -> InferenceEnergy:
    """The energy of one inference under the module's model.

    ``macs``: multiply-accumulates performed; ``weight_bits``: the model's stored weights (all
    parameters and metadata a decoder reads); ``activations``: values read once and written once
    (``activation_bits`` each); ``arithmetic``: one of :data:`ARITHMETIC`; ``sram_bytes``: the
    on-chip memory that can hold weights (:func:`weight_memory`).
    """
    check_param("macs", macs, int, ge=0)
    check_param("activations", activations, int, ge=0)
    check_param("activation_bits", activation_bits, int, ge=1, le=32)
    memory = weight_memory(math.ceil(weight_bits / 8), sram_bytes)
    sram = HOROWITZ_45NM_PJ[MEMORY["sram"]]
    return InferenceEnergy(
        compute_pj=macs * mac_pj(arithmetic),
        weights_pj=word_reads(weight_bits) * HOROWITZ_45NM_PJ[MEMORY[memory]],
        activations_pj=2 * word_reads(activations * activation_bits) * sram,
        weight_memory=memory)


def inference_counts(model, kept: Mapping[str, float] | None = None) -> tuple[int, int]:
    """``(MACs, activations)`` of one inference of a chain-shaped Keras model.

    MACs come from :func:`course_lib.convolution.layer_costs`; with ``kept`` (layer name →
    fraction of its weights kept) a layer's MACs are scaled by that fraction, rounded: each
    weight of a Dense or valid Conv2D layer takes part in the same number of MACs, so skipping
    the zeros skips that fraction. Activations: the input's values plus every layer's outputs
    (a Flatten's outputs are its inputs, not counted twice).
    """
    kept = dict(kept or {})
    costs = [row for row in layer_costs(model) if row["type"] != "Flatten"]
    unknown = set(kept) - {row["layer"] for row in costs}
    if unknown:
        raise ValueError(f"kept names layers the model lacks: {sorted(unknown)}")
    for name, fraction in kept.items():
        check_param(f"kept[{name!r}]", float(fraction), float, ge=0, le=1)
    macs = round(sum(row["macs"] * kept.get(row["layer"], 1.0) for row in costs))
    activations = math.prod(model.inputs[0].shape[1:]) + sum(
        math.prod(row["output_shape"]) for row in costs)
    return int(macs), int(activations)
