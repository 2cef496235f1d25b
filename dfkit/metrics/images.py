"""Quality numbers for generated digits, each reported beside the value real digits get.

* classifier-Fréchet distance (FID computed on the digit classifier's features)
  between samples and the held-out ``test`` digits, with the real-versus-real
  floor: the same distance for as many real ``train`` digits (a perfect generator
  of the training distribution would score about the floor, not 0);
* mean classifier confidence (max softmax probability), samples and real;
* class coverage: how many of the ten classes receive at least a quarter of their
  fair share (2.5%) of the samples;
* memorization: each sample's pixel distance to its nearest training digit,
  against the same distance for held-out real digits. Copies of training digits
  show up as a ratio well below 1 and a high share of "near copies".
"""

from __future__ import annotations

import numpy as np
import torch

from dfkit.metrics.classifier import extract_features, get_classifier, predict_proba, prepare
from dfkit.metrics.frechet import frechet_distance


def class_coverage(probabilities: torch.Tensor, min_share: float = 0.025) -> int:
    """Number of classes predicted for at least ``min_share`` of the samples."""
    counts = torch.bincount(probabilities.argmax(1), minlength=10).float()
    return int((counts / counts.sum() >= min_share).sum())


def nearest_neighbour_distances(queries: torch.Tensor, references: torch.Tensor, chunk: int = 256) -> torch.Tensor:
    """Euclidean distance from each query image to its nearest reference image, both (N, 1, 28, 28)."""
    flat_refs = references.flatten(1)
    parts = [torch.cdist(queries[i:i + chunk].flatten(1), flat_refs).min(1).values for i in range(0, len(queries), chunk)]
    return torch.cat(parts)


def score_digit_samples(samples, classifier=None, seed: int = 0, digit_source=None) -> dict[str, float]:
    """Score generated digits (N, 1, H, W) in [0, 1]; every number has its real-data counterpart."""
    from dfkit.data.digits import load_digits

    samples = prepare(samples)
    if len(samples) < 20:
        raise ValueError(f"expected at least 20 samples to score, got {len(samples)}")
    classifier = classifier if classifier is not None else get_classifier(digit_source=digit_source)
    train_images = prepare(torch.from_numpy(load_digits("train", source=digit_source)[0]))
    test_images = prepare(torch.from_numpy(load_digits("test", source=digit_source)[0]))
    rng = np.random.default_rng(seed)
    real = train_images[torch.from_numpy(rng.choice(len(train_images), size=min(len(samples), len(train_images)), replace=False))]

    reference_features = extract_features(classifier, test_images)
    sample_probabilities = predict_proba(classifier, samples)
    real_probabilities = predict_proba(classifier, real)
    sample_nn = nearest_neighbour_distances(samples, train_images)
    real_nn = nearest_neighbour_distances(test_images, train_images)
    copy_threshold = torch.quantile(real_nn, 0.01)
    return {
        "samples": len(samples),
        "fid": frechet_distance(extract_features(classifier, samples), reference_features),
        "fid_real_floor": frechet_distance(extract_features(classifier, real), reference_features),
        "confidence": float(sample_probabilities.max(1).values.mean()),
        "confidence_real": float(real_probabilities.max(1).values.mean()),
        "coverage": class_coverage(sample_probabilities),
        "nn_distance_ratio": float(sample_nn.median() / real_nn.median()),
        "near_copies": float((sample_nn < copy_threshold).float().mean()),
    }
