"""Neural networks of the course: a small image UNet and a convolutional VAE."""

from dfkit.models.unet import UNet, UNetConfig
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
    "bernoulli_log_likelihood",
    "elbo",
    "gaussian_kl",
    "gaussian_log_likelihood",
    "iwae_bound",
    "reparameterize",
    "vae_loss",
]
