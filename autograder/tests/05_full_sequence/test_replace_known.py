"""Visible checks of replace_known: the first a frames become q(x_k | truth), the others are kept."""

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_close, shown
from autograder.standins import schedule_argument
from dfkit.diffusion.schedules import make_schedule
from dfkit.sequence.rollout import replace_known as reference

pytestmark = pytest.mark.question("05_full_sequence.replace_known")
COURSE = make_schedule("cosine", 1000)


def tensor(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))


def known_mistakes(x, levels, known, noise) -> dict:
    """What the catalogued wrong answers give on this call, by the concept each one misses."""
    a = known.shape[1]
    x, known, noise = x.double(), known.double(), noise.double()
    alpha_bar = COURSE.alpha_bars[levels[:, :a]].double()[..., None, None, None]          # (B, a, 1, 1, 1)
    rest = x[:, a:]
    return {
        "you put the clean truth into the window: the known frames must be noised to the level the window is at, "
        "or the model sees them as finished frames": torch.cat([known, rest], dim=1).numpy(),
        "you add the noise to the current x instead of to the truth: replacement draws q(x_k | x_0 = truth) afresh":
            torch.cat([alpha_bar.sqrt() * x[:, :a] + (1 - alpha_bar).sqrt() * noise, rest], dim=1).numpy(),
    }


def check_against_reference(submission, x, levels, known, noise):
    call = describe_call("replace_known", x=shown(x), levels=shown(levels), known=shown(known), noise=shown(noise),
                         schedule=shown(COURSE))
    got = submission.replace_known(x, levels, known, noise, schedule_argument(COURSE))
    expected = reference(x.double(), levels, known.double(), noise.double(), COURSE)
    expect_close(got, expected, call=call, name="the window", levels=levels, mistakes=lambda: known_mistakes(x, levels, known, noise))
    a = known.shape[1]
    if not np.array_equal(got[:, a:], x[:, a:].numpy()):
        raise AssertionError(f"{call}: expected the frames after the {a} known ones to come back unchanged")


def full_sequence_levels(rng, B, W):
    """One level per window and clip (the full-sequence matrix moves every frame together)."""
    return torch.from_numpy(rng.integers(1, 1001, size=(B, 1))).expand(B, W).contiguous()


@pytest.mark.visible
@pytest.mark.points(2)
def test_known_frames_replaced_at_the_window_level(submission, rng):
    for B, W, a in ((3, 5, 2), (2, 6, 4)):
        levels = full_sequence_levels(rng, B, W)
        check_against_reference(submission, tensor(rng, B, W, 1, 4, 4), levels, tensor(rng, B, a, 1, 4, 4), tensor(rng, B, a, 1, 4, 4))
    levels = torch.from_numpy(rng.integers(0, 1001, size=(2, 5)))        # one level per frame: each known frame at its own
    check_against_reference(submission, tensor(rng, 2, 5, 1, 3, 3), levels, tensor(rng, 2, 3, 1, 3, 3), tensor(rng, 2, 3, 1, 3, 3))
