"""Visible checks of gaussian_log_likelihood: Σ_i log N(x_i; mean_i, σ²) per example, with log σ = log_scale."""

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_array
from autograder.protocol import is_tensor
from dfkit.models.vae import gaussian_log_likelihood as reference

pytestmark = pytest.mark.question("01_vae.gaussian_log_likelihood")


def check_against_reference(submission, x, mean, log_scale):
    shown = log_scale.numpy() if isinstance(log_scale, torch.Tensor) else log_scale
    call = describe_call("gaussian_log_likelihood", x=x.numpy(), mean=mean.numpy(), log_scale=shown) + f" with {x.dtype} tensors"
    expected = reference(x, mean, log_scale).numpy()
    got = submission.gaussian_log_likelihood(x, mean, log_scale)
    if is_tensor(got) and got.dtype != expected.dtype:
        raise AssertionError(f"{call}: expected the log-likelihood of dtype {x.dtype}, like the inputs, got torch.{got.dtype}")
    precise = expected.dtype == np.float64
    expect_array(got, expected, call=call, name="the log-likelihood per example", tensor=True,
                 rtol=1e-9 if precise else 1e-5, atol=1e-9 if precise else 1e-4)


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
