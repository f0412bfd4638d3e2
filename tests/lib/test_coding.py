"""Bit streams and Huffman codes: known answers, optimality, prefix property, round trips."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib import coding


def test_bit_writer_and_reader_round_trip_fields_of_any_width():
    writer = coding.BitWriter()
    fields = [(5, 3), (0, 1), (1, 1), (1023, 10), (0, 0), (2**31 + 7, 32)]
    for value, width in fields:
        writer.write(value, width)
    writer.write_float32([1.5, -0.1])
    assert writer.n_bits == 3 + 1 + 1 + 10 + 32 + 64
    data = writer.to_bytes()
    assert len(data) == math.ceil(writer.n_bits / 8)
    reader = coding.BitReader(data)
    assert [reader.read(width) for _, width in fields] == [value for value, _ in fields]
    np.testing.assert_array_equal(reader.read_float32(2), np.float32([1.5, -0.1]))


def test_bit_writer_packs_most_significant_bit_first_and_zero_pads():
    writer = coding.BitWriter()
    writer.write(0b101, 3)
    assert writer.to_bytes() == bytes([0b10100000])
    assert coding.BitWriter().to_bytes() == b""


def test_bit_writer_and_reader_reject_what_does_not_fit():
    with pytest.raises(ValueError, match="does not fit in 3 unsigned bits"):
        coding.BitWriter().write(8, 3)
    with pytest.raises(ValueError, match="does not fit"):
        coding.BitWriter().write(-1, 4)
    with pytest.raises(EOFError, match="runs past the end"):
        coding.BitReader(b"\x00").read(9)


def test_huffman_code_lengths_known_answer():
    # The textbook example: counts 45, 13, 12, 16, 9, 5 give lengths 1, 3, 3, 3, 4, 4.
    counts = {0: 45, 1: 13, 2: 12, 3: 16, 4: 9, 5: 5}
    assert coding.huffman_code_lengths(counts) == {0: 1, 1: 3, 2: 3, 3: 3, 4: 4, 5: 4}


def test_huffman_code_lengths_edge_cases():
    assert coding.huffman_code_lengths({7: 3}) == {7: 1}
    assert coding.huffman_code_lengths({0: 0, 1: 5, 2: 5}) == {1: 1, 2: 1}  # unused: no code
    with pytest.raises(ValueError, match="at least one symbol"):
        coding.huffman_code_lengths({0: 0})
    with pytest.raises(ValueError, match="≥ 0"):
        coding.huffman_code_lengths({0: -1, 1: 2})


def _best_prefix_code_cost(counts):
    """The least total length of any prefix code, by brute force over length vectors that
    satisfy Kraft's inequality (every such vector has a prefix code)."""
    n = len(counts)
    return min(sum(c * n_ for c, n_ in zip(counts, lengths, strict=True))
               for lengths in itertools.product(range(1, n + 1), repeat=n)
               if sum(2.0**-n_ for n_ in lengths) <= 1)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 50), min_size=2, max_size=5))
def test_huffman_is_optimal_and_canonical_codes_are_prefix_free(counts):
    lengths = coding.huffman_code_lengths(dict(enumerate(counts)))
    assert sum(c * lengths[s] for s, c in enumerate(counts)) == _best_prefix_code_cost(counts)
    codes = list(coding.HuffmanCode(lengths).codes.values())
    assert all(len(c) == lengths[s] for s, c in coding.HuffmanCode(lengths).codes.items())
    assert not any(a != b and b.startswith(a) for a in codes for b in codes)


def test_canonical_code_known_answer_and_kraft_check():
    code = coding.HuffmanCode({0: 1, 1: 3, 2: 3, 3: 3, 4: 4, 5: 4})
    assert code.codes == {0: "0", 1: "100", 2: "101", 3: "110", 4: "1110", 5: "1111"}
    with pytest.raises(ValueError, match="Kraft"):
        coding.HuffmanCode({0: 1, 1: 1, 2: 1})


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=1, max_size=300))
def test_huffman_round_trip_through_bytes_with_the_table(symbols):
    symbols = np.array(symbols)
    code = coding.HuffmanCode.from_symbols(symbols)
    writer = coding.BitWriter()
    code.write_table(writer, 41)
    code.write(writer, symbols)
    assert writer.n_bits == 41 * coding.LENGTH_BITS + code.encoded_bits(symbols)
    reader = coding.BitReader(writer.to_bytes())
    decoded = coding.HuffmanCode.read_table(reader, 41).read(reader, len(symbols))
    np.testing.assert_array_equal(decoded, symbols)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 15), min_size=1, max_size=200))
def test_huffman_lies_between_entropy_and_entropy_plus_one_bit(symbols):
    symbols = np.array(symbols)
    per_symbol = coding.HuffmanCode.from_symbols(symbols).encoded_bits(symbols) / len(symbols)
    entropy = coding.entropy_bits(symbols)
    assert entropy - 1e-9 <= per_symbol < max(entropy, 0) + 1 + 1e-9


def test_decoding_corrupt_bits_raises():
    code = coding.HuffmanCode({0: 1, 1: 2})  # codes 0, 10: "11" is no code
    with pytest.raises(ValueError, match="corrupt"):
        code.read(coding.BitReader(bytes([0b11000000])), 1)


def test_fixed_width():
    assert [coding.fixed_width(n) for n in (1, 2, 3, 4, 5, 16, 17, 33)] == [1, 1, 2, 2, 3, 4, 5, 6]
