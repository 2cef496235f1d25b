import dataclasses
import math

import numpy as np
import pytest
import torch

from dfkit.data.digits import load_digits
from dfkit.data.moving_mnist import MovingMNISTConfig, generate, render, resize_digits
from dfkit.metrics.classifier import prepare
from dfkit.metrics.video import (
    SSIM_K1, SSIM_K2, band_means, centroid_crops, crops_at_positions, digit_truth, format_markdown_table,
    identity_consistency, intensity_drift, per_frame_mse, per_frame_ssim, ssim, video_report,
)

CONFIG = MovingMNISTConfig(num_sequences=40, num_frames=16, canvas_size=32, num_digits=1, digit_size=16, speed=1.6)


class NearestDigit(torch.nn.Module):
    """A stand-in instrument that needs no training: the class of the nearest of the clips' own digits.

    It reads every test digit exactly, so the tests below check the metric (crops, location,
    comparison with the context class), not the accuracy of a classifier.
    """

    def __init__(self, digit_size: int):
        super().__init__()
        digits, labels = load_digits("test")
        self.references = prepare(torch.from_numpy(resize_digits(digits, digit_size)).float() / 255).flatten(1)
        self.labels = torch.from_numpy(labels)

    def forward(self, images):
        distances = torch.cdist(prepare(images).flatten(1), self.references) ** 2          # (N, M)
        return torch.stack([-distances[:, self.labels == c].min(1).values for c in range(10)], 1)


@pytest.fixture(scope="module")
def classifier():
    return NearestDigit(CONFIG.digit_size)


@pytest.fixture(scope="module")
def clips():
    return generate(CONFIG, "test")


def test_mse_is_summed_over_pixels_and_averaged_over_clips():
    target = np.random.default_rng(0).uniform(size=(3, 5, 1, 8, 8))
    np.testing.assert_array_equal(per_frame_mse(target, target), np.zeros(5))
    black = per_frame_mse(np.zeros_like(target), target)
    np.testing.assert_allclose(black, (target**2).sum(axis=(2, 3, 4)).mean(axis=0))
    np.testing.assert_allclose(per_frame_mse(np.zeros((2, 1, 1, 4, 4)), np.ones((2, 1, 1, 4, 4))), [16.0])
    uint8 = np.round(target * 255).astype(np.uint8)
    assert per_frame_mse(uint8, uint8.astype(np.float64) / 255).max() == 0


def _window():
    offsets = np.arange(11) - 5.0
    w = np.exp(-(offsets[:, None] ** 2 + offsets[None, :] ** 2) / (2 * 1.5**2))
    return w / w.sum()


def test_ssim_by_hand_on_one_window():
    c1, c2 = SSIM_K1**2, SSIM_K2**2
    # constant images: only the luminance term is left
    a, b = np.full((11, 11), 0.5), np.full((11, 11), 0.25)
    assert ssim(a, b) == pytest.approx((2 * 0.5 * 0.25 + c1) / (0.5**2 + 0.25**2 + c1), rel=1e-12)
    # a brightness shift keeps structure and contrast: SSIM = (2 μx μy + C1) / (μx² + μy² + C1)
    x = np.random.default_rng(0).uniform(0, 0.7, size=(11, 11))
    mu = (_window() * x).sum()
    assert ssim(x, x + 0.3) == pytest.approx((2 * mu * (mu + 0.3) + c1) / (mu**2 + (mu + 0.3) ** 2 + c1), rel=1e-10)
    # the negative 1 - x: same contrast, covariance -σ²
    var = (_window() * x**2).sum() - mu**2
    expected = (2 * mu * (1 - mu) + c1) / (mu**2 + (1 - mu) ** 2 + c1) * (-2 * var + c2) / (2 * var + c2)
    assert ssim(x, 1 - x) == pytest.approx(expected, rel=1e-10)


def test_ssim_properties():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(4, 32, 32))
    np.testing.assert_allclose(ssim(x, x), 1.0, atol=1e-12)
    y = np.clip(x + 0.1 * rng.standard_normal(x.shape), 0, 1)
    np.testing.assert_allclose(ssim(x, y), ssim(y, x), rtol=1e-12)
    scores = [ssim(x, np.clip(x + sigma * rng.standard_normal(x.shape), 0, 1)).mean() for sigma in (0.02, 0.1, 0.3)]
    assert 1 > scores[0] > scores[1] > scores[2]
    assert ssim(torch.from_numpy(x), torch.from_numpy(y)).shape == (4,)
    video = rng.uniform(size=(2, 3, 1, 16, 16))
    np.testing.assert_allclose(per_frame_ssim(video, video), np.ones(3))


def test_ssim_agrees_with_scikit_image_when_installed():
    metrics = pytest.importorskip("skimage.metrics")
    rng = np.random.default_rng(1)
    x = rng.uniform(size=(24, 40))
    y = np.clip(x + 0.2 * rng.standard_normal(x.shape), 0, 1)
    reference = metrics.structural_similarity(x, y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0)
    assert ssim(x, y) == pytest.approx(reference, abs=1e-12)


def test_band_means_cut_and_name_bands():
    values = np.arange(1, 25, dtype=float)                    # frame t has value t
    assert band_means(values) == {"1-10": 5.5, "11-24": 17.5}
    assert band_means(values[None].repeat(2, 0), ((2, 3),)) == {"2-3": 2.5}
    assert math.isnan(band_means(np.full(4, np.nan), ((1, 4),))["1-4"])


def test_markdown_table():
    rows = [{"method": "model", "MSE": 12.3456, "n": 3}, {"method": "all black", "MSE": float("nan")}]
    assert format_markdown_table(rows) == (
        "| method | MSE | n |\n|---|---|---|\n| model | 12.3 | 3 |\n| all black | — | — |"
    )
    assert format_markdown_table(rows, ["MSE"]).splitlines()[0] == "| MSE |"
    assert format_markdown_table([{"|x|": "a|b"}]).splitlines()[2] == "| a\\|b |"


def test_intensity_drift(clips):
    frames = clips["frames"]
    last = frames[:, 7]
    np.testing.assert_allclose(intensity_drift(np.repeat(last[:, None], 4, 1), last), 0.0)
    np.testing.assert_allclose(intensity_drift(np.zeros_like(frames[:, 8:]), last), -1.0)
    np.testing.assert_allclose(intensity_drift(0.5 * frames[:, 8:], last), -0.5, atol=1e-6)   # one digit keeps its ink


def test_crops_find_the_digit(clips):
    frames, positions = clips["frames"], clips["positions"]
    crops = crops_at_positions(frames, positions, 16)
    assert crops.shape == (40, 16, 1, 16, 16)
    # the crop holds all the ink of the frame
    np.testing.assert_allclose(crops.sum(axis=(2, 3, 4)), frames.sum(axis=(2, 3, 4)), rtol=1e-6)
    # located by centroid: within a pixel or two of the true box, and most of the ink
    centred = centroid_crops(frames, 16)
    assert (centred.sum(axis=(2, 3, 4)) > 0.9 * frames.sum(axis=(2, 3, 4))).mean() > 0.95


def _clip_with_digits(first, second, positions, switch):
    """Render one digit along each trajectory, image ``first`` before frame ``switch`` and ``second`` from it on."""
    before = render(first[:, None], positions[:, :switch], CONFIG.canvas_size)
    after = render(second[:, None], positions[:, switch:], CONFIG.canvas_size)
    return np.concatenate([before, after], axis=1).astype(np.float32) / 255


def _swapped_clips(positions):
    """Clips whose digit is replaced by one of another class at frame 8; returns (frames, first labels)."""
    digits, digit_labels = load_digits("test")
    digits = resize_digits(digits, CONFIG.digit_size)
    rng = np.random.default_rng(0)
    first = rng.integers(0, len(digits), size=len(positions))
    second = np.array([rng.choice(np.flatnonzero(digit_labels != digit_labels[i])) for i in first])
    return _clip_with_digits(digits[first], digits[second], positions, switch=8), digit_labels[first]


def _check_identity(classifier, clips, floor):
    frames, positions, labels = clips["frames"], clips["positions"], clips["labels"]
    by_positions = identity_consistency(frames, labels, 16, positions, classifier)
    by_centroid = identity_consistency(frames, labels[:, 0], 16, classifier=classifier)
    assert by_positions.shape == (16,) and by_positions.mean() > floor and by_centroid.mean() > floor
    swapped, first_labels = _swapped_clips(positions)
    consistency = identity_consistency(swapped, first_labels, 16, positions, classifier)
    assert consistency[:8].mean() > floor and consistency[8:].mean() < 0.25
    assert identity_consistency(swapped, first_labels, 16, classifier=classifier)[8:].mean() < 0.25


def test_identity_consistency_on_true_and_swapped_clips(classifier, clips):
    _check_identity(classifier, clips, floor=0.9)


def test_identity_consistency_with_the_trained_digit_classifier(clips, trained_digit_classifier):
    model, _ = trained_digit_classifier
    _check_identity(model, clips, floor=0.85)


def test_digit_truth_gives_positions_only_for_several_digits(clips):
    labels, positions = digit_truth(clips, start=6)
    assert np.array_equal(labels, clips["labels"]) and labels.shape == (40, 1) and positions is None
    two = generate(dataclasses.replace(CONFIG, num_sequences=4, num_digits=2), "test")
    labels, positions = digit_truth({key: torch.as_tensor(value) for key, value in two.items()}, start=6)
    assert labels.shape == (4, 2) and isinstance(labels, np.ndarray)
    assert np.array_equal(positions, np.asarray(two["positions"])[:, 6:]) and positions.shape == (4, 10, 2, 2)
    with pytest.raises(ValueError, match="'labels' and 'positions'"):
        digit_truth({"frames": clips["frames"]})


def test_report_rows_with_baselines(classifier, clips):
    frames, positions, labels = clips["frames"], clips["positions"], clips["labels"]
    context, target = frames[:, :6], frames[:, 6:]
    rows = video_report(target, target, context[:, -1], labels, positions[:, 6:], 16, classifier, bands=((1, 2), (3, 10)))
    rows = {row["method"]: row for row in rows}
    assert list(rows) == ["model", "copy last frame", "all black", "ground truth"]
    assert rows["model"]["MSE 1-2"] == 0 and rows["model"]["SSIM 3-10"] == pytest.approx(1.0)
    assert rows["copy last frame"]["MSE 1-2"] < rows["copy last frame"]["MSE 3-10"]
    assert rows["all black"]["MSE 1-2"] == pytest.approx(per_frame_mse(np.zeros_like(target), target)[:2].mean())
    assert rows["all black"]["abs intensity drift 3-10"] == 1.0 and rows["copy last frame"]["abs intensity drift 1-2"] == 0.0
    assert rows["ground truth"]["identity 3-10"] > 0.85 and rows["all black"]["identity 3-10"] < 0.3
    assert "| model |" in format_markdown_table(rows.values())


def test_bad_shapes_raise_clear_errors(clips):
    frames = clips["frames"]
    with pytest.raises(ValueError, match=r"frames of shape \(B, T, C, H, W\)"):
        per_frame_mse(frames[:, 0], frames[:, 0])
    with pytest.raises(ValueError, match="same shape"):
        per_frame_ssim(frames[:, :3], frames[:, :4])
    with pytest.raises(ValueError, match="H, W >= 11"):
        ssim(np.zeros((8, 8)), np.zeros((8, 8)))
    with pytest.raises(ValueError, match=r"positions of shape \(40, 16, D, 2\)"):
        crops_at_positions(frames, clips["positions"][:, :3], 16)
    with pytest.raises(ValueError, match="one digit"):
        identity_consistency(frames, np.zeros((40, 2), dtype=int), 16, classifier=object())
    with pytest.raises(ValueError, match=r"reference_frame of shape \(40, 1, 32, 32\)"):
        intensity_drift(frames, frames[:3, 0])
    with pytest.raises(ValueError, match="last_context_frame of shape"):
        video_report(frames, frames, frames[:, 0, 0])
    with pytest.raises(ValueError, match="digit_size"):
        video_report(frames, frames, frames[:, 0], labels=clips["labels"], classifier=object())
    with pytest.raises(ValueError, match=r"bands of 1-based"):
        band_means(np.zeros(5), ((0, 3),))
