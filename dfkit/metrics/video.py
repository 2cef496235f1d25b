"""Video prediction metrics for Moving-MNIST rollouts, each reported beside trivial baselines.

A model sees context frames and predicts ``T`` more; ``frames`` and ``target`` below are the
predicted and the true continuation, both ``(B, T, C, H, W)`` in [0, 1] (uint8 is read as
0..255). Every number is a function of the frame index ``t = 1 … T`` and is summarized as a
mean over horizon bands (frames 1-10, 11-30, 31-100 by default).

* per-frame MSE, the published Moving-MNIST convention (Srivastava et al., 2015; PredRNN):
  the squared error **summed** over the pixels of a frame, on the 0-1 scale, averaged over clips:

      MSE_t = 1/B Σ_b Σ_{c,h,w} (x̂_{b,t,c,h,w} - x_{b,t,c,h,w})²

* SSIM (Wang, Bovik, Sheikh & Simoncelli, 2004), one pinned implementation (below);
* digit-identity consistency: the share of frames whose digit the classifier still reads as the
  context digit's class, with the classifier's floor on the true frames;
* total-intensity drift: Σ pixels of frame t relative to the last context frame, minus 1.

Baselines reported beside the model by :func:`video_report`: ``copy last frame`` (the last
context frame repeated), ``all black`` (zeros; its MSE is Σ x², its intensity drift -1) and
``ground truth`` (the true continuation itself: MSE 0, SSIM 1, and the instrument's floor for
identity). :func:`format_markdown_table` turns such rows into a markdown table.
"""

from __future__ import annotations

import math

import numpy as np
import torch

VIDEO_BANDS = ((1, 10), (11, 30), (31, 100))

# SSIM constants, pinned: the reference implementation of Wang et al. (2004).
SSIM_WINDOW = 11          # 11×11 Gaussian window …
SSIM_SIGMA = 1.5          # … with standard deviation 1.5 px, normalized to sum 1
SSIM_K1 = 0.01
SSIM_K2 = 0.03
SSIM_DATA_RANGE = 1.0     # frames on the 0-1 scale

# Locating a digit without its trajectory: pixels fainter than this are ignored.
CENTROID_INK_LEVEL = 0.1


# ---------------------------------------------------------------- inputs and summaries

def as_video(frames, name: str = "frames") -> np.ndarray:
    """float64 (B, T, C, H, W) in [0, 1] from a float array / tensor, or uint8 (divided by 255)."""
    array = frames.detach().cpu().numpy() if hasattr(frames, "detach") else np.asarray(frames)
    if array.ndim != 5:
        raise ValueError(f"expected {name} of shape (B, T, C, H, W), got {tuple(array.shape)}")
    if array.dtype == np.uint8:
        return array.astype(np.float64) / 255.0
    return array.astype(np.float64)


def _as_frame_batch(frames, like: np.ndarray, name: str) -> np.ndarray:
    """float64 (B, C, H, W) matching a (B, T, C, H, W) video ``like`` (uint8 divided by 255)."""
    array = frames.detach().cpu().numpy() if hasattr(frames, "detach") else np.asarray(frames)
    expected = (like.shape[0],) + like.shape[2:]
    if array.shape != expected:
        raise ValueError(f"expected {name} of shape {expected} (B, C, H, W), got {tuple(array.shape)}")
    return array.astype(np.float64) / 255.0 if array.dtype == np.uint8 else array.astype(np.float64)


def _same_shape(a: np.ndarray, b: np.ndarray, names: str) -> None:
    if a.shape != b.shape:
        raise ValueError(f"expected {names} of the same shape (B, T, C, H, W), got {a.shape} and {b.shape}")


def band_means(values, bands=VIDEO_BANDS) -> dict[str, float]:
    """Mean of per-frame values over horizon bands of 1-based, inclusive frame indices.

    values: (T,) or (B, T) (the mean then runs over clips too; NaNs are skipped). A band that
    runs past T is cut at T and named by the frames it really covers ("11-24"); a band that
    starts after T is left out. Returns {"first-last": mean}.
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        values = values[None]
    if values.ndim != 2:
        raise ValueError(f"expected per-frame values of shape (T,) or (B, T), got {values.shape}")
    num_frames = values.shape[1]
    summary = {}
    for first, last in bands:
        if not 1 <= first <= last:
            raise ValueError(f"expected bands of 1-based frame indices with first <= last, got ({first}, {last})")
        if first > num_frames:
            continue
        last = min(last, num_frames)
        band = values[:, first - 1:last]
        summary[f"{first}-{last}"] = float(np.nanmean(band)) if np.isfinite(band).any() else math.nan
    return summary


def format_markdown_table(rows, columns=None, digits: int = 3) -> str:
    """A markdown table with one line per row dict; ``columns`` defaults to every key, in first-seen order.

    Floats are written with ``digits`` significant digits, NaN or a missing entry as "—"; a "|"
    inside a name or value is escaped so that it cannot split a cell.
    """
    rows = list(rows)
    if columns is None:
        columns = list(dict.fromkeys(key for row in rows for key in row))

    def cell(value) -> str:
        if value is None or (isinstance(value, (float, np.floating)) and math.isnan(value)):
            return "—"
        if isinstance(value, (float, np.floating)):
            return f"{value:.{digits}g}"
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(cell(column) for column in columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row.get(column)) for column in columns) + " |" for row in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------- pixel metrics

def per_frame_mse(frames, target) -> np.ndarray:
    """MSE_t = 1/B Σ_b Σ_pixels (x̂ - x)² on the 0-1 scale (the Moving-MNIST convention). Returns (T,)."""
    frames, target = as_video(frames), as_video(target, "target")
    _same_shape(frames, target, "frames and target")
    return ((frames - target) ** 2).sum(axis=(2, 3, 4)).mean(axis=0)


def gaussian_line(size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA) -> torch.Tensor:
    """g[i] ∝ exp(-(i - c)² / 2σ²), c = (size - 1)/2, Σ g = 1. float64 (size,).

    The 2-D window is w[i, j] = g[i] g[j] ∝ exp(-((i - c)² + (j - c)²) / 2σ²).
    """
    offsets = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    line = torch.exp(-offsets**2 / (2 * sigma**2))
    return line / line.sum()


def _banded(line: torch.Tensor, size: int) -> torch.Tensor:
    """(size - k + 1, size) matrix M with M[i, i + j] = line[j]: M @ v is the valid correlation of v with line."""
    k = len(line)
    matrix = torch.zeros(size - k + 1, size, dtype=line.dtype)
    for j in range(k):
        matrix.diagonal(j)[:] = line[j]
    return matrix


def ssim(x, y) -> np.ndarray:
    """Structural similarity of image pairs, Wang et al. (2004), eq. 13, averaged over the SSIM map.

    x, y: (..., H, W) in [0, 1], same shape, H and W >= 11. With Gaussian-weighted local statistics
    (window w, 11×11, σ = 1.5, evaluated only where it fits inside the image, no padding)

        μ_x = w ⋆ x,   σ_x² = w ⋆ x² - μ_x²,   σ_xy = w ⋆ (x y) - μ_x μ_y
        SSIM = (2 μ_x μ_y + C1)(2 σ_xy + C2) / ((μ_x² + μ_y² + C1)(σ_x² + σ_y² + C2))

    with C1 = (0.01 L)², C2 = (0.03 L)², data range L = 1. Returns float64 of shape (...).
    For a (B, T, C, H, W) video this is one number per clip, frame and channel. The same numbers
    as scikit-image's ``structural_similarity(x, y, gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, data_range=1)``, whose border crop equals this valid window.
    """
    x = torch.as_tensor(x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)).double()
    y = torch.as_tensor(y.detach().cpu().numpy() if hasattr(y, "detach") else np.asarray(y)).double()
    if x.shape != y.shape:
        raise ValueError(f"expected two images of the same shape (..., H, W), got {tuple(x.shape)} and {tuple(y.shape)}")
    if x.ndim < 2 or min(x.shape[-2:]) < SSIM_WINDOW:
        raise ValueError(f"expected images of shape (..., H, W) with H, W >= {SSIM_WINDOW}, got {tuple(x.shape)}")
    leading, (height, width) = x.shape[:-2], x.shape[-2:]
    x, y = x.reshape(-1, height, width), y.reshape(-1, height, width)              # (N, H, W)
    # the Gaussian window is separable, w = g gᵀ, so the valid local mean w ⋆ z is G_H z G_Wᵀ with
    # G_n the banded (n - 10, n) matrix whose row i holds g at columns i … i + 10
    rows, cols = _banded(gaussian_line(), height), _banded(gaussian_line(), width)

    def local_mean(z):                                                              # (N, H - 10, W - 10)
        return rows @ z @ cols.T

    mu_x, mu_y = local_mean(x), local_mean(y)
    xx, yy, xy = local_mean(x * x), local_mean(y * y), local_mean(x * y)

    c1, c2 = (SSIM_K1 * SSIM_DATA_RANGE) ** 2, (SSIM_K2 * SSIM_DATA_RANGE) ** 2
    var_x = xx - mu_x**2
    var_y = yy - mu_y**2
    cov = xy - mu_x * mu_y
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return ssim_map.mean(dim=(1, 2)).reshape(leading).numpy()


def per_frame_ssim(frames, target) -> np.ndarray:
    """SSIM_t = mean over clips (and channels) of ssim(x̂_t, x_t). Returns (T,)."""
    frames, target = as_video(frames), as_video(target, "target")
    _same_shape(frames, target, "frames and target")
    return ssim(frames, target).mean(axis=(0, 2))


def intensity_drift(frames, reference_frame) -> np.ndarray:
    """Relative change of total intensity: Σ pixels(x̂_t) / Σ pixels(reference) - 1, per clip and frame.

    frames: (B, T, C, H, W); reference_frame: (B, C, H, W), usually the last context frame.
    Returns (B, T); NaN for a clip whose reference is empty. Fading predictions drift towards -1,
    smeared or brightened ones above 0; Moving-MNIST digits keep their ink, except while they overlap.
    """
    frames = as_video(frames)
    reference = _as_frame_batch(reference_frame, frames, "reference_frame")
    mass = frames.sum(axis=(2, 3, 4))                                   # (B, T)
    reference_mass = reference.sum(axis=(1, 2, 3))[:, None]             # (B, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(reference_mass > 0, mass / reference_mass - 1.0, math.nan)


# ---------------------------------------------------------------- digit identity

def crops_at_positions(frames, positions, digit_size: int) -> np.ndarray:
    """Cut each digit's box out of the frames: (B, T, C, H, W), positions (B, T, D, 2) -> (B, T, D, s, s).

    positions are top-left (row, col) corners as in :func:`dfkit.data.moving_mnist.generate`; the
    digit was pasted at their floor. Only channel 0 is used.
    """
    frames = as_video(frames)
    positions = np.asarray(positions)
    b, t = frames.shape[:2]
    if positions.ndim != 4 or positions.shape[:2] != (b, t) or positions.shape[-1] != 2:
        raise ValueError(f"expected positions of shape ({b}, {t}, D, 2) as (row, col), got {positions.shape}")
    size, canvas = int(digit_size), frames.shape[-1]
    if not 1 <= size <= min(frames.shape[-2:]):
        raise ValueError(f"expected 1 <= digit_size <= {min(frames.shape[-2:])}, got {digit_size}")
    corners = np.clip(np.floor(positions).astype(np.int64), 0, canvas - size)     # (B, T, D, 2)
    pixel = np.arange(size)
    rows = corners[..., 0, None, None] + pixel[:, None]                            # (B, T, D, s, 1)
    cols = corners[..., 1, None, None] + pixel[None, :]                            # (B, T, D, 1, s)
    clip_index = np.arange(b)[:, None, None, None, None]
    frame_index = np.arange(t)[None, :, None, None, None]
    return frames[:, :, 0][clip_index, frame_index, rows, cols]


def locate_digit(frames) -> np.ndarray:
    """Intensity centroid (row, col) of each frame, counting only pixels brighter than CENTROID_INK_LEVEL.

    frames: (B, T, C, H, W) -> (B, T, 1, 2) in pixel coordinates (pixel centres at i + ½); the centre of
    the canvas for an empty frame. Meant for one digit per frame: MNIST digits are centred by their
    centre of mass, so a box of the digit size around it recovers the digit.
    """
    frames = as_video(frames)
    ink = frames[:, :, 0] * (frames[:, :, 0] > CENTROID_INK_LEVEL)               # (B, T, H, W)
    height, width = ink.shape[-2:]
    mass = ink.sum(axis=(-2, -1))
    safe = np.where(mass > 0, mass, 1.0)
    row = (ink * (np.arange(height) + 0.5)[:, None]).sum(axis=(-2, -1)) / safe
    col = (ink * (np.arange(width) + 0.5)[None, :]).sum(axis=(-2, -1)) / safe
    row = np.where(mass > 0, row, height / 2)
    col = np.where(mass > 0, col, width / 2)
    return np.stack([row, col], axis=-1)[:, :, None]


def centroid_crops(frames, digit_size: int) -> np.ndarray:
    """Boxes of digit_size around each frame's intensity centroid: (B, T, C, H, W) -> (B, T, 1, s, s)."""
    corners = np.round(locate_digit(frames) - digit_size / 2)
    return crops_at_positions(frames, corners, digit_size)


def identity_consistency(frames, labels, digit_size: int, positions=None, classifier=None) -> np.ndarray:
    """Fraction of clips (and digits) whose digit in frame t is read as the context digit's class. Returns (T,).

    frames: (B, T, C, H, W); labels: (B,) or (B, D) classes of the context digits. With positions
    (B, T, D, 2) (the ground-truth trajectory) each digit is cropped at its true place, so a digit
    that wanders off its trajectory also counts as lost; without them the single digit of a
    one-digit clip is cropped around the intensity centroid (identity only). The crop is read by
    the digit classifier (:func:`dfkit.metrics.classifier.get_classifier` when none is given).
    Chance is about 0.1; the same call on the true frames gives the instrument's floor.
    """
    from dfkit.metrics.classifier import get_classifier, predict_proba

    frames = as_video(frames)
    labels = np.asarray(labels)
    if labels.ndim == 1:
        labels = labels[:, None]
    if labels.ndim != 2 or labels.shape[0] != frames.shape[0]:
        raise ValueError(f"expected labels of shape ({frames.shape[0]},) or ({frames.shape[0]}, D), got {np.asarray(labels).shape}")
    if positions is not None:
        if np.asarray(positions).shape[2:3] != labels.shape[1:2]:
            raise ValueError(f"expected positions (B, T, D, 2) with D = {labels.shape[1]} as in labels, got {np.asarray(positions).shape}")
        crops = crops_at_positions(frames, positions, digit_size)        # (B, T, D, s, s)
    elif labels.shape[1] == 1:
        crops = centroid_crops(frames, digit_size)                       # (B, T, 1, s, s)
    else:
        raise ValueError(f"without positions, digits are located by their centroid, which needs one digit "
                         f"per clip: expected labels of shape (B,) or (B, 1), got {labels.shape}")
    classifier = classifier if classifier is not None else get_classifier()
    flat = torch.from_numpy(crops.reshape(-1, 1, digit_size, digit_size)).float()
    predicted = predict_proba(classifier, flat).argmax(1).numpy().reshape(crops.shape[:3])  # (B, T, D)
    return (predicted == labels[:, None, :]).mean(axis=(0, 2))


def digit_truth(truth: dict, start: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
    """What :func:`identity_consistency` needs from a Moving-MNIST clip set's ``truth`` dict
    (``dfkit.data.load("moving_mnist", ...).truth``): the labels ``(B, D)`` and, with several digits
    per clip, their positions from frame ``start`` on ``(B, T - start, D, 2)``; with one digit
    ``None`` (it is found by its centroid, so a digit drawn off its trajectory still counts).
    """
    if "labels" not in truth or "positions" not in truth:
        raise ValueError(f"expected a Moving-MNIST truth dict with 'labels' and 'positions', got keys {sorted(truth)}")
    labels = np.asarray(truth["labels"])                                   # (B, D)
    positions = np.asarray(truth["positions"])[:, start:] if labels.shape[1] > 1 else None
    return labels, positions


# ---------------------------------------------------------------- one table row per rollout

def video_metrics(frames, target, last_context_frame, labels=None, positions=None, digit_size: int | None = None,
                  classifier=None, bands=VIDEO_BANDS, name: str = "model") -> dict:
    """One results row for a predicted continuation: band means of MSE, SSIM, identity and |intensity drift|.

    Columns "MSE a-b", "SSIM a-b", "identity a-b" (with labels) and "abs intensity drift a-b" per band.

    frames, target: (B, T, C, H, W); last_context_frame: (B, C, H, W). Identity is measured when
    labels (and digit_size) are given, cropping at positions when those are given too.
    """
    frames, target = as_video(frames), as_video(target, "target")
    _same_shape(frames, target, "frames and target")
    last = _as_frame_batch(last_context_frame, frames, "last_context_frame")
    row = {"method": name}
    row.update({f"MSE {band}": value for band, value in band_means(per_frame_mse(frames, target), bands).items()})
    row.update({f"SSIM {band}": value for band, value in band_means(per_frame_ssim(frames, target), bands).items()})
    if labels is not None:
        if digit_size is None:
            raise ValueError("expected digit_size (the config's digit_size) to measure digit identity")
        consistency = identity_consistency(frames, labels, digit_size, positions, classifier)
        row.update({f"identity {band}": value for band, value in band_means(consistency, bands).items()})
    drift = np.abs(intensity_drift(frames, last))
    row.update({f"abs intensity drift {band}": value for band, value in band_means(drift, bands).items()})
    return row


def video_report(frames, target, last_context_frame, labels=None, positions=None, digit_size: int | None = None,
                 classifier=None, bands=VIDEO_BANDS, name: str = "model") -> list[dict]:
    """Rows for the model and, measured the same way, ``copy last frame``, ``all black`` and ``ground truth``."""
    from dfkit.metrics.classifier import get_classifier

    frames, target = as_video(frames), as_video(target, "target")
    _same_shape(frames, target, "frames and target")
    last = _as_frame_batch(last_context_frame, frames, "last_context_frame")
    if labels is not None and classifier is None:
        classifier = get_classifier()
    candidates = {
        name: frames,
        "copy last frame": np.repeat(last[:, None], frames.shape[1], axis=1),
        "all black": np.zeros_like(frames),
        "ground truth": target,
    }
    return [video_metrics(clip, target, last, labels, positions, digit_size, classifier, bands, method)
            for method, clip in candidates.items()]
