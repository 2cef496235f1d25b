"""Visible checks of diffusion_loss: the mean of (ε̂(x_k, k) - ε)² with x_k from the kernel, for given k and ε."""

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_array, shown
from autograder.standins import ToyDenoiser, schedule_argument
from dfkit.diffusion.ddpm import diffusion_loss as reference
from dfkit.diffusion.schedules import make_schedule

pytestmark = pytest.mark.question("02_ddpm.diffusion_loss")
COURSE = make_schedule("cosine", 1000)

# Relative tolerance: float32 arithmetic, and computing 1 - alpha_bar from alpha_bar (which loses digits
# near k = 1), stay well inside it; every catalogued mistake is far outside.
RTOL = 2e-3


def tensor(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))


def known_mistakes(denoiser, x0, k, noise, schedule) -> dict:
    """What the catalogued wrong answers give on this call, by the concept each one misses."""
    shape = (-1,) + (1,) * (x0.dim() - 1)
    x0, noise = x0.double(), noise.double()
    alpha_bar = schedule.alpha_bars[k].double().view(shape)
    x_k = alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * noise
    return {
        "you regress x_0: the loss of Algorithm 1 compares the prediction with the noise ε":
            ((denoiser(x_k, k) - x0) ** 2).mean().numpy(),
        "you give the denoiser x_0: it must see the noised sample x_k = sqrt(ᾱ_k) x_0 + sqrt(1 - ᾱ_k) ε":
            ((denoiser(x0, k) - noise) ** 2).mean().numpy(),
        "you noise x_0 with ᾱ_k and 1 - ᾱ_k, which are variances: the weights are their square roots":
            ((denoiser(alpha_bar * x0 + (1 - alpha_bar) * noise, k) - noise) ** 2).mean().numpy(),
        "you sum the squared errors: the loss is their mean": ((denoiser(x_k, k) - noise) ** 2).sum().numpy(),
        "you tell the denoiser level k - 1: x_k is at level k": ((denoiser(x_k, k - 1) - noise) ** 2).mean().numpy(),
        "you take the absolute error: the loss is the squared error": (denoiser(x_k, k) - noise).abs().mean().numpy(),
    }


def check_against_reference(submission, denoiser, x0, k, noise, schedule):
    call = describe_call("diffusion_loss", denoiser=denoiser, x0=shown(x0), schedule=shown(schedule), k=k.numpy(), noise=shown(noise))
    got = submission.diffusion_loss(denoiser.as_argument(), x0, schedule_argument(schedule), k=k, noise=noise)
    expected = reference(denoiser, x0.double(), schedule, "eps", k=k, noise=noise.double()).numpy()
    expect_array(got, expected, call=call, name="the loss", rtol=RTOL, atol=1e-7, tensor=True,
                 mistakes=lambda: known_mistakes(denoiser, x0, k, noise, schedule))
    if got.dtype != np.float32:
        raise AssertionError(f"{call}: expected the loss in float32 like the inputs, got dtype {got.dtype}")


@pytest.mark.visible
@pytest.mark.points(1)
def test_loss_of_a_fixed_denoiser_on_images(submission, rng):
    # the toy denoiser returns scale * x_k + offset * cos(k): it looks at both of its inputs
    for scale, offset in ((0.5, 0.3), (-1.0, 2.0)):
        x0, noise = tensor(rng, 4, 1, 5, 6), tensor(rng, 4, 1, 5, 6)
        k = torch.tensor([1, 37, 500, 1000])
        check_against_reference(submission, ToyDenoiser(scale, offset), x0, k, noise, COURSE)


@pytest.mark.visible
@pytest.mark.points(1)
def test_loss_on_points_with_random_levels(submission, rng):
    for _ in range(3):
        x0, noise = tensor(rng, 16, 2), tensor(rng, 16, 2)
        k = torch.from_numpy(rng.integers(1, 1001, size=16))
        check_against_reference(submission, ToyDenoiser(rng.uniform(-1, 1), rng.uniform(-1, 1)), x0, k, noise, COURSE)
