"""Pictures of clips: frame strips (PNG) and animations (GIF), without a display."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def as_numpy_clips(frames) -> np.ndarray:
    """Accept (N, T, 1, H, W) or (T, 1, H, W) arrays or tensors in [0, 1]; return float (N, T, H, W)."""
    array = frames.detach().cpu().numpy() if hasattr(frames, "detach") else np.asarray(frames)
    if array.ndim == 4:
        array = array[None]
    if array.ndim != 5 or array.shape[2] != 1:
        raise ValueError(f"expected frames of shape (N, T, 1, H, W) or (T, 1, H, W), got {array.shape}")
    return np.clip(array[:, :, 0], 0.0, 1.0)


def tile(frames, gap: int = 1) -> np.ndarray:
    """Lay clips out as a grid: one row per clip, one column per frame. Returns float (rows, cols) in [0, 1]."""
    clips = as_numpy_clips(frames)
    n, t, h, w = clips.shape
    grid = np.full((n * (h + gap) - gap, t * (w + gap) - gap), 0.5)
    for i in range(n):
        for j in range(t):
            grid[i * (h + gap): i * (h + gap) + h, j * (w + gap): j * (w + gap) + w] = clips[i, j]
    return grid


def _to_image(array: np.ndarray, scale: int):
    from PIL import Image

    pixels = np.round(np.clip(array, 0, 1) * 255).astype(np.uint8)
    pixels = np.kron(pixels, np.ones((scale, scale), dtype=np.uint8))
    return Image.fromarray(pixels, mode="L")


def save_strip(frames, path: str | Path, scale: int = 4) -> Path:
    """Write a PNG with one row per clip and one column per frame."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _to_image(tile(frames), scale).save(path)
    return path


def save_gif(frames, path: str | Path, fps: int = 8, scale: int = 4, gap: int = 1) -> Path:
    """Write an animated GIF playing all clips side by side."""
    clips = as_numpy_clips(frames)
    n, t, h, w = clips.shape
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    images = []
    for j in range(t):
        row = np.full((h, n * (w + gap) - gap), 0.5)
        for i in range(n):
            row[:, i * (w + gap): i * (w + gap) + w] = clips[i, j]
        images.append(_to_image(row, scale))
    images[0].save(path, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)
    return path
