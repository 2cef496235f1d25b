"""Visible checks of view_levels: the last `keep` history frames at the view's level, earlier ones at K, the rest as they were."""

import pytest
import torch

from autograder.expect import describe_call, expect_array
from dfkit.lessons.guidance import view_levels as reference

pytestmark = pytest.mark.question("07_guidance.view_levels")


def random_levels(rng, batch, context, frames, history_level, num_levels=1000):
    generated = torch.from_numpy(rng.integers(0, num_levels + 1, size=(batch, frames)))
    return torch.cat([torch.full((batch, context), history_level, dtype=torch.long), generated], dim=1)


def check_against_reference(submission, levels, num_context, keep, level, num_levels):
    call = describe_call("view_levels", levels=levels.numpy(), num_context=num_context, keep=keep, level=level, num_levels=num_levels)
    expected = reference(levels, num_context, keep, level, num_levels)
    got = submission.view_levels(levels, num_context, keep, level, num_levels)
    expect_array(got, expected.numpy(), call=call, tensor=True, rtol=0, atol=0)


@pytest.mark.visible
@pytest.mark.points(1)
def test_conditional_and_unconditional_views(submission, rng):
    levels = random_levels(rng, 2, 3, 2, history_level=0)
    check_against_reference(submission, levels, 3, None, None, 1000)     # ε(h): the window as it is
    check_against_reference(submission, levels, 3, 0, None, 1000)        # ε(∅): the whole history masked


@pytest.mark.visible
@pytest.mark.points(2)
def test_last_frames_kept_and_fractional_levels(submission, rng):
    levels = random_levels(rng, 2, 4, 3, history_level=50)
    check_against_reference(submission, levels, 4, 2, None, 1000)        # the two most recent history frames
    check_against_reference(submission, levels, 4, None, 300, 1000)      # fractional: all of it at k_f = 300
    check_against_reference(submission, levels, 4, 1, 600, 1000)
