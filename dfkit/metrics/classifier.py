"""A small digit classifier, the measuring instrument for generated digits.

It is trained on the ``classifier`` digit split, which is disjoint from the
digits generators train on (``train``) and from the held-out reference set
(``test``), so that neither a generator's memorized training digits nor the
reference digits were ever seen by the instrument. Its 64-dimensional
penultimate layer provides the features of the classifier-Fréchet distance.

Inputs are images in [0, 1], (B, 1, H, W) or (B, H, W); sizes other than 28×28
are resampled to 28×28. Training augments with small shifts, rotations, scalings
and blur (down- then up-sampling), so digits of 16×16 Moving-MNIST clips and the
slightly soft samples of small generators are read reliably.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

FEATURE_DIM = 64
CLASSIFIER_STEPS = 1500            # training steps of the reference classifier
CLASSIFIER_VERSION = 1             # part of its checkpoint's name: bump when the recipe changes


class DigitClassifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)    # (B, 16, 28, 28)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)   # (B, 32, 14, 14) after pooling
        self.conv3 = nn.Conv2d(32, 64, 3, padding=1)   # (B, 64, 7, 7)
        self.to_features = nn.Linear(64 * 3 * 3, FEATURE_DIM)
        self.to_logits = nn.Linear(FEATURE_DIM, 10)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        x = prepare(images)
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)     # (B, 16, 14, 14)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)     # (B, 32, 7, 7)
        x = F.max_pool2d(F.relu(self.conv3(x)), 2)     # (B, 64, 3, 3)
        return F.relu(self.to_features(x.flatten(1)))  # (B, 64)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.to_logits(self.features(images))   # (B, 10)


def prepare(images) -> torch.Tensor:
    """Float (B, 1, 28, 28) in [0, 1] from uint8 or float images (B, H, W) / (B, 1, H, W)."""
    x = torch.as_tensor(images)
    if x.dtype == torch.uint8:
        x = x.float() / 255.0
    x = x.float()
    if x.ndim == 3:
        x = x[:, None]
    if x.ndim != 4 or x.shape[1] != 1 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"expected square grayscale images of shape (B, 1, H, W) or (B, H, W), got {tuple(x.shape)}")
    if x.shape[-1] != 28:
        x = F.interpolate(x, size=(28, 28), mode="bilinear", align_corners=False, antialias=x.shape[-1] > 28)
    return x.clamp(0.0, 1.0)


def augment(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random affine jitter (±12°, ±2 px, ×0.85–1.15) and, for a third of the batch, blur by resampling."""
    b = images.shape[0]
    rand = lambda *shape: torch.rand(*shape, generator=generator)  # noqa: E731
    angle = (rand(b) - 0.5) * math.radians(24)
    scale = 0.85 + 0.3 * rand(b)
    shift = (rand(b, 2) - 0.5) * (4 / 14)              # ±2 px in normalized [-1, 1] coordinates
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    out = F.grid_sample(images, grid, align_corners=False, padding_mode="zeros")
    blurred = rand(b) < 1 / 3
    if blurred.any():
        small = F.interpolate(out[blurred], size=(16, 16), mode="bilinear", antialias=True, align_corners=False)
        out[blurred] = F.interpolate(small, size=(28, 28), mode="bilinear", align_corners=False)
    return out


def classifier_loss(model: DigitClassifier, batch, generator: torch.Generator) -> torch.Tensor:
    images, labels = batch
    return F.cross_entropy(model(augment(prepare(images), generator)), labels)


def train_classifier(steps: int = CLASSIFIER_STEPS, seed: int = 0, progress: bool = True, digit_source=None) -> tuple[DigitClassifier, float]:
    """Train on the ``classifier`` split with the course's training loop; return (model, test accuracy)."""
    from dfkit.data.digits import load_digits
    from dfkit.train import TrainConfig, train

    images, labels = load_digits("classifier", source=digit_source)
    data = torch.utils.data.TensorDataset(torch.from_numpy(images).float()[:, None] / 255.0, torch.from_numpy(labels))
    torch.manual_seed(seed)
    model = DigitClassifier()
    config = TrainConfig(steps=steps, batch_size=64, lr=2e-3, ema_decay=None, seed=seed, progress=progress, device="cpu")
    result = train(model, classifier_loss, data, config)
    model = result.model.eval()
    return model, accuracy(model, *load_digits("test", source=digit_source))


@torch.no_grad()
def accuracy(model: DigitClassifier, images, labels) -> float:
    predictions = predict_proba(model, images).argmax(1)
    return float((predictions == torch.as_tensor(labels)).float().mean())


@torch.no_grad()
def predict_proba(model: DigitClassifier, images, batch_size: int = 512) -> torch.Tensor:
    model.eval()
    parts = [F.softmax(model(images[i:i + batch_size]), dim=1) for i in range(0, len(images), batch_size)]
    return torch.cat(parts)


@torch.no_grad()
def extract_features(model: DigitClassifier, images, batch_size: int = 512) -> np.ndarray:
    model.eval()
    parts = [model.features(images[i:i + batch_size]) for i in range(0, len(images), batch_size)]
    return torch.cat(parts).double().numpy()


def classifier_path(digit_source=None) -> Path:
    """``<checkpoints>/shared/digit_classifier-<key>``: one classifier per digit source (the key hashes
    the source's description, so a classifier of the 5,000-digit subset never scores a run on the
    full MNIST)."""
    from dfkit.checkpoint import checkpoint_root
    from dfkit.data.cache import cache_key
    from dfkit.data.digits import describe_source

    key = cache_key("digit_classifier", {"digits": describe_source(digit_source), "version": CLASSIFIER_VERSION})
    return checkpoint_root() / "shared" / f"digit_classifier-{key}"


def load_classifier(path: Path) -> DigitClassifier:
    """The classifier checkpoint at ``path`` (sha256-verified); ValueError if it is not one."""
    from dfkit.checkpoint import load_weights, read_checkpoint

    weights, meta = read_checkpoint(path)
    if meta.get("model_class") != DigitClassifier.__name__:
        raise ValueError(f"checkpoint {path} holds a {meta.get('model_class')}, expected a {DigitClassifier.__name__}")
    return load_weights(DigitClassifier(), weights, source=f"checkpoint {path}").eval()


def get_classifier(progress: bool = True, digit_source=None, retrain: bool = False) -> DigitClassifier:
    """The trained classifier of the reference models (:func:`classifier_path`); trained and saved there
    the first time (or with ``retrain``) unless ``DFKIT_TRAINING=never``."""
    from dfkit.checkpoint import announce_training, refuse_training_unless_allowed, save_checkpoint
    from dfkit.data.digits import describe_source

    path = classifier_path(digit_source)
    if not retrain and path.with_suffix(".json").exists():
        return load_classifier(path)
    refuse_training_unless_allowed("the metric digit classifier", path)
    if progress:
        announce_training("the metric digit classifier", path, CLASSIFIER_STEPS)
    model, test_accuracy = train_classifier(steps=CLASSIFIER_STEPS, progress=progress, digit_source=digit_source)
    save_checkpoint(path, model, step=CLASSIFIER_STEPS,
                    extra_state={"test_accuracy": test_accuracy, "digits": describe_source(digit_source)})
    return model
