"""Hidden checks of marginal_velocity: t = 0 and t = 1, times close to 1, a batch of one, float times, float32."""
# dfkit-canary: hidden-tests-03_flow_matching-marginal_velocity

import pytest
import torch

from autograder.assignments import visible_checks

pytestmark = pytest.mark.question("03_flow_matching.marginal_velocity")

VISIBLE = visible_checks(__file__)       # the visible tests of this question: their helpers
check_against_reference = VISIBLE.check_against_reference


@pytest.mark.points(1)
def test_start_and_end_of_time(submission, rng):
    points = torch.from_numpy(rng.uniform(-2, 2, size=(5, 3)))
    noise = torch.from_numpy(rng.standard_normal((4, 3)))
    check_against_reference(submission, noise, torch.zeros(4, dtype=torch.float64), points)     # the average pull
    check_against_reference(submission, points[:4], torch.ones(4, dtype=torch.float64), points)  # at the data: u = x
    t = torch.tensor([0.0, 1.0, 0.5, 1.0], dtype=torch.float64)
    x_t = (1 - t[:, None]) * noise + t[:, None] * points[1:]
    check_against_reference(submission, x_t, t, points)


@pytest.mark.points(2)
def test_times_close_to_one_stay_finite(submission, rng):
    for t_value in (0.99, 0.999):
        points = torch.from_numpy(rng.uniform(-3, 3, size=(10, 16)))
        noise = torch.from_numpy(rng.standard_normal((6, 16)))
        t = torch.full((6,), t_value, dtype=torch.float64)
        x_t = (1 - t[:, None]) * noise + t[:, None] * points[rng.integers(0, 10, size=6)]
        check_against_reference(submission, x_t, t, points)
        check_against_reference(submission, torch.from_numpy(rng.standard_normal((6, 16))), t, points)   # far from every path


@pytest.mark.points(1)
def test_a_batch_of_one_float_times_and_float32(submission, rng):
    points = torch.from_numpy(rng.uniform(-1, 1, size=(4, 1, 3, 3)))
    check_against_reference(submission, torch.from_numpy(rng.standard_normal((1, 1, 3, 3))), torch.tensor([0.6], dtype=torch.float64), points)
    check_against_reference(submission, torch.from_numpy(rng.standard_normal((3, 1, 3, 3))), 0.4, points)   # one Python float
    x32 = torch.from_numpy(rng.standard_normal((3, 2))).float()
    check_against_reference(submission, x32, torch.tensor([0.2, 0.5, 0.7]), torch.from_numpy(rng.uniform(-1, 1, size=(4, 2))).float())
    # mixed dtypes the exercise allows: the result has x_t's dtype whatever the points' and times'
    points32 = torch.from_numpy(rng.uniform(-1, 1, size=(4, 2))).float()
    check_against_reference(submission, x32.double(), torch.tensor([0.2, 0.5, 0.7]), points32)
    check_against_reference(submission, x32, torch.tensor([0.2, 0.5, 0.7], dtype=torch.float64), points32.double())
