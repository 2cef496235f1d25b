"""Visible checks of border_inconsistency: mean surprise at the window borders and inside, per clip."""

import math

import numpy as np
import pytest
import torch

from autograder.expect import Shown, describe_call, expect_array
from autograder.protocol import is_tensor
from dfkit.metrics.pendulum import border_inconsistency as reference

pytestmark = pytest.mark.question("05_full_sequence.border_inconsistency")


def known_mistakes(angles, borders) -> dict:
    """What the catalogued wrong answers give on this call, by the concept each one misses."""
    theta = angles.numpy()                                                    # (B, N)
    frames = range(2, theta.shape[1])
    inside = [t for t in frames if t not in borders]

    def wrap(a):
        return (a + math.pi) % (2 * math.pi) - math.pi

    def means(per_frame, at=borders, rest=inside):                           # per_frame[:, t] for frame t
        return np.stack([per_frame[:, at].mean(1), per_frame[:, rest].mean(1)], axis=1)

    def surprise(wrap_step, size=np.abs):                                     # (B, N) with frames 0, 1 unused
        steps = wrap_step(np.diff(theta, axis=1))
        return np.pad(size(wrap_step(np.diff(steps, axis=1))), ((0, 0), (2, 0)))

    right = surprise(wrap)
    late = np.concatenate([right, right[:, -1:]], axis=1)
    return {
        "you leave the angle steps unwrapped: a swing through the top then reads as a jump of 2π": means(surprise(lambda a: a)),
        "you measure the step |θ_t - θ_{t-1}|: the surprise is the change of the step, how far θ_t lands from the straight "
        "continuation of the two frames before it": means(np.pad(np.abs(wrap(np.diff(theta, axis=1))), ((0, 0), (1, 0)))),
        "you read the surprise one frame late: at a border b it is e_b, the first generated frame's own surprise":
            means(late, [b + 1 for b in borders]),
        "you count the border frames inside too: column 1 averages only the frames that are not borders": means(right, rest=list(frames)),
        "you square the surprise: it is the size |...| of the wrapped change": means(surprise(wrap, np.square)),
        "you wrap into [0, 2π): a small step backwards must stay small, so wrap into [-π, π)":
            means(surprise(lambda a: a % (2 * math.pi))),
    }


def check_against_reference(submission, angles, borders):
    call = describe_call("border_inconsistency", angles=Shown(f"float64 tensor of shape {tuple(angles.shape)}"), borders=borders)
    got = submission.border_inconsistency(angles, borders)
    expected = reference(angles, borders).numpy()
    if not is_tensor(got) or got.shape != expected.shape:
        shape = got.shape if is_tensor(got) else type(got).__name__
        raise AssertionError(f"{call}: expected a tensor of shape (B, 2) = {expected.shape} (per clip: at the borders, "
                             f"inside the windows), got {shape}")
    expect_array(got, expected, call=call, name="the (border, inside) means", rtol=1e-6, atol=1e-9, tensor=True,
                 mistakes=lambda: known_mistakes(angles, borders))


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
