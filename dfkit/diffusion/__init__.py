"""The diffusion math of the course: schedules, DDPM/DDIM, flow matching, and an exact test model.

* ``schedules`` — discrete noise levels k = 0 … K (0 is clean) and the tensors β, α, ᾱ.
* ``ddpm`` — q(x_k | x_0), the posterior, eps / x0 / v conversions, the loss, ancestral and DDIM steps.
* ``flow`` — flow matching on the straight path (t = 0 noise, t = 1 data) and ODE solvers.
* ``gaussian`` — Gaussian mixtures with an exact denoiser, to check samplers without training.

Levels (and flow times) have any shape that is a prefix of the data shape: ``(B,)`` for
images ``(B, C, H, W)``, ``(B, T)`` for one level per frame of videos ``(B, T, C, H, W)``.
"""

from dfkit.diffusion.ddpm import (
    PARAMETERIZATIONS,
    ancestral_step,
    ddim_levels,
    ddim_sample,
    ddim_step,
    ddpm_sample,
    diffusion_loss,
    eps_from_v,
    eps_from_x0,
    min_snr_weight,
    posterior_mean_variance,
    prediction_target,
    q_sample,
    to_x0_eps,
    v_from_eps_x0,
    x0_from_eps,
    x0_from_v,
)
from dfkit.diffusion.flow import (
    check_times,
    euler_step,
    flow_loss,
    heun_step,
    interpolate,
    midpoint_step,
    schedule_path,
    target_velocity,
    velocity_from_eps,
)
from dfkit.diffusion.flow import sample as flow_sample
from dfkit.diffusion.gaussian import GaussianMixture
from dfkit.diffusion.schedules import (
    NoiseSchedule,
    check_levels,
    expand_like,
    make_schedule,
    shifted_levels,
    standard_normal,
    uniform_levels,
)

__all__ = [
    "PARAMETERIZATIONS",
    "GaussianMixture",
    "NoiseSchedule",
    "ancestral_step",
    "check_levels",
    "check_times",
    "ddim_levels",
    "ddim_sample",
    "ddim_step",
    "ddpm_sample",
    "diffusion_loss",
    "eps_from_v",
    "eps_from_x0",
    "euler_step",
    "expand_like",
    "flow_loss",
    "flow_sample",
    "heun_step",
    "interpolate",
    "make_schedule",
    "midpoint_step",
    "min_snr_weight",
    "posterior_mean_variance",
    "prediction_target",
    "q_sample",
    "schedule_path",
    "shifted_levels",
    "standard_normal",
    "target_velocity",
    "to_x0_eps",
    "uniform_levels",
    "v_from_eps_x0",
    "velocity_from_eps",
    "x0_from_eps",
    "x0_from_v",
]
