"""Visible checks of estimate_angle: the angle read back from rendered pendulum frames."""

import numpy as np
import pytest

from autograder.expect import describe_call, expect_array
from dfkit.data.pendulum import estimate_angle as reference
from dfkit.data.pendulum import render

pytestmark = pytest.mark.question("00_warmup.estimate_angle")


@pytest.mark.visible
@pytest.mark.points(1)
def test_angles_of_rendered_frames(submission, rng):
    for theta in (np.array([0.0, 0.5, -1.0]), rng.uniform(-3, 3, size=4)):
        frames = render(theta, 16)[:, None]          # (N, 1, H, W)
        call = describe_call("estimate_angle", frames=f"pendulum frames (N, 1, 16, 16) drawn at θ = {np.round(theta, 3).tolist()}")
        expect_array(submission.estimate_angle(frames), reference(frames), call=call, rtol=1e-4, atol=1e-4)
