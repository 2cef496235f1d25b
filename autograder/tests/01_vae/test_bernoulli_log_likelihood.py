"""Visible checks of bernoulli_log_likelihood: Σ_i [x_i log σ(l_i) + (1 - x_i) log(1 - σ(l_i))] per example."""

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_array
from autograder.protocol import is_tensor
from dfkit.models.vae import bernoulli_log_likelihood as reference

pytestmark = pytest.mark.question("01_vae.bernoulli_log_likelihood")


def known_mistakes(x, logits) -> dict:
    """What the catalogued wrong answers give on this call, by the concept each one misses."""
    per_pixel = -torch.nn.functional.binary_cross_entropy_with_logits(logits.double(), x.double(), reduction="none").flatten(1)
    return {
        "you return the binary cross-entropy, a loss: the log-likelihood is its negative": -per_pixel.sum(dim=1).numpy(),
        "you average over the pixels: the log-likelihood of independent pixels is their sum": per_pixel.mean(dim=1).numpy(),
    }


def check_against_reference(submission, x, logits):
    call = describe_call("bernoulli_log_likelihood", x=x.numpy(), logits=logits.numpy()) + f" with {x.dtype} tensors"
    expected = reference(x, logits).numpy()
    got = submission.bernoulli_log_likelihood(x, logits)
    if is_tensor(got) and got.dtype != expected.dtype:
        raise AssertionError(f"{call}: expected the log-likelihood of dtype {x.dtype}, like the inputs, got torch.{got.dtype}")
    precise = expected.dtype == np.float64
    expect_array(got, expected, call=call, name="the log-likelihood per example", tensor=True,
                 rtol=1e-9 if precise else 1e-5, atol=1e-9 if precise else 1e-4,
                 mistakes=lambda: known_mistakes(x, logits))


@pytest.mark.visible
@pytest.mark.points(1)
def test_black_and_white_pixels(submission, rng):
    check_against_reference(submission, torch.tensor([[0.0, 1.0, 1.0]]), torch.tensor([[0.0, 2.0, -1.0]]))
    for _ in range(3):
        x = torch.from_numpy((rng.uniform(size=(3, 1, 2, 2)) > 0.5).astype(np.float32))
        logits = torch.from_numpy(rng.normal(scale=3.0, size=(3, 1, 2, 2)).astype(np.float32))
        check_against_reference(submission, x, logits)


@pytest.mark.visible
@pytest.mark.points(1)
def test_grey_pixels_are_soft_targets(submission, rng):
    for _ in range(3):
        x = torch.from_numpy(rng.uniform(size=(2, 1, 3, 3)).astype(np.float32))
        logits = torch.from_numpy(rng.normal(scale=3.0, size=(2, 1, 3, 3)).astype(np.float32))
        check_against_reference(submission, x, logits)
    # a confident decoder: exp(100) overflows float32, so log(1 + exp(l)) must be computed stably
    check_against_reference(submission, torch.tensor([[1.0, 0.0, 0.5]]), torch.tensor([[100.0, -100.0, 100.0]]))
