"""Hidden checks of estimate_angle: videos (N, T, 1, H, W), frames without a channel axis, other sizes."""
# dfkit-canary: hidden-tests-00_warmup-estimate_angle

import numpy as np
import pytest

from autograder.expect import describe_call, expect_array
from dfkit.data.pendulum import estimate_angle as reference
from dfkit.data.pendulum import render

pytestmark = pytest.mark.question("00_warmup.estimate_angle")


@pytest.mark.points(1)
def test_videos_with_time_axis(submission, rng):
    theta = rng.uniform(-3, 3, size=(2, 5))
    frames = render(theta, 24)[:, :, None]            # (N, T, 1, H, W)
    call = describe_call("estimate_angle", frames="pendulum videos of shape (2, 5, 1, 24, 24)")
    expect_array(submission.estimate_angle(frames), reference(frames), call=call, rtol=1e-4, atol=1e-4)


@pytest.mark.points(1)
def test_frames_without_channel_axis(submission, rng):
    theta = rng.uniform(-3, 3, size=3)
    frames = render(theta, 32)                        # (N, H, W)
    call = describe_call("estimate_angle", frames="pendulum frames of shape (3, 32, 32)")
    expect_array(submission.estimate_angle(frames), reference(frames), call=call, rtol=1e-4, atol=1e-4)
    # the exercise: a blank frame may give any angle but must not crash (nor spoil the frames beside it)
    frames[1] = 0.0
    call = describe_call("estimate_angle", frames="pendulum frames of shape (3, 32, 32), the middle one blank")
    got = submission.estimate_angle(frames)
    if type(got) is not np.ndarray or got.shape != (3,):
        raise AssertionError(f"{call}: expected a numpy array of 3 angles, got {type(got).__name__} {getattr(got, 'shape', '')}")
    expect_array(got[[0, 2]], reference(frames)[[0, 2]], call=call, name="the angles of the two drawn frames", rtol=1e-4, atol=1e-4)
    if not np.isfinite(got[1]):
        raise AssertionError(f"{call}: the blank frame's angle is {got[1]}; any angle will do, but it must be a number")
