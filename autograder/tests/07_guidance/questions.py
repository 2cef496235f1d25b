"""07_guidance: cost guidance for planning, and the pieces of history guidance.

Each question names the dfkit function that already does what the student is asked to write; it is
switched off while that question is graded. The functions take tensors, numbers and a noise
schedule; the schedule travels as a stand-in that ``autograder.standins`` (imported by the
worker, see MODULES) rebuilds. The combination of predictions under several views needs a model,
so it runs in the notebook (``StudentHistoryGuidance``) and is not graded on its own: its three
ingredients are.
"""

from autograder.assignments import NOISING

QUESTIONS = [
    {"id": "07_guidance.cost_guided_x0", "references": [
        "dfkit.sequence.guidance.cost_guided_x0", "dfkit.sequence.guidance.guidance_weight", "dfkit.sequence.guidance.CostGuidance.__call__",
        "dfkit.sequence.rollout.reconstruction_guided_x0", "dfkit.sequence.rollout.ReconstructionGuidance.__call__"]},
    {"id": "07_guidance.view_levels", "references": [
        "dfkit.sequence.guidance.view_levels", "dfkit.sequence.guidance.show_history", "dfkit.sequence.guidance.history_guided_prediction"]},
    {"id": "07_guidance.raise_level", "references": ["dfkit.sequence.guidance.raise_level", *NOISING]},
    {"id": "07_guidance.history_guidance_terms", "references": [
        "dfkit.sequence.guidance.history_guidance_terms", "dfkit.sequence.guidance.HistoryGuidance.vanilla",
        "dfkit.sequence.guidance.HistoryGuidance.fractional", "dfkit.sequence.guidance.HistoryGuidance.temporal"]},
]

MODULES = ["torch", "autograder.standins"]

# Each call is a handful of tensor operations on small inputs: a call that takes seconds is a loop gone wrong.
LIMITS = {"call_seconds": 10.0, "cell_seconds": 20.0, "submission_seconds": 150.0}
