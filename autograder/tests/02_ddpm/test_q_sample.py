"""Visible checks of q_sample: x_k = sqrt(ᾱ_k) x_0 + sqrt(1 - ᾱ_k) ε, one level per sample."""

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_close, shown
from autograder.standins import schedule_argument
from dfkit.diffusion.ddpm import q_sample as reference
from dfkit.diffusion.schedules import make_schedule

pytestmark = pytest.mark.question("02_ddpm.q_sample")
COURSE = make_schedule("cosine", 1000)


def tensor(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))


def known_mistakes(x0, k, noise, schedule) -> dict:
    """What the catalogued wrong answers give on this call, by the concept each one misses."""
    shape = (-1,) + (1,) * (x0.dim() - 1)
    x0, noise = x0.double(), noise.double()
    alpha_bar = schedule.alpha_bars[k].double().view(shape)
    previous = schedule.alpha_bars[k - 1].double().view(shape)
    beta = schedule.betas[k].double().view(shape)
    return {
        "you scale x_0 and ε by ᾱ_k and 1 - ᾱ_k, which are variances: the weights are their square roots, "
        "the standard deviations": alpha_bar * x0 + (1 - alpha_bar) * noise,
        "you weight the noise by 1 - ᾱ_k, a variance, instead of its square root": alpha_bar.sqrt() * x0 + (1 - alpha_bar) * noise,
        "you use ᾱ_(k-1) instead of ᾱ_k: the levels are off by one": previous.sqrt() * x0 + (1 - previous).sqrt() * noise,
        "you swap the weights of signal and noise: x_0 keeps sqrt(ᾱ_k), the noise gets sqrt(1 - ᾱ_k)":
            (1 - alpha_bar).sqrt() * x0 + alpha_bar.sqrt() * noise,
        "you take one forward step (β_k) instead of the jump to level k, whose weights use ᾱ_k, the product of "
        "all (1 - β) up to k": (1 - beta).sqrt() * x0 + beta.sqrt() * noise,
    }


def check_against_reference(submission, x0, k, noise, schedule):
    call = describe_call("q_sample", x0=shown(x0), k=k.numpy(), noise=shown(noise), schedule=shown(schedule))
    got = submission.q_sample(x0, k, noise, schedule_argument(schedule))
    expected = reference(x0.double(), k, noise.double(), schedule)
    expect_close(got, expected, call=call, where=lambda b: f"level k = {int(k[b])}", mistakes=lambda: known_mistakes(x0, k, noise, schedule),
                 dtype=x0.dtype)                       # the exercise: x_k has the dtype of x0


@pytest.mark.visible
@pytest.mark.points(1)
def test_one_level_for_the_whole_batch(submission, rng):
    for level in (1, 10, 500, 1000):
        x0, noise = tensor(rng, 3, 1, 5, 6), tensor(rng, 3, 1, 5, 6)
        check_against_reference(submission, x0, torch.full((3,), level), noise, COURSE)


@pytest.mark.visible
@pytest.mark.points(1)
def test_one_level_per_sample(submission, rng):
    x0, noise = tensor(rng, 5, 1, 6, 7), tensor(rng, 5, 1, 6, 7)
    check_against_reference(submission, x0, torch.tensor([1, 250, 500, 750, 1000]), noise, COURSE)
    for shape in ((6, 1, 4, 5), (8, 2)):                       # images, and 2-D points (N, D)
        x0, noise = tensor(rng, *shape), tensor(rng, *shape)
        k = torch.from_numpy(rng.integers(1, 1001, size=shape[0]))
        check_against_reference(submission, x0, k, noise, COURSE)
