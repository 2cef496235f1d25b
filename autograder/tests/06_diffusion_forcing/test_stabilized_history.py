"""Visible checks of stabilized_history: the history noised to k_small (or only labelled so) and its levels (B, c)."""

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_array, expect_close, expect_tuple, shown
from autograder.standins import schedule_argument
from dfkit.diffusion.schedules import make_schedule
from dfkit.sequence.sampler import stabilized_history as reference

pytestmark = pytest.mark.question("06_diffusion_forcing.stabilized_history")
COURSE = make_schedule("cosine", 1000)


def tensor(rng, *shape, dtype=np.float32):
    return torch.from_numpy(rng.standard_normal(shape).astype(dtype))


def known_mistakes(context, k_small, schedule, noise, add_noise) -> tuple[dict, dict]:
    """What the catalogued wrong answers give on this call: (mistakes of the frames, of the levels)."""
    context, noise = context.double(), noise.double()
    alpha_bar = schedule.alpha_bars[k_small].double()
    noised = alpha_bar.sqrt() * context + (1 - alpha_bar).sqrt() * noise
    B, c = context.shape[:2]
    frames = {
        "you scale the frames and the noise by ᾱ and 1 - ᾱ, which are variances: the weights are their square "
        "roots": (alpha_bar * context + (1 - alpha_bar) * noise).numpy(),
        "you add the noise without shrinking the signal by sqrt(ᾱ_k_small): the history must look like a frame "
        "at level k_small, which q(x_k | x_0) gives": (context + (1 - alpha_bar).sqrt() * noise).numpy(),
    }
    if add_noise:
        frames["you only label the history k_small: with add_noise=True it must also be noised to that level"] = context.numpy()
    else:
        frames["you noise the history although add_noise=False asks for the clean frames, only labelled k_small"] = noised.numpy()
    levels = {"you report the noised history at level 0: the model must be told the level it was noised to, "
              "k_small": np.zeros((B, c))} if add_noise else {}
    return frames, levels


def check_against_reference(submission, context, k_small, schedule, noise, add_noise):
    call = describe_call("stabilized_history", context=shown(context), k_small=k_small, schedule=shown(schedule),
                         noise=shown(noise), add_noise=add_noise)
    got = submission.stabilized_history(context, k_small, schedule_argument(schedule), noise, add_noise=add_noise)
    shown_frames, levels = expect_tuple(got, 2, call=call, names=("shown", "levels"))
    expected_frames, expected_levels = reference(context.double(), k_small, schedule, noise.double(), add_noise)
    expect_close(shown_frames, expected_frames, call=call, name="the tensor of history frames",
                 mistakes=lambda: known_mistakes(context, k_small, schedule, noise, add_noise)[0])
    expect_array(levels, expected_levels.numpy(), call=call, name="the levels tensor", tensor=True,
                 mistakes=lambda: known_mistakes(context, k_small, schedule, noise, add_noise)[1])
    if levels.dtype.kind not in "iu":
        raise AssertionError(f"{call}: expected integer levels (e.g. torch.long), got dtype {levels.dtype}")


@pytest.mark.visible
@pytest.mark.points(2)
def test_history_noised_to_k_small(submission, rng):
    for k_small in (50, 300):
        check_against_reference(submission, tensor(rng, 3, 4, 1, 5, 5).clamp(-1, 1), k_small, COURSE, tensor(rng, 3, 4, 1, 5, 5), True)


@pytest.mark.visible
@pytest.mark.points(1)
def test_history_only_labelled_k_small(submission, rng):
    check_against_reference(submission, tensor(rng, 2, 3, 1, 4, 4).clamp(-1, 1), 50, COURSE, tensor(rng, 2, 3, 1, 4, 4), False)
