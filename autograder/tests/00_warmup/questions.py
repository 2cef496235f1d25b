"""00_warmup: four small numpy functions on the course datasets.

Each question names the dfkit functions that already do what the student is asked to write; they
are switched off while that question is graded.
"""

QUESTIONS = [
    {"id": "00_warmup.bounce_step", "references": ["dfkit.data.moving_mnist.bounce_step"]},
    {"id": "00_warmup.energy", "references": ["dfkit.data.pendulum.energy"]},
    {"id": "00_warmup.rk4_step", "references": ["dfkit.data.pendulum.rk4_step"]},
    {"id": "00_warmup.estimate_angle", "references": [
        "dfkit.data.pendulum.estimate_angle", "dfkit.sequence.planning.pendulum_angle", "dfkit.sequence.planning._centroid_moments"]},
]

# Every function here runs in microseconds: a call that takes seconds is a loop gone wrong.
LIMITS = {"call_seconds": 5.0, "cell_seconds": 10.0, "submission_seconds": 90.0}
