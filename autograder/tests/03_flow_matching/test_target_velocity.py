"""Visible checks of target_velocity: the conditional velocity d x_t / dt = data - noise."""

import pytest
import torch

from autograder.expect import describe_call, expect_array
from dfkit.diffusion.flow import target_velocity as reference

pytestmark = pytest.mark.question("03_flow_matching.target_velocity")


def check_against_reference(submission, noise, data):
    call = describe_call("target_velocity", noise=noise.numpy(), data=data.numpy())
    expected = reference(noise, data)
    got = submission.target_velocity(noise, data)
    expect_array(got, expected.numpy(), call=call, tensor=True, rtol=1e-6, atol=1e-7)
    if got.dtype != expected.numpy().dtype:
        raise AssertionError(f"{call}: expected a tensor of dtype {expected.dtype} (the dtype of noise and data), got {got.dtype}")


@pytest.mark.visible
@pytest.mark.points(1)
def test_points_and_images(submission, rng):
    for shape in ((4, 2), (2, 1, 4, 4)):
        noise = torch.from_numpy(rng.standard_normal(shape)).float()
        data = torch.from_numpy(rng.uniform(-1, 1, size=shape)).float()
        check_against_reference(submission, noise, data)
