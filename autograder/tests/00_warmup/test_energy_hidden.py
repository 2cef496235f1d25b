"""Hidden checks of energy: other pendulums and batch shapes."""
# dfkit-canary: hidden-tests-00_warmup-energy

import pytest

from autograder.expect import describe_call, expect_array
from dfkit.data.pendulum import energy as reference

pytestmark = pytest.mark.question("00_warmup.energy")


@pytest.mark.points(1)
def test_other_gravity_length_and_shapes(submission, rng):
    for shape, gravity, length in (((3, 5, 2), 3.7, 0.5), ((7, 2), 24.8, 2.0), ((2,), 9.81, 1.3)):
        states = rng.uniform(-4, 4, size=shape)
        call = describe_call("energy", states=states, gravity=gravity, length=length)
        expect_array(submission.energy(states, gravity, length), reference(states, gravity, length), call=call)
