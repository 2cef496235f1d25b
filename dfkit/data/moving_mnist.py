"""Moving-MNIST videos (Srivastava et al., 2015), generated offline.

Each digit starts at a uniform position inside the canvas with a direction
drawn uniformly in [0, 2π) and moves with a constant speed (3.6 px/frame by
default, 10% of the 64 - 28 = 36 px range). When a digit would leave the
canvas, its position is clamped to the wall and the velocity component that hit
the wall is flipped. Digits are pasted at integer offsets (the floor of the
position) and overlapping digits are combined with ``max``.

The stochastic variant (Stochastic Moving-MNIST, Denton & Fergus, 2018) draws a
new random direction, pointing away from the wall, at every bounce. Until the
first bounce it is identical to the deterministic variant with the same seed.

Coordinates are ``(row, col)`` of the digit's top-left corner, in pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from dfkit.data.digits import load_digits

SPLITS = ("train", "test")
SPLIT_STREAM = {"train": 0, "test": 1}


@dataclass(frozen=True)
class MovingMNISTConfig:
    num_sequences: int = 10_000
    num_frames: int = 20
    canvas_size: int = 64
    num_digits: int = 2
    digit_size: int = 28
    speed: float = 3.6          # pixels per frame
    stochastic: bool = False    # new random direction at each bounce
    seed: int = 0

    def validate(self) -> None:
        if self.num_sequences < 1:
            raise ValueError(f"expected num_sequences >= 1, got {self.num_sequences}")
        if self.num_frames < 1:
            raise ValueError(f"expected num_frames >= 1, got {self.num_frames}")
        if self.num_digits < 1:
            raise ValueError(f"expected num_digits >= 1, got {self.num_digits}")
        if self.digit_size < 1:
            raise ValueError(f"expected digit_size >= 1, got {self.digit_size}")
        if self.digit_size > self.canvas_size:
            raise ValueError(
                f"expected digit_size <= canvas_size, got digit_size={self.digit_size} > canvas_size={self.canvas_size}"
            )
        if not self.speed >= 0:
            raise ValueError(f"expected speed >= 0 pixels per frame, got {self.speed}")


def generate(config: MovingMNISTConfig = MovingMNISTConfig(), split: str = "train", digit_source=None, progress: bool = False) -> dict[str, np.ndarray]:
    """Generate Moving-MNIST clips.

    Returns a dict of arrays:
        frames      float32 (N, T, 1, H, W) in [0, 1]
        positions   float32 (N, T, D, 2)    top-left corner (row, col); pasted at floor(position)
        velocities  float32 (N, T, D, 2)    velocity after the update that produced frame t
        bounced     bool    (N, T, D, 2)    the digit hit a wall along that axis at frame t
        labels      int64   (N, D)          digit classes
    Train clips use only the train digits, test clips only the test digits.
    """
    config.validate()
    if split not in SPLITS:
        raise ValueError(f"expected split to be one of {SPLITS}, got {split!r}")
    digits, digit_labels = load_digits(split, source=digit_source)
    digits = resize_digits(digits, config.digit_size)

    rng = np.random.default_rng([config.seed, SPLIT_STREAM[split]])
    bounce_rng = np.random.default_rng([config.seed, SPLIT_STREAM[split], 1])  # only the stochastic variant reads it
    n, t_len, d = config.num_sequences, config.num_frames, config.num_digits
    which = rng.integers(0, len(digits), size=(n, d))
    limit = float(config.canvas_size - config.digit_size)
    position = rng.uniform(0.0, limit, size=(n, d, 2))
    angle = rng.uniform(0.0, 2 * np.pi, size=(n, d))
    velocity = config.speed * np.stack([np.sin(angle), np.cos(angle)], axis=-1)  # (N, D, 2) as (row, col)

    positions = np.empty((n, t_len, d, 2))
    velocities = np.empty((n, t_len, d, 2))
    bounced = np.zeros((n, t_len, d, 2), dtype=bool)
    positions[:, 0], velocities[:, 0] = position, velocity
    for t in range(1, t_len):
        position, velocity, low, high = bounce_step(position, velocity, limit)
        hit = low | high
        if config.stochastic:
            velocity = _redirect_after_bounce(velocity, low, high, config.speed, bounce_rng)
        positions[:, t], velocities[:, t], bounced[:, t] = position, velocity, hit

    frames = render(digits[which], positions, config.canvas_size, progress=progress)
    return {
        "frames": frames.astype(np.float32) / 255.0,
        "positions": positions.astype(np.float32),
        "velocities": velocities.astype(np.float32),
        "bounced": bounced,
        "labels": digit_labels[which],
    }


def bounce_step(position: np.ndarray, velocity: np.ndarray, limit: float):
    """Advance digits by one frame inside the box [0, limit] along each axis.

    position, velocity: (..., 2) as (row, col). A coordinate that leaves the box is
    clamped to the wall it crossed and that velocity component flips sign; the other
    component is untouched. Returns ``(position, velocity, hit_low, hit_high)``,
    the last two boolean (..., 2) masks of the walls hit.
    """
    position = position + velocity
    low, high = position < 0.0, position > limit
    position = np.clip(position, 0.0, limit)
    velocity = np.where(low | high, -velocity, velocity)
    return position, velocity, low, high


def _redirect_after_bounce(velocity, low, high, speed, rng):
    """Stochastic Moving-MNIST: after a bounce, a fresh uniform direction that points away from the wall(s) hit."""
    hit_any = (low | high).any(axis=-1)  # (N, D)
    angle = rng.uniform(0.0, 2 * np.pi, size=hit_any.shape)
    fresh = speed * np.stack([np.sin(angle), np.cos(angle)], axis=-1)
    fresh = np.where(low, np.abs(fresh), fresh)      # hit the top/left wall: move down/right
    fresh = np.where(high, -np.abs(fresh), fresh)    # hit the bottom/right wall: move up/left
    return np.where(hit_any[..., None], fresh, velocity)


def render(digit_images: np.ndarray, positions: np.ndarray, canvas_size: int, progress: bool = False) -> np.ndarray:
    """Paste digits at floor(positions), combining overlaps with max.

    digit_images: uint8 (N, D, s, s); positions: (N, T, D, 2). Returns uint8 (N, T, 1, H, W).
    """
    n, t_len, d, _ = positions.shape
    size = digit_images.shape[-1]
    canvas = np.zeros((n, t_len, canvas_size, canvas_size), dtype=np.uint8)
    offsets = np.floor(positions).astype(np.int64)                      # (N, T, D, 2)
    frame_index = np.arange(t_len)[:, None, None]                        # (T, 1, 1)
    pixel = np.arange(size)
    sequences = range(n)
    if progress:
        from tqdm.auto import tqdm
        sequences = tqdm(sequences, desc="rendering Moving-MNIST", unit="clip")
    for i in sequences:
        for j in range(d):
            rows = offsets[i, :, j, 0][:, None, None] + pixel[None, :, None]  # (T, s, 1)
            cols = offsets[i, :, j, 1][:, None, None] + pixel[None, None, :]  # (T, 1, s)
            frame = canvas[i]
            frame[frame_index, rows, cols] = np.maximum(frame[frame_index, rows, cols], digit_images[i, j])
    return canvas[:, :, None]


def resize_digits(digits: np.ndarray, size: int) -> np.ndarray:
    """Resize uint8 (N, 28, 28) digits to (N, size, size) with area-averaging antialiasing."""
    if digits.shape[-1] == size:
        return digits
    images = torch.from_numpy(digits).float()[:, None]
    resized = torch.nn.functional.interpolate(images, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return resized[:, 0].round().clamp(0, 255).to(torch.uint8).numpy()


def load_standard_test_file(path: str | Path) -> dict[str, np.ndarray]:
    """Read the standard ``mnist_test_seq.npy`` (uint8 (20, 10000, 64, 64), time first).

    Returns ``{"frames": float32 (N, T, 1, H, W) in [0, 1]}``, the layout of :func:`generate`
    (positions and labels are not part of that file).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"expected the Moving-MNIST test file mnist_test_seq.npy at {path}")
    array = np.load(path, allow_pickle=False, mmap_mode="r")
    if array.ndim != 4 or array.shape[2] != array.shape[3]:
        raise ValueError(f"expected an array of shape (T, N, H, W) such as (20, 10000, 64, 64), got {array.shape}")
    frames = np.ascontiguousarray(np.asarray(array).transpose(1, 0, 2, 3))[:, :, None]
    return {"frames": frames.astype(np.float32) / 255.0}

