"""Visible checks of replace_known: the first a frames become q(x_k | truth), the others are kept."""

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_array
from autograder.protocol import is_tensor
from dfkit.diffusion.schedules import make_schedule
from dfkit.lessons.arguments import schedule_argument
from dfkit.lessons.full_sequence import replace_known as reference

pytestmark = pytest.mark.question("05_full_sequence.replace_known")
COURSE = make_schedule("cosine", 1000)

# Relative tolerance: float32 arithmetic, and computing 1 - alpha_bar from alpha_bar (which loses digits
# at small levels), stay well inside it; every catalogued mistake is far outside.
RTOL = 2e-3


def tensor(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))


class Shown:
    """How an argument appears in a failure message: a short description instead of all its numbers."""

    def __init__(self, text):
        self.text = text

    def __repr__(self):
        return self.text


def shown(value):
    if isinstance(value, torch.Tensor):
        if value.numel() <= 12 and not value.is_floating_point():
            return Shown(repr(value.tolist()))
        return Shown(f"{str(value.dtype).replace('torch.', '')} tensor of shape {tuple(value.shape)}")
    return Shown(f"make_schedule({value.kind!r}, {value.num_levels})")


def expect_close(got, expected, *, call, name="the result", levels=None, mistakes=None):
    """Close to the float64 reference (relative to each clip's largest value) and still float32; names the first wrong frame."""
    expected = expected.double().numpy()
    scale = np.abs(expected).reshape(len(expected), -1).max(axis=1).reshape((-1,) + (1,) * (expected.ndim - 1))
    atol = 1e-4 * scale + 1e-7
    if is_tensor(got) and got.shape == expected.shape:
        with np.errstate(all="ignore"):
            wrong = ~np.isclose(got.view(np.ndarray).astype(np.float64), expected, rtol=RTOL, atol=atol, equal_nan=True)
        if wrong.any():
            clip, frame = (int(i) for i in np.argwhere(wrong)[0][:2])
            at = f" (level {int(levels[clip, frame])})" if levels is not None else ""
            call = f"{call}: the first wrong value is in clip {clip}, frame {frame}{at}"
    expect_array(got, expected, call=call, name=name, rtol=RTOL, atol=atol, tensor=True, mistakes=mistakes)
    if got.dtype != np.float32:
        raise AssertionError(f"{call}: expected {name} in float32 like the inputs, got dtype {got.dtype}")



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
    expect_close(got, expected, call=call, name="the window", levels=levels, mistakes=known_mistakes(x, levels, known, noise))
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
