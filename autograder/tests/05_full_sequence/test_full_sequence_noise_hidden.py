"""Hidden checks of full_sequence_noise: as many clips as frames, the ends of the schedule, one clip."""
# dfkit-canary: hidden-tests-05_full_sequence-full_sequence_noise

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_array, expect_close, shown
from autograder.protocol import is_tensor
from dfkit.diffusion.schedules import make_schedule
from dfkit.lessons.arguments import schedule_argument
from dfkit.lessons.full_sequence import full_sequence_noise as reference

pytestmark = pytest.mark.question("05_full_sequence.full_sequence_noise")
COURSE = make_schedule("cosine", 1000)


def tensor(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))


def check_against_reference(submission, clips, k, noise):
    call = describe_call("full_sequence_noise", clips=shown(clips), k=shown(k), noise=shown(noise), schedule=shown(COURSE))
    got = submission.full_sequence_noise(clips, k, noise, schedule_argument(COURSE))
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise AssertionError(f"{call}: expected a pair (x_k, levels), got {type(got).__name__}")
    x_k, levels = reference(clips.double(), k, noise.double(), COURSE)
    B, T = clips.shape[:2]
    if not is_tensor(got[1]) or got[1].shape != (B, T):
        shape = got[1].shape if is_tensor(got[1]) else type(got[1]).__name__
        raise AssertionError(f"{call}: expected levels of shape (B, T) = {(B, T)}, one level for every frame, got {shape}")
    if not np.issubdtype(got[1].dtype, np.integer):
        raise AssertionError(f"{call}: expected integer levels (they index the schedule), got dtype {got[1].dtype}")
    expect_array(got[1], levels.numpy(), call=call, name="levels", tensor=True)
    expect_close(got[0], x_k, call=call, name="x_k", levels=levels)


@pytest.mark.points(1)
def test_as_many_clips_as_frames(submission, rng):
    # B = T: levels laid along the frame axis have the right shape and the wrong values
    k = torch.tensor([3, 400, 1000, 77])
    check_against_reference(submission, tensor(rng, 4, 4, 1, 3, 3), k, tensor(rng, 4, 4, 1, 3, 3))


@pytest.mark.points(1)
def test_the_ends_of_the_schedule_and_one_clip(submission, rng):
    check_against_reference(submission, tensor(rng, 3, 2, 1, 4, 4), torch.tensor([0, 1, 1000]), tensor(rng, 3, 2, 1, 4, 4))
    check_against_reference(submission, tensor(rng, 1, 7, 1, 3, 3), torch.tensor([250]), tensor(rng, 1, 7, 1, 3, 3))
