"""Hidden checks of gaussian_log_likelihood: scales given as tensors, a batch of one, videos, float64."""
# dfkit-canary: hidden-tests-01_vae-gaussian_log_likelihood

import pytest
import torch

from autograder.assignments import visible_checks

pytestmark = pytest.mark.question("01_vae.gaussian_log_likelihood")

VISIBLE = visible_checks(__file__)       # the visible tests of this question: their helpers
check_against_reference = VISIBLE.check_against_reference


def normal(rng, shape, dtype=torch.float32, scale=1.0):
    return torch.from_numpy(rng.normal(scale=scale, size=shape)).to(dtype)


@pytest.mark.points(1)
def test_scales_given_as_tensors(submission, rng):
    x, mean = normal(rng, (4, 3)), normal(rng, (4, 3))
    check_against_reference(submission, x, mean, normal(rng, (1, 3), scale=0.5))     # one scale per dimension
    check_against_reference(submission, x, mean, normal(rng, (4, 1), scale=0.5))     # one scale per example
    check_against_reference(submission, x, mean, normal(rng, (4, 3), scale=0.5))     # one scale per entry
    check_against_reference(submission, x, mean, torch.tensor(-0.3))                # a 0-d tensor


@pytest.mark.points(1)
def test_a_batch_of_one_videos_and_float64(submission, rng):
    check_against_reference(submission, normal(rng, (1, 5)), normal(rng, (1, 5)), 0.2)
    check_against_reference(submission, normal(rng, (2, 3, 1, 2, 2)), normal(rng, (2, 3, 1, 2, 2)), -1.0)
    x, mean = normal(rng, (3, 4), torch.float64), normal(rng, (3, 4), torch.float64)
    check_against_reference(submission, x, mean, -6.0)                                  # a very narrow Gaussian
    check_against_reference(submission, x, mean, normal(rng, (1, 4), torch.float64))
