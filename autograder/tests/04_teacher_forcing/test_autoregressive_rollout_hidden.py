"""Hidden checks of autoregressive_rollout: one frame, long rollouts past the context, three history frames, colour."""
# dfkit-canary: hidden-tests-04_teacher_forcing-autoregressive_rollout

import numpy as np
import pytest
import torch

from autograder.expect import Shown, describe_call, expect_array
from dfkit.lessons.teacher_forcing import ToyNextFrame
from dfkit.lessons.teacher_forcing import autoregressive_rollout as reference

pytestmark = pytest.mark.question("04_teacher_forcing.autoregressive_rollout")


def tensor(rng, *shape):
    return torch.from_numpy(rng.uniform(-1, 1, size=shape).astype(np.float32))


def check_against_reference(submission, sampler, context, num_frames, history):
    call = describe_call("autoregressive_rollout", sample_next=sampler,
                         context=Shown(f"tensor of shape {tuple(context.shape)}"), num_frames=num_frames, history=history)
    got = submission.autoregressive_rollout(sampler.as_argument(), context, num_frames, history)
    expected = reference(sampler, context.double(), num_frames, history)
    expect_array(got, expected.numpy(), call=call, name="the generated frames", rtol=1e-4, atol=1e-5, tensor=True)


@pytest.mark.points(1)
def test_one_frame_and_a_long_rollout(submission, rng):
    check_against_reference(submission, ToyNextFrame([0.8, -0.6, 0.3], 0.05), tensor(rng, 2, 3, 1, 2, 3), 1, 3)
    check_against_reference(submission, ToyNextFrame([1.1, -0.4, 0.2], 0.0), tensor(rng, 1, 4, 1, 2, 2), 12, 3)


@pytest.mark.points(1)
def test_colour_frames_and_history_one_of_many(submission, rng):
    check_against_reference(submission, ToyNextFrame([-0.9], 0.3), tensor(rng, 2, 4, 3, 2, 2), 6, 1)
