"""03_flow_matching: the straight path, its velocity, and the exact marginal velocity of a finite dataset.

Each question names the dfkit functions that already do what the student is asked to write; they
are switched off while that question is graded. The notebook's solver and loss exercises
(``euler_step``, ``heun_step``, ``flow_loss``) take a function as their first argument, which the
grader cannot send to a submission yet, so they are practice exercises checked in the notebook.
"""

QUESTIONS = [
    {"id": "03_flow_matching.interpolate", "references": [       # an Euler step from the noise at velocity x_1 - x_0
        "dfkit.diffusion.flow.interpolate", "dfkit.diffusion.flow.euler_step", "dfkit.diffusion.flow.midpoint_step",
        "dfkit.diffusion.flow.heun_step"]},
    {"id": "03_flow_matching.target_velocity", "references": ["dfkit.diffusion.flow.target_velocity"]},
    {"id": "03_flow_matching.marginal_velocity", "references": [  # a mixture of point masses gives the same velocity
        "dfkit.lessons.flow_matching.marginal_velocity", "dfkit.diffusion.gaussian.GaussianMixture.exact_velocity",
        "dfkit.diffusion.gaussian.GaussianMixture.posterior_mean"]},
]

MODULES = ["torch"]

# Every call works on a handful of small tensors: a call that takes seconds is a loop gone wrong.
LIMITS = {"call_seconds": 10.0, "cell_seconds": 10.0, "submission_seconds": 120.0}
