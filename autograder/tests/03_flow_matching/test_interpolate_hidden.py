"""Hidden checks of interpolate: the two ends of the path, square batches, frames, float times, float64."""
# dfkit-canary: hidden-tests-03_flow_matching-interpolate

import pytest
import torch

from autograder.assignments import visible_checks

pytestmark = pytest.mark.question("03_flow_matching.interpolate")

VISIBLE = visible_checks(__file__)       # the visible tests of this question: their helpers
check_against_reference = VISIBLE.check_against_reference


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
    # float64 times with float32 data: the result keeps the data's dtype
    check_against_reference(submission, noise64.float(), data64.float(), torch.from_numpy(rng.uniform(0, 1, size=3)))
