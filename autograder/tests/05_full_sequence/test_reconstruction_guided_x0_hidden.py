"""Hidden checks of reconstruction_guided_x0: per-frame levels, no or all frames known, zero weight."""
# dfkit-canary: hidden-tests-05_full_sequence-reconstruction_guided_x0

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_close, shown
from dfkit.diffusion.schedules import make_schedule
from dfkit.lessons.arguments import schedule_argument
from dfkit.lessons.full_sequence import reconstruction_guided_x0 as reference

pytestmark = pytest.mark.question("05_full_sequence.reconstruction_guided_x0")
COURSE = make_schedule("cosine", 1000)


def tensor(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))


def check_against_reference(submission, x0_hat, gradient, levels, weight, num_known):
    call = describe_call("reconstruction_guided_x0", x0_hat=shown(x0_hat), gradient=shown(gradient), levels=shown(levels),
                         weight=weight, num_known=num_known, schedule=shown(COURSE))
    got = submission.reconstruction_guided_x0(x0_hat, gradient, levels, weight, num_known, schedule_argument(COURSE))
    expected = reference(x0_hat.double(), gradient.double(), levels, weight, num_known, COURSE)
    expect_close(got, expected, call=call, name="the guided x0", levels=levels)


def full_sequence_levels(rng, B, W):
    """One level per window and clip (the full-sequence matrix moves every frame together)."""
    return torch.from_numpy(rng.integers(1, 1001, size=(B, 1))).expand(B, W).contiguous()


@pytest.mark.points(1)
def test_each_frame_weighted_at_its_own_level(submission, rng):
    B, W = 3, 5
    levels = torch.from_numpy(rng.integers(0, 1001, size=(B, W)))
    check_against_reference(submission, tensor(rng, B, W, 1, 3, 3), tensor(rng, B, W, 1, 3, 3), levels, 2.0, 2)


@pytest.mark.points(1)
def test_no_known_frame_all_known_and_zero_weight(submission, rng):
    levels = full_sequence_levels(rng, 2, 4)
    for weight, a in ((1.5, 0), (1.5, 4), (0.0, 1), (0.25, 3)):
        check_against_reference(submission, tensor(rng, 2, 4, 1, 3, 3), tensor(rng, 2, 4, 1, 3, 3), levels, weight, a)
