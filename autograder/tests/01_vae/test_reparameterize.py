"""Visible checks of reparameterize: z = μ + exp(logvar / 2) ⊙ ε with the noise ε given."""

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_array
from autograder.protocol import is_tensor
from dfkit.models.vae import reparameterize as reference

pytestmark = pytest.mark.question("01_vae.reparameterize")


def known_mistakes(mu, logvar, noise) -> dict:
    """What the catalogued wrong answers give on this call, by the concept each one misses."""
    mu, logvar, noise = mu.double(), logvar.double(), noise.double()
    return {
        "you scale the noise by exp(logvar), the variance σ², where the standard deviation σ = exp(logvar / 2) "
        "belongs": (mu + logvar.exp() * noise).numpy(),
        "you scale the noise by logvar itself: logvar is log σ², so σ = exp(logvar / 2)": (mu + logvar * noise).numpy(),
        "you add the noise without scaling it by σ = exp(logvar / 2)": (mu + noise).numpy(),
    }


def check_against_reference(submission, mu, logvar, noise):
    call = describe_call("reparameterize", mu=mu.numpy(), logvar=logvar.numpy(), noise=noise.numpy()) + f" with {mu.dtype} tensors"
    expected = reference(mu, logvar, noise).numpy()
    got = submission.reparameterize(mu, logvar, noise)
    if is_tensor(got) and got.dtype != expected.dtype:
        raise AssertionError(f"{call}: expected z of dtype {mu.dtype}, like the inputs, got torch.{got.dtype}")
    precise = expected.dtype == np.float64
    expect_array(got, expected, call=call, name="z", tensor=True, rtol=1e-9 if precise else 1e-5, atol=1e-9 if precise else 1e-5,
                 mistakes=lambda: known_mistakes(mu, logvar, noise))


@pytest.mark.visible
@pytest.mark.points(1)
def test_shifts_and_scales_the_noise(submission, rng):
    mu = torch.tensor([[1.0, -2.0, 0.5]])
    logvar = torch.tensor([[0.0, np.log(4.0), np.log(0.25)]], dtype=torch.float32)
    check_against_reference(submission, mu, logvar, torch.ones(1, 3))
    for _ in range(3):
        mu, logvar, noise = (torch.from_numpy(rng.normal(size=(4, 3)).astype(np.float32)) for _ in range(3))
        check_against_reference(submission, mu, logvar, noise)
    # very confident and very unsure latents: exp(logvar) overflows float32 at 100, exp(logvar / 2) does not
    check_against_reference(submission, torch.zeros(1, 2), torch.tensor([[100.0, -100.0]]), torch.ones(1, 2))
    mu, logvar, noise = (torch.from_numpy(rng.normal(size=(2, 3))) for _ in range(3))       # float64 stays float64
    check_against_reference(submission, mu, logvar, noise)
