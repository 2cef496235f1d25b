"""Hidden checks of autoregressive_rollout: one frame, long rollouts past the context, three history frames, colour."""
# dfkit-canary: hidden-tests-04_teacher_forcing-autoregressive_rollout

import pytest

from autograder.assignments import visible_checks
from autograder.standins import ToyNextFrame

pytestmark = pytest.mark.question("04_teacher_forcing.autoregressive_rollout")

VISIBLE = visible_checks(__file__)       # the visible tests of this question: their helpers
tensor = VISIBLE.tensor
check_against_reference = VISIBLE.check_against_reference


@pytest.mark.points(1)
def test_one_frame_and_a_long_rollout(submission, rng):
    check_against_reference(submission, ToyNextFrame([0.8, -0.6, 0.3], 0.05), tensor(rng, 2, 3, 1, 2, 3), 1, 3)
    check_against_reference(submission, ToyNextFrame([1.1, -0.4, 0.2], 0.0), tensor(rng, 1, 4, 1, 2, 2), 12, 3)


@pytest.mark.points(1)
def test_colour_frames_and_history_one_of_many(submission, rng):
    check_against_reference(submission, ToyNextFrame([-0.9], 0.3), tensor(rng, 2, 4, 3, 2, 2), 6, 1)
