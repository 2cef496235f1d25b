"""Hidden checks of walk_matrix: rows where nothing moves, frames that finish early, ε-prediction, chunks, a batch of one."""
# dfkit-canary: hidden-tests-06_diffusion_forcing-walk_matrix

import pytest
import torch

from autograder.assignments import visible_checks
from dfkit.diffusion.schedules import make_schedule
from dfkit.sequence.scheduling import scheduling_matrix

pytestmark = pytest.mark.question("06_diffusion_forcing.walk_matrix")

VISIBLE = visible_checks(__file__)       # the visible tests of this question: their helpers
noise_like = VISIBLE.noise_like
denoiser = VISIBLE.denoiser
check_against_reference = VISIBLE.check_against_reference

COURSE = make_schedule("cosine", 1000)
SHORT = make_schedule("linear", 10)


@pytest.mark.points(1)
def test_idle_rows_and_frames_that_finish_early(submission, rng):
    matrix = torch.tensor([[10, 10, 10], [10, 10, 10], [6, 10, 10], [0, 8, 10], [0, 8, 4], [0, 0, 4], [0, 0, 0]])
    for parameterization in ("eps", "x0", "v"):
        check_against_reference(submission, denoiser(rng), matrix, noise_like(rng, 3, 3, 1, 2, 2), SHORT, parameterization)


@pytest.mark.points(1)
def test_chunks_trapezoids_and_a_batch_of_one(submission, rng):
    matrix = scheduling_matrix("autoregressive", 5, 3, 1000, chunk_size=2)
    check_against_reference(submission, denoiser(rng), matrix, noise_like(rng, 2, 5, 1, 2, 2), COURSE, "v")
    matrix = scheduling_matrix("trapezoid", 6, 3, 1000, chunk_size=1, delay=2)
    check_against_reference(submission, denoiser(rng), matrix, noise_like(rng, 1, 6, 2, 2, 2), COURSE, "x0")
    matrix = scheduling_matrix("full_sequence", 1, 2, 1000)
    check_against_reference(submission, denoiser(rng), matrix, noise_like(rng, 1, 1, 1, 3, 3), COURSE, "x0")
