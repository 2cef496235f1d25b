"""Hidden checks of ancestral_step: short schedules, both ends, other shapes, batch of 1."""
# dfkit-canary: hidden-tests-02_ddpm-ancestral_step

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_close, shown
from dfkit.diffusion.ddpm import ancestral_step as reference
from dfkit.diffusion.schedules import make_schedule
from dfkit.lessons.ddpm import schedule_argument

pytestmark = pytest.mark.question("02_ddpm.ancestral_step")
SHORT = (make_schedule("linear", 10), make_schedule("sigmoid", 20), make_schedule("cosine", 5))


def tensor(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))


def levels(rng, count, num_levels):
    """Random levels in 1..K, the two ends first when there is room."""
    k = rng.integers(1, num_levels + 1, size=count)
    k[: min(count, 2)] = [1, num_levels][: min(count, 2)]
    return torch.from_numpy(k)


def check_against_reference(submission, x_k, k, eps, noise, schedule):
    call = describe_call("ancestral_step", x_k=shown(x_k), k=k.numpy(), eps_prediction=shown(eps), schedule=shown(schedule), noise=shown(noise))
    got = submission.ancestral_step(x_k, k, eps, schedule_argument(schedule), noise=noise)
    expected = reference(x_k.double(), k, eps.double(), schedule, noise=noise.double())
    expect_close(got, expected, call=call, where=lambda b: f"level k = {int(k[b])}")


@pytest.mark.points(1)
def test_short_schedules_and_other_shapes(submission, rng):
    for schedule in SHORT:
        for shape in ((3, 2, 3, 5), (9, 2), (2, 3, 4)):
            k = levels(rng, shape[0], schedule.num_levels)
            check_against_reference(submission, tensor(rng, *shape), k, tensor(rng, *shape), tensor(rng, *shape), schedule)


@pytest.mark.points(1)
def test_batch_of_one_and_batch_as_wide_as_the_image(submission, rng):
    for schedule in (make_schedule("cosine", 1000), SHORT[0]):
        K = schedule.num_levels
        for level in (1, K):
            check_against_reference(submission, tensor(rng, 1, 1, 5, 5), torch.tensor([level]), tensor(rng, 1, 1, 5, 5),
                                    tensor(rng, 1, 1, 5, 5), schedule)
        check_against_reference(submission, tensor(rng, 4, 1, 3, 4), levels(rng, 4, K), tensor(rng, 4, 1, 3, 4),
                                tensor(rng, 4, 1, 3, 4), schedule)
