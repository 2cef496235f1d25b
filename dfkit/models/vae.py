"""A convolutional variational autoencoder (VAE) with a vector latent.

Notation of the lecture: an encoder q_φ(z|x) = N(μ_φ(x), diag(exp(logvar_φ(x)))), a decoder
p_θ(x|z), a prior p(z) = N(0, I), and the evidence lower bound

    ELBO(x) = E_{z ~ q_φ(z|x)}[log p_θ(x|z)] - KL(q_φ(z|x) || p(z))  <=  log p_θ(x).

Training minimizes L(x) = -E_q[log p_θ(x|z)] + β · KL(q_φ(z|x) || p(z)) (β = 1 is the ELBO).

    encoder: x (B, C, H, W) -> conv -> [stride-2 conv] * len(channel_mults) -> flatten -> linear -> μ, logvar (B, D)
    decoder: z (B, D) -> linear -> unflatten -> [upsample + conv] * len(channel_mults) -> conv -> (B, C, H, W)

The decoder returns the parameters of p_θ(x|z): Bernoulli logits (``likelihood="bernoulli"``)
or the Gaussian mean (``likelihood="gaussian"``, fixed standard deviation ``sigma``).
``encode`` and ``decode`` also take video frames (B, T, C, H, W) / latents (B, T, D): every
frame is encoded on its own, so sequence models can work in the latent space frame by frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from dfkit.models.registry import register_model

LIKELIHOODS = ("bernoulli", "gaussian")


@dataclass(frozen=True)
class VAEConfig:
    image_size: int = 28
    in_channels: int = 1
    latent_dim: int = 16
    base_channels: int = 32
    channel_mults: tuple[int, ...] = (1, 2)  # one stride-2 stage per entry
    likelihood: str = "bernoulli"            # "bernoulli" (decoder gives logits) or "gaussian" (decoder gives the mean)
    sigma: float = 0.1                       # standard deviation of the Gaussian likelihood
    beta: float = 1.0                        # weight of the KL term in vae_loss

    def validate(self) -> None:
        if self.likelihood not in LIKELIHOODS:
            raise ValueError(f"expected likelihood to be one of {LIKELIHOODS}, got {self.likelihood!r}")
        if self.latent_dim < 1 or self.in_channels < 1 or self.base_channels < 1:
            raise ValueError(f"expected latent_dim, in_channels and base_channels >= 1, got {self.latent_dim}, {self.in_channels}, {self.base_channels}")
        if not self.channel_mults or any(m < 1 for m in self.channel_mults):
            raise ValueError(f"expected a non-empty channel_mults of positive ints, got {self.channel_mults}")
        factor = 2 ** len(self.channel_mults)
        if self.image_size < factor or self.image_size % factor:
            raise ValueError(f"expected image_size divisible by 2**len(channel_mults) = {factor}, got {self.image_size}")
        if not self.sigma > 0:
            raise ValueError(f"expected sigma > 0, got {self.sigma}")
        if not self.beta >= 0:
            raise ValueError(f"expected beta >= 0, got {self.beta}")


# ----------------------------------------------------------------------------- the math


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, noise: torch.Tensor | None = None, generator: torch.Generator | None = None) -> torch.Tensor:
    """z = μ + exp(logvar / 2) ⊙ ε with ε ~ N(0, I): a sample of q(z|x) that gradients flow through."""
    if mu.shape != logvar.shape:
        raise ValueError(f"expected mu and logvar of the same shape, got {tuple(mu.shape)} and {tuple(logvar.shape)}")
    if noise is None:
        noise = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    elif noise.shape != mu.shape:
        raise ValueError(f"expected noise of shape {tuple(mu.shape)} (like mu), got {tuple(noise.shape)}")
    return mu + torch.exp(0.5 * logvar) * noise


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, diag σ²) || N(0, I)) = ½ Σ_j (μ_j² + σ_j² - 1 - log σ_j²), summed over all but the batch dim -> (B,)."""
    if mu.shape != logvar.shape or mu.ndim < 2:
        raise ValueError(f"expected mu and logvar of the same shape (B, D) or (B, T, D), got {tuple(mu.shape)} and {tuple(logvar.shape)}")
    per_dim = 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)
    return per_dim.flatten(1).sum(dim=1)  # (B,)


def bernoulli_log_likelihood(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """log p(x|z) = Σ_i [x_i log σ(l_i) + (1 - x_i) log(1 - σ(l_i))] over all but the batch dim -> (B,).

    ``x`` in [0, 1]; grey values are used as soft targets (the usual binary cross-entropy).
    """
    if x.shape != logits.shape or x.ndim < 2:
        raise ValueError(f"expected x and logits of the same shape (B, ...), got {tuple(x.shape)} and {tuple(logits.shape)}")
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(dim=1)


def gaussian_log_likelihood(x: torch.Tensor, mean: torch.Tensor, log_scale: torch.Tensor | float) -> torch.Tensor:
    """log N(x; mean, σ²) with log σ = ``log_scale`` (a number or a broadcastable tensor), summed -> (B,).

    log N = -½ ((x - mean) / σ)² - log σ - ½ log 2π per dimension.
    """
    if x.shape != mean.shape or x.ndim < 2:
        raise ValueError(f"expected x and mean of the same shape (B, ...), got {tuple(x.shape)} and {tuple(mean.shape)}")
    log_scale = torch.as_tensor(log_scale, dtype=mean.dtype, device=mean.device)
    per_dim = -0.5 * ((x - mean) * torch.exp(-log_scale)).pow(2) - log_scale - 0.5 * math.log(2 * math.pi)
    return per_dim.expand_as(x).flatten(1).sum(dim=1)  # (B,)


def decoder_log_likelihood(model, x: torch.Tensor, decoded: torch.Tensor, likelihood: str | None = None) -> torch.Tensor:
    """log p_θ(x|z) for the decoder output ``decoded``, with the model's likelihood (or ``likelihood``) -> (B,)."""
    likelihood = likelihood or model.config.likelihood
    if likelihood == "bernoulli":
        return bernoulli_log_likelihood(x, decoded)
    if likelihood == "gaussian":
        return gaussian_log_likelihood(x, decoded, math.log(model.config.sigma))
    raise ValueError(f"expected likelihood to be one of {LIKELIHOODS}, got {likelihood!r}")


def elbo(model, x: torch.Tensor, beta: float = 1.0, likelihood: str | None = None, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """One-sample estimate of the (β-weighted) ELBO per example.

    1. μ, logvar = encode(x)
    2. z = μ + σ ⊙ ε                                  (one reparameterized sample of q(z|x))
    3. reconstruction = log p_θ(x | z)
    4. kl = KL(q(z|x) || N(0, I))                      (closed form)
    5. elbo = reconstruction - β · kl

    ``likelihood`` defaults to ``model.config.likelihood``. Returns tensors of shape (B,):
    ``{"elbo", "reconstruction", "kl"}``.
    """
    if not isinstance(x, torch.Tensor) or x.ndim < 2:
        raise ValueError(f"expected a batch x of shape (B, C, H, W), got {tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}")
    mu, logvar = model.encode(x)
    z = reparameterize(mu, logvar, generator=generator)
    reconstruction = decoder_log_likelihood(model, x, model.decode(z), likelihood)
    kl = gaussian_kl(mu, logvar)
    return {"elbo": reconstruction - beta * kl, "reconstruction": reconstruction, "kl": kl}


def vae_loss(model, x: torch.Tensor, generator: torch.Generator | None = None, beta: float | None = None) -> torch.Tensor:
    """-mean over the batch of (reconstruction - β · KL), β defaulting to ``model.config.beta``.

    The argument order matches :func:`dfkit.train.train`'s ``loss_fn(model, batch, generator)``.
    """
    beta = model.config.beta if beta is None else beta
    return -elbo(model, x, beta=beta, generator=generator)["elbo"].mean()


def iwae_bound(model, x: torch.Tensor, num_samples: int = 64, generator: torch.Generator | None = None) -> torch.Tensor:
    """Importance-weighted bound log (1/K) Σ_k p(x, z_k) / q(z_k|x), z_k ~ q(z|x) -> (B,).

    ELBO <= IWAE_K <= log p(x), and IWAE_K -> log p(x) as K grows: a better estimate of log p(x).
    """
    if num_samples < 1:
        raise ValueError(f"expected num_samples >= 1, got {num_samples}")
    mu, logvar = model.encode(x)  # (B, D)
    log_weights = []
    for _ in range(num_samples):
        noise = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        z = reparameterize(mu, logvar, noise=noise)
        log_prior = gaussian_log_likelihood(z, torch.zeros_like(z), 0.0)
        log_posterior = gaussian_log_likelihood(z, mu, 0.5 * logvar)
        log_weights.append(decoder_log_likelihood(model, x, model.decode(z)) + log_prior - log_posterior)
    return torch.logsumexp(torch.stack(log_weights), dim=0) - math.log(num_samples)  # (B,)


# ----------------------------------------------------------------------------- the model


@register_model(VAEConfig)
class VAE(nn.Module):
    def __init__(self, config: VAEConfig = VAEConfig()):
        super().__init__()
        config.validate()
        self.config = config
        base, widths = config.base_channels, [config.base_channels * m for m in config.channel_mults]
        self.bottom = config.image_size // 2 ** len(widths)  # side of the smallest feature map
        flat = widths[-1] * self.bottom * self.bottom

        encoder = [nn.Conv2d(config.in_channels, base, 3, padding=1), nn.SiLU()]
        channels = base
        for width in widths:
            encoder += [nn.Conv2d(channels, width, 4, stride=2, padding=1), nn.SiLU(), nn.Conv2d(width, width, 3, padding=1), nn.SiLU()]
            channels = width
        self.encoder = nn.Sequential(*encoder, nn.Flatten())
        self.to_posterior = nn.Linear(flat, 2 * config.latent_dim)  # -> (μ, logvar)

        self.from_latent = nn.Sequential(nn.Linear(config.latent_dim, flat), nn.SiLU())
        decoder = []
        for width in reversed([base] + widths[:-1]):
            decoder += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(channels, width, 3, padding=1), nn.SiLU(),
                        nn.Conv2d(width, width, 3, padding=1), nn.SiLU()]
            channels = width
        self.decoder = nn.Sequential(*decoder, nn.Conv2d(channels, config.in_channels, 3, padding=1))

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Images (B, C, H, W) -> μ, logvar (B, D); frames (B, T, C, H, W) -> (B, T, D) each."""
        images, lead = self._fold_images(x)
        h = self.encoder(images)  # (N, width * bottom²)
        mu, logvar = self.to_posterior(h).chunk(2, dim=1)  # (N, D) each
        return mu.reshape(*lead, -1), logvar.reshape(*lead, -1)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Latents (B, D) -> (B, C, H, W); (B, T, D) -> (B, T, C, H, W). Logits or Gaussian means."""
        D = self.config.latent_dim
        if not isinstance(z, torch.Tensor) or z.ndim not in (2, 3) or z.shape[-1] != D:
            raise ValueError(f"expected latents of shape (B, {D}) or (B, T, {D}), got {tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__}")
        lead = z.shape[:-1]
        h = self.from_latent(z.reshape(-1, D))  # (N, width * bottom²)
        h = h.reshape(h.shape[0], -1, self.bottom, self.bottom)  # (N, width, bottom, bottom)
        out = self.decoder(h)  # (N, C, H, W)
        return out.reshape(*lead, *out.shape[1:])

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Encode, sample z by reparameterization, decode: returns (decoded, mu, logvar)."""
        mu, logvar = self.encode(x)
        return self.decode(reparameterize(mu, logvar, generator=generator)), mu, logvar

    def to_pixels(self, decoded: torch.Tensor) -> torch.Tensor:
        """Decoder output -> expected pixel values in [0, 1] (sigmoid of logits, or the clamped mean)."""
        return torch.sigmoid(decoded) if self.config.likelihood == "bernoulli" else decoded.clamp(0.0, 1.0)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """Decode the posterior mean: a deterministic reconstruction in [0, 1], shaped like x."""
        mu, _ = self.encode(x)
        return self.to_pixels(self.decode(mu))

    @torch.no_grad()
    def sample(self, num_samples: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """z ~ N(0, I) decoded to (num_samples, C, H, W) pixel values in [0, 1]."""
        device = next(self.parameters()).device
        z = torch.randn(num_samples, self.config.latent_dim, generator=generator, device=device)
        return self.to_pixels(self.decode(z))

    def _fold_images(self, x):
        c, size = self.config.in_channels, self.config.image_size
        ok = isinstance(x, torch.Tensor) and x.ndim in (4, 5) and tuple(x.shape[-3:]) == (c, size, size)
        if not ok:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"expected images of shape (B, {c}, {size}, {size}) or frames (B, T, {c}, {size}, {size}), got {shape}")
        return x.reshape(-1, c, size, size), x.shape[:-3]
