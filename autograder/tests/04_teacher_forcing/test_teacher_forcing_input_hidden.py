"""Hidden checks of teacher_forcing_input: short schedules, both ends of the ladder, colour, float64, a batch of one, a
history whose dtype is not the target's."""
# dfkit-canary: hidden-tests-04_teacher_forcing-teacher_forcing_input

import numpy as np
import pytest
import torch

from autograder.assignments import visible_checks
from dfkit.diffusion.schedules import make_schedule

pytestmark = pytest.mark.question("04_teacher_forcing.teacher_forcing_input")

VISIBLE = visible_checks(__file__)       # the visible tests of this question: their helpers
tensor = VISIBLE.tensor
check_against_reference = VISIBLE.check_against_reference

SHORT = (make_schedule("linear", 10), make_schedule("sigmoid", 20), make_schedule("cosine", 5))


@pytest.mark.points(1)
def test_short_schedules_at_both_ends(submission, rng):
    for schedule in SHORT:
        K = schedule.num_levels
        k = torch.tensor([1, K, int(rng.integers(1, K + 1))])
        check_against_reference(submission, tensor(rng, 3, 2, 1, 3, 4), tensor(rng, 3, 1, 3, 4), k, schedule, tensor(rng, 3, 1, 3, 4))


@pytest.mark.points(1)
def test_colour_float64_and_a_batch_of_one(submission, rng):
    course = make_schedule("cosine", 1000)
    check_against_reference(submission, tensor(rng, 2, 4, 3, 2, 2, dtype=np.float64), tensor(rng, 2, 3, 2, 2, dtype=np.float64),
                            torch.tensor([3, 999]), course, tensor(rng, 2, 3, 2, 2, dtype=np.float64))
    check_against_reference(submission, tensor(rng, 1, 1, 1, 4, 4), tensor(rng, 1, 1, 4, 4), torch.tensor([500]), course,
                            tensor(rng, 1, 1, 4, 4))
    # the inputs are in the dtype of the target, whatever the history's
    history = tensor(rng, 2, 2, 1, 3, 3, dtype=np.float64)
    check_against_reference(submission, history, tensor(rng, 2, 1, 3, 3), torch.tensor([1, 800]), course, tensor(rng, 2, 1, 3, 3))
    check_against_reference(submission, history.float(), tensor(rng, 2, 1, 3, 3, dtype=np.float64), torch.tensor([1, 800]), course,
                            tensor(rng, 2, 1, 3, 3, dtype=np.float64))
