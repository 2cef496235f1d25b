"""Hidden checks of noisy_clips: min_level, the generator fixes the draws, float64, a single frame."""
# dfkit-canary: hidden-tests-06_diffusion_forcing-noisy_clips

import numpy as np
import pytest
import torch

from autograder.expect import Shown, describe_call, expect_array, expect_tensor, expect_tuple, shown
from dfkit.diffusion.schedules import make_schedule
from dfkit.lessons.arguments import schedule_argument
from dfkit.lessons.diffusion_forcing import generator_argument

pytestmark = pytest.mark.question("06_diffusion_forcing.noisy_clips")
COURSE = make_schedule("cosine", 1000)
SHORT = make_schedule("sigmoid", 12)


def call(submission, frames, schedule, min_level, seed):
    text = describe_call("noisy_clips", frames=shown(frames), schedule=shown(schedule), min_level=min_level,
                         generator=Shown(f"torch.Generator().manual_seed({seed})"))
    got = submission.noisy_clips(frames, schedule_argument(schedule), min_level=min_level, generator=generator_argument(seed))
    noisy, levels, noise = expect_tuple(got, 3, call=text, names=("noisy", "levels", "noise"))
    B, T = frames.shape[:2]
    for name, value in (("noisy", noisy), ("noise", noise)):
        expect_tensor(value, frames.shape, call=text, name=name)
    expect_tensor(levels, (B, T), call=text, name="levels")
    if levels.dtype.kind not in "iu":
        raise AssertionError(f"{text}: expected integer levels, got dtype {levels.dtype}")
    return text, noisy, levels.view(np.ndarray).astype(np.int64), noise


def expect_q_per_frame(text, frames, schedule, noisy, levels, noise):
    if levels.min() < 0 or levels.max() > schedule.num_levels:
        raise AssertionError(f"{text}: expected levels in 0..{schedule.num_levels}, got values from {levels.min()} to {levels.max()}")
    alpha_bar = schedule.alpha_bars.double().numpy()[levels][..., None, None, None]
    one_minus = schedule.one_minus_alpha_bars.double().numpy()[levels][..., None, None, None]
    x = frames.double().numpy()
    expected = np.sqrt(alpha_bar) * x + np.sqrt(one_minus) * noise.view(np.ndarray).astype(np.float64)
    # 1 - ᾱ_k computed from the float32 ᾱ_k (instead of the schedule's 1 - ᾱ_k) is off by about 1e-5 near k = 1
    expect_array(noisy, expected, call=text, name="noisy (compared with q(x_k | x_0) at the returned levels and noise)",
                 rtol=1e-4, atol=2e-4, tensor=True)
    if noisy.dtype != np.dtype(str(frames.dtype).replace("torch.", "")):
        raise AssertionError(f"{text}: expected noisy frames in the dtype of the clips ({frames.dtype}), got {noisy.dtype}")


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
    text, noisy, levels, noise = call(submission, frames, COURSE, 0, int(rng.integers(2**31)))
    expect_q_per_frame(text, frames, COURSE, noisy, levels, noise)
    frames = torch.from_numpy(rng.uniform(-1, 1, size=(1, 1, 1, 2, 2)).astype(np.float32))
    text, noisy, levels, noise = call(submission, frames, SHORT, 0, int(rng.integers(2**31)))
    expect_q_per_frame(text, frames, SHORT, noisy, levels, noise)
