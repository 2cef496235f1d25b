"""Pictures of clips: frame strips (PNG), animations (GIF) and matplotlib figures of frames, without a display."""

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


def _row_frames(frames) -> np.ndarray:
    """One row of ``show_clips``: (T, C, H, W) or (T, H, W) frames, array or tensor -> numpy (T, H, W)."""
    array = frames.detach().cpu().numpy() if hasattr(frames, "detach") else np.asarray(frames)
    return array[:, 0] if array.ndim == 4 else array


def show_clips(rows: dict, title: str | None = None, size: float | tuple[float, float] = 0.8,
               margin: tuple[float, float] = (2.2, 0.5), labels: dict | None = None, highlight=None,
               max_frames: int | None = None, film: bool = False):
    """A matplotlib figure with one row of frames per entry of ``rows`` ({name: (T, C, H, W) frames in [0, 1]}).

    Rows may differ in length; the name stands left of its row. The figure is ``size`` inches per
    frame (one number, or (width, height)) plus ``margin`` (width, height) inches for the names and
    the title. ``labels`` {name: one value per frame} writes a small title above each frame of that
    row; frames whose index is in ``highlight`` are framed in orange; ``max_frames`` cuts each row.
    ``film`` sets the frames close together without frame lines (the highlighted ones keep theirs),
    otherwise matplotlib's tight layout spaces them.
    """
    import matplotlib.pyplot as plt

    width, height = size if isinstance(size, tuple) else (size, size)
    rows = {name: _row_frames(frames)[:max_frames] for name, frames in rows.items()}
    columns = max(len(frames) for frames in rows.values())
    figure, axes = plt.subplots(len(rows), columns, figsize=(width * columns + margin[0], height * len(rows) + margin[1]),
                                squeeze=False)
    for r, (name, frames) in enumerate(rows.items()):
        for t in range(columns):
            ax = axes[r, t]
            ax.set_xticks([])
            ax.set_yticks([])
            if t >= len(frames):
                ax.axis("off")
                continue
            ax.imshow(np.clip(frames[t], 0, 1), cmap="gray", vmin=0, vmax=1)
            if labels and name in labels:
                ax.set_title(str(labels[name][t]), fontsize=7, pad=2)
            framed = highlight is not None and t in highlight
            for spine in ax.spines.values():
                if framed:
                    spine.set_color("tab:orange")
                    spine.set_linewidth(2)
                elif film:
                    spine.set_visible(False)
        axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    if title:
        figure.suptitle(title, fontsize=10)
    if film:
        figure.subplots_adjust(wspace=0.05, hspace=0.1, left=0.18)
    else:
        figure.tight_layout()
    return figure
