"""Hidden checks of gaussian_kl: video latents, a batch of one, extreme log-variances, float64."""
# dfkit-canary: hidden-tests-01_vae-gaussian_kl

import numpy as np
import pytest
import torch

from autograder.assignments import visible_checks

pytestmark = pytest.mark.question("01_vae.gaussian_kl")

VISIBLE = visible_checks(__file__)       # the visible tests of this question: their helpers
check_against_reference = VISIBLE.check_against_reference


def latents(rng, shape, dtype=torch.float32):
    mu = torch.from_numpy(rng.normal(size=shape)).to(dtype)
    logvar = torch.from_numpy(rng.normal(scale=2.0, size=shape)).to(dtype)
    return mu, logvar


@pytest.mark.points(1)
def test_video_latents_and_a_batch_of_one(submission, rng):
    for shape in ((2, 5, 4), (1, 8), (1, 1), (3, 2, 2, 3)):      # summed over everything but the batch dimension
        check_against_reference(submission, *latents(rng, shape))


@pytest.mark.points(1)
def test_extreme_log_variances_and_float64(submission, rng):
    mu = torch.from_numpy(rng.normal(size=(3, 4)).astype(np.float32))
    logvar = torch.tensor([[-100.0, -120.0, -90.0, 0.5], [30.0, 60.0, -2.0, 1.0], [-8.0, 8.0, -1.0, 1.0]])   # exp(-120) is 0 in float32
    check_against_reference(submission, mu, logvar)
    for shape in ((5, 3), (2, 4, 2)):
        check_against_reference(submission, *latents(rng, shape, dtype=torch.float64))
