"""Visible checks of posterior_mean_variance: mean and variance of q(x_(k-1) | x_k, x_0)."""

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_close, expect_tuple, shown
from autograder.protocol import TensorArray, is_tensor
from autograder.standins import schedule_argument
from dfkit.diffusion.ddpm import posterior_mean_variance as reference
from dfkit.diffusion.schedules import make_schedule

pytestmark = pytest.mark.question("02_ddpm.posterior_mean_variance")
COURSE = make_schedule("cosine", 1000)
NAMES = ("mean", "variance")


def tensor(rng, *shape):
    return torch.from_numpy(rng.standard_normal(shape).astype(np.float32))


def known_mistakes(x0, x_k, k, schedule) -> tuple[dict, dict]:
    """What the catalogued wrong answers give on this call: (mistakes of the mean, mistakes of the variance)."""
    shape = (-1,) + (1,) * (x0.dim() - 1)
    x0, x_k = x0.double(), x_k.double()
    beta, alpha = schedule.betas[k].double().view(shape), schedule.alphas[k].double().view(shape)
    alpha_bar, previous = schedule.alpha_bars[k].double().view(shape), schedule.alpha_bars[k - 1].double().view(shape)
    variance = (1 - previous) / (1 - alpha_bar) * beta
    means = {
        "you use ᾱ_k where ᾱ_(k-1) belongs: the posterior steps back to level k - 1":
            alpha_bar.sqrt() * beta / (1 - alpha_bar) * x0 + alpha.sqrt() * (1 - alpha_bar) / (1 - alpha_bar) * x_k,
        "you swap the coefficients of x_0 and x_k":
            previous.sqrt() * beta / (1 - alpha_bar) * x_k + alpha.sqrt() * (1 - previous) / (1 - alpha_bar) * x0,
        "you weight x_k by α_k where its square root belongs":
            previous.sqrt() * beta / (1 - alpha_bar) * x0 + alpha * (1 - previous) / (1 - alpha_bar) * x_k,
    }
    variances = {
        "you return β_k, the forward step's variance, where the posterior's β̃_k = (1 - ᾱ_(k-1)) / (1 - ᾱ_k) β_k belongs": beta,
        "you return the standard deviation sqrt(β̃_k) where the variance β̃_k belongs": variance.sqrt(),
    }
    return means, variances


def check_against_reference(submission, x0, x_k, k, schedule):
    call = describe_call("posterior_mean_variance", x0=shown(x0), x_k=shown(x_k), k=k.numpy(), schedule=shown(schedule))
    got = expect_tuple(submission.posterior_mean_variance(x0, x_k, k, schedule_argument(schedule)), 2, call=call, names=NAMES)
    mean, variance = reference(x0.double(), x_k.double(), k, schedule)
    where = lambda b: f"level k = {int(k[b])}"  # noqa: E731
    expect_close(got[0], mean, call=call, name="the mean", where=where, mistakes=lambda: known_mistakes(x0, x_k, k, schedule)[0])
    # the variance may keep singleton dimensions, (B, 1, 1, 1), or be spelled out to the shape of x_k
    if is_tensor(got[1]) and got[1].shape != tuple(variance.shape):
        try:
            got[1] = np.broadcast_to(got[1].view(np.ndarray), tuple(x_k.shape)).copy().view(TensorArray)
        except ValueError:
            raise AssertionError(f"{call}: expected the variance of shape {tuple(variance.shape)} "
                                 f"(or {tuple(x_k.shape)}), got shape {got[1].shape}") from None
        variance = variance.expand(x_k.shape)

    def variance_mistakes():
        return {concept: value.expand(variance.shape) for concept, value in known_mistakes(x0, x_k, k, schedule)[1].items()}

    expect_close(got[1], variance, call=call, name="the variance", where=where, mistakes=variance_mistakes)


@pytest.mark.visible
@pytest.mark.points(1)
def test_mean_and_variance_with_one_level_per_sample(submission, rng):
    k = torch.tensor([2, 10, 300, 700, 1000])
    check_against_reference(submission, tensor(rng, 5, 1, 6, 7), tensor(rng, 5, 1, 6, 7), k, COURSE)
    for shape in ((6, 1, 4, 5), (8, 2)):
        k = torch.from_numpy(rng.integers(1, 1001, size=shape[0]))
        check_against_reference(submission, tensor(rng, *shape), tensor(rng, *shape), k, COURSE)


@pytest.mark.visible
@pytest.mark.points(1)
def test_level_one_gives_back_x0_with_zero_variance(submission, rng):
    x0, x_k = tensor(rng, 3, 1, 5, 6), tensor(rng, 3, 1, 5, 6)
    check_against_reference(submission, x0, x_k, torch.ones(3, dtype=torch.long), COURSE)
