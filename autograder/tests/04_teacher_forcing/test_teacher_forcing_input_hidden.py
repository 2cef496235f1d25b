"""Hidden checks of teacher_forcing_input: short schedules, both ends of the ladder, colour, float64, a batch of one."""
# dfkit-canary: hidden-tests-04_teacher_forcing-teacher_forcing_input

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_array, expect_tuple, shown
from dfkit.diffusion.schedules import make_schedule
from dfkit.lessons.arguments import schedule_argument
from dfkit.lessons.teacher_forcing import teacher_forcing_input as reference

pytestmark = pytest.mark.question("04_teacher_forcing.teacher_forcing_input")
SHORT = (make_schedule("linear", 10), make_schedule("sigmoid", 20), make_schedule("cosine", 5))


def tensor(rng, *shape, dtype=np.float32):
    return torch.from_numpy(rng.standard_normal(shape).astype(dtype))


def check_against_reference(submission, history, target, k, schedule, noise):
    call = describe_call("teacher_forcing_input", history=shown(history), target=shown(target), k=k.numpy(),
                         schedule=shown(schedule), noise=shown(noise))
    got = expect_tuple(submission.teacher_forcing_input(history, target, k, schedule_argument(schedule), noise), 2,
                       call=call, names=("inputs", "levels"))
    inputs, levels = reference(history.double(), target.double(), k, schedule, noise.double())
    if getattr(got[1], "dtype", None) is not None and got[1].dtype.kind not in "iu":
        raise AssertionError(f"{call}: expected levels as integers, got dtype {got[1].dtype}")
    expect_array(got[1], levels.numpy(), call=call, name="levels", rtol=0, atol=0, tensor=True)
    expect_array(got[0], inputs.numpy(), call=call, name="inputs", rtol=1e-4, atol=1e-5, tensor=True)
    if got[0].dtype != target.numpy().dtype:
        raise AssertionError(f"{call}: expected inputs in {target.dtype} like the target, got dtype {got[0].dtype}")


@pytest.mark.points(1)
def test_short_schedules_at_both_ends(submission, rng):
    for schedule in SHORT:
        K = schedule.num_levels
        k = torch.tensor([1, K, int(rng.integers(1, K + 1))])
        check_against_reference(submission, tensor(rng, 3, 2, 1, 3, 4), tensor(rng, 3, 1, 3, 4), k, schedule, tensor(rng, 3, 1, 3, 4))


@pytest.mark.points(1)
def test_colour_float64_and_a_batch_of_one(submission, rng):
    course = make_schedule("cosine", 1000)
    check_against_reference(submission, tensor(rng, 2, 4, 3, 2, 2, dtype=np.float64), tensor(rng, 2, 3, 2, 2, dtype=np.float64),
                            torch.tensor([3, 999]), course, tensor(rng, 2, 3, 2, 2, dtype=np.float64))
    check_against_reference(submission, tensor(rng, 1, 1, 1, 4, 4), tensor(rng, 1, 1, 4, 4), torch.tensor([500]), course,
                            tensor(rng, 1, 1, 4, 4))
