"""Visible checks of target_velocity: the conditional velocity d x_t / dt = data - noise."""

import pytest
import torch

from autograder.expect import describe_call, expect_array
from dfkit.diffusion.flow import target_velocity as reference

pytestmark = pytest.mark.question("03_flow_matching.target_velocity")


def known_mistakes(noise, data) -> dict:
    """What the catalogued wrong answers give on this call, by the concept each one misses."""
    noise, data = noise.double(), data.double()
    return {
        "you flip the sign: along x_t = (1 - t) · noise + t · data the velocity points from the noise to the "
        "data, data - noise": (noise - data).numpy(),
        "you return the data, as an x_0-predicting model would: the target is the path's velocity, data - noise":
            data.numpy(),
        "you return the noise, as an ε-predicting model would: the target is the path's velocity, data - noise":
            noise.numpy(),
    }


def check_against_reference(submission, noise, data):
    call = describe_call("target_velocity", noise=noise.numpy(), data=data.numpy())
    expected = reference(noise, data)
    got = submission.target_velocity(noise, data)
    tolerance = dict(rtol=1e-10, atol=1e-12) if expected.dtype == torch.float64 else dict(rtol=1e-6, atol=1e-7)
    expect_array(got, expected.numpy(), call=call, tensor=True, mistakes=lambda: known_mistakes(noise, data), **tolerance)
    if got.dtype != expected.numpy().dtype:
        raise AssertionError(f"{call}: expected a tensor of dtype {expected.dtype} (the dtype of noise and data), got {got.dtype}")


@pytest.mark.visible
@pytest.mark.points(1)
def test_points_and_images(submission, rng):
    for shape in ((4, 2), (2, 1, 4, 4)):
        noise = torch.from_numpy(rng.standard_normal(shape)).float()
        data = torch.from_numpy(rng.uniform(-1, 1, size=shape)).float()
        check_against_reference(submission, noise, data)
    check_against_reference(submission, torch.from_numpy(rng.standard_normal((3, 2))),               # float64 stays float64
                            torch.from_numpy(rng.uniform(-1, 1, size=(3, 2))))
