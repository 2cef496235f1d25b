"""Visible checks of full_sequence_noise: one level per clip, repeated on every frame, and q(x_k | x_0)."""

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_array, expect_close, shown
from autograder.protocol import is_tensor
from autograder.standins import schedule_argument
from dfkit.diffusion.schedules import make_schedule
from dfkit.sequence.objectives import full_sequence_noise as reference

pytestmark = pytest.mark.question("05_full_sequence.full_sequence_noise")
COURSE = make_schedule("cosine", 1000)


def tensor(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))


def known_mistakes(clips, k, noise) -> dict:
    """What the catalogued wrong answers give on this call, by the concept each one misses (x_k only: a wrong
    shape of the levels is named by its own message)."""
    clips, noise = clips.double(), noise.double()
    alpha_bar = COURSE.alpha_bars[k].double().view(-1, 1, 1, 1, 1)
    previous = COURSE.alpha_bars[k - 1].double().view(-1, 1, 1, 1, 1)
    return {
        "you scale the clip and the noise by ᾱ_k and 1 - ᾱ_k, which are variances: the weights are their square "
        "roots": (alpha_bar * clips + (1 - alpha_bar) * noise).numpy(),
        "you swap the weights of signal and noise: the clip keeps sqrt(ᾱ_k), the noise gets sqrt(1 - ᾱ_k)":
            ((1 - alpha_bar).sqrt() * clips + alpha_bar.sqrt() * noise).numpy(),
        "you use ᾱ_(k-1) instead of ᾱ_k: the levels are off by one":
            (previous.sqrt() * clips + (1 - previous).sqrt() * noise).numpy(),
    }


def check_against_reference(submission, clips, k, noise):
    call = describe_call("full_sequence_noise", clips=shown(clips), k=shown(k), noise=shown(noise), schedule=shown(COURSE))
    got = submission.full_sequence_noise(clips, k, noise, schedule_argument(COURSE))
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        raise AssertionError(f"{call}: expected a pair (x_k, levels), got {type(got).__name__}")
    x_k, levels = reference(clips.double(), k, noise.double(), COURSE)
    B, T = clips.shape[:2]
    if not is_tensor(got[1]) or got[1].shape != (B, T):
        shape = got[1].shape if is_tensor(got[1]) else type(got[1]).__name__
        raise AssertionError(f"{call}: expected levels of shape (B, T) = {(B, T)}, one level for every frame, got {shape}")
    if not np.issubdtype(got[1].dtype, np.integer):
        raise AssertionError(f"{call}: expected integer levels (they index the schedule), got dtype {got[1].dtype}")
    expect_array(got[1], levels.numpy(), call=call, name="levels", tensor=True)
    expect_close(got[0], x_k, call=call, name="x_k", levels=levels, mistakes=lambda: known_mistakes(clips, k, noise),
                 dtype=clips.dtype)                   # the exercise: x_k has the shape and dtype of the clips


@pytest.mark.visible
@pytest.mark.points(1)
def test_levels_repeat_the_clip_level_on_every_frame(submission, rng):
    clips, k = tensor(rng, 3, 5, 1, 4, 4), torch.tensor([10, 500, 990])
    check_against_reference(submission, clips, k, tensor(rng, 3, 5, 1, 4, 4))


@pytest.mark.visible
@pytest.mark.points(1)
def test_noisy_clips_at_random_levels(submission, rng):
    for shape in ((4, 6, 1, 5, 5), (2, 3, 2, 4, 3)):
        k = torch.from_numpy(rng.integers(1, 1001, size=shape[0]))
        check_against_reference(submission, tensor(rng, *shape), k, tensor(rng, *shape))
