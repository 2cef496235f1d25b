"""Hidden checks of posterior_mean_variance: short schedules, both ends, other shapes, batch of 1."""
# dfkit-canary: hidden-tests-02_ddpm-posterior_mean_variance

import pytest
import torch

from autograder.assignments import visible_checks
from autograder.expect import levels_with_both_ends
from dfkit.diffusion.schedules import make_schedule

pytestmark = pytest.mark.question("02_ddpm.posterior_mean_variance")

VISIBLE = visible_checks(__file__)       # the visible tests of this question: their helpers
tensor = VISIBLE.tensor
check_against_reference = VISIBLE.check_against_reference

SHORT = (make_schedule("linear", 10), make_schedule("sigmoid", 20), make_schedule("cosine", 5))
NAMES = ("mean", "variance")


@pytest.mark.points(1)
def test_short_schedules_and_other_shapes(submission, rng):
    for schedule in SHORT:
        for shape in ((3, 2, 3, 5), (9, 2), (2, 3, 4)):
            k = levels_with_both_ends(rng, shape[0], schedule.num_levels)
            check_against_reference(submission, tensor(rng, *shape), tensor(rng, *shape), k, schedule)


@pytest.mark.points(1)
def test_batch_of_one_and_batch_as_wide_as_the_image(submission, rng):
    for schedule in (make_schedule("cosine", 1000), SHORT[0]):
        K = schedule.num_levels
        check_against_reference(submission, tensor(rng, 1, 1, 5, 5), tensor(rng, 1, 1, 5, 5), torch.tensor([K]), schedule)
        check_against_reference(submission, tensor(rng, 4, 1, 3, 4), tensor(rng, 4, 1, 3, 4), levels_with_both_ends(rng, 4, K), schedule)
