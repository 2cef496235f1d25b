"""Hidden checks of stabilized_history: k_small = 0 and K, short schedules, one history frame, a batch of one."""
# dfkit-canary: hidden-tests-06_diffusion_forcing-stabilized_history

import pytest

from autograder.assignments import visible_checks
from dfkit.diffusion.schedules import make_schedule

pytestmark = pytest.mark.question("06_diffusion_forcing.stabilized_history")

VISIBLE = visible_checks(__file__)       # the visible tests of this question: their helpers
tensor = VISIBLE.tensor
check_against_reference = VISIBLE.check_against_reference

COURSE = make_schedule("cosine", 1000)
SHORT = make_schedule("linear", 20)


@pytest.mark.points(1)
def test_both_ends_of_the_level_range(submission, rng):
    context, noise = tensor(rng, 2, 3, 1, 4, 4).clamp(-1, 1), tensor(rng, 2, 3, 1, 4, 4)
    for k_small in (0, 1000):
        for add_noise in (True, False):
            check_against_reference(submission, context, k_small, COURSE, noise, add_noise)


@pytest.mark.points(1)
def test_short_schedules_one_frame_and_a_batch_of_one(submission, rng):
    check_against_reference(submission, tensor(rng, 4, 1, 1, 3, 3).clamp(-1, 1), 3, SHORT, tensor(rng, 4, 1, 1, 3, 3), True)
    check_against_reference(submission, tensor(rng, 1, 5, 2, 2, 2).clamp(-1, 1), 7, SHORT, tensor(rng, 1, 5, 2, 2, 2), True)
    check_against_reference(submission, tensor(rng, 1, 2, 1, 3, 3).clamp(-1, 1), 7, SHORT, tensor(rng, 1, 2, 1, 3, 3), False)
