"""Visible checks of gaussian_kl: KL(N(μ, σ²) || N(0, I)) = ½ Σ_j (μ_j² + σ_j² - log σ_j² - 1) per example."""

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_array
from autograder.protocol import is_tensor
from dfkit.models.vae import gaussian_kl as reference

pytestmark = pytest.mark.question("01_vae.gaussian_kl")


def known_mistakes(mu, logvar) -> dict:
    """What the catalogued wrong answers give on this call, by the concept each one misses."""
    mu, logvar = mu.double(), logvar.double()
    terms = (mu ** 2 + logvar.exp() - 1 - logvar).flatten(1)                     # (B, D): 2 KL per dimension
    return {
        "you leave out the factor ½ of KL = ½ Σ (μ² + σ² - log σ² - 1)": terms.sum(1).numpy(),
        "you use σ = exp(logvar / 2) where the variance σ² = exp(logvar) belongs":
            (0.5 * (mu ** 2 + (0.5 * logvar).exp() - 1 - logvar).flatten(1).sum(1)).numpy(),
        "you average over the latent dimensions: the KL of independent dimensions is their sum":
            (0.5 * terms.mean(1)).numpy(),
        "you flip the sign: a KL divergence is never negative": (-0.5 * terms.sum(1)).numpy(),
        "you leave out the -1 of each dimension's term, so the prior itself does not score 0":
            (0.5 * (mu ** 2 + logvar.exp() - logvar).flatten(1).sum(1)).numpy(),
    }


def check_against_reference(submission, mu, logvar):
    call = describe_call("gaussian_kl", mu=mu.numpy(), logvar=logvar.numpy()) + f" with {mu.dtype} tensors"
    expected = reference(mu, logvar).numpy()
    got = submission.gaussian_kl(mu, logvar)
    if is_tensor(got) and got.dtype != expected.dtype:
        raise AssertionError(f"{call}: expected the KL of dtype {mu.dtype}, like the inputs, got torch.{got.dtype}")
    precise = expected.dtype == np.float64
    expect_array(got, expected, call=call, name="the KL per example", tensor=True, rtol=1e-9 if precise else 1e-5,
                 atol=1e-9 if precise else 1e-5, mistakes=lambda: known_mistakes(mu, logvar))


@pytest.mark.visible
@pytest.mark.points(1)
def test_zero_for_the_prior_itself(submission):
    check_against_reference(submission, torch.zeros(2, 3), torch.zeros(2, 3))
    check_against_reference(submission, torch.tensor([[1.0, 0.0], [0.0, 0.0]]), torch.tensor([[0.0, 0.0], [np.log(2.0), 0.0]], dtype=torch.float32))


@pytest.mark.visible
@pytest.mark.points(1)
def test_a_batch_of_latents(submission, rng):
    for _ in range(4):
        mu = torch.from_numpy(rng.normal(size=(4, 3)).astype(np.float32))
        logvar = torch.from_numpy(rng.normal(scale=1.5, size=(4, 3)).astype(np.float32))
        check_against_reference(submission, mu, logvar)
    # exp(-120) underflows to 0 in float32, so log(exp(logvar)) is -inf: use logvar itself
    check_against_reference(submission, torch.zeros(1, 2), torch.tensor([[-120.0, 0.5]]))
