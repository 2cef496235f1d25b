"""Hidden checks of rk4_step: torque per state, damping, large steps where lower orders differ."""
# dfkit-canary: hidden-tests-00_warmup-rk4_step

import pytest

from autograder.expect import describe_call, expect_array
from dfkit.data.pendulum import rk4_step as reference

pytestmark = pytest.mark.question("00_warmup.rk4_step")


@pytest.mark.points(1)
def test_torque_and_damping(submission, rng):
    for _ in range(3):
        state = rng.uniform(-2, 2, size=(4, 2))
        torque = rng.uniform(-1, 1, size=4)
        damping = float(rng.uniform(0.1, 0.5))
        call = describe_call("rk4_step", state=state, torque=torque, h=0.02, gravity=9.81, length=0.8, damping=damping)
        expected = reference(state, torque, 0.02, 9.81, 0.8, damping)
        expect_array(submission.rk4_step(state, torque, 0.02, 9.81, 0.8, damping), expected, call=call, rtol=1e-9, atol=1e-12)


@pytest.mark.points(1)
def test_large_steps_are_fourth_order(submission, rng):
    state = rng.uniform(-2.5, 2.5, size=(6, 2))
    for h in (0.3, 0.5):
        call = describe_call("rk4_step", state=state, torque=0.2, h=h, gravity=9.81, length=1.0, damping=0.1)
        expected = reference(state, 0.2, h, 9.81, 1.0, 0.1)
        expect_array(submission.rk4_step(state, 0.2, h, 9.81, 1.0, 0.1), expected, call=call, rtol=1e-9, atol=1e-12)
