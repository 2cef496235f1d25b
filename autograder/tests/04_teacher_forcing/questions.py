"""04_teacher_forcing: training pairs of the chain rule, the teacher-forcing input, free running, swing direction.

Each question names the dfkit function that already does what the student is asked to write; it is
switched off while that question is graded. The rollout loop takes a next-frame sampler as its
first argument: the tests send a ``ToyNextFrame`` stand-in that ``autograder.standins``
(imported by the worker, see MODULES) rebuilds; noise schedules travel the same way.
"""

from autograder.assignments import NOISING

QUESTIONS = [
    {"id": "04_teacher_forcing.teacher_forcing_pairs", "references": [
        "dfkit.lessons.teacher_forcing.teacher_forcing_pairs", "dfkit.lessons.teacher_forcing.one_step_predictions"]},
    {"id": "04_teacher_forcing.teacher_forcing_input", "references": [
        "dfkit.sequence.objectives.teacher_forcing_input", *NOISING, "dfkit.sequence.objectives.full_sequence_noise",
        "dfkit.sequence.rollout.replace_known", "dfkit.sequence.sampler.stabilized_history"]},
    {"id": "04_teacher_forcing.autoregressive_rollout", "references": [
        "dfkit.lessons.teacher_forcing.autoregressive_rollout", "dfkit.sequence.rollout.rollout_regressor"]},
    {"id": "04_teacher_forcing.swing_direction", "references": [
        "dfkit.metrics.pendulum.swing_direction", "dfkit.metrics.pendulum.swing_direction_accuracy"]},
]

MODULES = ["torch", "autograder.standins", "dfkit.diffusion.ddpm", "dfkit.data.pendulum"]

# Every call works on a handful of small tensors: a call that takes seconds is a loop gone wrong.
LIMITS = {"call_seconds": 10.0, "cell_seconds": 20.0, "submission_seconds": 150.0}
