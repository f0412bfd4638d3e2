"""The storage format of Deep Compression (Han, Mao & Dally, 2016), as real bytes.

Introduced in notebook 13 (the capstone). After pruning (:mod:`course_lib.pruning`) and weight
sharing (:mod:`course_lib.weight_sharing`), each layer is a sparse tensor whose kept weights
are cluster indices. This module stores it the paper's way and counts every bit:

- **Relative positions** (:func:`relative_positions`): the kept weights' positions (flattened,
  C order) are stored as gaps from the previous one, in ``position_bits`` bits. A gap longer than
  ``2**position_bits`` gets the paper's padding: a filler entry ``2**position_bits`` further on,
  with a zero weight, as often as needed.
- **Cluster indices** of the kept weights, plus one extra symbol for a filler's zero when the
  layer has fillers.
- **Huffman coding** (:mod:`course_lib.coding`) of both streams, or fixed-width codes for
  comparison.

:func:`encode_model` writes a whole model (every Dense and Conv2D layer, in order) into bytes
and returns the bits of each part of each layer (:class:`LayerBits`); :func:`decode_model`
reads those bytes back into a Keras model, so that the accuracy reported belongs to the bytes
counted. Per layer the file holds, in this order (field widths in bits):

===================  ========================================================================
header               rank (8), each dimension (32), number of biases (32), clusters ``k``
                     (16), ``position_bits`` (8), fillers present (1), Huffman (1), entries (32)
codebook             ``k`` float32 centroids
tables (Huffman)     a 5-bit code length per symbol of both alphabets
indices              one code per entry: cluster index, or the filler symbol ``k``
positions            one code per entry: gap − 1, in ``[0, 2**position_bits)``
biases               float32 each
===================  ========================================================================
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import keras
import numpy as np

from .coding import BitReader, BitWriter, HuffmanCode, fixed_width
from .parameters import check_param
from .pruning import copy_model, prunable_layers
from .weight_sharing import SharedTensor

POSITION_BITS = range(1, 13)  # the widths that best_position_bits tries
PARTS = ("header", "codebook", "tables", "indices", "positions", "biases")


def relative_positions(kept: np.ndarray, position_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """The gaps that store the positions of the ``True`` entries of ``kept`` (flattened, C
    order), and which entries are fillers.

    The first gap counts from position −1, so every gap is ≥ 1 and at most
    ``span = 2**position_bits``; a longer gap ``g`` becomes ``(g − 1) // span`` fillers of
    ``span`` followed by the remainder. Inverse: :func:`absolute_positions`.
    """
    check_param("position_bits", position_bits, int, ge=1, le=24)
    span = 2**position_bits
    gaps = np.diff(np.flatnonzero(np.ravel(kept)), prepend=-1)
    fillers = (gaps - 1) // span
    ends = np.cumsum(fillers + 1) - 1
    out = np.full(int(ends[-1]) + 1 if len(ends) else 0, span, dtype=np.int64)
    out[ends] = gaps - fillers * span
    is_filler = np.ones(len(out), dtype=bool)
    is_filler[ends] = False
    return out, is_filler


def absolute_positions(gaps: np.ndarray, is_filler: np.ndarray) -> np.ndarray:
    """The flattened positions of the real (non-filler) entries: ``cumsum(gaps) − 1``."""
    return (np.cumsum(gaps) - 1)[~np.asarray(is_filler, dtype=bool)]


@dataclass(frozen=True)
class LayerBits:
    """What one layer takes in the file: its name, weights (kernel size), kept weights,
    clusters, entries (kept + fillers), position bits, Huffman or not, and the bits of each
    part in :data:`PARTS`."""

    name: str
    weights: int
    kept: int
    clusters: int
    entries: int
    position_bits: int
    huffman: bool
    bits: dict[str, int]

    @property
    def total_bits(self) -> int:
        return sum(self.bits.values())


def _streams(shared: SharedTensor, position_bits: int) -> tuple[np.ndarray, np.ndarray, bool]:
    """The symbol streams of a layer: cluster index (or filler symbol ``k``) and gap − 1."""
    gaps, is_filler = relative_positions(shared.kept, position_bits)
    kept_indices = np.asarray(shared.indices).ravel()[np.asarray(shared.kept).ravel()]
    symbols = np.full(len(gaps), len(shared.centroids), dtype=np.int64)
    symbols[~is_filler] = kept_indices
    return symbols, gaps - 1, bool(is_filler.any())


def encode_layer(writer: BitWriter, name: str, shared: SharedTensor, bias: np.ndarray,
                 position_bits: int, huffman: bool = True) -> LayerBits:
    """Append one layer to ``writer`` (format in the module docstring); return its bits."""
    symbols, gap_codes, has_fillers = _streams(shared, position_bits)
    k = len(shared.centroids)
    alphabets = (k + has_fillers, 2**position_bits)
    start, bits = writer.n_bits, {}

    def part(label: str) -> None:
        nonlocal start
        bits[label] = writer.n_bits - start
        start = writer.n_bits

    writer.write(len(shared.shape), 8)
    for dim in shared.shape:
        writer.write(dim, 32)
    for value, width in ((len(bias), 32), (k, 16), (position_bits, 8), (has_fillers, 1),
                         (huffman, 1), (len(symbols), 32)):
        writer.write(value, width)
    part("header")
    writer.write_float32(shared.centroids)
    part("codebook")
    if huffman and len(symbols):
        codes = [HuffmanCode.from_symbols(s) for s in (symbols, gap_codes)]
        for code, size in zip(codes, alphabets, strict=True):
            code.write_table(writer, size)
        part("tables")
        codes[0].write(writer, symbols)
        part("indices")
        codes[1].write(writer, gap_codes)
        part("positions")
    else:
        part("tables")
        for stream, size in zip((symbols, gap_codes), alphabets, strict=True):
            width = fixed_width(size)
            for s in stream.tolist():
                writer.write(s, width)
            part("indices" if stream is symbols else "positions")
    writer.write_float32(bias)
    part("biases")
    return LayerBits(name, int(np.prod(shared.shape)), int(shared.kept.sum()), k, len(symbols),
                     position_bits, huffman, bits)


def decode_layer(reader: BitReader) -> tuple[np.ndarray, np.ndarray]:
    """Read one layer written by :func:`encode_layer`: ``(kernel, bias)`` as float32."""
    shape = tuple(reader.read(32) for _ in range(reader.read(8)))
    n_bias, k, position_bits = reader.read(32), reader.read(16), reader.read(8)
    has_fillers, huffman, entries = reader.read(1), reader.read(1), reader.read(32)
    centroids = reader.read_float32(k)
    alphabets = (k + has_fillers, 2**position_bits)
    if huffman and entries:
        codes = [HuffmanCode.read_table(reader, size) for size in alphabets]
        symbols, gap_codes = (code.read(reader, entries) for code in codes)
    else:
        symbols, gap_codes = (np.array([reader.read(fixed_width(size)) for _ in range(entries)],
                                       dtype=np.int64) for size in alphabets)
    is_filler = symbols == k
    kernel = np.zeros(int(np.prod(shape)), dtype=np.float32)
    kernel[absolute_positions(gap_codes + 1, is_filler)] = centroids[symbols[~is_filler]]
    return kernel.reshape(shape), reader.read_float32(n_bias)


def _layer_parts(model: keras.Model, shared: Mapping[str, SharedTensor]
                 ) -> list[tuple[str, SharedTensor, np.ndarray]]:
    """``(name, shared tensor, bias)`` for every Dense/Conv2D layer; checks that nothing else in
    ``model`` has weights and that every such layer is shared, with its kernel's shape."""
    names = prunable_layers(model)
    others = [layer.name for layer in model.layers if layer.weights and layer.name not in names]
    if others:
        raise ValueError(f"layers {others} have weights but are not Dense or Conv2D; this "
                         f"format stores only those")
    if set(shared) != set(names):
        raise ValueError(f"shared must hold exactly the layers {names}; got {sorted(shared)}")
    parts = []
    for name in names:
        layer = model.get_layer(name)
        if tuple(layer.kernel.shape) != shared[name].shape:
            raise ValueError(f"layer {name!r} has a kernel of shape {tuple(layer.kernel.shape)}, "
                             f"its shared tensor {shared[name].shape}")
        bias = layer.bias.numpy() if layer.use_bias else np.zeros(0, np.float32)
        parts.append((name, shared[name], bias))
    return parts


def best_position_bits(shared: SharedTensor, huffman: bool = True) -> int:
    """The ``position_bits`` in :data:`POSITION_BITS` that makes the layer smallest (the
    smallest width among equals): wider gaps need fewer fillers but cost more per entry."""
    def size(bits: int) -> int:
        return encode_layer(BitWriter(), "", shared, np.zeros(0), bits, huffman).total_bits
    return min(POSITION_BITS, key=lambda bits: (size(bits), bits))


def encode_model(model: keras.Model, shared: Mapping[str, SharedTensor],
                 position_bits: Mapping[str, int] | None = None, huffman: bool = True
                 ) -> tuple[bytes, list[LayerBits]]:
    """The bytes of ``model`` in this format and the bits of each layer's parts.

    ``shared`` holds a :class:`~course_lib.weight_sharing.SharedTensor` for every Dense and
    Conv2D layer (their kernels); biases are read from ``model``. ``position_bits`` per layer
    defaults to :func:`best_position_bits`. The byte count is the total of the bits rounded up
    to whole bytes once, at the end.
    """
    parts = _layer_parts(model, shared)
    writer, layers = BitWriter(), []
    for name, tensor, bias in parts:
        bits = (position_bits[name] if position_bits is not None
                else best_position_bits(tensor, huffman))
        layers.append(encode_layer(writer, name, tensor, bias, bits, huffman))
    return writer.to_bytes(), layers


def decode_model(data: bytes, model: keras.Model) -> keras.Model:
    """A copy of ``model`` whose Dense and Conv2D layers hold the weights stored in ``data``
    (written by :func:`encode_model` for a model of this architecture). Raises ValueError when
    a stored shape differs from the layer's."""
    decoded = copy_model(model)
    reader = BitReader(data)
    for name in prunable_layers(decoded):
        layer = decoded.get_layer(name)
        kernel, bias = decode_layer(reader)
        if kernel.shape != tuple(layer.kernel.shape) or (
                layer.use_bias and bias.shape != tuple(layer.bias.shape)):
            raise ValueError(f"the data's layer {name!r} has kernel {kernel.shape} and "
                             f"{len(bias)} biases; the model's {tuple(layer.kernel.shape)}")
        layer.kernel.assign(kernel)
        if layer.use_bias:
            layer.bias.assign(bias)
    return decoded


def pruned_float32_bits(kept: np.ndarray, n_bias: int) -> int:
    """Bits of a layer pruned but not shared, in the same layout: the header, then per entry a
    float32 value (fillers store 0.0) and a fixed-width gap, then the biases; at the best
    position width. Computed, not written: the "pruning only" stage of the waterfall."""
    check_param("n_bias", n_bias, int, ge=0)
    header = 8 + 32 * np.ndim(kept) + 32 + 16 + 8 + 1 + 1 + 32
    return header + 32 * n_bias + min(len(relative_positions(kept, bits)[0]) * (32 + bits)
                                      for bits in POSITION_BITS)
