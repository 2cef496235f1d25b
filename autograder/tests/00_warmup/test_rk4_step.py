"""Visible checks of rk4_step: one classical Runge-Kutta step of the pendulum."""

import numpy as np
import pytest

from autograder.expect import describe_call, expect_array
from dfkit.data.pendulum import rk4_step as reference

pytestmark = pytest.mark.question("00_warmup.rk4_step")


def known_mistakes(state, torque, h, gravity, length, damping) -> dict:
    """What the catalogued wrong answers give on this call, by the concept each one misses."""
    def f(x):
        return np.stack([x[..., 1], -(gravity / length) * np.sin(x[..., 0]) - damping * x[..., 1] + torque], axis=-1)

    k1 = f(state)
    k2 = f(state + 0.5 * h * k1)
    k3 = f(state + 0.5 * h * k2)
    k4 = f(state + h * k3)
    return {
        "you take one explicit Euler step, s + h f(s): RK4 averages four slopes": state + h * k1,
        "you weight the four slopes equally: RK4 weights them 1, 2, 2, 1 and divides by 6":
            state + (h / 4) * (k1 + k2 + k3 + k4),
    }


@pytest.mark.visible
@pytest.mark.points(1)
def test_one_step_without_torque(submission, rng):
    examples = [np.array([[0.5, 0.0]])] + [rng.uniform(-2, 2, size=(3, 2)) for _ in range(3)]
    for state in examples:
        call = describe_call("rk4_step", state=state, torque=0.0, h=0.05, gravity=9.81, length=1.0, damping=0.0)
        expected = reference(state, 0.0, 0.05, 9.81, 1.0, 0.0)
        expect_array(submission.rk4_step(state, 0.0, 0.05, 9.81, 1.0, 0.0), expected, call=call, rtol=1e-9, atol=1e-12,
                     mistakes=lambda: known_mistakes(np.asarray(state, dtype=float), 0.0, 0.05, 9.81, 1.0, 0.0))
