"""Visible checks of ddim_step: x_k' = sqrt(ᾱ_k') x̂_0 + sqrt(1 - ᾱ_k' - σ²) ε̂ + σ z (Song et al., eq. 12)."""

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_close, shown
from autograder.standins import schedule_argument
from dfkit.diffusion.ddpm import ddim_step as reference
from dfkit.diffusion.schedules import make_schedule

pytestmark = pytest.mark.question("02_ddpm.ddim_step")
COURSE = make_schedule("cosine", 1000)


def tensor(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))


def known_mistakes(x_k, k, k_prev, eps, eta, noise, schedule) -> dict:
    """What the catalogued wrong answers give on this call, by the concept each one misses (eq. 12 of Song et al.)."""
    shape = (-1,) + (1,) * (x_k.dim() - 1)
    x_k, eps, noise = x_k.double(), eps.double(), noise.double()
    a, a_prev = schedule.alpha_bars[k].double().view(shape), schedule.alpha_bars[k_prev].double().view(shape)
    sigma = eta * ((1 - a_prev) / (1 - a) * (1 - a / a_prev)).sqrt()

    def step(x0, direction_variance, added):
        return a_prev.sqrt() * x0 + direction_variance.clamp(min=0).sqrt() * eps + added * noise

    return {
        "you guess x_0 with ᾱ_k_prev, the target level's: x̂_0 comes from x_k, so it uses ᾱ_k":
            step((x_k - (1 - a_prev).sqrt() * eps) / a_prev.sqrt(), 1 - a_prev - sigma ** 2, sigma),
        "you rescale x_k where the guess x̂_0 = (x_k - sqrt(1 - ᾱ_k) ε̂) / sqrt(ᾱ_k) belongs":
            step(x_k, 1 - a_prev - sigma ** 2, sigma),
        "you guess x_0 with ᾱ_k and 1 - ᾱ_k, which are variances: x̂_0 = (x_k - sqrt(1 - ᾱ_k) ε̂) / sqrt(ᾱ_k)":
            step((x_k - (1 - a) * eps) / a, 1 - a_prev - sigma ** 2, sigma),
    }


def check_against_reference(submission, x_k, k, k_prev, eps, eta, noise, schedule):
    call = describe_call("ddim_step", x_k=shown(x_k), k=k.numpy(), k_prev=k_prev.numpy(), eps_prediction=shown(eps),
                         schedule=shown(schedule), eta=eta, noise=shown(noise))
    got = submission.ddim_step(x_k, k, k_prev, eps, schedule_argument(schedule), eta=eta, noise=noise)
    expected = reference(x_k.double(), k, k_prev, eps.double(), schedule, eta=eta, noise=noise.double())
    expect_close(got, expected, call=call, where=lambda b: f"k = {int(k[b])}, k_prev = {int(k_prev[b])}",
                 mistakes=lambda: known_mistakes(x_k, k, k_prev, eps, eta, noise, schedule))
    return got


@pytest.mark.visible
@pytest.mark.points(1)
def test_deterministic_jump_with_eta_0(submission, rng):
    shape = (4, 1, 5, 6)
    check_against_reference(submission, tensor(rng, *shape), torch.tensor([1000, 800, 400, 50]), torch.tensor([950, 500, 399, 10]),
                            tensor(rng, *shape), 0.0, tensor(rng, *shape), COURSE)
    for shape in ((5, 1, 4, 5), (8, 2)):
        k = torch.from_numpy(rng.integers(2, 1001, size=shape[0]))
        k_prev = torch.from_numpy(rng.integers(1, k.numpy()))
        check_against_reference(submission, tensor(rng, *shape), k, k_prev, tensor(rng, *shape), 0.0, tensor(rng, *shape), COURSE)


@pytest.mark.visible
@pytest.mark.points(1)
def test_last_jump_to_level_0_lands_on_the_guess_of_x0(submission, rng):
    shape = (3, 1, 5, 6)
    for eta in (0.0, 1.0):
        check_against_reference(submission, tensor(rng, *shape), torch.tensor([1, 20, 1000]), torch.zeros(3, dtype=torch.long),
                                tensor(rng, *shape), eta, tensor(rng, *shape), COURSE)
