"""Radially averaged power spectrum: the lens through which noise acts as a low-pass filter.

Natural images (digits, video frames) have power spectra that fall off roughly
as a power law, P(f) ∝ f^(-α). Gaussian noise is white: equal power at every
frequency. Adding noise at level k scales the signal power by ᾱ_k and adds a
flat floor of height (1 - ᾱ_k); the frequencies where ᾱ_k P(f) < 1 - ᾱ_k are
drowned first, and those are the high ones. So noising removes fine detail
before coarse structure, and denoising restores coarse structure first.
"""

from __future__ import annotations

import numpy as np


def radial_power_spectrum(images) -> tuple[np.ndarray, np.ndarray]:
    """Mean power per radial frequency of square images (..., H, W) (a leading channel axis is fine).

    Power is |FFT|² / (H W), so unit-variance white noise has power 1 at every frequency.
    Returns ``(frequencies, power)``: frequencies in cycles per pixel (1/H ... 1/2), power averaged
    over images and over the ring of each integer radius (the DC term is left out).
    """
    array = images.detach().cpu().numpy() if hasattr(images, "detach") else np.asarray(images)
    if array.ndim < 2 or array.shape[-1] != array.shape[-2]:
        raise ValueError(f"expected square images of shape (..., H, W), got {array.shape}")
    size = array.shape[-1]
    flat = array.reshape(-1, size, size).astype(np.float64)
    power = np.abs(np.fft.fft2(flat)) ** 2 / (size * size)
    power = power.mean(axis=0)
    index = np.fft.fftfreq(size) * size
    radius = np.round(np.hypot(index[:, None], index[None, :])).astype(int)
    rings = np.arange(1, size // 2 + 1)
    spectrum = np.array([power[radius == r].mean() for r in rings])
    return rings / size, spectrum
