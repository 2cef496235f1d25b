"""Hidden checks of cost_guided_x0: no history, scale 0, short schedules, one level per sample, the ends of the ladder."""
# dfkit-canary: hidden-tests-07_guidance-cost_guided_x0

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_array, shown
from dfkit.diffusion.schedules import make_schedule
from dfkit.lessons.arguments import schedule_argument
from dfkit.lessons.guidance import cost_guided_x0 as reference

pytestmark = pytest.mark.question("07_guidance.cost_guided_x0")
SHORT = (make_schedule("linear", 10), make_schedule("cosine", 20))


def tensors(rng, shape):
    x0_hat = torch.from_numpy(rng.uniform(-1, 1, size=shape).astype(np.float32))
    gradient = torch.from_numpy(rng.standard_normal(shape).astype(np.float32))
    return x0_hat, gradient


def frame_atol(expected):
    """An absolute tolerance per frame, relative to that frame's largest value (λ_k spans many decades)."""
    return 1e-5 * np.abs(expected).max(axis=(2, 3, 4), keepdims=True) + 1e-7


def check_against_reference(submission, x0_hat, gradient, levels, num_context, scale, weighting, schedule):
    call = describe_call("cost_guided_x0", x0_hat=shown(x0_hat), gradient=shown(gradient), levels=shown(levels),
                         num_context=num_context, scale=scale, weighting=weighting, schedule=shown(schedule))
    expected = reference(x0_hat.double(), gradient.double(), levels, num_context, scale, weighting, schedule).numpy()
    got = submission.cost_guided_x0(x0_hat, gradient, levels, num_context, scale, weighting, schedule_argument(schedule))
    expect_array(got, expected, call=call, tensor=True, rtol=1e-3, atol=frame_atol(expected))


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
