"""Visible checks of cost_guided_x0: x̂_0 - w λ_k ∇c on the generated frames, λ_k by weighting, history unchanged."""

import numpy as np
import pytest
import torch

from autograder.expect import describe_call, expect_array, shown
from autograder.standins import schedule_argument
from dfkit.diffusion.schedules import make_schedule
from dfkit.sequence.guidance import cost_guided_x0 as reference

pytestmark = pytest.mark.question("07_guidance.cost_guided_x0")
COURSE = make_schedule("cosine", 1000)


def window(rng, batch, context, frames, history_level=0, num_levels=1000):
    """x̂_0, a gradient and levels: history at ``history_level``, generated frames at random levels in 1..K."""
    shape = (batch, context + frames, 1, 3, 4)
    x0_hat = torch.from_numpy(rng.uniform(-1, 1, size=shape).astype(np.float32))
    gradient = torch.from_numpy(rng.standard_normal(shape).astype(np.float32))
    levels = torch.cat([torch.full((batch, context), history_level, dtype=torch.long),
                        torch.from_numpy(rng.integers(1, num_levels + 1, size=(batch, frames)))], dim=1)
    return x0_hat, gradient, levels


def frame_atol(expected):
    """An absolute tolerance per frame, relative to that frame's largest value (λ_k spans many decades)."""
    return 1e-5 * np.abs(expected).max(axis=(2, 3, 4), keepdims=True) + 1e-7


def known_mistakes(x0_hat, gradient, levels, num_context, scale, weighting, schedule) -> dict:
    """What the catalogued wrong answers give on this call, by the concept each one misses."""
    x0_hat, gradient = x0_hat.double(), gradient.double()
    alpha_bar = schedule.alpha_bars[levels].double()[..., None, None, None]          # (B, W, 1, 1, 1)
    weights = {"classifier": (1 - alpha_bar) / alpha_bar.sqrt(), "reconstruction": alpha_bar.sqrt()}
    weight = weights[weighting]
    generated = (torch.arange(x0_hat.shape[1]) >= num_context)[None, :, None, None, None]

    def on_generated(step):
        return torch.where(generated, x0_hat - step, x0_hat).numpy()

    other = "reconstruction" if weighting == "classifier" else "classifier"
    return {
        "you move x̂_0 up the cost: guidance follows the negative gradient, x̂_0 - w λ_k ∇c":
            torch.where(generated, x0_hat + scale * weight * gradient, x0_hat).numpy(),
        "you leave out the level's weight λ_k: a noisy frame's gradient is scaled by λ_k before it moves x̂_0":
            on_generated(scale * gradient),
        "you move the history frames too: they are given, only the generated frames follow the cost":
            (x0_hat - scale * weight * gradient).numpy(),
        f"you use the {other} weighting where the {weighting} one was asked for":
            on_generated(scale * weights[other] * gradient),
    }


def check_against_reference(submission, x0_hat, gradient, levels, num_context, scale, weighting, schedule):
    call = describe_call("cost_guided_x0", x0_hat=shown(x0_hat), gradient=shown(gradient), levels=shown(levels),
                         num_context=num_context, scale=scale, weighting=weighting, schedule=shown(schedule))
    expected = reference(x0_hat.double(), gradient.double(), levels, num_context, scale, weighting, schedule)
    got = submission.cost_guided_x0(x0_hat, gradient, levels, num_context, scale, weighting, schedule_argument(schedule))
    expected = expected.numpy()
    atol = frame_atol(expected)
    if isinstance(got, np.ndarray) and got.shape == expected.shape:
        wrong = ~np.isclose(np.asarray(got, dtype=np.float64), expected, rtol=1e-3, atol=atol)
        if wrong.any():
            b, t = (int(i) for i in np.argwhere(wrong)[0][:2])
            where = "a history frame" if t < num_context else "a generated frame"
            call = f"{call}, first wrong at sample {b}, frame {t} ({where}, level {int(levels[b, t])})"
    expect_array(got, expected, call=call, tensor=True, rtol=1e-3, atol=atol,
                 mistakes=lambda: known_mistakes(x0_hat, gradient, levels, num_context, scale, weighting, schedule))


@pytest.mark.visible
@pytest.mark.points(2)
def test_both_weightings_on_generated_frames(submission, rng):
    for weighting in ("classifier", "reconstruction"):
        x0_hat, gradient, levels = window(rng, 2, 2, 3)
        check_against_reference(submission, x0_hat, gradient, levels, 2, 2.5, weighting, COURSE)


@pytest.mark.visible
@pytest.mark.points(1)
def test_history_frames_do_not_move(submission, rng):
    x0_hat, gradient, levels = window(rng, 3, 4, 2, history_level=50)
    check_against_reference(submission, x0_hat, gradient, levels, 4, 10.0, "classifier", COURSE)
