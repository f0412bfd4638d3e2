"""Datasets of the course: find, verify (sha256) and load them, offline first.

Introduced in notebook 00 (data check); used by every notebook that trains on real data.

Each file is looked for, in order:

1. the directory named by ``COURSE_DATA_DIR`` (read-only, laid out like ``../shared/data``);
2. the cache: ``COURSE_CACHE_DIR`` if set, else the checkout's ``data/`` (git-ignored), or,
   with course_lib installed outside a checkout, a per-user cache directory;
3. its official origin, downloaded into the cache, unless ``COURSE_NO_DOWNLOAD=1``.

Every file is checked against its published sha256 before use. A missing, truncated or corrupt
file raises :class:`DatasetError`, which names the file, the expected sha256, where it looked
and what to do.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .paths import data_cache, find_checkout

DATA_DIR_ENV = "COURSE_DATA_DIR"
CACHE_DIR_ENV = "COURSE_CACHE_DIR"
NO_DOWNLOAD_ENV = "COURSE_NO_DOWNLOAD"

_KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
# The raw MNIST files as mirrored by Google's CVDF (the copy TensorFlow Datasets downloads).
_MNIST_IDX_ORIGIN = "https://storage.googleapis.com/cvdf-datasets/mnist/"

# Human-readable names of the label values 0..9.
CLASS_NAMES = {
    "mnist": tuple(str(digit) for digit in range(10)),
    "fashion_mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                      "Sneaker", "Bag", "Ankle boot"),
}

Arrays = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


class DatasetError(RuntimeError):
    """A dataset file is missing, truncated or corrupt, and cannot be fetched."""


class IdxFormatError(ValueError):
    """A file is not a well-formed IDX file."""


@dataclass(frozen=True)
class DataFile:
    """One file of a dataset: where it lives (relative to a data directory) and its checksum."""

    relpath: str
    sha256: str
    size: int
    url: str

    @property
    def name(self) -> str:
        return Path(self.relpath).name


@dataclass(frozen=True)
class Dataset:
    """A registered dataset: its files and how to turn them into arrays."""

    name: str
    description: str
    files: tuple[DataFile, ...]
    loader: Callable[[dict[str, Path]], Arrays]


# ---------------------------------------------------------------- IDX format
_IDX_DTYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def parse_idx(raw: bytes, source: str = "<bytes>") -> np.ndarray:
    """Decode the bytes of an IDX file (the format of the original MNIST distribution).

    Header: two zero bytes, a type code, the number of dimensions, then one big-endian uint32
    per dimension; the payload must hold exactly ``prod(dims)`` values. Anything else raises
    :class:`IdxFormatError` naming ``source``.
    """
    if len(raw) < 4:
        raise IdxFormatError(f"{source}: {len(raw)} bytes is too short for an IDX header (4 bytes)")
    if raw[0] != 0 or raw[1] != 0:
        raise IdxFormatError(
            f"{source}: bad IDX magic number {raw[:4].hex()}: the first two bytes must be 0"
        )
    type_code, ndim = raw[2], raw[3]
    if type_code not in _IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in _IDX_DTYPES)
        raise IdxFormatError(f"{source}: unknown IDX type code 0x{type_code:02X} (known: {known})")
    if ndim == 0:
        raise IdxFormatError(f"{source}: IDX header declares 0 dimensions")
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise IdxFormatError(f"{source}: IDX header declares {ndim} dimensions but is truncated")
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = _IDX_DTYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    payload = len(raw) - header_len
    if payload != expected:
        raise IdxFormatError(
            f"{source}: IDX header declares shape {shape} of {dtype.name} ({expected} bytes of "
            f"data) but the file holds {payload} bytes after the header"
        )
    data = np.frombuffer(raw, dtype, offset=header_len).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file, gzip-compressed (``.gz``) or not, into a numpy array."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as exc:  # gzip raises these on a damaged stream
        raise IdxFormatError(f"{path}: cannot be read as {'gzip ' if path.suffix == '.gz' else ''}"
                             f"data ({exc})") from exc
    return parse_idx(raw, str(path))


# ---------------------------------------------------------------- loaders
def _load_npz(paths: dict[str, Path]) -> Arrays:
    (path,) = paths.values()
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


def _load_idx_quartet(paths: dict[str, Path]) -> Arrays:
    def part(prefix: str) -> tuple[np.ndarray, np.ndarray]:
        return (read_idx(paths[f"{prefix}-images-idx3-ubyte.gz"]),
                read_idx(paths[f"{prefix}-labels-idx1-ubyte.gz"]))

    return part("train"), part("t10k")


def _idx_files(folder: str, url: str, checksums: dict[str, tuple[str, int]]) -> tuple:
    return tuple(DataFile(f"{folder}/{name}", sha, size, url + name)
                 for name, (sha, size) in checksums.items())


REGISTRY: dict[str, Dataset] = {
    d.name: d
    for d in [
        Dataset(
            "mnist",
            "MNIST handwritten digits, as Keras packages them (mnist.npz)",
            (DataFile("keras/datasets/mnist.npz",
                      "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
                      11_490_434, _KERAS_ORIGIN + "mnist.npz"),),
            _load_npz,
        ),
        Dataset(
            "fashion_mnist",
            "Fashion-MNIST clothing images (Zalando Research), IDX files as Keras downloads them",
            _idx_files("keras/datasets/fashion-mnist", _KERAS_ORIGIN, {
                "train-images-idx3-ubyte.gz": (
                    "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26_421_880),
                "train-labels-idx1-ubyte.gz": (
                    "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29_515),
                "t10k-images-idx3-ubyte.gz": (
                    "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4_422_102),
                "t10k-labels-idx1-ubyte.gz": (
                    "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5_148),
            }),
            _load_idx_quartet,
        ),
        Dataset(
            "mnist_idx",
            "MNIST in its original IDX distribution format (same arrays as mnist.npz)",
            _idx_files("mnist-idx", _MNIST_IDX_ORIGIN, {
                "train-images-idx3-ubyte.gz": (
                    "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", 9_912_422),
                "train-labels-idx1-ubyte.gz": (
                    "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", 28_881),
                "t10k-images-idx3-ubyte.gz": (
                    "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", 1_648_877),
                "t10k-labels-idx1-ubyte.gz": (
                    "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", 4_542),
            }),
            _load_idx_quartet,
        ),
    ]
}


# ---------------------------------------------------------------- locating and verifying
def data_dir() -> Path | None:
    """The read-only data directory from ``COURSE_DATA_DIR``, or None when it is not set."""
    value = os.environ.get(DATA_DIR_ENV)
    return Path(value).expanduser() if value else None


def cache_dir() -> Path:
    """Where downloads go: ``COURSE_CACHE_DIR`` if set, else the checkout's ``data/``, else
    (course_lib installed outside a checkout) ``data/`` in the per-user cache directory."""
    value = os.environ.get(CACHE_DIR_ENV)
    return Path(value).expanduser() if value else data_cache()


def _cache_label() -> str:
    """How check_all names the cache: the per-user one only when it is in use."""
    return ("user cache" if not os.environ.get(CACHE_DIR_ENV) and find_checkout() is None
            else "project cache")


def downloads_allowed() -> bool:
    """False when ``COURSE_NO_DOWNLOAD`` is set to a true value (1, true, yes)."""
    return os.environ.get(NO_DOWNLOAD_ENV, "").strip().lower() not in {"1", "true", "yes"}


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fix_hint(spec: DataFile) -> str:
    # Relative to the checkout (no host path: notebook 00 shows this message).
    default = (f"data/{spec.relpath}" if find_checkout() is not None
               else str(data_cache() / spec.relpath))
    return (f"Fix: put the original file at ${DATA_DIR_ENV}/{spec.relpath} or in the course's "
            f"cache ({default} by default); or delete the bad copy and, with internet "
            f"access and {NO_DOWNLOAD_ENV} unset, let the course download it from {spec.url}")


def verify(path: Path, spec: DataFile) -> Path:
    """Return ``path`` if its size and sha256 match ``spec``; raise DatasetError otherwise."""
    size = path.stat().st_size
    if size != spec.size:
        problem = "truncated" if size < spec.size else "too large"
        raise DatasetError(
            f"{spec.name} at {path} is {problem}: {size:,} bytes, expected {spec.size:,} bytes "
            f"with sha256 {spec.sha256}. {_fix_hint(spec)}")
    actual = sha256_of(path)
    if actual != spec.sha256:
        raise DatasetError(
            f"{spec.name} at {path} is corrupt: sha256 {actual}, expected sha256 {spec.sha256}. "
            f"{_fix_hint(spec)}")
    return path


def _download(spec: DataFile, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{spec.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(spec.url, timeout=60) as resp:
            shutil.copyfileobj(resp, out)
        verify(tmp, spec)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _local_copies(spec: DataFile) -> list[tuple[str, Path]]:
    """Where a copy of ``spec`` may already be, labelled, in lookup order."""
    places = [(DATA_DIR_ENV, data_dir()), (_cache_label(), cache_dir())]
    return [(label, d / spec.relpath) for label, d in places if d is not None]


def locate(spec: DataFile, *, download: bool | None = None) -> tuple[Path, str]:
    """Find (or download) one file; return its verified path and where it came from.

    ``download`` defaults to :func:`downloads_allowed`. The first copy found is the one used:
    a corrupt copy raises rather than being skipped, so a damaged file never hides behind a
    good one.
    """
    copies = _local_copies(spec)
    for label, path in copies:
        if path.is_file():
            return verify(path, spec), label
    looked = ", ".join(str(p) for _, p in copies)
    missing = f"{spec.name} is missing (expected sha256 {spec.sha256}); looked in: {looked}"
    if not (downloads_allowed() if download is None else download):
        raise DatasetError(f"{missing}; downloads are disabled. {_fix_hint(spec)}")
    try:
        return _download(spec, cache_dir() / spec.relpath), "downloaded"
    except OSError as exc:
        raise DatasetError(
            f"{missing}; the download from {spec.url} failed ({exc}). {_fix_hint(spec)}"
        ) from exc


def _dataset(name: str) -> Dataset:
    if name not in REGISTRY:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[name]


def paths(name: str) -> dict[str, Path]:
    """Verified local paths of every file of dataset ``name``, keyed by file name."""
    return {spec.name: locate(spec)[0] for spec in _dataset(name).files}


def load(name: str) -> Arrays:
    """Load dataset ``name`` as ``(x_train, y_train), (x_test, y_test)`` numpy arrays."""
    return _dataset(name).loader(paths(name))


def check_all(*, download: bool | None = None) -> list[dict[str, str]]:
    """One row per registered file: dataset, file, where it was found, and 'ok' or the error.

    Used by notebook 00's data check; ``download`` is as for :func:`locate`. The rows show no
    host paths, only which place (COURSE_DATA_DIR, the project or user cache, a download) gave
    the file.
    """
    rows = []
    for dataset in REGISTRY.values():
        for spec in dataset.files:
            try:
                _, found_in = locate(spec, download=download)
                status = "ok (sha256 verified)"
            except DatasetError as exc:
                found_in, status = "-", str(exc)
            rows.append({"dataset": dataset.name, "file": spec.name,
                         "found in": found_in, "status": status})
    return rows
