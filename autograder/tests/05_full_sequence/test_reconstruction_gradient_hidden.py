"""Hidden checks of reconstruction_gradient: ∇_{x_k} of the known frames' reconstruction error, through the denoiser: one or all frames known, per-frame levels, two channels."""
# dfkit-canary: hidden-tests-05_full_sequence-reconstruction_gradient

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_close, shown
from dfkit.lessons.full_sequence import ToyJointDenoiser, reconstruction_gradient as reference

pytestmark = pytest.mark.question("05_full_sequence.reconstruction_gradient")


def tensor(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))


def check_against_reference(submission, denoiser, x_k, levels, known):
    call = describe_call("reconstruction_gradient", denoiser=shown(denoiser), x_k=shown(x_k), levels=shown(levels), known=shown(known))
    got = submission.reconstruction_gradient(denoiser.as_argument(), x_k, levels, known)
    expected = reference(denoiser, x_k.double(), levels, known.double())
    expect_close(got, expected, call=call, name="the gradient", levels=levels)


def full_sequence_levels(rng, B, W):
    """One level per window and clip (the full-sequence matrix moves every frame together)."""
    return torch.from_numpy(rng.integers(1, 1001, size=(B, 1))).expand(B, W).contiguous()


@pytest.mark.points(1)
def test_one_known_frame_and_all_known(submission, rng):
    denoiser = ToyJointDenoiser(0.6, 2.0, 0.8)
    for W, a in ((4, 1), (3, 3)):
        levels = full_sequence_levels(rng, 2, W)
        check_against_reference(submission, denoiser, tensor(rng, 2, W, 1, 3, 3), levels, tensor(rng, 2, a, 1, 3, 3))


@pytest.mark.points(1)
def test_per_frame_levels_and_two_channels(submission, rng):
    levels = torch.from_numpy(rng.integers(0, 1001, size=(2, 5)))
    check_against_reference(submission, ToyJointDenoiser(1.0, 1.0, 1.0), tensor(rng, 2, 5, 2, 3, 3), levels, tensor(rng, 2, 2, 2, 3, 3))
