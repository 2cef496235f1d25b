"""Visible checks of autoregressive_rollout: each new frame comes from the last `history` frames, its own included."""

import numpy as np
import pytest
import torch

from autograder.expect import Shown, describe_call, expect_array
from autograder.standins import ToyNextFrame
from dfkit.lessons.teacher_forcing import autoregressive_rollout as reference

pytestmark = pytest.mark.question("04_teacher_forcing.autoregressive_rollout")


def tensor(rng, *shape):
    return torch.from_numpy(rng.uniform(-1, 1, size=shape).astype(np.float32))


def known_mistakes(sampler, context, num_frames, history) -> dict:
    """What the catalogued wrong answers give on this call, by the concept each one misses."""

    def rollout(video, window_of):                       # video: frames so far (B, T, C, H, W)
        start = video.shape[1]
        for _ in range(num_frames):
            video = torch.cat([video, sampler(window_of(video))[:, None]], dim=1)
        return video[:, start:].numpy()

    context = context.double()
    fixed_window = context[:, -history:]
    mistakes = {
        "you sample every frame from the context's window: the window slides, so each new frame is sampled from "
        "the frames just generated": torch.stack([sampler(fixed_window) for _ in range(num_frames)], dim=1).numpy(),
        "you pass the window newest first: the sampler expects the last frames in time order, oldest first":
            rollout(context, lambda video: video[:, -history:].flip(1)),
    }
    if context.shape[1] > history:
        mistakes["you leave the newest frame out of the window: the next frame is sampled from the last `history` "
                 "frames, the newest included"] = rollout(context, lambda video: video[:, -history - 1:-1])
        mistakes["you start from the first frames of the context: the rollout continues from its last `history` "
                 "frames"] = rollout(context[:, :history], lambda video: video[:, -history:])
    return mistakes


def check_against_reference(submission, sampler, context, num_frames, history):
    call = describe_call("autoregressive_rollout", sample_next=sampler,
                         context=Shown(f"tensor of shape {tuple(context.shape)}"), num_frames=num_frames, history=history)
    call += (f"\n  (the stand-in sample_next accepts exactly the last {history} frames, oldest first, "
             f"and returns tanh(sum_j weights[j] * frame[t-1-j] + bias))")
    got = submission.autoregressive_rollout(sampler.as_argument(), context, num_frames, history)
    expected = reference(sampler, context.double(), num_frames, history)
    expect_array(got, expected.numpy(), call=call, name="the generated frames (B, num_frames, C, H, W)",
                 rtol=1e-4, atol=1e-5, tensor=True, mistakes=lambda: known_mistakes(sampler, context, num_frames, history))


@pytest.mark.visible
@pytest.mark.points(2)
def test_each_frame_is_sampled_from_the_frames_before_it(submission, rng):
    check_against_reference(submission, ToyNextFrame([0.9, -0.5], 0.1), tensor(rng, 2, 2, 1, 3, 3), 5, 2)
    check_against_reference(submission, ToyNextFrame([1.2], -0.2), tensor(rng, 3, 1, 1, 2, 2), 4, 1)


@pytest.mark.visible
@pytest.mark.points(1)
def test_a_longer_context_than_the_history(submission, rng):
    # only the last `history` frames of the context are shown to the sampler
    check_against_reference(submission, ToyNextFrame([0.7, 0.4], -0.3), tensor(rng, 2, 5, 1, 3, 3), 3, 2)
