"""Fréchet distance between two sets of feature vectors (the "FID" of Heusel et al., 2017).

Fit a Gaussian to each set and compute

    d² = ||μ₁ - μ₂||² + Tr(Σ₁ + Σ₂ - 2 (Σ₁ Σ₂)^{1/2}).

The trace of the matrix square root is computed from the symmetric matrix
Σ₁^{1/2} Σ₂ Σ₁^{1/2}, which has the same eigenvalues as Σ₁ Σ₂, so only symmetric
eigendecompositions in float64 are needed.

The estimate is biased upwards for small sample sizes, so a number is only
meaningful beside a real-versus-real floor computed with the same sample size.
"""

from __future__ import annotations

import numpy as np


def gaussian_fit(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and covariance (D, D) of features (N, D), in float64."""
    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or features.shape[0] < 2:
        raise ValueError(f"expected features of shape (N, D) with N >= 2, got {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """Squared Fréchet distance between Gaussians fitted to two feature sets (N, D) and (M, D)."""
    mean_a, cov_a = gaussian_fit(features_a)
    mean_b, cov_b = gaussian_fit(features_b)
    if mean_a.shape != mean_b.shape:
        raise ValueError(f"expected features of the same dimension, got {mean_a.shape[0]} and {mean_b.shape[0]}")
    root_a = _psd_sqrt(cov_a)
    middle = root_a @ cov_b @ root_a
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0.0, None)).sum()
    distance = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_sqrt
    return float(max(distance, 0.0))


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
