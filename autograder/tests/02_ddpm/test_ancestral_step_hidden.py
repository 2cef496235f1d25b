"""Hidden checks of ancestral_step: short schedules, both ends, other shapes, batch of 1."""
# dfkit-canary: hidden-tests-02_ddpm-ancestral_step

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_array
from autograder.protocol import is_tensor
from dfkit.diffusion.ddpm import ancestral_step as reference
from dfkit.diffusion.schedules import make_schedule
from dfkit.lessons.ddpm import schedule_argument

pytestmark = pytest.mark.question("02_ddpm.ancestral_step")
SHORT = (make_schedule("linear", 10), make_schedule("sigmoid", 20), make_schedule("cosine", 5))

# Relative tolerance: float32 arithmetic, and computing 1 - alpha_bar from alpha_bar (which loses digits
# near k = 1), stay well inside it; every catalogued mistake is far outside.
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
        return Shown(f"{str(value.dtype).replace('torch.', '')} tensor of shape {tuple(value.shape)}")
    return Shown(f"make_schedule({value.kind!r}, {value.num_levels})")


def expect_close(got, expected, *, call, name="the result", where=None):
    """Close to the float64 reference (relative to each sample's largest value) and still float32.

    ``where(b)`` describes sample b (its levels); the message names the sample of the first wrong value.
    """
    expected = expected.double().numpy()
    scale = np.abs(expected).reshape(len(expected), -1).max(axis=1).reshape((-1,) + (1,) * (expected.ndim - 1))
    atol = 1e-4 * scale + 1e-7
    if where is not None and is_tensor(got) and got.shape == expected.shape:
        with np.errstate(all="ignore"):
            wrong = ~np.isclose(got.view(np.ndarray).astype(np.float64), expected, rtol=RTOL, atol=atol, equal_nan=True)
        if wrong.any():
            sample = int(np.argwhere(wrong)[0][0])
            call = f"{call}, where sample {sample} is at {where(sample)}"
    expect_array(got, expected, call=call, name=name, rtol=RTOL, atol=atol, tensor=True)
    if got.dtype != np.float32:
        raise AssertionError(f"{call}: expected {name} in float32 like the inputs, got dtype {got.dtype}")


def levels(rng, count, num_levels):
    """Random levels in 1..K, the two ends first when there is room."""
    k = rng.integers(1, num_levels + 1, size=count)
    k[: min(count, 2)] = [1, num_levels][: min(count, 2)]
    return torch.from_numpy(k)


def check_against_reference(submission, x_k, k, eps, noise, schedule):
    call = describe_call("ancestral_step", x_k=shown(x_k), k=k.numpy(), eps_prediction=shown(eps), schedule=shown(schedule), noise=shown(noise))
    got = submission.ancestral_step(x_k, k, eps, schedule_argument(schedule), noise=noise)
    expected = reference(x_k.double(), k, eps.double(), schedule, noise=noise.double())
    expect_close(got, expected, call=call, where=lambda b: f"level k = {int(k[b])}")


@pytest.mark.points(1)
def test_short_schedules_and_other_shapes(submission, rng):
    for schedule in SHORT:
        for shape in ((3, 2, 3, 5), (9, 2), (2, 3, 4)):
            k = levels(rng, shape[0], schedule.num_levels)
            check_against_reference(submission, tensor(rng, *shape), k, tensor(rng, *shape), tensor(rng, *shape), schedule)


@pytest.mark.points(1)
def test_batch_of_one_and_batch_as_wide_as_the_image(submission, rng):
    for schedule in (make_schedule("cosine", 1000), SHORT[0]):
        K = schedule.num_levels
        for level in (1, K):
            check_against_reference(submission, tensor(rng, 1, 1, 5, 5), torch.tensor([level]), tensor(rng, 1, 1, 5, 5),
                                    tensor(rng, 1, 1, 5, 5), schedule)
        check_against_reference(submission, tensor(rng, 4, 1, 3, 4), levels(rng, 4, K), tensor(rng, 4, 1, 3, 4),
                                tensor(rng, 4, 1, 3, 4), schedule)
