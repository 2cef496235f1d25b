"""Visible checks of border_inconsistency: mean surprise at the window borders and inside, per clip."""

import math

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_array
from autograder.protocol import is_tensor
from dfkit.lessons.full_sequence import border_inconsistency as reference

pytestmark = pytest.mark.question("05_full_sequence.border_inconsistency")


class Shown:
    """How an argument appears in a failure message: a short description instead of all its numbers."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text


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


@pytest.mark.visible
@pytest.mark.points(2)
def test_jumps_at_the_borders_against_smooth_frames_inside(submission, rng):
    for B, N, borders in ((3, 12, [4, 8]), (2, 10, [3, 5, 7, 9])):
        angles = with_jumps(rng, swings(rng, B, N, start=0.3), borders)
        check_against_reference(submission, angles, borders)
