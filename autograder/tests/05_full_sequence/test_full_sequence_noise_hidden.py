"""Hidden checks of full_sequence_noise: as many clips as frames, the ends of the schedule, one clip, float64 clips."""
# dfkit-canary: hidden-tests-05_full_sequence-full_sequence_noise

import pytest
import torch

from autograder.assignments import visible_checks
from dfkit.diffusion.schedules import make_schedule

pytestmark = pytest.mark.question("05_full_sequence.full_sequence_noise")

VISIBLE = visible_checks(__file__)       # the visible tests of this question: their helpers
tensor = VISIBLE.tensor
check_against_reference = VISIBLE.check_against_reference

COURSE = make_schedule("cosine", 1000)


@pytest.mark.points(1)
def test_as_many_clips_as_frames(submission, rng):
    # B = T: levels laid along the frame axis have the right shape and the wrong values
    k = torch.tensor([3, 400, 1000, 77])
    check_against_reference(submission, tensor(rng, 4, 4, 1, 3, 3), k, tensor(rng, 4, 4, 1, 3, 3))


@pytest.mark.points(1)
def test_the_ends_of_the_schedule_and_one_clip(submission, rng):
    check_against_reference(submission, tensor(rng, 3, 2, 1, 4, 4), torch.tensor([0, 1, 1000]), tensor(rng, 3, 2, 1, 4, 4))
    check_against_reference(submission, tensor(rng, 1, 7, 1, 3, 3), torch.tensor([250]), tensor(rng, 1, 7, 1, 3, 3))
    # x_k has the shape and dtype of the clips: float64 clips stay float64
    check_against_reference(submission, tensor(rng, 2, 3, 1, 3, 3).double(), torch.tensor([0, 700]), tensor(rng, 2, 3, 1, 3, 3).double())
