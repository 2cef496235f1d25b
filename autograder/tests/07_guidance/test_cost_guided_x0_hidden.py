"""Hidden checks of cost_guided_x0: no history, scale 0, short schedules, one level per sample, the ends of the ladder."""
# dfkit-canary: hidden-tests-07_guidance-cost_guided_x0

import numpy as np
import pytest
import torch

from autograder.assignments import visible_checks
from dfkit.diffusion.schedules import make_schedule

pytestmark = pytest.mark.question("07_guidance.cost_guided_x0")

VISIBLE = visible_checks(__file__)       # the visible tests of this question: their helpers
frame_atol = VISIBLE.frame_atol
check_against_reference = VISIBLE.check_against_reference

SHORT = (make_schedule("linear", 10), make_schedule("cosine", 20))


def tensors(rng, shape):
    x0_hat = torch.from_numpy(rng.uniform(-1, 1, size=shape).astype(np.float32))
    gradient = torch.from_numpy(rng.standard_normal(shape).astype(np.float32))
    return x0_hat, gradient


@pytest.mark.points(1)
def test_no_history_and_scale_zero(submission, rng):
    schedule = make_schedule("cosine", 1000)
    x0_hat, gradient = tensors(rng, (2, 4, 1, 3, 3))
    levels = torch.from_numpy(rng.integers(1, 1001, size=(2, 4)))
    for weighting in ("classifier", "reconstruction"):
        check_against_reference(submission, x0_hat, gradient, levels, 0, 3.0, weighting, schedule)
    check_against_reference(submission, x0_hat, gradient, levels, 2, 0.0, "classifier", schedule)


@pytest.mark.points(1)
def test_short_schedules_levels_per_sample_and_both_ends(submission, rng):
    for schedule in SHORT:
        K = schedule.num_levels
        x0_hat, gradient = tensors(rng, (3, 5, 2, 2, 3))
        levels = torch.tensor([[0, 0, 1, K, 2], [0, 0, K, 1, K // 2], [0, 0, 3, 3, 3]])       # frames differ, samples differ
        for weighting in ("classifier", "reconstruction"):
            check_against_reference(submission, x0_hat, gradient, levels, 2, 1.5, weighting, schedule)
        x0_hat, gradient = tensors(rng, (1, 3, 1, 2, 2))
        check_against_reference(submission, x0_hat, gradient, torch.tensor([[1, 1, K]]), 1, 0.5, "classifier", schedule)
