"""Hidden checks of diffusion_loss: short schedules, other shapes, batch of 1, batch as wide as the image."""
# dfkit-canary: hidden-tests-02_ddpm-diffusion_loss

import pytest
import torch

from autograder.assignments import visible_checks
from autograder.standins import ToyDenoiser
from dfkit.diffusion.schedules import make_schedule

pytestmark = pytest.mark.question("02_ddpm.diffusion_loss")

VISIBLE = visible_checks(__file__)       # the visible tests of this question: their helpers
tensor = VISIBLE.tensor
check_against_reference = VISIBLE.check_against_reference

SHORT = (make_schedule("linear", 10), make_schedule("sigmoid", 20), make_schedule("cosine", 5))

# Relative tolerance: float32 arithmetic, and computing 1 - alpha_bar from alpha_bar (which loses digits
# near k = 1), stay well inside it; every catalogued mistake is far outside.
RTOL = 2e-3


@pytest.mark.points(1)
def test_short_schedules_and_other_shapes(submission, rng):
    for schedule in SHORT:
        for shape in ((3, 2, 3, 5), (9, 2)):
            k = torch.from_numpy(rng.integers(1, schedule.num_levels + 1, size=shape[0]))
            denoiser = ToyDenoiser(rng.uniform(-1, 1), rng.uniform(0.5, 1.5))
            check_against_reference(submission, denoiser, tensor(rng, *shape), k, tensor(rng, *shape), schedule)


@pytest.mark.points(1)
def test_batch_of_one_and_batch_as_wide_as_the_image(submission, rng):
    for schedule in (make_schedule("cosine", 1000), SHORT[0]):
        K = schedule.num_levels
        check_against_reference(submission, ToyDenoiser(0.8, -0.6), tensor(rng, 1, 1, 5, 5), torch.tensor([K]), tensor(rng, 1, 1, 5, 5), schedule)
        k = torch.from_numpy(rng.integers(1, K + 1, size=4))
        check_against_reference(submission, ToyDenoiser(0.3, 1.1), tensor(rng, 4, 1, 3, 4), k, tensor(rng, 4, 1, 3, 4), schedule)
