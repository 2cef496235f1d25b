"""Visible checks of teacher_forcing_input: clean history at level 0, then q_sample(target, k, noise) at level k."""

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_array, expect_tuple, shown
from autograder.protocol import is_tensor
from autograder.standins import schedule_argument
from dfkit.diffusion.schedules import make_schedule
from dfkit.sequence.objectives import teacher_forcing_input as reference

pytestmark = pytest.mark.question("04_teacher_forcing.teacher_forcing_input")
COURSE = make_schedule("cosine", 1000)


def tensor(rng, *shape, dtype=np.float32):
    return torch.from_numpy(rng.standard_normal(shape).astype(dtype))


def known_mistakes(history, target, k, schedule, noise) -> tuple[dict, dict]:
    """What the catalogued wrong answers give on this call: (mistakes of the inputs, of the levels)."""
    history, target, noise = history.double(), target.double(), noise.double()
    B, c = history.shape[:2]
    alpha_bar = schedule.alpha_bars[k].double().reshape(-1, 1, 1, 1)
    previous = schedule.alpha_bars[k - 1].double().reshape(-1, 1, 1, 1)
    frames = torch.cat([history, target[:, None]], dim=1)
    noised_history = alpha_bar[:, None].sqrt() * frames + (1 - alpha_bar[:, None]).sqrt() * noise[:, None]
    inputs = {
        "you noise the history too, at the target's level: that is full-sequence noise; teacher forcing shows "
        "the history clean": noised_history.numpy(),
        "you scale the target and the noise by ᾱ_k and 1 - ᾱ_k, which are variances: the weights are their square "
        "roots": torch.cat([history, (alpha_bar * target + (1 - alpha_bar) * noise)[:, None]], dim=1).numpy(),
        "you use ᾱ_(k-1) instead of ᾱ_k: the levels are off by one":
            torch.cat([history, (previous.sqrt() * target + (1 - previous).sqrt() * noise)[:, None]], dim=1).numpy(),
        "you leave the target clean: its level k only tells the model how much noise to expect, the noise itself "
        "must be added": frames.numpy(),
    }
    levels = {"you label the clean history with level k: clean frames are at level 0":
              k.long()[:, None].expand(B, c + 1).numpy()}
    return inputs, levels


def check_against_reference(submission, history, target, k, schedule, noise):
    call = describe_call("teacher_forcing_input", history=shown(history), target=shown(target), k=k.numpy(),
                         schedule=shown(schedule), noise=shown(noise))
    got = expect_tuple(submission.teacher_forcing_input(history, target, k, schedule_argument(schedule), noise), 2,
                       call=call, names=("inputs", "levels"))
    inputs, levels = reference(history.double(), target.double(), k, schedule, noise.double())
    def mistakes(part: int, frames=slice(None)):
        return lambda: {concept: value[:, frames] for concept, value in known_mistakes(history, target, k, schedule, noise)[part].items()}

    c = history.shape[1]
    if getattr(got[1], "dtype", None) is not None and got[1].dtype.kind not in "iu":
        raise AssertionError(f"{call}: expected levels as integers (the model looks them up per level), got dtype {got[1].dtype}")
    expect_array(got[1], levels.numpy(), call=call, name=f"levels (0 for the {c} history frames, k for the target)",
                 rtol=0, atol=0, tensor=True, mistakes=mistakes(1))
    if is_tensor(got[0]) and got[0].shape == tuple(inputs.shape):
        expect_array(got[0][:, :c], inputs[:, :c].numpy(), call=call, name="inputs[:, :c] (the history, clean)",
                     rtol=1e-5, atol=1e-6, tensor=True,
                     mistakes=mistakes(0, slice(None, c)))
    expect_array(got[0], inputs.numpy(), call=call, name="inputs (history, then the noisy target)", rtol=1e-4, atol=1e-5, tensor=True,
                 mistakes=mistakes(0))
    if got[0].dtype != target.numpy().dtype:
        raise AssertionError(f"{call}: expected inputs in {target.dtype} like the target, got dtype {got[0].dtype}")


@pytest.mark.visible
@pytest.mark.points(2)
def test_clean_history_and_noisy_target(submission, rng):
    for c in (1, 2):
        k = torch.tensor([1, 250, 700, 1000])
        check_against_reference(submission, tensor(rng, 4, c, 1, 4, 4), tensor(rng, 4, 1, 4, 4), k, COURSE, tensor(rng, 4, 1, 4, 4))


@pytest.mark.visible
@pytest.mark.points(1)
def test_one_level_per_example(submission, rng):
    k = torch.from_numpy(rng.integers(1, 1001, size=6))
    check_against_reference(submission, tensor(rng, 6, 3, 1, 5, 5), tensor(rng, 6, 1, 5, 5), k, COURSE, tensor(rng, 6, 1, 5, 5))
