"""The IDX reader: known arrays from crafted bytes, and clear errors on malformed headers."""

import gzip

import numpy as np
import pytest

from course_lib.data import IdxFormatError, parse_idx, read_idx


def idx_bytes(array: np.ndarray, code: int) -> bytes:
    header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def test_uint8_images_known_answer():
    raw = bytes([0, 0, 0x08, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 10, 20, 30, 40])
    array = parse_idx(raw)
    assert array.dtype == np.uint8 and array.shape == (2, 1, 2)
    np.testing.assert_array_equal(array.ravel(), [10, 20, 30, 40])


@pytest.mark.parametrize("code,dtype", [(0x09, "i1"), (0x0B, "i2"), (0x0C, "i4"),
                                        (0x0D, "f4"), (0x0E, "f8")])
def test_other_types_are_read_big_endian(code, dtype):
    array = np.array([[-3, 100], [7, -1]], dtype=dtype)
    result = parse_idx(idx_bytes(array, code))
    np.testing.assert_array_equal(result, array)
    assert result.dtype.isnative


def test_gzip_and_plain_files(tmp_path):
    labels = np.array([5, 0, 4], np.uint8)
    plain, packed = tmp_path / "labels-idx1-ubyte", tmp_path / "labels-idx1-ubyte.gz"
    plain.write_bytes(idx_bytes(labels, 0x08))
    packed.write_bytes(gzip.compress(idx_bytes(labels, 0x08)))
    np.testing.assert_array_equal(read_idx(plain), labels)
    np.testing.assert_array_equal(read_idx(packed), labels)


@pytest.mark.parametrize("raw,message", [
    (b"\x00\x00", "too short"),
    (b"\x01\x00\x08\x01" + bytes(4), "magic number"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x01\x05", "unknown IDX type code 0x07"),
    (b"\x00\x00\x08\x00", "0 dimensions"),
    (b"\x00\x00\x08\x02\x00\x00\x00\x01", "truncated"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x03\x01\x02", r"shape \(3,\).*holds 2 bytes"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x01\x01\x02", r"holds 2 bytes"),
])
def test_malformed_headers_are_rejected(raw, message):
    with pytest.raises(IdxFormatError, match=message):
        parse_idx(raw, "crafted.idx")


def test_error_names_the_file(tmp_path):
    path = tmp_path / "broken-idx1-ubyte"
    path.write_bytes(b"\x00\x00\x99\x01")
    with pytest.raises(IdxFormatError, match="broken-idx1-ubyte"):
        read_idx(path)


def test_damaged_gzip_is_an_idx_error(tmp_path):
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(4, np.uint8), 0x08))[:-6])
    with pytest.raises(IdxFormatError, match="labels.gz"):
        read_idx(path)
