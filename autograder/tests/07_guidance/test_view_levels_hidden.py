"""Hidden checks of view_levels: keep = all frames by number, one history frame, short ladders, k_f = 0 and K, the
levels' dtype kept (int64 and int32)."""
# dfkit-canary: hidden-tests-07_guidance-view_levels

import pytest
import torch

from autograder.assignments import visible_checks
from autograder.expect import describe_call

pytestmark = pytest.mark.question("07_guidance.view_levels")

VISIBLE = visible_checks(__file__)       # the visible tests of this question: their helpers
check_against_reference = VISIBLE.check_against_reference


def check_same_dtype(submission, levels, num_context, keep, level, num_levels):
    """The exercise: the view's levels have the shape and dtype of `levels`, int32 as well as int64."""
    got = check_against_reference(submission, levels, num_context, keep, level, num_levels)
    wanted = levels.numpy().dtype
    if got.dtype != wanted:
        call = describe_call("view_levels", levels=levels.numpy(), num_context=num_context, keep=keep, level=level,
                             num_levels=num_levels)
        raise AssertionError(f"{call}: expected the levels of the view in {wanted}, the dtype of `levels`, got dtype {got.dtype}")


@pytest.mark.points(1)
def test_edges_of_keep_and_level(submission, rng):
    levels = torch.cat([torch.full((3, 3), 20, dtype=torch.long), torch.from_numpy(rng.integers(0, 101, size=(3, 4)))], dim=1)
    for keep, level in ((3, None), (3, 20), (2, 100), (0, 50), (1, None)):
        check_against_reference(submission, levels, 3, keep, level, 100)
    one = torch.tensor([[0, 7, 10], [0, 10, 3]])
    for keep, level in ((None, None), (0, None), (1, 4), (None, 10)):
        check_against_reference(submission, one, 1, keep, level, 10)


@pytest.mark.points(1)
def test_history_levels_that_differ_and_no_generated_frame(submission, rng):
    levels = torch.tensor([[0, 50, 50, 50, 400], [50, 0, 50, 50, 1000]])
    for keep, level in ((None, None), (2, None), (3, 200), (0, None)):
        check_against_reference(submission, levels, 4, keep, level, 1000)
    history_only = torch.from_numpy(rng.integers(0, 60, size=(2, 5)))
    check_against_reference(submission, history_only, 5, 3, None, 1000)
    check_against_reference(submission, history_only, 5, 2, 500, 1000)
    # same shape and dtype as `levels`: masking and showing at a level must not change the integer type
    for dtype in (torch.long, torch.int32):
        for keep, level in ((None, None), (0, None), (2, 200), (None, 300)):
            check_same_dtype(submission, levels.to(dtype), 4, keep, level, 1000)
