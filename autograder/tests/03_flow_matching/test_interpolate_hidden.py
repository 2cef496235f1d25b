"""Hidden checks of interpolate: the two ends of the path, square batches, frames, float times, float64."""
# dfkit-canary: hidden-tests-03_flow_matching-interpolate

import pytest
import torch

from autograder.expect import describe_call, expect_array, shown
from dfkit.diffusion.flow import interpolate as reference

pytestmark = pytest.mark.question("03_flow_matching.interpolate")


def check_against_reference(submission, noise, data, t):
    call = describe_call("interpolate", noise=shown(noise), data=shown(data), t=shown(t))
    expected = reference(noise, data, t)
    got = submission.interpolate(noise, data, t)
    tolerance = dict(rtol=1e-10, atol=1e-12) if expected.dtype == torch.float64 else dict(rtol=1e-5, atol=1e-6)
    expect_array(got, expected.numpy(), call=call, tensor=True, **tolerance)
    if got.dtype != expected.numpy().dtype:
        raise AssertionError(f"{call}: expected a tensor of dtype {expected.dtype} (the dtype of noise and data), got {got.dtype}")


@pytest.mark.points(1)
def test_noise_at_zero_and_data_at_one(submission, rng):
    noise = torch.from_numpy(rng.standard_normal((3, 3))).float()          # square: B equals the last axis
    data = torch.from_numpy(rng.uniform(-1, 1, size=(3, 3))).float()
    for t in (torch.zeros(3), torch.ones(3), torch.tensor([0.0, 1.0, 0.25])):
        check_against_reference(submission, noise, data, t)
    one = torch.from_numpy(rng.standard_normal((1, 1, 4, 4))).float()
    check_against_reference(submission, one, -one, torch.tensor([0.7]))   # a batch of one image


@pytest.mark.points(1)
def test_frames_float_times_and_float64(submission, rng):
    noise = torch.from_numpy(rng.standard_normal((2, 3, 1, 4, 4))).float()    # videos (B, T, C, H, W)
    data = torch.from_numpy(rng.uniform(-1, 1, size=(2, 3, 1, 4, 4))).float()
    check_against_reference(submission, noise, data, torch.from_numpy(rng.uniform(0, 1, size=(2, 3))).float())
    check_against_reference(submission, noise[:, 0], data[:, 0], 0.3)       # one Python float for the batch
    noise64 = torch.from_numpy(rng.standard_normal((3, 1, 2, 2)))
    data64 = torch.from_numpy(rng.uniform(-1, 1, size=(3, 1, 2, 2)))
    check_against_reference(submission, noise64, data64, torch.from_numpy(rng.uniform(0, 1, size=3)))
