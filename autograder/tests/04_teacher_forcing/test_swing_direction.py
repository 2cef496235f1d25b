"""Visible checks of swing_direction: the sign of the wrapped angle change read from two frames."""

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_array
from dfkit.data.pendulum import estimate_angle, render
from dfkit.metrics.pendulum import swing_direction as reference

pytestmark = pytest.mark.question("04_teacher_forcing.swing_direction")


def frames(angles, size):
    return torch.from_numpy(render(np.asarray(angles, dtype=np.float64), size))[:, None]      # (B, 1, H, W)


def known_mistakes(before, after, expected) -> dict:
    """What the catalogued wrong answers give on this call, by the concept each one misses (the first that
    matches is named: a swing through the top reversed by not wrapping reads as "not wrapped")."""
    change = estimate_angle(after) - estimate_angle(before)
    return {
        "you take the sign of the raw angle change: wrap it into (-π, π] first, or a swing through the top "
        "(170° to -170°) reads as -340° instead of +20°": np.sign(change).astype(np.int64),
        "you reverse the direction: it is the sign of the change from `before` to `after`, after - before": -expected,
    }


def check_against_reference(submission, before_degrees, after_degrees, size=16):
    before, after = frames(np.radians(before_degrees), size), frames(np.radians(after_degrees), size)
    call = describe_call("swing_direction", before=np.asarray(before_degrees, dtype=float),
                         after=np.asarray(after_degrees, dtype=float))
    call += f" (frames of {size}x{size} pixels rendered at these angles, in degrees)"
    got = submission.swing_direction(before, after)
    expected = reference(before, after).numpy()
    if getattr(got, "dtype", None) is not None and got.dtype.kind not in "iu":
        raise AssertionError(f"{call}: expected the directions as integers -1, 0 or +1, got dtype {got.dtype}")
    expect_array(got, expected, call=call, name="the directions", rtol=0, atol=0, tensor=True,
                 mistakes=lambda: known_mistakes(before, after, expected))


@pytest.mark.visible
@pytest.mark.points(2)
def test_swings_either_way_below_the_pivot(submission, rng):
    before = rng.uniform(-80, 80, size=8)
    step = rng.uniform(8, 30, size=8) * rng.choice([-1, 1], size=8)
    check_against_reference(submission, before, before + step)


@pytest.mark.visible
@pytest.mark.points(1)
def test_a_swing_through_the_top(submission):
    # 170 degrees to -170 degrees is a swing of +20 degrees through the top, not -340 degrees
    check_against_reference(submission, [170.0, -170.0, 175.0, -160.0], [-170.0, 170.0, -165.0, 165.0])
    check_against_reference(submission, [30.0, -45.0, 170.0], [30.0, -45.0, 170.0])      # no motion: 0
