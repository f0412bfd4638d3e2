"""Lossless coding by hand: bit streams and Huffman codes.

Introduced in notebook 13 (the capstone), whose last compression stage, as in Han, Mao & Dally's
*Deep Compression* (2016), Huffman-codes the cluster indices and the sparse positions of every
layer. Writing it by hand is the lesson, and the bits are counted for real: :class:`BitWriter`
produces the actual bytes and :class:`BitReader` reads them back.

- :func:`huffman_code_lengths` builds an optimal prefix code's lengths from symbol counts (the
  classic merge of the two rarest subtrees);
- :class:`HuffmanCode` turns lengths into the *canonical* code (codes assigned in order of
  length, then symbol), so that a file only needs the lengths to rebuild the code: that table
  is part of the bits counted (:data:`LENGTH_BITS` bits per symbol of the alphabet).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping

import numpy as np

from .parameters import check_param

LENGTH_BITS = 5  # bits that store one code length in a file's table: lengths up to 31
MAX_LENGTH = 2**LENGTH_BITS - 1


class BitWriter:
    """Append unsigned integers of given widths; :meth:`to_bytes` packs them, most significant
    bit first, into bytes (the last one zero-padded)."""

    def __init__(self):
        self._parts: list[str] = []
        self.n_bits = 0

    def write(self, value: int, width: int) -> None:
        """Append ``value`` as ``width`` bits; ValueError if it does not fit."""
        value, width = int(value), int(width)
        if width < 0 or not 0 <= value < 2**width:
            raise ValueError(f"value {value} does not fit in {width} unsigned bits")
        if width:
            self._parts.append(format(value, f"0{width}b"))
            self.n_bits += width

    def write_bits(self, bits: str) -> None:
        """Append a string of ``'0'``/``'1'`` characters (e.g. a Huffman code)."""
        self._parts.append(bits)
        self.n_bits += len(bits)

    def write_float32(self, values: Iterable[float]) -> None:
        """Append each value as the 32 bits of its IEEE float32 encoding."""
        for word in np.asarray(list(values), dtype=">f4").view(">u4"):
            self.write(int(word), 32)

    def to_bytes(self) -> bytes:
        bits = "".join(self._parts)
        bits += "0" * (-len(bits) % 8)
        return int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""


class BitReader:
    """Read back what a :class:`BitWriter` wrote, in the same order and widths."""

    def __init__(self, data: bytes):
        self._bits = "".join(format(byte, "08b") for byte in data)
        self.position = 0

    def read(self, width: int) -> int:
        """The next ``width`` bits as an unsigned integer; EOFError past the end."""
        if self.position + width > len(self._bits):
            raise EOFError(f"read of {width} bits at bit {self.position} runs past the end of "
                           f"the data ({len(self._bits)} bits)")
        chunk = self._bits[self.position:self.position + width]
        self.position += width
        return int(chunk, 2) if width else 0

    def read_float32(self, count: int) -> np.ndarray:
        words = np.array([self.read(32) for _ in range(count)], dtype=">u4")
        return words.view(">f4").astype(np.float32)

    def next_bit(self) -> str:
        return str(self.read(1))


def huffman_code_lengths(counts: Mapping[int, int]) -> dict[int, int]:
    """The code length of every symbol with a positive count, for a Huffman code: an optimal
    prefix code, whose total length ``sum(count · length)`` no prefix code beats.

    Repeatedly merge the two subtrees of smallest total count (ties: the subtree whose smallest
    symbol is smaller goes first, so the result is deterministic); every merge adds one bit to
    the symbols below it. A single symbol gets length 1. Raises ValueError for no positive
    count, a negative count, or a code longer than :data:`MAX_LENGTH` bits (which needs
    Fibonacci-like counts summing to more than a million).
    """
    if any(int(c) < 0 for c in counts.values()):
        raise ValueError(f"counts must be ≥ 0; got {dict(counts)}")
    used = sorted(int(s) for s, c in counts.items() if c > 0)
    if not used:
        raise ValueError("a Huffman code needs at least one symbol with a positive count")
    lengths = dict.fromkeys(used, 0)
    if len(used) == 1:
        return {used[0]: 1}
    heap = [(int(counts[s]), s, [s]) for s in used]
    heapq.heapify(heap)
    while len(heap) > 1:
        count_a, first_a, symbols_a = heapq.heappop(heap)
        count_b, first_b, symbols_b = heapq.heappop(heap)
        for s in symbols_a + symbols_b:
            lengths[s] += 1
        heapq.heappush(heap, (count_a + count_b, min(first_a, first_b), symbols_a + symbols_b))
    if max(lengths.values()) > MAX_LENGTH:
        raise ValueError(f"a code length exceeds {MAX_LENGTH} bits, more than the "
                         f"{LENGTH_BITS}-bit length table stores")
    return lengths


class HuffmanCode:
    """The canonical prefix code with the given code lengths (symbol → bits, 0 = unused).

    Codes are assigned in order of (length, symbol), each the previous one plus one, shifted
    left when the length grows: the lengths alone define the code, which is why a file stores
    only them. Raises ValueError when the lengths violate Kraft's inequality (no prefix code
    has them).
    """

    def __init__(self, lengths: Mapping[int, int]):
        used = sorted((int(n), int(s)) for s, n in lengths.items() if n > 0)
        if not used:
            raise ValueError("a code needs at least one symbol of positive length")
        if sum(2.0**-n for n, _ in used) > 1 + 1e-12:
            raise ValueError(f"the lengths violate Kraft's inequality: {dict(lengths)}")
        self.lengths = {s: n for n, s in used}
        self.codes: dict[int, str] = {}
        code, previous = 0, used[0][0]
        for n, s in used:
            code <<= n - previous
            self.codes[s] = format(code, f"0{n}b")
            code, previous = code + 1, n
        self._symbol_of = {bits: s for s, bits in self.codes.items()}

    @classmethod
    def from_symbols(cls, symbols: np.ndarray) -> HuffmanCode:
        """The Huffman code of the symbol counts in ``symbols`` (non-negative integers)."""
        values, counts = np.unique(np.asarray(symbols, dtype=np.int64), return_counts=True)
        return cls(huffman_code_lengths(dict(zip(values.tolist(), counts.tolist(),
                                                 strict=True))))

    def encoded_bits(self, symbols: np.ndarray) -> int:
        """Bits that ``symbols`` take in this code."""
        values, counts = np.unique(np.asarray(symbols, dtype=np.int64), return_counts=True)
        return int(sum(self.lengths[v] * c for v, c in zip(values.tolist(), counts.tolist(),
                                                            strict=True)))

    def write(self, writer: BitWriter, symbols: np.ndarray) -> None:
        """Append the codes of ``symbols``; KeyError names a symbol the code lacks."""
        for s in np.asarray(symbols, dtype=np.int64).tolist():
            writer.write_bits(self.codes[s])

    def read(self, reader: BitReader, count: int) -> np.ndarray:
        """Decode ``count`` symbols: read bits until they form a code (the code is prefix-free,
        so the first match is the symbol)."""
        longest = max(self.lengths.values())
        out = np.empty(count, dtype=np.int64)
        for i in range(count):
            bits = ""
            while bits not in self._symbol_of:
                if len(bits) == longest:
                    raise ValueError(f"bits {bits!r} at symbol {i} are not a code of this "
                                     f"table: corrupt data")
                bits += reader.next_bit()
            out[i] = self._symbol_of[bits]
        return out

    def write_table(self, writer: BitWriter, alphabet_size: int) -> None:
        """Append the code length of symbols ``0 .. alphabet_size - 1`` (0 = unused),
        :data:`LENGTH_BITS` bits each."""
        for s in range(alphabet_size):
            writer.write(self.lengths.get(s, 0), LENGTH_BITS)

    @classmethod
    def read_table(cls, reader: BitReader, alphabet_size: int) -> HuffmanCode:
        return cls({s: reader.read(LENGTH_BITS) for s in range(alphabet_size)})


def fixed_width(alphabet_size: int) -> int:
    """Bits of a fixed-width code for ``alphabet_size`` symbols: ``ceil(log2 n)``, at least 1."""
    check_param("alphabet_size", alphabet_size, int, ge=1)
    return max(1, math.ceil(math.log2(alphabet_size)))


def entropy_bits(symbols: np.ndarray) -> float:
    """Shannon entropy of the symbols' empirical distribution, in bits per symbol: the bound
    that no symbol-by-symbol code beats on average (Huffman is within 1 bit of it)."""
    _, counts = np.unique(np.asarray(symbols), return_counts=True)
    if counts.sum() == 0:
        raise ValueError("entropy of an empty sequence is undefined")
    p = counts / counts.sum()
    return float(-(p * np.log2(p)).sum())
