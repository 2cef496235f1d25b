"""Hidden checks of stabilized_history: k_small = 0 and K, short schedules, one history frame, a batch of one."""
# dfkit-canary: hidden-tests-06_diffusion_forcing-stabilized_history

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_array, expect_close, expect_tuple, shown
from dfkit.diffusion.schedules import make_schedule
from dfkit.lessons.arguments import schedule_argument
from dfkit.lessons.diffusion_forcing import stabilized_history as reference

pytestmark = pytest.mark.question("06_diffusion_forcing.stabilized_history")
COURSE = make_schedule("cosine", 1000)
SHORT = make_schedule("linear", 20)


def tensor(rng, *shape, dtype=np.float32):
    return torch.from_numpy(rng.standard_normal(shape).astype(dtype))


def check_against_reference(submission, context, k_small, schedule, noise, add_noise):
    call = describe_call("stabilized_history", context=shown(context), k_small=k_small, schedule=shown(schedule),
                         noise=shown(noise), add_noise=add_noise)
    got = submission.stabilized_history(context, k_small, schedule_argument(schedule), noise, add_noise=add_noise)
    shown_frames, levels = expect_tuple(got, 2, call=call, names=("shown", "levels"))
    expected_frames, expected_levels = reference(context.double(), k_small, schedule, noise.double(), add_noise)
    expect_close(shown_frames, expected_frames, call=call, name="the tensor of history frames")
    expect_array(levels, expected_levels.numpy(), call=call, name="the levels tensor", tensor=True)
    if levels.dtype.kind not in "iu":
        raise AssertionError(f"{call}: expected integer levels (e.g. torch.long), got dtype {levels.dtype}")


@pytest.mark.points(1)
def test_both_ends_of_the_level_range(submission, rng):
    context, noise = tensor(rng, 2, 3, 1, 4, 4).clamp(-1, 1), tensor(rng, 2, 3, 1, 4, 4)
    for k_small in (0, 1000):
        for add_noise in (True, False):
            check_against_reference(submission, context, k_small, COURSE, noise, add_noise)


@pytest.mark.points(1)
def test_short_schedules_one_frame_and_a_batch_of_one(submission, rng):
    check_against_reference(submission, tensor(rng, 4, 1, 1, 3, 3).clamp(-1, 1), 3, SHORT, tensor(rng, 4, 1, 1, 3, 3), True)
    check_against_reference(submission, tensor(rng, 1, 5, 2, 2, 2).clamp(-1, 1), 7, SHORT, tensor(rng, 1, 5, 2, 2, 2), True)
    check_against_reference(submission, tensor(rng, 1, 2, 1, 3, 3).clamp(-1, 1), 7, SHORT, tensor(rng, 1, 2, 1, 3, 3), False)
