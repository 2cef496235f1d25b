import pytest
import torch

from dfkit.data.digits import load_digits
from dfkit.metrics.classifier import accuracy, prepare
from dfkit.metrics.images import class_coverage, score_digit_samples


@pytest.fixture(scope="module")
def classifier(trained_digit_classifier):
    model, test_accuracy = trained_digit_classifier
    assert test_accuracy > 0.9, f"the metric classifier reaches only {test_accuracy:.3f} on held-out digits"
    return model


def test_classifier_reads_shrunken_digits(classifier):
    images, labels = load_digits("test")
    small = torch.nn.functional.interpolate(prepare(images), size=(16, 16), mode="bilinear", antialias=True)
    assert accuracy(classifier, small, labels) > 0.85


def test_real_digits_score_like_the_floor_and_noise_does_not(classifier):
    train_images, _ = load_digits("train")
    held_out = torch.from_numpy(load_digits("classifier")[0][:500]).float()[:, None] / 255
    real = score_digit_samples(held_out, classifier)
    assert real["fid"] < 2.0 * real["fid_real_floor"] + 1.0
    assert real["coverage"] == 10 and real["confidence"] > 0.9
    assert 0.8 < real["nn_distance_ratio"] < 1.25 and real["near_copies"] < 0.05

    noise = torch.rand(500, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    bad = score_digit_samples(noise, classifier)
    assert bad["fid"] > 10 * real["fid"] + 10
    assert bad["coverage"] <= 3

    copies = torch.from_numpy(train_images[:500]).float()[:, None] / 255
    copied = score_digit_samples(copies, classifier)
    assert copied["near_copies"] > 0.99 and copied["nn_distance_ratio"] < 0.01


def test_class_coverage_counts_classes_with_a_fair_share():
    probabilities = torch.zeros(100, 10)
    probabilities[:97, 3] = 1
    probabilities[97:, 5] = 1                                    # 3% of samples
    assert class_coverage(probabilities) == 2
    assert class_coverage(probabilities, min_share=0.05) == 1


def test_bad_input(classifier):
    with pytest.raises(ValueError, match="square grayscale images"):
        score_digit_samples(torch.zeros(30, 3, 28, 28), classifier)
    with pytest.raises(ValueError, match="at least 20 samples"):
        score_digit_samples(torch.zeros(5, 1, 28, 28), classifier)
