"""Hidden checks of noisy_clips: min_level, the generator fixes the draws, float64 (noisy frames and noise), a single frame."""
# dfkit-canary: hidden-tests-06_diffusion_forcing-noisy_clips

import numpy as np
import pytest
import torch

from autograder.assignments import visible_checks
from dfkit.diffusion.schedules import make_schedule

pytestmark = pytest.mark.question("06_diffusion_forcing.noisy_clips")

VISIBLE = visible_checks(__file__)       # the visible tests of this question: their helpers
call = VISIBLE.call
expect_q_per_frame = VISIBLE.expect_q_per_frame
expect_the_exercise_draws = VISIBLE.expect_the_exercise_draws

COURSE = make_schedule("cosine", 1000)
SHORT = make_schedule("sigmoid", 12)


@pytest.mark.points(1)
def test_min_level_one_never_draws_a_clean_frame(submission, rng):
    frames = torch.from_numpy(rng.uniform(-1, 1, size=(300, 20, 1, 1, 1)).astype(np.float32))
    for min_level in (1, 5):
        text, noisy, levels, noise = call(submission, frames, SHORT, min_level, int(rng.integers(2**31)))
        values = np.unique(levels)
        if values.min() != min_level or values.max() != SHORT.num_levels or len(values) != SHORT.num_levels - min_level + 1:
            raise AssertionError(f"{text}: expected every level from {min_level} to {SHORT.num_levels}, got {values.tolist()}")
        expect_q_per_frame(text, frames, SHORT, noisy, levels, noise)


@pytest.mark.points(1)
def test_the_generator_fixes_the_draws(submission, rng):
    frames = torch.from_numpy(rng.uniform(-1, 1, size=(4, 6, 1, 3, 3)).astype(np.float32))
    seed = int(rng.integers(2**31))
    text, noisy, levels, noise = call(submission, frames, COURSE, 0, seed)
    expect_the_exercise_draws(text, frames, COURSE, 0, seed, levels, noise)
    _, noisy_again, levels_again, noise_again = call(submission, frames, COURSE, 0, seed)
    if not (np.array_equal(levels, levels_again) and np.array_equal(noise, noise_again) and np.array_equal(noisy, noisy_again)):
        raise AssertionError(f"{text}: two calls with generators seeded alike gave different draws: pass generator= to "
                             f"torch.randint and torch.randn")
    _, _, other, _ = call(submission, frames, COURSE, 0, seed + 1)
    if np.array_equal(levels, other):
        raise AssertionError(f"{text}: another seed gave the same levels: draw them with the generator")


@pytest.mark.points(1)
def test_float64_clips_and_a_single_frame(submission, rng):
    frames = torch.from_numpy(rng.uniform(-1, 1, size=(5, 3, 1, 4, 4)))                    # float64
    seed = int(rng.integers(2**31))
    text, noisy, levels, noise = call(submission, frames, COURSE, 0, seed)
    expect_q_per_frame(text, frames, COURSE, noisy, levels, noise)
    # the noise too has the frames' dtype: torch.randn(frames.shape, generator=generator, dtype=frames.dtype)
    if noise.dtype != np.float64:
        raise AssertionError(f"{text}: expected the noise in the dtype of the clips (torch.float64), got dtype {noise.dtype}")
    expect_the_exercise_draws(text, frames, COURSE, 0, seed, levels, noise)
    frames = torch.from_numpy(rng.uniform(-1, 1, size=(1, 1, 1, 2, 2)).astype(np.float32))
    text, noisy, levels, noise = call(submission, frames, SHORT, 0, int(rng.integers(2**31)))
    expect_q_per_frame(text, frames, SHORT, noisy, levels, noise)
