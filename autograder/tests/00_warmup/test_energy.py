"""Visible checks of energy: E = ½ L² ω² + g L (1 - cos θ) per unit mass."""

import numpy as np
import pytest

from autograder.expect import describe_call, expect_array
from dfkit.data.pendulum import energy as reference

pytestmark = pytest.mark.question("00_warmup.energy")


@pytest.mark.visible
@pytest.mark.points(1)
def test_energy_of_a_few_states(submission, rng):
    examples = [np.array([[0.0, 0.0], [0.5, 0.0], [0.0, 2.0]])] + [rng.uniform(-3, 3, size=(4, 2)) for _ in range(3)]
    for states in examples:
        call = describe_call("energy", states=states, gravity=9.81, length=1.0)
        expect_array(submission.energy(states, 9.81, 1.0), reference(states, 9.81, 1.0), call=call)
