"""Hidden checks of reconstruction_guided_x0: per-frame levels, no or all frames known, zero weight."""
# dfkit-canary: hidden-tests-05_full_sequence-reconstruction_guided_x0

import pytest
import torch

from autograder.assignments import visible_checks
from dfkit.diffusion.schedules import make_schedule

pytestmark = pytest.mark.question("05_full_sequence.reconstruction_guided_x0")

VISIBLE = visible_checks(__file__)       # the visible tests of this question: their helpers
tensor = VISIBLE.tensor
check_against_reference = VISIBLE.check_against_reference
full_sequence_levels = VISIBLE.full_sequence_levels

COURSE = make_schedule("cosine", 1000)


@pytest.mark.points(1)
def test_each_frame_weighted_at_its_own_level(submission, rng):
    B, W = 3, 5
    levels = torch.from_numpy(rng.integers(0, 1001, size=(B, W)))
    check_against_reference(submission, tensor(rng, B, W, 1, 3, 3), tensor(rng, B, W, 1, 3, 3), levels, 2.0, 2)


@pytest.mark.points(1)
def test_no_known_frame_all_known_and_zero_weight(submission, rng):
    levels = full_sequence_levels(rng, 2, 4)
    for weight, a in ((1.5, 0), (1.5, 4), (0.0, 1), (0.25, 3)):
        check_against_reference(submission, tensor(rng, 2, 4, 1, 3, 3), tensor(rng, 2, 4, 1, 3, 3), levels, weight, a)
