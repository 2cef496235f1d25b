"""01_vae: the four formulas a VAE is trained with, written on torch tensors.

Each question names the dfkit function that already does what the student is asked to write; it is
switched off while that question is graded.
"""

QUESTIONS = [
    {"id": "01_vae.reparameterize", "references": ["dfkit.models.vae.reparameterize"]},
    {"id": "01_vae.gaussian_kl", "references": ["dfkit.models.vae.gaussian_kl", "dfkit.lessons.vae.kl_per_dimension"]},
    {"id": "01_vae.gaussian_log_likelihood", "references": [
        "dfkit.models.vae.gaussian_log_likelihood", "dfkit.diffusion.gaussian.GaussianMixture.log_prob"]},
    {"id": "01_vae.bernoulli_log_likelihood", "references": ["dfkit.models.vae.bernoulli_log_likelihood"]},
]

MODULES = ["torch"]

# Each call is a few tensor operations on small inputs: a call that takes seconds is a loop gone wrong.
LIMITS = {"call_seconds": 5.0, "cell_seconds": 10.0, "submission_seconds": 120.0}
