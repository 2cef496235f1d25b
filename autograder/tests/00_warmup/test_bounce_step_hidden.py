"""Hidden checks of bounce_step: batches of clips and digits, corners, other box sizes."""
# dfkit-canary: hidden-tests-00_warmup-bounce_step

import numpy as np
import pytest

from autograder.assignments import visible_checks

pytestmark = pytest.mark.question("00_warmup.bounce_step")

VISIBLE = visible_checks(__file__)       # the visible tests of this question: their helpers
check_against_reference = VISIBLE.check_against_reference

NAMES = ("position", "velocity", "hit_low", "hit_high")


@pytest.mark.points(1)
def test_batches_of_clips_and_digits(submission, rng):
    for limit in (36.0, 16.0, 3.0):
        position = rng.uniform(0.0, limit, size=(5, 2, 2))
        velocity = rng.uniform(-4.0, 4.0, size=(5, 2, 2))
        check_against_reference(submission, position, velocity, limit)


@pytest.mark.points(1)
def test_corners_flip_both_components(submission):
    position = np.array([[0.5, 0.5], [9.5, 9.5], [0.5, 9.5]])
    velocity = np.array([[-1.0, -2.0], [2.0, 1.0], [-1.0, 1.0]])
    check_against_reference(submission, position, velocity, 10.0)
    # landing exactly on a wall is not leaving the box: no bounce there
    check_against_reference(submission, np.array([[1.0, 9.0], [4.0, 5.0]]), np.array([[-1.0, 1.0], [1.0, -5.0]]), 10.0)
