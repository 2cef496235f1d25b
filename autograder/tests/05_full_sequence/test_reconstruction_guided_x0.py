"""Visible checks of reconstruction_guided_x0: x̃_0 = x̂_0 - (w sqrt(ᾱ_k) / 2) gradient on the unknown frames."""

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_close, shown
from autograder.standins import schedule_argument
from dfkit.diffusion.schedules import make_schedule
from dfkit.sequence.rollout import reconstruction_guided_x0 as reference

pytestmark = pytest.mark.question("05_full_sequence.reconstruction_guided_x0")
COURSE = make_schedule("cosine", 1000)


def tensor(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))


def known_mistakes(x0_hat, gradient, levels, weight, num_known) -> dict:
    """What the catalogued wrong answers give on this call, by the concept each one misses."""
    x0_hat, gradient = x0_hat.double(), gradient.double()
    alpha_bar = COURSE.alpha_bar(levels, like=x0_hat)                                  # (B, W, 1, 1, 1)

    def corrected(step, first=num_known, last=None):
        out = x0_hat.clone()
        out[:, first:last] -= (step * gradient)[:, first:last]
        return out.numpy()

    right = weight * alpha_bar.sqrt() / 2
    return {
        "you move up the gradient: guidance lowers the reconstruction error, so subtract it": corrected(-right),
        "you leave out the ½ of w sqrt(ᾱ_k) / 2": corrected(2 * right),
        "you weight with ᾱ_k where its square root belongs": corrected(weight * alpha_bar / 2),
        "you use the classifier-guidance weighting (1 - ᾱ_k) / sqrt(ᾱ_k): reconstruction guidance weights with "
        "sqrt(ᾱ_k) / 2": corrected(weight * (1 - alpha_bar) / alpha_bar.sqrt().clamp(min=1e-4) / 2),
        "you correct the known frames too: they keep x̂_0 (they are replaced anyway)": corrected(right, first=0),
        "you correct the known frames instead of the unknown ones": corrected(right, first=0, last=num_known),
        "you correct the last known frame too: the unknown frames start at index num_known": corrected(right, first=max(num_known - 1, 0)),
    }


def check_against_reference(submission, x0_hat, gradient, levels, weight, num_known):
    call = describe_call("reconstruction_guided_x0", x0_hat=shown(x0_hat), gradient=shown(gradient), levels=shown(levels),
                         weight=weight, num_known=num_known, schedule=shown(COURSE))
    got = submission.reconstruction_guided_x0(x0_hat, gradient, levels, weight, num_known, schedule_argument(COURSE))
    expected = reference(x0_hat.double(), gradient.double(), levels, weight, num_known, COURSE)
    expect_close(got, expected, call=call, name="the guided x0", levels=levels,
                 mistakes=lambda: known_mistakes(x0_hat, gradient, levels, weight, num_known))


def full_sequence_levels(rng, B, W):
    """One level per window and clip (the full-sequence matrix moves every frame together)."""
    return torch.from_numpy(rng.integers(1, 1001, size=(B, 1))).expand(B, W).contiguous()


@pytest.mark.visible
@pytest.mark.points(2)
def test_unknown_frames_move_down_the_gradient(submission, rng):
    for B, W, a, w in ((3, 5, 2, 1.0), (2, 6, 4, 3.5)):
        levels = full_sequence_levels(rng, B, W)
        check_against_reference(submission, tensor(rng, B, W, 1, 4, 4), tensor(rng, B, W, 1, 4, 4), levels, w, a)
    levels = torch.from_numpy(rng.integers(1, 1001, size=(2, 5)))        # one level per frame: each weighted at its own
    check_against_reference(submission, tensor(rng, 2, 5, 1, 3, 3), tensor(rng, 2, 5, 1, 3, 3), levels, 2.0, 2)
