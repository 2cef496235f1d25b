"""Hidden checks of teacher_forcing_pairs: one pair (c = T - 1), colour frames, float64, a batch of one."""
# dfkit-canary: hidden-tests-04_teacher_forcing-teacher_forcing_pairs

import numpy as np
import pytest
import torch

from autograder.assignments import visible_checks

pytestmark = pytest.mark.question("04_teacher_forcing.teacher_forcing_pairs")

VISIBLE = visible_checks(__file__)       # the visible tests of this question: their helpers
check_against_reference = VISIBLE.check_against_reference


@pytest.mark.points(1)
def test_longest_history_gives_one_pair(submission, rng):
    for frames in (2, 5):
        clips = torch.from_numpy(rng.standard_normal((2, frames, 1, 3, 3)).astype(np.float32))
        check_against_reference(submission, clips, frames - 1)


@pytest.mark.points(1)
def test_colour_frames_float64_and_a_batch_of_one(submission, rng):
    check_against_reference(submission, torch.from_numpy(rng.standard_normal((2, 7, 3, 2, 5))), 3)
    check_against_reference(submission, torch.from_numpy(rng.standard_normal((1, 4, 1, 3, 3)).astype(np.float32)), 1)
