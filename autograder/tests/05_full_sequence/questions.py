"""05_full_sequence: one noise level for a whole clip, extending a video by replacement and by
reconstruction guidance, and measuring the inconsistency at the window borders.

Each question names the dfkit function that already does what the student is asked to write; it is
switched off while that question is graded (and the notebook falls back to it when a check fails).
A noise schedule and a denoiser are objects, not plain data: the tests send them as stand-ins
that ``autograder.standins`` (imported by the worker, see MODULES) rebuilds into a ``NoiseSchedule``
and a ``ToyJointDenoiser``.
"""

from autograder.assignments import NOISING

QUESTIONS = [
    {"id": "05_full_sequence.full_sequence_noise", "references": [
        "dfkit.sequence.objectives.full_sequence_noise", *NOISING, "dfkit.sequence.sampler.stabilized_history",
        "dfkit.sequence.objectives.teacher_forcing_input"]},
    {"id": "05_full_sequence.replace_known", "references": ["dfkit.sequence.rollout.replace_known", *NOISING]},
    {"id": "05_full_sequence.reconstruction_gradient", "references": [   # guidance hooks fed a hand-made GuidanceInput
        "dfkit.sequence.rollout.reconstruction_gradient", "dfkit.lessons.full_sequence.ReconstructionHook.__call__",
        "dfkit.sequence.guidance.CostGuidance.__call__", "dfkit.lessons.guidance.StudentCostGuidance.__call__",
        "dfkit.sequence.rollout.ReconstructionGuidance.__call__"]},
    {"id": "05_full_sequence.reconstruction_guided_x0", "references": [  # the same update as lesson 07's cost guidance
        "dfkit.sequence.rollout.reconstruction_guided_x0", "dfkit.sequence.guidance.cost_guided_x0",
        "dfkit.sequence.guidance.guidance_weight", "dfkit.lessons.full_sequence.library_guided_x0"]},
    {"id": "05_full_sequence.border_inconsistency", "references": [
        "dfkit.metrics.pendulum.border_inconsistency", "dfkit.metrics.pendulum.frame_surprise"]},
]

MODULES = ["torch", "autograder.standins"]

# Each call is a handful of tensor operations on small inputs: a call that takes seconds is a loop gone wrong.
LIMITS = {"call_seconds": 10.0, "cell_seconds": 20.0, "submission_seconds": 150.0}
