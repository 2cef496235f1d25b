"""Hidden checks of replace_known: per-frame levels, one or all frames known, levels 0 and K."""
# dfkit-canary: hidden-tests-05_full_sequence-replace_known

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_close, shown
from dfkit.diffusion.schedules import make_schedule
from dfkit.lessons.arguments import schedule_argument
from dfkit.lessons.full_sequence import replace_known as reference

pytestmark = pytest.mark.question("05_full_sequence.replace_known")
COURSE = make_schedule("cosine", 1000)


def tensor(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))


def check_against_reference(submission, x, levels, known, noise):
    call = describe_call("replace_known", x=shown(x), levels=shown(levels), known=shown(known), noise=shown(noise),
                         schedule=shown(COURSE))
    got = submission.replace_known(x, levels, known, noise, schedule_argument(COURSE))
    expected = reference(x.double(), levels, known.double(), noise.double(), COURSE)
    expect_close(got, expected, call=call, name="the window", levels=levels)
    a = known.shape[1]
    if not np.array_equal(got[:, a:], x[:, a:].numpy()):
        raise AssertionError(f"{call}: expected the frames after the {a} known ones to come back unchanged")


def full_sequence_levels(rng, B, W):
    """One level per window and clip (the full-sequence matrix moves every frame together)."""
    return torch.from_numpy(rng.integers(1, 1001, size=(B, 1))).expand(B, W).contiguous()


@pytest.mark.points(1)
def test_each_known_frame_at_its_own_level(submission, rng):
    # per-frame levels (a Diffusion Forcing matrix would give them): frame t of the truth goes to levels[:, t]
    B, W, a = 3, 6, 3
    levels = torch.from_numpy(rng.integers(0, 1001, size=(B, W)))
    check_against_reference(submission, tensor(rng, B, W, 1, 3, 3), levels, tensor(rng, B, a, 1, 3, 3), tensor(rng, B, a, 1, 3, 3))


@pytest.mark.points(1)
def test_one_known_frame_all_known_and_the_ends_of_the_schedule(submission, rng):
    levels = torch.tensor([[0, 0, 0, 0], [1000, 1000, 1000, 1000]])
    check_against_reference(submission, tensor(rng, 2, 4, 1, 3, 3), levels, tensor(rng, 2, 1, 1, 3, 3), tensor(rng, 2, 1, 1, 3, 3))
    levels = full_sequence_levels(rng, 2, 3)
    check_against_reference(submission, tensor(rng, 2, 3, 2, 3, 3), levels, tensor(rng, 2, 3, 2, 3, 3), tensor(rng, 2, 3, 2, 3, 3))
