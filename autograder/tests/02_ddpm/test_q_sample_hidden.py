"""Hidden checks of q_sample: short schedules, both ends of each, batch of 1, batch as wide as the image."""
# dfkit-canary: hidden-tests-02_ddpm-q_sample

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_close, shown
from dfkit.diffusion.ddpm import q_sample as reference
from dfkit.diffusion.schedules import make_schedule
from dfkit.lessons.ddpm import schedule_argument

pytestmark = pytest.mark.question("02_ddpm.q_sample")
SHORT = (make_schedule("linear", 10), make_schedule("sigmoid", 20), make_schedule("cosine", 5))


def tensor(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))


def levels(rng, count, num_levels):
    """Random levels in 1..K, the two ends first when there is room."""
    k = rng.integers(1, num_levels + 1, size=count)
    k[: min(count, 2)] = [1, num_levels][: min(count, 2)]
    return torch.from_numpy(k)


def check_against_reference(submission, x0, k, noise, schedule):
    call = describe_call("q_sample", x0=shown(x0), k=k.numpy(), noise=shown(noise), schedule=shown(schedule))
    got = submission.q_sample(x0, k, noise, schedule_argument(schedule))
    expected = reference(x0.double(), k, noise.double(), schedule)
    expect_close(got, expected, call=call, where=lambda b: f"level k = {int(k[b])}")


@pytest.mark.points(1)
def test_short_schedules_and_other_shapes(submission, rng):
    for schedule in SHORT:
        for shape in ((3, 2, 3, 5), (9, 2), (2, 3, 4)):
            x0, noise = tensor(rng, *shape), tensor(rng, *shape)
            check_against_reference(submission, x0, levels(rng, shape[0], schedule.num_levels), noise, schedule)


@pytest.mark.points(1)
def test_batch_of_one_and_batch_as_wide_as_the_image(submission, rng):
    for schedule in (make_schedule("cosine", 1000), SHORT[0]):
        x0, noise = tensor(rng, 1, 1, 5, 5), tensor(rng, 1, 1, 5, 5)
        check_against_reference(submission, x0, torch.tensor([schedule.num_levels]), noise, schedule)
        x0, noise = tensor(rng, 4, 1, 3, 4), tensor(rng, 4, 1, 3, 4)   # levels (4,) must not line up with the width
        check_against_reference(submission, x0, levels(rng, 4, schedule.num_levels), noise, schedule)
