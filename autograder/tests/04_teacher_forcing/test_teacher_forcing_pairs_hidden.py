"""Hidden checks of teacher_forcing_pairs: one pair (c = T - 1), colour frames, float64, a batch of one."""
# dfkit-canary: hidden-tests-04_teacher_forcing-teacher_forcing_pairs

import numpy as np
import pytest
import torch

from autograder.expect import Shown, describe_call, expect_array, expect_tuple
from dfkit.lessons.teacher_forcing import teacher_forcing_pairs as reference

pytestmark = pytest.mark.question("04_teacher_forcing.teacher_forcing_pairs")


def check_against_reference(submission, clips, context):
    call = describe_call("teacher_forcing_pairs", clips=Shown(f"{str(clips.dtype).replace('torch.', '')} tensor of shape {tuple(clips.shape)}"), context=context)
    got = expect_tuple(submission.teacher_forcing_pairs(clips, context), 2, call=call, names=("histories", "targets"))
    for name, value, expected in zip(("histories", "targets"), got, reference(clips, context)):
        expect_array(value, expected.numpy(), call=call, name=name, rtol=0, atol=0, tensor=True)
        if value.dtype != expected.numpy().dtype:
            raise AssertionError(f"{call}: expected {name} in {expected.dtype} like the clips, got dtype {value.dtype}")


@pytest.mark.points(1)
def test_longest_history_gives_one_pair(submission, rng):
    for frames in (2, 5):
        clips = torch.from_numpy(rng.standard_normal((2, frames, 1, 3, 3)).astype(np.float32))
        check_against_reference(submission, clips, frames - 1)


@pytest.mark.points(1)
def test_colour_frames_float64_and_a_batch_of_one(submission, rng):
    check_against_reference(submission, torch.from_numpy(rng.standard_normal((2, 7, 3, 2, 5))), 3)
    check_against_reference(submission, torch.from_numpy(rng.standard_normal((1, 4, 1, 3, 3)).astype(np.float32)), 1)
