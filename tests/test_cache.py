import warnings

import pytest
import torch

from dfkit import data
from dfkit.data.cache import DatasetCacheWarning, cache_dir

PARAMS = dict(num_sequences=6, num_frames=5, image_size=16)


def entry_files():
    return sorted(cache_dir().glob("pendulum-*.npz")), sorted(cache_dir().glob("pendulum-*.json"))


def test_load_returns_float_clips_with_ground_truth():
    clips = data.load("pendulum", "train", **PARAMS)
    assert len(clips) == 6
    item = clips[2]
    assert item["frames"].dtype == torch.float32 and item["frames"].shape == (5, 1, 16, 16)
    assert 0 <= item["frames"].min() and item["frames"].max() <= 1
    assert item["states"].shape == (5, 2) and item["actions"].shape == (5,)
    assert clips.frames().shape == (6, 5, 1, 16, 16)
    mm = data.load("moving_mnist", "test", num_sequences=3, num_frames=4, canvas_size=32, num_digits=1, digit_size=16, speed=1.6)
    assert mm[0]["labels"].shape == (1,) and mm[0]["positions"].shape == (4, 1, 2)


def test_second_load_reads_the_cache_and_gives_the_same_data(monkeypatch):
    first = data.load("pendulum", "train", **PARAMS)
    calls = []
    monkeypatch.setattr("dfkit.data.pendulum.generate", lambda *a, **k: calls.append(1))
    second = data.load("pendulum", "train", **PARAMS)
    assert not calls
    torch.testing.assert_close(first.frames(), second.frames())


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete_manifest", "garbage_manifest"])
def test_damaged_entry_is_regenerated_with_a_warning(damage):
    original = data.load("pendulum", "train", **PARAMS).frames()
    (npz,), (manifest,) = entry_files()
    if damage == "truncate":
        npz.write_bytes(npz.read_bytes()[: npz.stat().st_size // 2])
    elif damage == "flip":
        raw = bytearray(npz.read_bytes())
        raw[-100] ^= 0xFF                         # same size, different content
        npz.write_bytes(bytes(raw))
    elif damage == "delete_manifest":
        manifest.unlink()
    else:
        manifest.write_text("{not json")
    with pytest.warns(DatasetCacheWarning, match="regenerating"):
        reloaded = data.load("pendulum", "train", **PARAMS).frames()
    torch.testing.assert_close(reloaded, original)
    with warnings.catch_warnings():
        warnings.simplefilter("error")               # repaired: no warning the next time
        data.load("pendulum", "train", **PARAMS)


def test_different_parameters_never_share_an_entry():
    a = data.load("pendulum", "train", **PARAMS).frames()
    b = data.load("pendulum", "train", **{**PARAMS, "damping": 0.5}).frames()
    c = data.load("pendulum", "test", **PARAMS).frames()
    d = data.load("pendulum", "train", **{**PARAMS, "seed": 3}).frames()
    assert len(entry_files()[0]) == 4
    for other in (b, c, d):
        assert not torch.equal(a, other)


def test_no_partial_files_are_left_behind():
    data.load("pendulum", "train", **PARAMS)
    leftovers = [p for p in cache_dir().iterdir() if p.suffix == ".partial" or p.name.endswith(".partial")]
    assert not leftovers


def test_bad_requests_raise_clear_errors():
    with pytest.raises(ValueError, match="unknown dataset 'mnist3d'"):
        data.load("mnist3d", "train")
    with pytest.raises(ValueError, match="unknown parameter"):
        data.load("pendulum", "train", colour="red")
    with pytest.raises(ValueError, match="expected split"):
        data.load("pendulum", "valid", **PARAMS)
    with pytest.raises(ValueError, match="dt > 0"):
        data.load("pendulum", "train", dt=-0.1)
    with pytest.raises(FileNotFoundError, match="t10k-images"):
        data.load("moving_mnist", "train", digit_source="/no/such/mnist", num_sequences=2)
