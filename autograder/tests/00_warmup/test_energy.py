"""Visible checks of energy: E = ½ L² ω² + g L (1 - cos θ) per unit mass."""

import numpy as np
import pytest

from autograder.expect import describe_call, expect_array
from dfkit.data.pendulum import energy as reference

pytestmark = pytest.mark.question("00_warmup.energy")


def known_mistakes(states, gravity, length) -> dict:
    """What the catalogued wrong answers give on this call, by the concept each one misses."""
    theta, omega = states[..., 0], states[..., 1]
    return {
        "you leave out the ½ of the kinetic energy ½ L² ω²": length ** 2 * omega ** 2 + gravity * length * (1 - np.cos(theta)),
        "you measure the height from the pivot: the potential g L (1 - cos θ) is 0 with the pendulum hanging at rest":
            0.5 * length ** 2 * omega ** 2 - gravity * length * np.cos(theta),
    }


@pytest.mark.visible
@pytest.mark.points(1)
def test_energy_of_a_few_states(submission, rng):
    examples = [np.array([[0.0, 0.0], [0.5, 0.0], [0.0, 2.0]])] + [rng.uniform(-3, 3, size=(4, 2)) for _ in range(3)]
    for states, (gravity, length) in zip(examples, ((9.81, 1.0), (9.81, 1.0), (9.81, 2.0), (3.7, 0.5))):
        call = describe_call("energy", states=states, gravity=gravity, length=length)
        expect_array(submission.energy(states, gravity, length), reference(states, gravity, length), call=call,
                     mistakes=lambda: known_mistakes(states, gravity, length))
