"""Hidden checks of reparameterize: video latents, a batch of one, extreme log-variances, float64."""
# dfkit-canary: hidden-tests-01_vae-reparameterize

import pytest
import torch

from autograder.assignments import visible_checks

pytestmark = pytest.mark.question("01_vae.reparameterize")

VISIBLE = visible_checks(__file__)       # the visible tests of this question: their helpers
check_against_reference = VISIBLE.check_against_reference


def gaussians(rng, shape, dtype=torch.float32, spread=1.0):
    return tuple(torch.from_numpy(rng.normal(scale=s, size=shape)).to(dtype) for s in (1.0, spread, 1.0))


@pytest.mark.points(1)
def test_video_latents_and_a_batch_of_one(submission, rng):
    for shape in ((2, 5, 4), (1, 6), (1, 1), (3, 2, 2, 2)):
        check_against_reference(submission, *gaussians(rng, shape, spread=2.0))


@pytest.mark.points(1)
def test_extreme_log_variances_and_float64(submission, rng):
    mu, _, noise = gaussians(rng, (3, 4))
    logvar = torch.tensor([[-100.0, -30.0, 30.0, 100.0], [-60.0, 0.0, 60.0, 5.0], [-8.0, 8.0, -1.0, 1.0]])
    check_against_reference(submission, mu, logvar, noise)          # σ = exp(logvar / 2) never overflows here
    for shape in ((4, 3), (2, 3, 2)):
        check_against_reference(submission, *gaussians(rng, shape, dtype=torch.float64, spread=3.0))
