"""Hidden checks of raise_level: one level up, short schedules, nothing moves (frames that stay come back exactly), a
batch of one."""
# dfkit-canary: hidden-tests-07_guidance-raise_level

import numpy as np
import pytest
import torch

from autograder.assignments import visible_checks
from autograder.expect import describe_call, shown
from dfkit.diffusion.schedules import make_schedule

pytestmark = pytest.mark.question("07_guidance.raise_level")

VISIBLE = visible_checks(__file__)       # the visible tests of this question: their helpers
tensor = VISIBLE.tensor
check_against_reference = VISIBLE.check_against_reference


def check_frames_that_stay_exact(submission, x, levels, target, noise, schedule):
    """The exercise: frames whose level does not change come back exactly as they were (not merely close)."""
    got = check_against_reference(submission, x, levels, target, noise, schedule)
    stay = (target == levels).numpy()
    if not np.array_equal(got.view(np.ndarray)[stay], x.numpy()[stay]):
        b, t = (int(i) for i in np.argwhere(stay & ~(got.view(np.ndarray) == x.numpy()).all(axis=(2, 3, 4)))[0])
        call = describe_call("raise_level", x=shown(x), levels=shown(levels), target_levels=shown(target), noise=shown(noise),
                             schedule=shown(schedule))
        raise AssertionError(f"{call}: sample {b}, frame {t} stays at level {int(levels[b, t])}, so it must come back exactly "
                             f"as it was; it differs in its last digits (compute it only for the frames that move, or keep x there)")


@pytest.mark.points(1)
def test_short_schedules_and_one_level_up(submission, rng):
    for schedule in (make_schedule("linear", 10), make_schedule("sigmoid", 20)):
        K = schedule.num_levels
        levels = torch.tensor([[1, 2, K - 1, 0], [3, 3, 0, K]])
        target = torch.tensor([[2, 2, K, 1], [K, 4, K // 2, K]])
        check_frames_that_stay_exact(submission, tensor(rng, 2, 4, 2, 2, 3), levels, target, tensor(rng, 2, 4, 2, 2, 3), schedule)


@pytest.mark.points(1)
def test_nothing_moves_and_a_batch_of_one(submission, rng):
    schedule = make_schedule("cosine", 1000)
    levels = torch.tensor([[50, 50, 900]])
    check_frames_that_stay_exact(submission, tensor(rng, 1, 3, 1, 4, 4), levels, levels.clone(), tensor(rng, 1, 3, 1, 4, 4), schedule)
    check_frames_that_stay_exact(submission, tensor(rng, 1, 3, 1, 4, 4), levels, torch.tensor([[999, 51, 900]]),
                                 tensor(rng, 1, 3, 1, 4, 4), schedule)
