"""Visible checks of bounce_step: one frame of Moving-MNIST motion inside [0, limit]²."""

import numpy as np
import pytest

from autograder.expect import describe_call, expect_array, expect_tuple
from dfkit.data.moving_mnist import bounce_step as reference

pytestmark = pytest.mark.question("00_warmup.bounce_step")
NAMES = ("position", "velocity", "hit_low", "hit_high")


def known_mistakes(position, velocity, limit) -> dict:
    """What the catalogued wrong answers give on this call, by output (position, velocity, ...)."""
    moved = position + velocity
    low, high = moved < 0, moved > limit
    hit_any = (low | high).any(axis=-1, keepdims=True)
    return {
        "position": {"you leave the coordinate outside the box: a coordinate that crosses a wall is clamped to it": moved},
        "velocity": {
            "you flip both components of the velocity: only the component that crossed a wall flips":
                np.where(hit_any, -velocity, velocity),
            "you bounce off the low walls only: a coordinate above `limit` bounces too": np.where(low, -velocity, velocity),
            "you test the walls before moving: the bounce is decided by where the step lands, position + velocity":
                np.where((position < 0) | (position > limit), -velocity, velocity),
        },
    }


def check_against_reference(submission, position, velocity, limit):
    call = describe_call("bounce_step", position=position, velocity=velocity, limit=limit)
    got = expect_tuple(submission.bounce_step(position, velocity, limit), 4, call=call, names=NAMES)
    for name, value, expected in zip(NAMES, got, reference(position, velocity, limit)):
        expect_array(value, expected, call=call, name=name, mistakes=lambda name=name: known_mistakes(position, velocity, limit).get(name))


@pytest.mark.visible
@pytest.mark.points(1)
def test_free_flight_moves_by_the_velocity(submission, rng):
    check_against_reference(submission, np.array([[2.0, 3.0]]), np.array([[1.5, -0.5]]), 10.0)
    for _ in range(3):
        position = rng.uniform(4.0, 6.0, size=(3, 2))
        velocity = rng.uniform(-1.0, 1.0, size=(3, 2))
        check_against_reference(submission, position, velocity, 10.0)


@pytest.mark.visible
@pytest.mark.points(1)
def test_bounces_off_each_wall(submission):
    position = np.array([[0.5, 5.0], [9.5, 5.0], [5.0, 0.2], [5.0, 9.9]])
    velocity = np.array([[-1.0, 0.5], [1.0, 0.5], [0.5, -1.0], [0.5, 1.0]])
    check_against_reference(submission, position, velocity, 10.0)
    check_against_reference(submission, np.array([[0.5, 9.0]]), np.array([[-0.5, 1.0]]), 10.0)     # exactly on a wall: no bounce
