"""Hidden checks of border_inconsistency: swings through the top, borders at the first and last possible frame, one clip."""
# dfkit-canary: hidden-tests-05_full_sequence-border_inconsistency

import math

import pytest

from autograder.assignments import visible_checks

pytestmark = pytest.mark.question("05_full_sequence.border_inconsistency")

VISIBLE = visible_checks(__file__)       # the visible tests of this question: their helpers
check_against_reference = VISIBLE.check_against_reference
swings = VISIBLE.swings
with_jumps = VISIBLE.with_jumps


@pytest.mark.points(1)
def test_swings_through_the_top(submission, rng):
    # angles cross ±π: the steps must be wrapped, or a 0.2 rad step reads as a 6 rad one
    borders = [4, 8]
    angles = with_jumps(rng, swings(rng, 3, 12, start=math.pi - 0.5, speed=0.2), borders, size=0.3)
    check_against_reference(submission, angles, borders)
    angles = with_jumps(rng, swings(rng, 2, 9, start=-math.pi + 0.4, speed=-0.25), [2, 6], size=0.3)
    check_against_reference(submission, angles, [2, 6])


@pytest.mark.points(1)
def test_first_and_last_frame_borders_and_one_clip(submission, rng):
    angles = with_jumps(rng, swings(rng, 1, 8), [2, 7])
    check_against_reference(submission, angles, [2, 7])
    angles = with_jumps(rng, swings(rng, 4, 6), [5])
    check_against_reference(submission, angles, [5])
