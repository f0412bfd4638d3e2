"""The data layer: lookup order, sha256 verification, clear errors, downloads, loaders."""

import gzip
import hashlib

import numpy as np
import pytest

from course_lib import data


def make_dataset(tmp_path, monkeypatch, content: bytes, name="tiny") -> data.DataFile:
    """Register a one-file dataset whose origin is a local file:// URL holding ``content``."""
    origin = tmp_path / "origin" / "tiny.npz"
    origin.parent.mkdir(parents=True, exist_ok=True)
    origin.write_bytes(content)
    spec = data.DataFile("tiny/tiny.npz", hashlib.sha256(content).hexdigest(), len(content),
                         origin.as_uri())
    monkeypatch.setitem(data.REGISTRY, name,
                        data.Dataset(name, "test data", (spec,), data._load_npz))
    return spec


def npz_bytes(tmp_path) -> bytes:
    path = tmp_path / "arrays.npz"
    np.savez(path, x_train=np.arange(6, dtype=np.uint8).reshape(2, 3), y_train=np.array([0, 1]),
             x_test=np.ones((1, 3), np.uint8), y_test=np.array([1]))
    return path.read_bytes()


def place(root, spec: data.DataFile, content: bytes):
    path = root / spec.relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


def test_load_from_data_dir(tmp_path, monkeypatch):
    content = npz_bytes(tmp_path)
    spec = make_dataset(tmp_path, monkeypatch, content)
    place(data.data_dir(), spec, content)
    (x_train, y_train), (x_test, y_test) = data.load("tiny")
    np.testing.assert_array_equal(x_train, np.arange(6).reshape(2, 3))
    np.testing.assert_array_equal(y_test, [1])
    assert data.locate(spec)[1] == data.DATA_DIR_ENV


def test_cache_is_used_when_data_dir_lacks_the_file(tmp_path, monkeypatch):
    content = npz_bytes(tmp_path)
    spec = make_dataset(tmp_path, monkeypatch, content)
    place(data.cache_dir(), spec, content)
    path, source = data.locate(spec)
    assert source == "project cache" and path == data.cache_dir() / spec.relpath


def test_missing_file_with_downloads_disabled(tmp_path, monkeypatch):
    spec = make_dataset(tmp_path, monkeypatch, b"abc")
    with pytest.raises(data.DatasetError) as error:
        data.load("tiny")
    message = str(error.value)
    for expected in ("tiny.npz is missing", spec.sha256, str(data.data_dir()),
                     str(data.cache_dir()), "downloads are disabled", "Fix:"):
        assert expected in message


def test_corrupt_file_names_both_hashes(tmp_path, monkeypatch):
    spec = make_dataset(tmp_path, monkeypatch, b"good bytes")
    place(data.data_dir(), spec, b"evil bytes")  # same size, other content
    with pytest.raises(data.DatasetError) as error:
        data.load("tiny")
    message = str(error.value)
    assert "tiny.npz" in message and "corrupt" in message
    assert spec.sha256 in message and hashlib.sha256(b"evil bytes").hexdigest() in message


def test_truncated_file(tmp_path, monkeypatch):
    spec = make_dataset(tmp_path, monkeypatch, b"0123456789")
    place(data.data_dir(), spec, b"01234")
    with pytest.raises(data.DatasetError, match=r"tiny\.npz .* is truncated: 5 bytes, expected 10"
                       ) as error:
        data.load("tiny")
    assert spec.sha256 in str(error.value)


def test_a_corrupt_copy_is_not_skipped_for_a_good_one(tmp_path, monkeypatch):
    content = npz_bytes(tmp_path)
    spec = make_dataset(tmp_path, monkeypatch, content)
    place(data.data_dir(), spec, bytes([content[0] ^ 0xFF]) + content[1:])
    place(data.cache_dir(), spec, content)
    with pytest.raises(data.DatasetError, match="corrupt"):
        data.load("tiny")


def test_download_into_cache_when_allowed(tmp_path, monkeypatch):
    content = npz_bytes(tmp_path)
    spec = make_dataset(tmp_path, monkeypatch, content)
    monkeypatch.setenv(data.NO_DOWNLOAD_ENV, "0")
    path, source = data.locate(spec)
    assert source == "downloaded" and path.read_bytes() == content
    assert data.locate(spec)[1] == "project cache"  # the second lookup needs no download


def test_corrupt_download_leaves_nothing_behind(tmp_path, monkeypatch):
    spec = make_dataset(tmp_path, monkeypatch, b"published")
    (tmp_path / "origin" / "tiny.npz").write_bytes(b"tampered")
    with pytest.raises(data.DatasetError, match="corrupt"):
        data.locate(spec, download=True)
    assert not [p for p in data.cache_dir().rglob("*") if p.is_file()]


def test_failed_download_is_a_clear_error(tmp_path, monkeypatch):
    spec = make_dataset(tmp_path, monkeypatch, b"abc")
    (tmp_path / "origin" / "tiny.npz").unlink()
    with pytest.raises(data.DatasetError, match=r"the download from file:.* failed") as error:
        data.locate(spec, download=True)
    assert spec.sha256 in str(error.value)


def test_pickled_arrays_are_refused(tmp_path, monkeypatch):
    path = tmp_path / "objects.npz"
    np.savez(path, x_train=np.array([{"a": 1}], dtype=object), y_train=np.zeros(1),
             x_test=np.zeros(1), y_test=np.zeros(1))
    content = path.read_bytes()
    spec = make_dataset(tmp_path, monkeypatch, content)
    place(data.data_dir(), spec, content)
    with pytest.raises(ValueError, match="allow_pickle"):
        data.load("tiny")


def test_check_all_reports_without_raising(tmp_path, monkeypatch):
    content = npz_bytes(tmp_path)
    spec = make_dataset(tmp_path, monkeypatch, content)
    monkeypatch.setattr(data, "REGISTRY", {"tiny": data.REGISTRY["tiny"]})
    assert data.check_all()[0]["status"].startswith("tiny.npz is missing")
    place(data.data_dir(), spec, content)
    assert data.check_all() == [{"dataset": "tiny", "file": "tiny.npz",
                                 "found in": data.DATA_DIR_ENV, "status": "ok (sha256 verified)"}]


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(KeyError, match="mnist"):
        data.load("imdb")


def test_registry_entries_are_well_formed():
    for dataset in data.REGISTRY.values():
        for spec in dataset.files:
            assert len(spec.sha256) == 64 and int(spec.sha256, 16) >= 0
            assert spec.url.startswith("https://") and spec.url.endswith(spec.name)
            assert spec.size > 0


def test_idx_quartet_loader(tmp_path):
    def idx(array, code):
        header = bytes([0, 0, code, array.ndim]) + np.array(array.shape, ">u4").tobytes()
        return gzip.compress(header + array.tobytes())

    images = np.arange(2 * 2 * 3, dtype=np.uint8).reshape(2, 2, 3)
    labels = np.array([3, 7], np.uint8)
    paths = {}
    for prefix in ("train", "t10k"):
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            path = tmp_path / f"{prefix}-{kind}-ubyte.gz"
            path.write_bytes(idx(array, 0x08))
            paths[path.name] = path
    (x_train, y_train), (x_test, y_test) = data._load_idx_quartet(paths)
    np.testing.assert_array_equal(x_train, images)
    np.testing.assert_array_equal(y_test, labels)


def test_class_names_cover_every_label():
    for name, classes in data.CLASS_NAMES.items():
        assert name in data.REGISTRY and len(classes) == len(set(classes)) == 10
