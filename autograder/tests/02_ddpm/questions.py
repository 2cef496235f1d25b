"""02_ddpm: the five formulas of DDPM and DDIM, written on torch tensors.

Each question names the dfkit function that already does what the student is asked to write; it is
switched off while that question is graded. The exercises share the library's signatures; the
tests pass their keyword arguments by name (``noise=``, ``eta=``, ``k=``) so that the student's
function and the library's, whose extra options come first, are called the same way.

A noise schedule and a denoiser are objects, not plain data: the tests send them as tagged dicts
that ``dfkit.lessons.arguments`` (imported by the worker, see MODULES) rebuilds into a
``NoiseSchedule`` and a ``ToyDenoiser``.
"""

QUESTIONS = [
    {"id": "02_ddpm.q_sample", "references": ["dfkit.diffusion.ddpm.q_sample"]},
    {"id": "02_ddpm.posterior_mean_variance", "references": ["dfkit.diffusion.ddpm.posterior_mean_variance"]},
    {"id": "02_ddpm.diffusion_loss", "references": ["dfkit.diffusion.ddpm.diffusion_loss"]},
    {"id": "02_ddpm.ancestral_step", "references": ["dfkit.diffusion.ddpm.ancestral_step"]},
    {"id": "02_ddpm.ddim_step", "references": ["dfkit.diffusion.ddpm.ddim_step"]},
]

MODULES = ["torch", "dfkit.lessons.arguments"]

# Each call is a handful of tensor operations on small inputs: a call that takes seconds is a loop gone wrong.
LIMITS = {"call_seconds": 10.0, "cell_seconds": 20.0, "submission_seconds": 150.0}
