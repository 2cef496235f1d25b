"""Visible checks of walk_matrix: one denoiser call per row on every frame at its level, then a DDIM step per frame."""

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_close, shown
from autograder.standins import ToyVideoDenoiser, schedule_argument
from dfkit.diffusion.ddpm import ddim_step, to_x0_eps
from dfkit.diffusion.schedules import make_schedule
from dfkit.lessons.diffusion_forcing import walk_matrix as reference
from dfkit.sequence.scheduling import scheduling_matrix

pytestmark = pytest.mark.question("06_diffusion_forcing.walk_matrix")
COURSE = make_schedule("cosine", 1000)


def noise_like(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))


def denoiser(rng):
    return ToyVideoDenoiser(rng.uniform(0.3, 0.7), rng.uniform(0.2, 0.5), rng.uniform(0.2, 0.6), rng.uniform(0.2, 0.6))


def known_mistakes(toy, matrix, noise, parameterization) -> dict:
    """What the catalogued wrong answers give on this call, by the concept each one misses."""
    B, T = noise.shape[:2]
    down = [(m, m + 1) for m in range(len(matrix) - 1)]

    def walk(rows, shown_row=lambda m, m_next: m, predict=toy, kind=parameterization, step=None):
        x = noise.double()
        for m, m_next in rows:
            levels, next_levels = matrix[m].expand(B, -1), matrix[m_next].expand(B, -1)
            prediction = predict(x, matrix[shown_row(m, m_next)].expand(B, -1))
            x = (step or ddim_step)(x, levels, next_levels, prediction, COURSE, kind)
        return x.numpy()

    def one_frame_at_a_time(x, levels):
        return torch.cat([toy(x[:, t:t + 1], levels[:, t:t + 1]) for t in range(T)], dim=1)

    def jump_to_x0(x, levels, next_levels, prediction, schedule, kind):
        x0_hat, _ = to_x0_eps(prediction, kind, x, levels, schedule)
        return torch.where((next_levels != levels)[..., None, None, None], x0_hat, x)

    mistakes = {
        "you show the denoiser the next row's levels: it sees each frame at its current level S[m, t]":
            walk(down, shown_row=lambda m, m_next: m_next),
        "you stop one row early: the walk ends on the last row, where every frame is clean": walk(down[:-1]),
        "you denoise each frame alone: one call sees the whole window, so each frame's estimate uses the frames "
        "before it": walk(down, predict=one_frame_at_a_time),
        "you replace the moving frames by the clean estimate: each frame takes a DDIM step to its next level":
            walk(down, step=jump_to_x0),
    }
    if parameterization != "eps":
        mistakes["you read the prediction as ε whatever the parameterization: convert it with the model's own "
                 f"({parameterization!r} here)"] = walk(down, kind="eps")
    return mistakes


def check_against_reference(submission, toy, matrix, noise, schedule, parameterization):
    call = describe_call("walk_matrix", denoiser=toy, matrix=shown(matrix), noise=shown(noise), schedule=shown(schedule),
                         parameterization=parameterization)
    got = submission.walk_matrix(toy.as_argument(), matrix, noise, schedule_argument(schedule), parameterization=parameterization)
    expected = reference(toy, matrix, noise.double(), schedule, parameterization)
    expect_close(got, expected, call=call, mistakes=lambda: known_mistakes(toy, matrix, noise, parameterization))


@pytest.mark.visible
@pytest.mark.points(2)
def test_full_sequence_and_autoregressive_matrices(submission, rng):
    for kind in ("full_sequence", "autoregressive"):
        matrix = scheduling_matrix(kind, 3, 4, 1000)
        check_against_reference(submission, denoiser(rng), matrix, noise_like(rng, 2, 3, 1, 3, 3), COURSE, "x0")


@pytest.mark.visible
@pytest.mark.points(1)
def test_pyramid_with_v_prediction(submission, rng):
    matrix = scheduling_matrix("pyramid", 4, 5, 1000)
    check_against_reference(submission, denoiser(rng), matrix, noise_like(rng, 2, 4, 1, 2, 3), COURSE, "v")
