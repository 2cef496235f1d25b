"""Hidden checks of bernoulli_log_likelihood: logits of large magnitude, videos, a batch of one, float64."""
# dfkit-canary: hidden-tests-01_vae-bernoulli_log_likelihood

import numpy as np
import pytest
import torch

from autograder.assignments import visible_checks

pytestmark = pytest.mark.question("01_vae.bernoulli_log_likelihood")

VISIBLE = visible_checks(__file__)       # the visible tests of this question: their helpers
check_against_reference = VISIBLE.check_against_reference


def pixels(rng, shape, dtype=torch.float32, binary=False):
    values = rng.uniform(size=shape)
    return torch.from_numpy((values > 0.5).astype(float) if binary else values).to(dtype)


@pytest.mark.points(1)
def test_confident_logits_stay_finite(submission, rng):
    x = torch.tensor([[1.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.5, 0.5], [1.0, 1.0, 0.0, 0.0]])
    logits = torch.tensor([[-100.0, 100.0, 1000.0, -1000.0], [-30.0, 30.0, -200.0, 200.0], [20.0, 60.0, -60.0, -20.0]])
    check_against_reference(submission, x, logits)      # log σ(-100) = -100, not -inf: use the stable form
    check_against_reference(submission, pixels(rng, (2, 1, 3, 3), binary=True), torch.from_numpy(rng.normal(scale=80.0, size=(2, 1, 3, 3)).astype(np.float32)))


@pytest.mark.points(1)
def test_videos_a_batch_of_one_and_float64(submission, rng):
    check_against_reference(submission, pixels(rng, (2, 3, 1, 2, 2)), torch.from_numpy(rng.normal(scale=3.0, size=(2, 3, 1, 2, 2)).astype(np.float32)))
    check_against_reference(submission, pixels(rng, (1, 1, 4, 4), binary=True), torch.from_numpy(rng.normal(scale=3.0, size=(1, 1, 4, 4)).astype(np.float32)))
    check_against_reference(submission, pixels(rng, (3, 5), torch.float64), torch.from_numpy(rng.normal(scale=4.0, size=(3, 5))))
