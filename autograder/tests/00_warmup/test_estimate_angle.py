"""Visible checks of estimate_angle: the angle read back from rendered pendulum frames."""

import numpy as np
import pytest

from autograder.expect import describe_call, expect_array
from dfkit.data.pendulum import estimate_angle as reference
from dfkit.data.pendulum import render

pytestmark = pytest.mark.question("00_warmup.estimate_angle")


def known_mistakes(frames) -> dict:
    """What the catalogued wrong answers give on these frames, by the concept each one misses."""
    image = np.asarray(frames, dtype=np.float64)
    image = image[:, 0] if image.ndim == 4 else image                          # (N, H, W)
    size = image.shape[-1]
    mass = image.sum(axis=(-2, -1))

    def centroid(offsets):
        row = (image * offsets[:, None]).sum(axis=(-2, -1)) / mass
        col = (image * offsets[None, :]).sum(axis=(-2, -1)) / mass
        return row, col

    row, col = centroid(np.arange(size) + 0.5 - size / 2)
    corner_row, corner_col = centroid(np.arange(size) - size / 2)
    return {
        "you give arctan2 the row offset first: θ is measured from the downward vertical, so arctan2(column offset, "
        "row offset)": np.arctan2(row, col),
        "you measure pixel positions from their corners: the pivot is the image centre, so the centre of pixel i "
        "is i + 0.5 - size / 2 from it": np.arctan2(corner_col, corner_row),
    }


@pytest.mark.visible
@pytest.mark.points(1)
def test_angles_of_rendered_frames(submission, rng):
    for theta in (np.array([0.0, 0.5, -1.0]), rng.uniform(-3, 3, size=4)):
        frames = render(theta, 16)[:, None]          # (N, 1, H, W)
        call = describe_call("estimate_angle", frames=f"pendulum frames (N, 1, 16, 16) drawn at θ = {np.round(theta, 3).tolist()}")
        expect_array(submission.estimate_angle(frames), reference(frames), call=call, rtol=1e-4, atol=1e-4,
                     mistakes=lambda: known_mistakes(frames))
    frames = render(np.array([0.7, -2.0]), 16)                                  # (N, H, W): no channel axis
    call = describe_call("estimate_angle", frames="pendulum frames (N, 16, 16), no channel axis, drawn at θ = [0.7, -2.0]")
    expect_array(submission.estimate_angle(frames), reference(frames), call=call, rtol=1e-4, atol=1e-4)
