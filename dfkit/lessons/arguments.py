"""Objects the graded checks pass to a student's function: noise schedules and stand-in denoisers.

The grader runs a student's function in a separate, confined process and sends it only plain
data. Each object here has a plain-data form, a tagged dict of :mod:`autograder.arguments`,
and a builder registered under its tag that turns the dict back into the object on arrival.
An assignment whose tests send these lists ``dfkit.lessons.arguments`` in its ``MODULES``, so
that the worker imports this module (and registers the builders) before it is confined.
"""

from __future__ import annotations

import torch

from autograder import arguments
from dfkit.diffusion.schedules import NoiseSchedule


class ToyDenoiser:
    """A fixed, deterministic stand-in for a network: ``(x_k, k) -> scale · x_k + offset · cos(k)``.

    It uses both of its inputs, so a loss that feeds it x_0 instead of x_k, or the wrong levels,
    gets a different value. ``k`` of shape ``(B,)`` broadcasts over the trailing dimensions.
    """

    def __init__(self, scale: float, offset: float):
        self.scale, self.offset = float(scale), float(offset)

    def __call__(self, x_k: torch.Tensor, k) -> torch.Tensor:
        levels = torch.as_tensor(k).to(device=x_k.device, dtype=torch.float64)
        levels = levels.reshape(tuple(levels.shape) + (1,) * (x_k.dim() - levels.dim()))
        return (self.scale * x_k + self.offset * torch.cos(levels)).to(x_k.dtype)

    def as_argument(self) -> dict:
        return arguments.tagged("dfkit.ddpm.ToyDenoiser", scale=self.scale, offset=self.offset)

    def __repr__(self) -> str:
        return f"ToyDenoiser(scale={self.scale:g}, offset={self.offset:g})"


SCHEDULE_TENSORS = ("betas", "alphas", "alpha_bars", "one_minus_alpha_bars")


def schedule_argument(schedule: NoiseSchedule) -> dict:
    """A noise schedule as plain data (its tensors, K and its name)."""
    tensors = {name: getattr(schedule, name) for name in SCHEDULE_TENSORS}
    return arguments.tagged("dfkit.NoiseSchedule", num_levels=int(schedule.num_levels), kind=str(schedule.kind), **tensors)


@arguments.builder("dfkit.ddpm.ToyDenoiser")
def _toy_denoiser(scale, offset) -> ToyDenoiser:
    return ToyDenoiser(scale, offset)


@arguments.builder("dfkit.NoiseSchedule")
def _noise_schedule(num_levels, kind, **tensors) -> NoiseSchedule:
    if sorted(tensors) != sorted(SCHEDULE_TENSORS):
        raise ValueError(f"a schedule argument needs exactly the tensors {SCHEDULE_TENSORS}, got {sorted(tensors)}")
    return NoiseSchedule(num_levels=int(num_levels), kind=str(kind), **{name: torch.as_tensor(value) for name, value in tensors.items()})
