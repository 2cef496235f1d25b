"""Visible checks of noisy_clips: an independent level k ~ U{min_level..K} per frame, and q(x_k | x_0) per frame."""

import numpy as np
import pytest
import torch

from autograder.expect import Shown, describe_call, expect_array, expect_tensor, expect_tuple, shown
from autograder.standins import generator_argument, schedule_argument
from dfkit.diffusion.schedules import make_schedule

pytestmark = pytest.mark.question("06_diffusion_forcing.noisy_clips")
COURSE = make_schedule("cosine", 1000)
SHORT = make_schedule("linear", 10)


def call(submission, frames, schedule, min_level, seed):
    """Call noisy_clips; return (call text, noisy, levels as int64 numpy, noise) after checking types and shapes."""
    text = describe_call("noisy_clips", frames=shown(frames), schedule=shown(schedule), min_level=min_level,
                         generator=Shown(f"torch.Generator().manual_seed({seed})"))
    got = submission.noisy_clips(frames, schedule_argument(schedule), min_level=min_level, generator=generator_argument(seed))
    noisy, levels, noise = expect_tuple(got, 3, call=text, names=("noisy", "levels", "noise"))
    B, T = frames.shape[:2]
    for name, value in (("noisy", noisy), ("noise", noise)):
        expect_tensor(value, frames.shape, call=text, name=name)
    expect_tensor(levels, (B, T), call=text, name="levels")
    if levels.dtype.kind not in "iu":
        raise AssertionError(f"{text}: expected integer levels (one per frame, like torch.randint gives), got dtype {levels.dtype}")
    return text, noisy, levels.view(np.ndarray).astype(np.int64), noise


def expect_the_exercise_draws(text, frames, schedule, min_level, seed, levels, noise):
    """The exercise fixes the draws: torch.randint for the levels, then torch.randn for the noise, both from the generator."""
    generator = torch.Generator().manual_seed(seed)
    B, T = frames.shape[:2]
    drawn_levels = torch.randint(min_level, schedule.num_levels + 1, (B, T), generator=generator)
    drawn_noise = torch.randn(frames.shape, generator=generator, dtype=frames.dtype)
    expect_array(levels, drawn_levels.numpy(), call=text, rtol=0, atol=0,
                 name="levels (the exercise draws them first: torch.randint(min_level, K + 1, (B, T), generator=generator))")
    # the same draws; the last bits may differ with the CPU's vector kernels (torch picks them per machine)
    expect_array(noise, drawn_noise.numpy(), call=text, rtol=1e-5, atol=1e-5, tensor=True,
                 name="noise (drawn after the levels: torch.randn(frames.shape, generator=generator, dtype=frames.dtype))")


def expect_q_per_frame(text, frames, schedule, noisy, levels, noise):
    """noisy must be sqrt(ᾱ_k) x + sqrt(1 - ᾱ_k) ε with each frame's own k and the returned ε."""
    if levels.min() < 0 or levels.max() > schedule.num_levels:
        raise AssertionError(f"{text}: expected levels in 0..{schedule.num_levels}, got values from {levels.min()} to {levels.max()}")
    alpha_bar = schedule.alpha_bars.double().numpy()[levels][..., None, None, None]                # (B, T, 1, 1, 1)
    one_minus = schedule.one_minus_alpha_bars.double().numpy()[levels][..., None, None, None]
    x = frames.double().numpy()
    expected = np.sqrt(alpha_bar) * x + np.sqrt(one_minus) * noise.view(np.ndarray).astype(np.float64)
    # 1 - ᾱ_k computed from the float32 ᾱ_k (instead of the schedule's 1 - ᾱ_k) is off by about 1e-5 near k = 1
    returned_noise = noise.view(np.ndarray).astype(np.float64)
    mistakes = {"you scale the frames and the noise by ᾱ_k and 1 - ᾱ_k, which are variances: the weights are their "
                "square roots": alpha_bar * x + one_minus * returned_noise}
    expect_array(noisy, expected, call=text, name="noisy (compared with q(x_k | x_0) at the returned levels and noise)",
                 rtol=1e-4, atol=2e-4, tensor=True, mistakes=mistakes)
    if noisy.dtype != np.dtype(str(frames.dtype).replace("torch.", "")):
        raise AssertionError(f"{text}: expected noisy frames in the dtype of the clips ({frames.dtype}), got {noisy.dtype}")


def expect_independent_uniform(text, levels, low, high):
    """Levels (B, T) uniform over low..high, independent across frames and across clips."""
    same_clip = (levels == levels[:, :1]).all(axis=1).mean()
    if same_clip > 0.05:
        raise AssertionError(f"{text}: {same_clip:.0%} of the clips have one level for all of their frames: that is "
                             f"full-sequence noise; Diffusion Forcing draws an independent level for every frame")
    same_frame = (levels == levels[:1]).all(axis=0).mean()
    if same_frame > 0.05:
        raise AssertionError(f"{text}: at {same_frame:.0%} of the frame positions every clip has the same level: "
                             f"draw one level per clip and frame, shape (B, T)")
    values, counts = np.unique(levels, return_counts=True)
    if values.min() != low or values.max() != high or len(values) != high - low + 1:
        raise AssertionError(f"{text}: expected every level from {low} to {high} among {levels.size} draws, "
                             f"got the levels {values.tolist()}")
    mean = levels.size / (high - low + 1)
    if np.abs(counts - mean).max() > 6 * np.sqrt(mean):
        raise AssertionError(f"{text}: expected each level about {mean:.0f} times (uniform), got counts {counts.tolist()}")
    correlation = np.corrcoef(levels[:, :-1].ravel(), levels[:, 1:].ravel())[0, 1]
    if abs(correlation) > 0.1:
        raise AssertionError(f"{text}: the levels of neighbouring frames are correlated ({correlation:.2f}); "
                             f"expected independent draws")


@pytest.mark.visible
@pytest.mark.points(2)
def test_an_independent_uniform_level_for_every_frame(submission, rng):
    frames = torch.from_numpy(rng.uniform(-1, 1, size=(400, 25, 1, 1, 2)).astype(np.float32))
    text, _, levels, _ = call(submission, frames, SHORT, 0, int(rng.integers(2**31)))
    expect_independent_uniform(text, levels, 0, SHORT.num_levels)


@pytest.mark.visible
@pytest.mark.points(2)
def test_each_frame_is_noised_to_its_own_level(submission, rng):
    for shape in ((6, 5, 1, 4, 4), (3, 8, 2, 3, 3)):
        frames = torch.from_numpy(rng.uniform(-1, 1, size=shape).astype(np.float32))
        seed = int(rng.integers(2**31))
        text, noisy, levels, noise = call(submission, frames, COURSE, 0, seed)
        expect_q_per_frame(text, frames, COURSE, noisy, levels, noise)
        expect_the_exercise_draws(text, frames, COURSE, 0, seed, levels, noise)
    frames = torch.zeros(40, 12, 1, 8, 8)
    text, _, _, noise = call(submission, frames, COURSE, 0, int(rng.integers(2**31)))
    values = noise.view(np.ndarray).astype(np.float64)
    if abs(values.mean()) > 0.05 or abs(values.std() - 1) > 0.05:
        raise AssertionError(f"{text}: expected standard normal noise (mean 0, std 1, e.g. torch.randn), got mean "
                             f"{values.mean():.3f} and std {values.std():.3f} over {values.size} values")
