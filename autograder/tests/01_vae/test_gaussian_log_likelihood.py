"""Visible checks of gaussian_log_likelihood: Σ_i log N(x_i; mean_i, σ²) per example, with log σ = log_scale."""

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_array
from autograder.protocol import is_tensor
from dfkit.models.vae import gaussian_log_likelihood as reference

pytestmark = pytest.mark.question("01_vae.gaussian_log_likelihood")


def known_mistakes(x, mean, log_scale) -> dict:
    """What the catalogued wrong answers give on this call, by the concept each one misses."""
    x, mean = x.double(), mean.double()
    log_scale = torch.as_tensor(log_scale, dtype=torch.float64).expand_as(x)
    squared = (x - mean) ** 2
    half_log_2pi = 0.5 * np.log(2 * np.pi)

    def per_example(per_dim):
        return per_dim.flatten(1).sum(dim=1).numpy()

    return {
        "you leave out the normalizer -½ log 2π of each dimension": per_example(-0.5 * squared * torch.exp(-2 * log_scale) - log_scale),
        "you read log_scale as log σ², a log-variance: it is log σ, so σ² = exp(2 log_scale)":
            per_example(-0.5 * squared * torch.exp(-log_scale) - 0.5 * log_scale - half_log_2pi),
        "you divide the squared error by σ where σ² belongs": per_example(-0.5 * squared * torch.exp(-log_scale) - log_scale - half_log_2pi),
        "you count the normalizer -log σ - ½ log 2π once per example: every dimension has its own":
            per_example(-0.5 * squared * torch.exp(-2 * log_scale)) - log_scale.flatten(1)[:, 0].numpy() - half_log_2pi,
        "you average over the dimensions: the log-likelihood of independent dimensions is their sum":
            (-0.5 * squared * torch.exp(-2 * log_scale) - log_scale - half_log_2pi).flatten(1).mean(dim=1).numpy(),
        "you return the negative log-likelihood, the loss a VAE minimizes: the exercise asks for log p itself":
            -per_example(-0.5 * squared * torch.exp(-2 * log_scale) - log_scale - half_log_2pi),
    }


def check_against_reference(submission, x, mean, log_scale):
    shown = log_scale.numpy() if isinstance(log_scale, torch.Tensor) else log_scale
    call = describe_call("gaussian_log_likelihood", x=x.numpy(), mean=mean.numpy(), log_scale=shown) + f" with {x.dtype} tensors"
    expected = reference(x, mean, log_scale).numpy()
    got = submission.gaussian_log_likelihood(x, mean, log_scale)
    if is_tensor(got) and got.dtype != expected.dtype:
        raise AssertionError(f"{call}: expected the log-likelihood of dtype {x.dtype}, like the inputs, got torch.{got.dtype}")
    precise = expected.dtype == np.float64
    expect_array(got, expected, call=call, name="the log-likelihood per example", tensor=True,
                 rtol=1e-9 if precise else 1e-5, atol=1e-9 if precise else 1e-4,
                 mistakes=lambda: known_mistakes(x, mean, log_scale))


@pytest.mark.visible
@pytest.mark.points(1)
def test_standard_normal_and_a_fixed_scale(submission, rng):
    check_against_reference(submission, torch.zeros(1, 2), torch.zeros(1, 2), 0.0)
    for log_scale in (0.0, float(np.log(0.1)), 0.7):
        x = torch.from_numpy(rng.normal(size=(3, 4)).astype(np.float32))
        mean = torch.from_numpy(rng.normal(size=(3, 4)).astype(np.float32))
        check_against_reference(submission, x, mean, log_scale)


@pytest.mark.visible
@pytest.mark.points(1)
def test_images_summed_per_example(submission, rng):
    x = torch.from_numpy(rng.uniform(size=(2, 1, 4, 4)).astype(np.float32))
    mean = torch.from_numpy(rng.uniform(size=(2, 1, 4, 4)).astype(np.float32))
    check_against_reference(submission, x, mean, float(np.log(0.1)))
