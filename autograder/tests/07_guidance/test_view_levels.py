"""Visible checks of view_levels: the last `keep` history frames at the view's level, earlier ones at K, the rest as they were."""

import pytest
import torch

from autograder.expect import describe_call, expect_array
from dfkit.sequence.guidance import view_levels as reference

pytestmark = pytest.mark.question("07_guidance.view_levels")


def random_levels(rng, batch, context, frames, history_level, num_levels=1000):
    generated = torch.from_numpy(rng.integers(0, num_levels + 1, size=(batch, frames)))
    return torch.cat([torch.full((batch, context), history_level, dtype=torch.long), generated], dim=1)


def known_mistakes(levels, num_context, keep, level, num_levels) -> dict:
    """What the catalogued wrong answers give on this call, by the concept each one misses."""
    c, mistakes = num_context, {}
    history = levels[:, :c]
    shown = history if level is None else torch.full_like(history, level)
    if keep is not None and 0 < keep < c:
        first = torch.arange(c) < keep
        mistakes["you keep the first frames of the history: the view keeps the most recent ones, the last `keep`"] = \
            torch.cat([torch.where(first, shown, torch.full_like(history, num_levels)), levels[:, c:]], dim=1)
    if keep == 0:
        mistakes["you slice [-keep:] with keep = 0, which is [0:] and keeps everything: keep = 0 masks the whole "
                 "history"] = torch.cat([shown, levels[:, c:]], dim=1)
    if keep is not None and keep < c:
        mistakes["you mask at K - 1: a masked frame is pure noise, level K = num_levels"] = \
            reference(levels, c, keep, level, num_levels - 1)
    if level is None:
        mistakes["you read level None as level 0: None keeps the levels the history frames have now"] = \
            reference(levels, c, keep, 0, num_levels)
    else:
        wrong = reference(levels, c, keep, level, num_levels).clone()
        wrong[:, c:] = level
        mistakes["you give the view's level to the generated frames too: only the history is shown at it"] = wrong
    return {concept: value.numpy() for concept, value in mistakes.items()}


def check_against_reference(submission, levels, num_context, keep, level, num_levels):
    call = describe_call("view_levels", levels=levels.numpy(), num_context=num_context, keep=keep, level=level, num_levels=num_levels)
    expected = reference(levels, num_context, keep, level, num_levels)
    got = submission.view_levels(levels, num_context, keep, level, num_levels)
    expect_array(got, expected.numpy(), call=call, tensor=True, rtol=0, atol=0,
                 mistakes=lambda: known_mistakes(levels, num_context, keep, level, num_levels))
    return got


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
