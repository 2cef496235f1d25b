"""Hidden checks of border_inconsistency: swings through the top, borders at the first and last possible frame, one clip."""
# dfkit-canary: hidden-tests-05_full_sequence-border_inconsistency

import math

import numpy as np
import pytest
import torch

from autograder.expect import Shown, describe_call, expect_array
from autograder.protocol import is_tensor
from dfkit.lessons.full_sequence import border_inconsistency as reference

pytestmark = pytest.mark.question("05_full_sequence.border_inconsistency")


def check_against_reference(submission, angles, borders):
    call = describe_call("border_inconsistency", angles=Shown(f"float64 tensor of shape {tuple(angles.shape)}"), borders=borders)
    got = submission.border_inconsistency(angles, borders)
    expected = reference(angles, borders).numpy()
    if not is_tensor(got) or got.shape != expected.shape:
        shape = got.shape if is_tensor(got) else type(got).__name__
        raise AssertionError(f"{call}: expected a tensor of shape (B, 2) = {expected.shape} (per clip: at the borders, "
                             f"inside the windows), got {shape}")
    expect_array(got, expected, call=call, name="the (border, inside) means", rtol=1e-6, atol=1e-9, tensor=True)


def swings(rng, B, N, start=None, speed=None):
    """Angles of smooth swings wrapped into [-π, π): θ_t = θ_0 + v t - 0.01 t sin(θ_0 + v t)."""
    t = np.arange(N)[None]
    theta0 = rng.uniform(-math.pi, math.pi, size=(B, 1)) if start is None else np.full((B, 1), float(start))
    v = rng.uniform(-0.3, 0.3, size=(B, 1)) if speed is None else np.full((B, 1), float(speed))
    return theta0 + v * t - 0.01 * t * np.sin(theta0 + v * t)


def with_jumps(rng, theta, borders, size=0.5):
    """Every frame from each border on shifted by a random jump (a window that does not continue the last one)."""
    theta = theta.copy()
    for b in borders:
        theta[:, b:] += rng.uniform(-size, size, size=(theta.shape[0], 1))
    return torch.from_numpy((theta + math.pi) % (2 * math.pi) - math.pi)


@pytest.mark.points(1)
def test_swings_through_the_top(submission, rng):
    # angles cross ±π: the steps must be wrapped, or a 0.2 rad step reads as a 6 rad one
    borders = [4, 8]
    angles = with_jumps(rng, swings(rng, 3, 12, start=math.pi - 0.5, speed=0.2), borders, size=0.3)
    check_against_reference(submission, angles, borders)
    angles = with_jumps(rng, swings(rng, 2, 9, start=-math.pi + 0.4, speed=-0.25), [2, 6], size=0.3)
    check_against_reference(submission, angles, [2, 6])


@pytest.mark.points(1)
def test_first_and_last_frame_borders_and_one_clip(submission, rng):
    angles = with_jumps(rng, swings(rng, 1, 8), [2, 7])
    check_against_reference(submission, angles, [2, 7])
    angles = with_jumps(rng, swings(rng, 4, 6), [5])
    check_against_reference(submission, angles, [5])
