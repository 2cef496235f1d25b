"""Visible checks of raise_level: x_k = sqrt(ᾱ_k / ᾱ_s) x_s + sqrt((ᾱ_s - ᾱ_k) / ᾱ_s) ε, frame by frame."""

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_array, shown
from autograder.standins import schedule_argument
from dfkit.diffusion.schedules import make_schedule
from dfkit.sequence.guidance import raise_level as reference

pytestmark = pytest.mark.question("07_guidance.raise_level")
COURSE = make_schedule("cosine", 1000)


def tensor(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))


def known_mistakes(x, levels, target, noise, schedule) -> dict:
    """What the catalogued wrong answers give on this call, by the concept each one misses."""
    x, noise = x.double(), noise.double()
    a_s = schedule.alpha_bars[levels].double()[..., None, None, None]           # (B, T, 1, 1, 1)
    a_k = schedule.alpha_bars[target].double()[..., None, None, None]
    moved = (target != levels)[..., None, None, None]

    def kept(raised):
        return torch.where(moved, raised, x).numpy()

    return {
        "you noise x as if it were clean (q_sample at the target level): frames already at level s carry noise; "
        "only the difference is added, x_k = sqrt(ᾱ_k / ᾱ_s) x_s + sqrt(1 - ᾱ_k / ᾱ_s) ε":
            kept(a_k.sqrt() * x + (1 - a_k).sqrt() * noise),
        "you scale x by ᾱ_k / ᾱ_s, a ratio of variances: the signal is scaled by its square root":
            kept((a_k / a_s) * x + ((a_s - a_k) / a_s).sqrt() * noise),
        "you add variance ᾱ_s - ᾱ_k without dividing by ᾱ_s: the step from s to k adds 1 - ᾱ_k / ᾱ_s":
            kept((a_k / a_s).sqrt() * x + (a_s - a_k).sqrt() * noise),
    }


def check_against_reference(submission, x, levels, target, noise, schedule):
    call = describe_call("raise_level", x=shown(x), levels=shown(levels), target_levels=shown(target), noise=shown(noise),
                         schedule=shown(schedule))
    expected = reference(x.double(), levels, target, noise.double(), schedule).numpy()
    got = submission.raise_level(x, levels, target, noise, schedule_argument(schedule))
    expect_array(got, expected, call=call, tensor=True, rtol=1e-4, atol=1e-5, mistakes=lambda: known_mistakes(x, levels, target, noise, schedule))
    return got


@pytest.mark.visible
@pytest.mark.points(1)
def test_from_clean_frames_is_q_sample(submission, rng):
    levels = torch.zeros(2, 3, dtype=torch.long)
    target = torch.tensor([[0, 300, 1000], [600, 0, 50]])
    check_against_reference(submission, tensor(rng, 2, 3, 1, 4, 4), levels, target, tensor(rng, 2, 3, 1, 4, 4), COURSE)


@pytest.mark.visible
@pytest.mark.points(2)
def test_from_slightly_noisy_frames(submission, rng):
    levels = torch.tensor([[50, 50, 50, 200], [50, 50, 50, 700]])
    target = torch.tensor([[50, 300, 1000, 200], [400, 50, 1000, 700]])
    check_against_reference(submission, tensor(rng, 2, 4, 1, 3, 5), levels, target, tensor(rng, 2, 4, 1, 3, 5), COURSE)
