"""Hidden checks of target_velocity: float64, a batch of one video."""
# dfkit-canary: hidden-tests-03_flow_matching-target_velocity

import pytest
import torch

from autograder.assignments import visible_checks

pytestmark = pytest.mark.question("03_flow_matching.target_velocity")

VISIBLE = visible_checks(__file__)       # the visible tests of this question: their helpers
check_against_reference = VISIBLE.check_against_reference


@pytest.mark.points(1)
def test_float64_and_a_batch_of_one(submission, rng):
    check_against_reference(submission, torch.from_numpy(rng.standard_normal((3, 5))), torch.from_numpy(rng.uniform(-1, 1, size=(3, 5))))
    noise = torch.from_numpy(rng.standard_normal((1, 3, 1, 2, 2))).float()
    check_against_reference(submission, noise, torch.from_numpy(rng.uniform(-1, 1, size=(1, 3, 1, 2, 2))).float())
