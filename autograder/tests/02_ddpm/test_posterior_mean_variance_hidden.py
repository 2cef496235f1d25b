"""Hidden checks of posterior_mean_variance: short schedules, both ends, other shapes, batch of 1."""
# dfkit-canary: hidden-tests-02_ddpm-posterior_mean_variance

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_close, expect_tuple, shown
from autograder.protocol import TensorArray, is_tensor
from dfkit.diffusion.ddpm import posterior_mean_variance as reference
from dfkit.diffusion.schedules import make_schedule
from dfkit.lessons.ddpm import schedule_argument

pytestmark = pytest.mark.question("02_ddpm.posterior_mean_variance")
SHORT = (make_schedule("linear", 10), make_schedule("sigmoid", 20), make_schedule("cosine", 5))
NAMES = ("mean", "variance")


def tensor(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))


def levels(rng, count, num_levels):
    """Random levels in 1..K, the two ends first when there is room."""
    k = rng.integers(1, num_levels + 1, size=count)
    k[: min(count, 2)] = [1, num_levels][: min(count, 2)]
    return torch.from_numpy(k)


def check_against_reference(submission, x0, x_k, k, schedule):
    call = describe_call("posterior_mean_variance", x0=shown(x0), x_k=shown(x_k), k=k.numpy(), schedule=shown(schedule))
    got = expect_tuple(submission.posterior_mean_variance(x0, x_k, k, schedule_argument(schedule)), 2, call=call, names=NAMES)
    mean, variance = reference(x0.double(), x_k.double(), k, schedule)
    where = lambda b: f"level k = {int(k[b])}"  # noqa: E731
    expect_close(got[0], mean, call=call, name="the mean", where=where)
    # the variance may keep singleton dimensions, (B, 1, 1, 1), or be spelled out to the shape of x_k
    if is_tensor(got[1]) and got[1].shape != tuple(variance.shape):
        try:
            got[1] = np.broadcast_to(got[1].view(np.ndarray), tuple(x_k.shape)).copy().view(TensorArray)
        except ValueError:
            raise AssertionError(f"{call}: expected the variance of shape {tuple(variance.shape)} "
                                 f"(or {tuple(x_k.shape)}), got shape {got[1].shape}") from None
        variance = variance.expand(x_k.shape)
    expect_close(got[1], variance, call=call, name="the variance", where=where)


@pytest.mark.points(1)
def test_short_schedules_and_other_shapes(submission, rng):
    for schedule in SHORT:
        for shape in ((3, 2, 3, 5), (9, 2), (2, 3, 4)):
            k = levels(rng, shape[0], schedule.num_levels)
            check_against_reference(submission, tensor(rng, *shape), tensor(rng, *shape), k, schedule)


@pytest.mark.points(1)
def test_batch_of_one_and_batch_as_wide_as_the_image(submission, rng):
    for schedule in (make_schedule("cosine", 1000), SHORT[0]):
        K = schedule.num_levels
        check_against_reference(submission, tensor(rng, 1, 1, 5, 5), tensor(rng, 1, 1, 5, 5), torch.tensor([K]), schedule)
        check_against_reference(submission, tensor(rng, 4, 1, 3, 4), tensor(rng, 4, 1, 3, 4), levels(rng, 4, K), schedule)
