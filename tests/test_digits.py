import gzip

import numpy as np
import pytest

from dfkit.data import digits
from dfkit.data.digits import load_digits


def test_bundled_splits_are_stratified_disjoint_and_deterministic():
    counts = {"train": 300, "classifier": 100, "test": 100}
    seen = {}
    for split, per_class in counts.items():
        images, labels = load_digits(split)
        assert images.dtype == np.uint8 and images.shape == (10 * per_class, 28, 28)
        assert labels.dtype == np.int64
        np.testing.assert_array_equal(np.bincount(labels, minlength=10), per_class)
        assert images.max() > 200
        assert len(np.unique(labels[:50])) > 5, "rows must be shuffled, not sorted by label"
        seen[split] = {image.tobytes() for image in images}
        again, _ = load_digits(split)
        np.testing.assert_array_equal(images, again)
    assert not seen["train"] & seen["test"]
    assert not seen["train"] & seen["classifier"]
    assert not seen["classifier"] & seen["test"]


def _fake_mnist(rng, n):
    return rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8), rng.integers(0, 10, size=n).astype(np.uint8)


def _write_idx(path, array, images):
    header = (0x0803 if images else 0x0801).to_bytes(4, "big")
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    data = header + array.tobytes()
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)


def test_full_mnist_from_idx_folder(tmp_path):
    rng = np.random.default_rng(0)
    x_train, y_train = _fake_mnist(rng, 60)
    x_test, y_test = _fake_mnist(rng, 12)
    _write_idx(tmp_path / "train-images-idx3-ubyte.gz", x_train, True)
    _write_idx(tmp_path / "train-labels-idx1-ubyte", y_train, False)
    _write_idx(tmp_path / "t10k-images-idx3-ubyte", x_test, True)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", y_test, False)
    train, train_labels = load_digits("train", source=tmp_path)
    held, _ = load_digits("classifier", source=tmp_path)
    test, test_labels = load_digits("test", source=tmp_path)
    assert len(train) == 50 and len(held) == 10
    np.testing.assert_array_equal(test, x_test)
    np.testing.assert_array_equal(test_labels, y_test)
    together = {image.tobytes() for image in np.concatenate([train, held])}
    assert together == {image.tobytes() for image in x_train}


def test_full_mnist_from_npz_and_environment(tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    x_train, y_train = _fake_mnist(rng, 30)
    x_test, y_test = _fake_mnist(rng, 6)
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    monkeypatch.setenv("DFKIT_MNIST", str(path))
    images, labels = load_digits("test")
    np.testing.assert_array_equal(images, x_test)
    assert "full MNIST" in digits.describe_source()


def test_missing_or_malformed_sources_name_what_was_expected(tmp_path):
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        load_digits("train", source=tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        load_digits("train", source=tmp_path)  # an empty folder
    np.savez(tmp_path / "partial.npz", x_train=np.zeros((2, 28, 28), np.uint8))
    with pytest.raises(ValueError, match="y_train"):
        load_digits("train", source=tmp_path / "partial.npz")
    (tmp_path / "idx").mkdir()
    for name in digits.IDX_FILES.values():
        (tmp_path / "idx" / name).write_bytes(b"\x00\x00\x08\x03" + (5).to_bytes(4, "big") * 3 + b"\x00" * 7)
    with pytest.raises(ValueError, match="truncated"):
        load_digits("train", source=tmp_path / "idx")
    with pytest.raises(ValueError, match="expected split"):
        load_digits("validation")
