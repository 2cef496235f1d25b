"""02_ddpm: the five formulas of DDPM and DDIM, written on torch tensors.

Each question names the dfkit function that already does what the student is asked to write; it is
switched off while that question is graded. The exercises share the library's signatures; the
tests pass their keyword arguments by name (``noise=``, ``eta=``, ``k=``) so that the student's
function and the library's, whose extra options come first, are called the same way.

A noise schedule and a denoiser are objects, not plain data: the tests send them as stand-ins
that ``autograder.standins`` (imported by the worker, see MODULES) rebuilds into a
``NoiseSchedule`` and a ``ToyDenoiser``.
"""

from autograder.assignments import NOISING

QUESTIONS = [
    {"id": "02_ddpm.q_sample", "references": NOISING},
    {"id": "02_ddpm.posterior_mean_variance", "references": [     # DDIM with η = 1 and k_prev = k - 1 is the posterior
        "dfkit.diffusion.ddpm.posterior_mean_variance", "dfkit.diffusion.ddpm.ddim_step", "dfkit.diffusion.ddpm.ancestral_step"]},
    {"id": "02_ddpm.diffusion_loss", "references": ["dfkit.diffusion.ddpm.diffusion_loss", *NOISING]},
    {"id": "02_ddpm.ancestral_step", "references": [
        "dfkit.diffusion.ddpm.ancestral_step", "dfkit.diffusion.ddpm.ddim_step", "dfkit.diffusion.ddpm.posterior_mean_variance",
        "dfkit.diffusion.ddpm.x0_from_eps", "dfkit.diffusion.ddpm.to_x0_eps"]},
    {"id": "02_ddpm.ddim_step", "references": [                    # x̂_0 from ε̂ is its first step; η = 1 is the ancestral step
        "dfkit.diffusion.ddpm.ddim_step", "dfkit.diffusion.ddpm.ancestral_step", "dfkit.diffusion.ddpm.x0_from_eps",
        "dfkit.diffusion.ddpm.eps_from_x0", "dfkit.diffusion.ddpm.to_x0_eps", "dfkit.diffusion.flow.velocity_from_eps", *NOISING]},
]

MODULES = ["torch", "autograder.standins"]

# Each call is a handful of tensor operations on small inputs: a call that takes seconds is a loop gone wrong.
LIMITS = {"call_seconds": 10.0, "cell_seconds": 20.0, "submission_seconds": 150.0}
