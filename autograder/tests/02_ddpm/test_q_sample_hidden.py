"""Hidden checks of q_sample: short schedules, both ends of each (level 0 included), batch of 1, batch as wide as the
image, float64."""
# dfkit-canary: hidden-tests-02_ddpm-q_sample

import pytest
import torch

from autograder.assignments import visible_checks
from autograder.expect import levels_with_both_ends
from dfkit.diffusion.schedules import make_schedule

pytestmark = pytest.mark.question("02_ddpm.q_sample")

VISIBLE = visible_checks(__file__)       # the visible tests of this question: their helpers
tensor = VISIBLE.tensor
check_against_reference = VISIBLE.check_against_reference

SHORT = (make_schedule("linear", 10), make_schedule("sigmoid", 20), make_schedule("cosine", 5))


@pytest.mark.points(1)
def test_short_schedules_and_other_shapes(submission, rng):
    for schedule in SHORT:
        for shape in ((3, 2, 3, 5), (9, 2), (2, 3, 4)):
            x0, noise = tensor(rng, *shape), tensor(rng, *shape)
            check_against_reference(submission, x0, levels_with_both_ends(rng, shape[0], schedule.num_levels), noise, schedule)
        # the exercise's levels run from 0 (clean: x_0 itself) to K
        x0, noise = tensor(rng, 3, 1, 3, 3), tensor(rng, 3, 1, 3, 3)
        check_against_reference(submission, x0, torch.tensor([0, schedule.num_levels, 0]), noise, schedule)


@pytest.mark.points(1)
def test_batch_of_one_and_batch_as_wide_as_the_image(submission, rng):
    for schedule in (make_schedule("cosine", 1000), SHORT[0]):
        x0, noise = tensor(rng, 1, 1, 5, 5), tensor(rng, 1, 1, 5, 5)
        check_against_reference(submission, x0, torch.tensor([schedule.num_levels]), noise, schedule)
        x0, noise = tensor(rng, 4, 1, 3, 4), tensor(rng, 4, 1, 3, 4)   # levels (4,) must not line up with the width
        check_against_reference(submission, x0, levels_with_both_ends(rng, 4, schedule.num_levels), noise, schedule)
    # x_k has the shape and dtype of x0: float64 data stays float64
    x0, noise = tensor(rng, 3, 1, 4, 4).double(), tensor(rng, 3, 1, 4, 4).double()
    check_against_reference(submission, x0, torch.tensor([0, 1, 600]), noise, make_schedule("cosine", 1000))
