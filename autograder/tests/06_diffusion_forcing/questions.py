"""06_diffusion_forcing: per-frame noise, scheduling matrices, the sampler loop and the stabilized history.

Each question names the dfkit functions that already do what the student is asked to write (the
first one has the exercise's signature; the notebook falls back to it); they are switched off
while that question is graded. The matrix questions also switch off the library's other matrix
builders, since a pyramid with ``delay = steps`` *is* the autoregressive matrix.

A schedule, a random generator and a denoiser are objects, not plain data: the tests send them as
stand-ins that ``autograder.standins`` (imported by the worker, see MODULES) rebuilds on arrival.
"""

from autograder.assignments import NOISING

# ddim_step, which walk_matrix builds on, converts v-predictions with eps_from_v and x0_from_v: they stay.
# Noising with them takes the formula the exercise teaches (x0_from_v(x0, k, -noise)), so little is lost.
NOISING_HERE = [path for path in NOISING if path not in ("dfkit.diffusion.ddpm.eps_from_v", "dfkit.diffusion.ddpm.x0_from_v")]

QUESTIONS = [
    {"id": "06_diffusion_forcing.noisy_clips", "references": [
        "dfkit.sequence.objectives.noisy_clips", *NOISING_HERE, "dfkit.diffusion.schedules.uniform_levels",
        "dfkit.sequence.objectives.random_integers"]},
    {"id": "06_diffusion_forcing.autoregressive_matrix", "references": [
        "dfkit.sequence.scheduling.autoregressive_matrix", "dfkit.sequence.scheduling.pyramid_matrix",
        "dfkit.sequence.scheduling.scheduling_matrix", "dfkit.sequence.scheduling._from_start_rows"]},
    {"id": "06_diffusion_forcing.pyramid_matrix", "references": [
        "dfkit.sequence.scheduling.pyramid_matrix", "dfkit.sequence.scheduling.scheduling_matrix",
        "dfkit.sequence.scheduling._from_start_rows"]},
    {"id": "06_diffusion_forcing.walk_matrix", "references": [
        "dfkit.lessons.diffusion_forcing.walk_matrix", "dfkit.sequence.sampler.sample_with_matrix"]},
    {"id": "06_diffusion_forcing.stabilized_history", "references": [
        "dfkit.sequence.sampler.stabilized_history", *NOISING_HERE]},
]

MODULES = ["torch", "autograder.standins"]

# Every call works on small tensors (the largest: 20,000 levels and 60,000 noise values); a call
# that takes seconds is a loop gone wrong.
LIMITS = {"call_seconds": 10.0, "cell_seconds": 20.0, "submission_seconds": 150.0}
