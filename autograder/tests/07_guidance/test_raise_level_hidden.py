"""Hidden checks of raise_level: one level up, short schedules, nothing moves, a batch of one."""
# dfkit-canary: hidden-tests-07_guidance-raise_level

import pytest
import torch

from autograder.assignments import visible_checks
from dfkit.diffusion.schedules import make_schedule

pytestmark = pytest.mark.question("07_guidance.raise_level")

VISIBLE = visible_checks(__file__)       # the visible tests of this question: their helpers
tensor = VISIBLE.tensor
check_against_reference = VISIBLE.check_against_reference


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
