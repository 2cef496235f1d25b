"""Visible checks of teacher_forcing_pairs: histories[b, i] = clips[b, i:i+c], targets[b, i] = clips[b, i+c]."""

import numpy as np
import pytest
import torch

from autograder.expect import Shown, describe_call, expect_array, expect_tuple
from dfkit.lessons.teacher_forcing import teacher_forcing_pairs as reference

pytestmark = pytest.mark.question("04_teacher_forcing.teacher_forcing_pairs")


def numbered_clips(batch, frames, shape=(1, 2, 2)):
    """Clips whose frame t of clip b holds the number 100 b + t everywhere: a wrong frame shows by its number."""
    values = 100 * torch.arange(batch)[:, None] + torch.arange(frames)[None]          # (B, T)
    return values.reshape(batch, frames, 1, 1, 1).expand(batch, frames, *shape).float().contiguous()


def known_mistakes(clips, context) -> tuple[dict, dict]:
    """What the catalogued wrong answers give on this call: (mistakes of the histories, of the targets)."""
    T = clips.shape[1]
    late = torch.stack([clips[:, i + 1:i + 1 + context] for i in range(T - context)], dim=1)
    newest_first = torch.stack([clips[:, i:i + context].flip(1) for i in range(T - context)], dim=1)
    histories = {
        "each history starts one frame late, so the target is inside its own history: the model would be "
        "asked to predict a frame it is shown": late.numpy(),
        "each history runs newest frame first: keep the frames in time order, x_(t-c) ... x_(t-1)": newest_first.numpy(),
    }
    targets = {
        "the target is the last frame of its history (off by one): the frame to predict comes right after "
        "the history, x_t after x_(t-c) ... x_(t-1)": clips[:, context - 1:T - 1].numpy(),
    }
    return histories, targets


def check_against_reference(submission, clips, context, numbered=False):
    shown = clips[:, :, 0, 0, 0].numpy() if numbered else Shown(f"tensor of shape {tuple(clips.shape)}")
    call = describe_call("teacher_forcing_pairs", clips=shown, context=context)
    if numbered:
        call += " (clips[b, t] holds the number 100 b + t everywhere, so a value names the frame it came from)"
    got = expect_tuple(submission.teacher_forcing_pairs(clips, context), 2, call=call, names=("histories", "targets"))
    for part, (name, value, expected) in enumerate(zip(("histories", "targets"), got, reference(clips, context))):
        expect_array(value, expected.numpy(), call=call, name=name, rtol=0, atol=0, tensor=True,
                     mistakes=lambda part=part: known_mistakes(clips, context)[part])
        if value.dtype != expected.numpy().dtype:
            raise AssertionError(f"{call}: expected {name} in {expected.dtype} like the clips, got dtype {value.dtype}")


@pytest.mark.visible
@pytest.mark.points(2)
def test_every_target_after_its_history(submission):
    # frames numbered 100 b + t: histories[b, i] must hold frames i..i+c-1 of clip b, targets[b, i] frame i+c
    for context in (1, 2, 3):
        check_against_reference(submission, numbered_clips(2, 5), context, numbered=True)


@pytest.mark.visible
@pytest.mark.points(1)
def test_random_clips_keep_shape_and_dtype(submission, rng):
    clips = torch.from_numpy(rng.standard_normal((3, 6, 1, 4, 4)).astype(np.float32))
    check_against_reference(submission, clips, 2)
    check_against_reference(submission, torch.from_numpy(rng.standard_normal((2, 4, 1, 2, 2))), 3)   # float64 stays float64
