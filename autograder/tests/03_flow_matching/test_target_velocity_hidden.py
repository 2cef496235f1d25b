"""Hidden checks of target_velocity: float64, a batch of one video."""
# dfkit-canary: hidden-tests-03_flow_matching-target_velocity

import pytest
import torch

from autograder.expect import describe_call, expect_array
from dfkit.diffusion.flow import target_velocity as reference

pytestmark = pytest.mark.question("03_flow_matching.target_velocity")


def check_against_reference(submission, noise, data):
    call = describe_call("target_velocity", noise=noise.numpy(), data=data.numpy())
    expected = reference(noise, data)
    got = submission.target_velocity(noise, data)
    tolerance = dict(rtol=1e-10, atol=1e-12) if expected.dtype == torch.float64 else dict(rtol=1e-6, atol=1e-7)
    expect_array(got, expected.numpy(), call=call, tensor=True, **tolerance)
    if got.dtype != expected.numpy().dtype:
        raise AssertionError(f"{call}: expected a tensor of dtype {expected.dtype} (the dtype of noise and data), got {got.dtype}")


@pytest.mark.points(1)
def test_float64_and_a_batch_of_one(submission, rng):
    check_against_reference(submission, torch.from_numpy(rng.standard_normal((3, 5))), torch.from_numpy(rng.uniform(-1, 1, size=(3, 5))))
    noise = torch.from_numpy(rng.standard_normal((1, 3, 1, 2, 2))).float()
    check_against_reference(submission, noise, torch.from_numpy(rng.uniform(-1, 1, size=(1, 3, 1, 2, 2))).float())
