"""Hidden checks of swing_direction: all around the circle, 32 px frames, no motion at all."""
# dfkit-canary: hidden-tests-04_teacher_forcing-swing_direction

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_array
from dfkit.data.pendulum import render
from dfkit.lessons.teacher_forcing import swing_direction as reference

pytestmark = pytest.mark.question("04_teacher_forcing.swing_direction")


def frames(angles, size):
    return torch.from_numpy(render(np.asarray(angles, dtype=np.float64), size))[:, None]      # (B, 1, H, W)


def check_against_reference(submission, before_degrees, after_degrees, size=16):
    before, after = frames(np.radians(before_degrees), size), frames(np.radians(after_degrees), size)
    call = describe_call("swing_direction", before=np.asarray(before_degrees, dtype=float),
                         after=np.asarray(after_degrees, dtype=float)) + f" ({size}x{size} frames, degrees)"
    got = submission.swing_direction(before, after)
    if getattr(got, "dtype", None) is not None and got.dtype.kind not in "iu":
        raise AssertionError(f"{call}: expected integers -1, 0 or +1, got dtype {got.dtype}")
    expect_array(got, reference(before, after).numpy(), call=call, name="the directions", rtol=0, atol=0, tensor=True)


@pytest.mark.points(1)
def test_all_around_the_circle_at_32_pixels(submission, rng):
    before = rng.uniform(-180, 180, size=16)
    step = rng.uniform(6, 40, size=16) * rng.choice([-1, 1], size=16)
    after = (before + step + 180) % 360 - 180
    check_against_reference(submission, before, after, size=32)


@pytest.mark.points(1)
def test_no_motion_is_zero(submission):
    check_against_reference(submission, [0.0, 30.0, -120.0, 179.0], [0.0, 30.0, -120.0, 179.0])
