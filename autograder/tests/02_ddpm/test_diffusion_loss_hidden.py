"""Hidden checks of diffusion_loss: short schedules, other shapes, batch of 1, batch as wide as the image."""
# dfkit-canary: hidden-tests-02_ddpm-diffusion_loss

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_array, shown
from dfkit.diffusion.ddpm import diffusion_loss as reference
from dfkit.diffusion.schedules import make_schedule
from dfkit.lessons.ddpm import ToyDenoiser, schedule_argument

pytestmark = pytest.mark.question("02_ddpm.diffusion_loss")
SHORT = (make_schedule("linear", 10), make_schedule("sigmoid", 20), make_schedule("cosine", 5))

# Relative tolerance: float32 arithmetic, and computing 1 - alpha_bar from alpha_bar (which loses digits
# near k = 1), stay well inside it; every catalogued mistake is far outside.
RTOL = 2e-3


def tensor(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))


def check_against_reference(submission, denoiser, x0, k, noise, schedule):
    call = describe_call("diffusion_loss", denoiser=denoiser, x0=shown(x0), schedule=shown(schedule), k=k.numpy(), noise=shown(noise))
    got = submission.diffusion_loss(denoiser.as_argument(), x0, schedule_argument(schedule), k=k, noise=noise)
    expected = reference(denoiser, x0.double(), schedule, "eps", k=k, noise=noise.double()).numpy()
    expect_array(got, expected, call=call, name="the loss", rtol=RTOL, atol=1e-7, tensor=True)
    if got.dtype != np.float32:
        raise AssertionError(f"{call}: expected the loss in float32 like the inputs, got dtype {got.dtype}")


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
