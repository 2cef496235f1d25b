"""Hidden checks of autoregressive_matrix: one frame, one step, every level, chunks as long as the video, ladders
whose steps do not divide K."""
# dfkit-canary: hidden-tests-06_diffusion_forcing-autoregressive_matrix

import pytest

from autograder.assignments import visible_checks

pytestmark = pytest.mark.question("06_diffusion_forcing.autoregressive_matrix")

VISIBLE = visible_checks(__file__)       # the visible tests of this question: their helpers
check_against_reference = VISIBLE.check_against_reference


@pytest.mark.points(1)
def test_edge_cases(submission):
    check_against_reference(submission, 1, 4, 1000, 1)           # a single frame
    check_against_reference(submission, 3, 1, 1000, 1)           # one step: K straight to 0
    check_against_reference(submission, 2, 10, 10, 1)            # every level visited
    check_against_reference(submission, 3, 4, 1000, 5)           # one chunk longer than the video


@pytest.mark.points(1)
def test_ladders_that_do_not_divide_k(submission, rng):
    check_against_reference(submission, 4, 3, 1000, 1)
    check_against_reference(submission, 7, 6, 1000, 3)
    for _ in range(3):
        num_levels = int(rng.integers(5, 1001))
        steps = int(rng.integers(1, min(num_levels, 12) + 1))
        check_against_reference(submission, int(rng.integers(1, 9)), steps, num_levels, int(rng.integers(1, 4)))
