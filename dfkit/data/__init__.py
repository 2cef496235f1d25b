"""Datasets of the course, generated offline and cached on disk.

>>> from dfkit import data
>>> clips = data.load("pendulum", "train", num_sequences=256, image_size=16)
>>> clips[0]["frames"].shape           # (T, 1, H, W), floats in [0, 1]
torch.Size([32, 1, 16, 16])
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from torch.utils.data import Dataset

from dfkit.data import moving_mnist, pendulum
from dfkit.data.cache import DatasetCacheWarning, cached_arrays
from dfkit.data.digits import describe_source, load_digits

DATASETS = {
    "moving_mnist": (moving_mnist.MovingMNISTConfig, moving_mnist.SPLITS),
    "pendulum": (pendulum.PendulumConfig, pendulum.SPLITS),
}

__all__ = ["DATASETS", "ClipDataset", "DatasetCacheWarning", "load", "make_config", "load_digits"]


class ClipDataset(Dataset):
    """Video clips with their ground truth.

    Frames are kept as uint8 ``(N, T, 1, H, W)`` and returned as float32 in [0, 1].
    Item ``i`` is a dict: ``frames`` ``(T, 1, H, W)`` plus the ground-truth arrays of
    that clip (Moving-MNIST: positions, velocities, bounced, labels; pendulum: states, actions).
    """

    def __init__(self, name: str, split: str, config, arrays: dict[str, np.ndarray]):
        self.name, self.split, self.config = name, split, config
        self.frames_uint8 = torch.from_numpy(arrays["frames"])
        self.truth = {key: torch.from_numpy(value) for key, value in arrays.items() if key != "frames"}

    def __len__(self) -> int:
        return self.frames_uint8.shape[0]

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        item = {"frames": self.frames_uint8[index].float() / 255.0}
        item.update({key: value[index] for key, value in self.truth.items()})
        return item

    def frames(self, indices=None) -> torch.Tensor:
        """Float32 frames ``(N, T, 1, H, W)`` in [0, 1] of all clips, or of ``indices``."""
        selected = self.frames_uint8 if indices is None else self.frames_uint8[indices]
        return selected.float() / 255.0

    def __repr__(self) -> str:
        return f"ClipDataset({self.name!r}, {self.split!r}, clips={len(self)}, frames={tuple(self.frames_uint8.shape[1:])})"


def make_config(name: str, **params):
    """The config dataclass of dataset ``name`` with ``params`` overriding its defaults."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; expected one of {sorted(DATASETS)}")
    config_class, _ = DATASETS[name]
    fields = {field.name for field in dataclasses.fields(config_class)}
    unknown = sorted(set(params) - fields)
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown} for dataset {name!r}; expected some of {sorted(fields)}")
    config = config_class(**params)
    config.validate()
    return config


def load(name: str, split: str = "train", progress: bool = True, digit_source=None, **params) -> ClipDataset:
    """Load (generating and caching on first use) dataset ``name`` in ``split``.

    ``params`` are fields of the dataset's config: :class:`~dfkit.data.moving_mnist.MovingMNISTConfig`
    or :class:`~dfkit.data.pendulum.PendulumConfig`.
    """
    config = make_config(name, **params)
    _, splits = DATASETS[name]
    if split not in splits:
        raise ValueError(f"expected split to be one of {splits} for dataset {name!r}, got {split!r}")
    key_params = {"split": split, **dataclasses.asdict(config)}
    if name == "moving_mnist":
        key_params["digits"] = describe_source(digit_source)

        def build():
            return _quantize(moving_mnist.generate(config, split, digit_source=digit_source, progress=progress))
    else:
        def build():
            return _quantize(pendulum.generate(config, split, progress=progress))

    arrays = cached_arrays(name, key_params, build)
    return ClipDataset(name, split, config, arrays)


def _quantize(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Store frames as uint8 (exact for Moving-MNIST, within 1/510 for the anti-aliased pendulum)."""
    arrays = dict(arrays)
    arrays["frames"] = np.round(arrays["frames"] * 255.0).astype(np.uint8)
    return arrays
