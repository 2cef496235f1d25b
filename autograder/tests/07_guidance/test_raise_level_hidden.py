"""Hidden checks of raise_level: one level up, short schedules, nothing moves, a batch of one."""
# dfkit-canary: hidden-tests-07_guidance-raise_level

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_array, shown
from dfkit.diffusion.schedules import make_schedule
from dfkit.lessons.arguments import schedule_argument
from dfkit.lessons.guidance import raise_level as reference

pytestmark = pytest.mark.question("07_guidance.raise_level")


def tensor(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))


def check_against_reference(submission, x, levels, target, noise, schedule):
    call = describe_call("raise_level", x=shown(x), levels=shown(levels), target_levels=shown(target), noise=shown(noise),
                         schedule=shown(schedule))
    expected = reference(x.double(), levels, target, noise.double(), schedule).numpy()
    got = submission.raise_level(x, levels, target, noise, schedule_argument(schedule))
    expect_array(got, expected, call=call, tensor=True, rtol=1e-4, atol=1e-5)


@pytest.mark.points(1)
def test_short_schedules_and_one_level_up(submission, rng):
    for schedule in (make_schedule("linear", 10), make_schedule("sigmoid", 20)):
        K = schedule.num_levels
        levels = torch.tensor([[1, 2, K - 1, 0], [3, 3, 0, K]])
        target = torch.tensor([[2, 2, K, 1], [K, 4, K // 2, K]])
        check_against_reference(submission, tensor(rng, 2, 4, 2, 2, 3), levels, target, tensor(rng, 2, 4, 2, 2, 3), schedule)


@pytest.mark.points(1)
def test_nothing_moves_and_a_batch_of_one(submission, rng):
    schedule = make_schedule("cosine", 1000)
    levels = torch.tensor([[50, 50, 900]])
    check_against_reference(submission, tensor(rng, 1, 3, 1, 4, 4), levels, levels.clone(), tensor(rng, 1, 3, 1, 4, 4), schedule)
    check_against_reference(submission, tensor(rng, 1, 3, 1, 4, 4), levels, torch.tensor([[999, 51, 900]]),
                            tensor(rng, 1, 3, 1, 4, 4), schedule)
