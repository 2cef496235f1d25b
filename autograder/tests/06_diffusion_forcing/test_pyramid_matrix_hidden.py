"""Hidden checks of pyramid_matrix: delay 0 (full sequence), delay = steps (autoregressive), delay > steps (idle
rows), ragged chunks, one frame."""
# dfkit-canary: hidden-tests-06_diffusion_forcing-pyramid_matrix

import pytest

from autograder.assignments import visible_checks

pytestmark = pytest.mark.question("06_diffusion_forcing.pyramid_matrix")

VISIBLE = visible_checks(__file__)       # the visible tests of this question: their helpers
check_against_reference = VISIBLE.check_against_reference


@pytest.mark.points(1)
def test_the_two_ends_of_the_family(submission):
    check_against_reference(submission, 4, 3, 1000, 1, 0)           # delay 0: the full-sequence matrix
    check_against_reference(submission, 4, 3, 1000, 1, 3)           # delay = steps: the autoregressive matrix
    check_against_reference(submission, 3, 2, 1000, 1, 4)           # delay > steps: rows where nothing moves


@pytest.mark.points(1)
def test_ragged_chunks_single_frames_and_odd_ladders(submission, rng):
    check_against_reference(submission, 5, 4, 1000, 2, 2)
    check_against_reference(submission, 1, 6, 1000, 1, 1)
    check_against_reference(submission, 3, 7, 1000, 4, 1)
    for _ in range(3):
        num_levels = int(rng.integers(5, 1001))
        steps = int(rng.integers(1, min(num_levels, 10) + 1))
        check_against_reference(submission, int(rng.integers(1, 9)), steps, num_levels, int(rng.integers(1, 4)),
                                int(rng.integers(0, 5)))
