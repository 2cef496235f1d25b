"""Neural networks of the course: a small image UNet, a convolutional VAE and the video denoiser backbone."""

from dfkit.models.unet import UNet, UNetConfig
from dfkit.models.video import VideoBackbone, VideoBackboneConfig
from dfkit.models.vae import (
    VAE,
    VAEConfig,
    bernoulli_log_likelihood,
    elbo,
    gaussian_kl,
    gaussian_log_likelihood,
    iwae_bound,
    reparameterize,
    vae_loss,
)

__all__ = [
    "UNet",
    "UNetConfig",
    "VAE",
    "VAEConfig",
    "VideoBackbone",
    "VideoBackboneConfig",
    "bernoulli_log_likelihood",
    "elbo",
    "gaussian_kl",
    "gaussian_log_likelihood",
    "iwae_bound",
    "reparameterize",
    "vae_loss",
]
