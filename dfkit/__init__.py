"""dfkit: a course package on sequence generative modeling.

From VAEs, DDPM and flow matching on images to teacher forcing, full-sequence
video diffusion and Diffusion Forcing on Moving-MNIST and pendulum videos.
"""

__version__ = "0.1.0"

from dfkit.device import pick_device

__all__ = ["__version__", "pick_device"]
