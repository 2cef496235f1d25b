"""Visible checks of ancestral_step: x_(k-1) = μ_θ(x_k, k) + σ_k z with σ_k² = β̃_k, and no noise at k = 1."""

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_close, shown
from autograder.standins import schedule_argument
from dfkit.diffusion.ddpm import ancestral_step as reference
from dfkit.diffusion.schedules import make_schedule

pytestmark = pytest.mark.question("02_ddpm.ancestral_step")
COURSE = make_schedule("cosine", 1000)


def tensor(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))


def known_mistakes(x_k, k, eps, noise, schedule) -> dict:
    """What the catalogued wrong answers give on this call, by the concept each one misses."""
    shape = (-1,) + (1,) * (x_k.dim() - 1)
    x_k, eps, noise = x_k.double(), eps.double(), noise.double()
    beta, alpha = schedule.betas[k].double().view(shape), schedule.alphas[k].double().view(shape)
    alpha_bar, previous = schedule.alpha_bars[k].double().view(shape), schedule.alpha_bars[k - 1].double().view(shape)
    mean = (x_k - beta / (1 - alpha_bar).sqrt() * eps) / alpha.sqrt()
    beta_tilde = (1 - previous) / (1 - alpha_bar) * beta
    last = (k > 1).double().view(shape)                                  # no noise at the last step
    return {
        "you add noise at the last step too (k = 1): the posterior variance β̃_1 is 0, the last step adds none":
            mean + beta.sqrt() * noise,
        "you use the variance β̃_k as the noise's scale: the noise is scaled by the standard deviation sqrt(β̃_k)":
            mean + last * beta_tilde * noise,
        "you subtract sqrt(1 - ᾱ_k) ε̂ in the mean: Algorithm 2 subtracts β_k / sqrt(1 - ᾱ_k) ε̂":
            (x_k - (1 - alpha_bar).sqrt() * eps) / alpha.sqrt() + last * beta_tilde.sqrt() * noise,
        "you add the predicted noise in the mean: the step removes it, x_k - β_k / sqrt(1 - ᾱ_k) ε̂":
            (x_k + beta / (1 - alpha_bar).sqrt() * eps) / alpha.sqrt() + last * beta_tilde.sqrt() * noise,
        "you divide by α_k where its square root belongs":
            (x_k - beta / (1 - alpha_bar).sqrt() * eps) / alpha + last * beta_tilde.sqrt() * noise,
        "you jump to the guess of x_0: one ancestral step only goes from level k to k - 1":
            (x_k - (1 - alpha_bar).sqrt() * eps) / alpha_bar.sqrt() + beta_tilde.sqrt() * noise,
    }


def check_against_reference(submission, x_k, k, eps, noise, schedule):
    call = describe_call("ancestral_step", x_k=shown(x_k), k=k.numpy(), eps_prediction=shown(eps), schedule=shown(schedule), noise=shown(noise))
    got = submission.ancestral_step(x_k, k, eps, schedule_argument(schedule), noise=noise)
    expected = reference(x_k.double(), k, eps.double(), schedule, noise=noise.double())
    expect_close(got, expected, call=call, where=lambda b: f"level k = {int(k[b])}", mistakes=lambda: known_mistakes(x_k, k, eps, noise, schedule))


@pytest.mark.visible
@pytest.mark.points(2)
def test_one_step_of_algorithm_2(submission, rng):
    check_against_reference(submission, tensor(rng, 4, 1, 5, 6), torch.tensor([2, 100, 600, 1000]),
                            tensor(rng, 4, 1, 5, 6), tensor(rng, 4, 1, 5, 6), COURSE)
    for shape in ((5, 1, 4, 5), (8, 2)):
        k = torch.from_numpy(rng.integers(2, 1001, size=shape[0]))
        check_against_reference(submission, tensor(rng, *shape), k, tensor(rng, *shape), tensor(rng, *shape), COURSE)


@pytest.mark.visible
@pytest.mark.points(1)
def test_no_noise_is_added_at_level_one(submission, rng):
    # every sample at k = 1, then samples at k = 1 next to others in the same batch
    for k in (torch.ones(3, dtype=torch.long), torch.tensor([1, 2, 1, 500])):
        shape = (len(k), 1, 5, 6)
        check_against_reference(submission, tensor(rng, *shape), k, tensor(rng, *shape), tensor(rng, *shape), COURSE)
