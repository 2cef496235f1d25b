"""Hidden checks of swing_direction: all around the circle, 32 px frames, no motion at all."""
# dfkit-canary: hidden-tests-04_teacher_forcing-swing_direction

import pytest

from autograder.assignments import visible_checks

pytestmark = pytest.mark.question("04_teacher_forcing.swing_direction")

VISIBLE = visible_checks(__file__)       # the visible tests of this question: their helpers
frames = VISIBLE.frames
check_against_reference = VISIBLE.check_against_reference


@pytest.mark.points(1)
def test_all_around_the_circle_at_32_pixels(submission, rng):
    before = rng.uniform(-180, 180, size=16)
    step = rng.uniform(6, 40, size=16) * rng.choice([-1, 1], size=16)
    after = (before + step + 180) % 360 - 180
    check_against_reference(submission, before, after, size=32)


@pytest.mark.points(1)
def test_no_motion_is_zero(submission):
    check_against_reference(submission, [0.0, 30.0, -120.0, 179.0], [0.0, 30.0, -120.0, 179.0])
