"""Hidden checks of ddim_step: η > 0, η = 1 one level down (the ancestral step), short schedules, batch of 1."""
# dfkit-canary: hidden-tests-02_ddpm-ddim_step

import pytest
import torch

from autograder.assignments import visible_checks
from autograder.expect import describe_call, expect_close, shown
from dfkit.diffusion.ddpm import ancestral_step
from dfkit.diffusion.schedules import make_schedule

pytestmark = pytest.mark.question("02_ddpm.ddim_step")

VISIBLE = visible_checks(__file__)       # the visible tests of this question: their helpers
tensor = VISIBLE.tensor
check_against_reference = VISIBLE.check_against_reference

COURSE = make_schedule("cosine", 1000)
SHORT = (make_schedule("linear", 10), make_schedule("sigmoid", 20), make_schedule("cosine", 5))


def pairs(rng, count, num_levels):
    """Levels k in 1..K (K first) and k_prev in 0..k-1 (0 last)."""
    k = rng.integers(1, num_levels + 1, size=count)
    k[0] = num_levels
    k_prev = rng.integers(0, k)
    k_prev[-1] = 0
    return torch.from_numpy(k), torch.from_numpy(k_prev)


@pytest.mark.points(1)
def test_stochastic_steps_with_eta_above_0(submission, rng):
    for eta in (1.0, 0.5):
        for shape in ((5, 1, 4, 5), (8, 2)):
            k, k_prev = pairs(rng, shape[0], 1000)
            check_against_reference(submission, tensor(rng, *shape), k, k_prev, tensor(rng, *shape), eta, tensor(rng, *shape), COURSE)


@pytest.mark.points(1)
def test_eta_1_one_level_down_is_the_ancestral_step(submission, rng):
    shape = (4, 1, 5, 6)
    x_k, eps, noise = tensor(rng, *shape), tensor(rng, *shape), tensor(rng, *shape)
    k = torch.tensor([2, 40, 500, 1000])
    got = check_against_reference(submission, x_k, k, k - 1, eps, 1.0, noise, COURSE)
    expected = ancestral_step(x_k.double(), k, eps.double(), COURSE, noise=noise.double())
    call = describe_call("ddim_step", x_k=shown(x_k), k=k.numpy(), k_prev=(k - 1).numpy(), eta=1.0)
    expect_close(got, expected, call=call + " compared with ancestral_step at the same k")


@pytest.mark.points(1)
def test_short_schedules_batch_of_one_and_batch_as_wide_as_the_image(submission, rng):
    for schedule in SHORT:
        for shape in ((3, 2, 3, 5), (9, 2), (4, 1, 3, 4)):
            k, k_prev = pairs(rng, shape[0], schedule.num_levels)
            eta = float(rng.choice([0.0, 0.5, 1.0]))
            check_against_reference(submission, tensor(rng, *shape), k, k_prev, tensor(rng, *shape), eta, tensor(rng, *shape), schedule)
        check_against_reference(submission, tensor(rng, 1, 1, 5, 5), torch.tensor([schedule.num_levels]), torch.tensor([schedule.num_levels // 2]),
                                tensor(rng, 1, 1, 5, 5), 0.0, tensor(rng, 1, 1, 5, 5), schedule)
