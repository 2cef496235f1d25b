"""Visible checks of gaussian_kl: KL(N(μ, σ²) || N(0, I)) = ½ Σ_j (μ_j² + σ_j² - log σ_j² - 1) per example."""

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_array
from autograder.protocol import is_tensor
from dfkit.models.vae import gaussian_kl as reference

pytestmark = pytest.mark.question("01_vae.gaussian_kl")


def check_against_reference(submission, mu, logvar):
    call = describe_call("gaussian_kl", mu=mu.numpy(), logvar=logvar.numpy()) + f" with {mu.dtype} tensors"
    expected = reference(mu, logvar).numpy()
    got = submission.gaussian_kl(mu, logvar)
    if is_tensor(got) and got.dtype != expected.dtype:
        raise AssertionError(f"{call}: expected the KL of dtype {mu.dtype}, like the inputs, got torch.{got.dtype}")
    precise = expected.dtype == np.float64
    expect_array(got, expected, call=call, name="the KL per example", tensor=True, rtol=1e-9 if precise else 1e-5, atol=1e-9 if precise else 1e-5)


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
