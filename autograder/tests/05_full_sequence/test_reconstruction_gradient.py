"""Visible checks of reconstruction_gradient: ∇_{x_k} of the known frames' reconstruction error, through the denoiser."""

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_close, shown
from autograder.standins import ToyJointDenoiser
from dfkit.sequence.rollout import reconstruction_gradient as reference

pytestmark = pytest.mark.question("05_full_sequence.reconstruction_gradient")


def tensor(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))


def known_mistakes(denoiser, x_k, levels, known) -> dict:
    """What the catalogued wrong answers give on this call, by the concept each one misses."""
    x_k, known = x_k.double(), known.double()
    a = known.shape[1]

    def gradient(error_of, levels=levels):
        with torch.enable_grad():
            x = x_k.detach().requires_grad_(True)
            (result,) = torch.autograd.grad(error_of(denoiser(x, levels)), x)
        return result

    right = gradient(lambda x0_hat: ((x0_hat[:, :a] - known) ** 2).sum())
    own_frames = right.clone()
    own_frames[:, a:] = 0
    of_x0_hat = torch.zeros_like(x_k)
    of_x0_hat[:, :a] = 2 * (denoiser(x_k, levels)[:, :a] - known)
    return {k: v.numpy() for k, v in {
        "you differentiate with respect to x̂_0: the gradient is taken through the denoiser, with respect to x_k": of_x0_hat,
        "you keep the gradient on the known frames only: through a denoiser that mixes frames, the unknown frames get a "
        "gradient too, and guidance uses exactly that part": own_frames,
        "you average the squared errors: the reconstruction error is their sum": right / known.numel(),
        "you halve the squared error: ||x^a - x̂_0^a||² has no ½": right / 2,
        "you compare the last a frames with the truth: the known frames are the first a of the window":
            gradient(lambda x0_hat: ((x0_hat[:, -a:] - known) ** 2).sum()),
        "you ask the denoiser at level 0: it must see each frame's own level": gradient(
            lambda x0_hat: ((x0_hat[:, :a] - known) ** 2).sum(), torch.zeros_like(levels)),
    }.items()}


def check_against_reference(submission, denoiser, x_k, levels, known, no_grad=False):
    call = describe_call("reconstruction_gradient", denoiser=shown(denoiser), x_k=shown(x_k), levels=shown(levels), known=shown(known))
    if no_grad:        # the sampler calls it inside torch.no_grad(): the gradient must not depend on the caller's mode
        call = f"with torch.no_grad(): {call}"
        submission = submission.no_grad
    got = submission.reconstruction_gradient(denoiser.as_argument(), x_k, levels, known)
    expected = reference(denoiser, x_k.double(), levels, known.double())
    expect_close(got, expected, call=call, name="the gradient", levels=levels,
                 mistakes=lambda: known_mistakes(denoiser, x_k, levels, known))


def full_sequence_levels(rng, B, W):
    """One level per window and clip (the full-sequence matrix moves every frame together)."""
    return torch.from_numpy(rng.integers(1, 1001, size=(B, 1))).expand(B, W).contiguous()


@pytest.mark.visible
@pytest.mark.points(2)
def test_gradient_through_a_denoiser_that_mixes_frames(submission, rng):
    for B, W, a, denoiser in ((2, 5, 2, ToyJointDenoiser(0.8, 1.5, 0.3)), (3, 4, 3, ToyJointDenoiser(1.2, -0.7, 0.5))):
        levels = full_sequence_levels(rng, B, W)
        check_against_reference(submission, denoiser, tensor(rng, B, W, 1, 4, 4), levels, tensor(rng, B, a, 1, 4, 4))
    levels = full_sequence_levels(rng, 2, 4)
    check_against_reference(submission, ToyJointDenoiser(0.9, 1.1, 0.4), tensor(rng, 2, 4, 1, 3, 3), levels, tensor(rng, 2, 2, 1, 3, 3),
                            no_grad=True)
