"""Sequence models in the latent space of a per-frame VAE (latent video diffusion).

Lesson 01 presents the VAE as a frame compressor; here it is one. Every frame is encoded on its
own to the mean μ_φ(x) of its posterior, and the latents are standardized per dimension with the
mean and standard deviation of the training frames' latents, so that they have the scale the noise
schedule assumes (the role of the scale factor in Rombach et al.'s latent diffusion):

    frames (B, T, 1, H, W) in [0, 1]  --encode-->  z = (μ_φ(x) - m) / s    (B, T, D, 1, 1)
    z  --any sequence model of the course: objectives, samplers, rollouts unchanged-->  ẑ
    ẑ  --decode-->  p_θ(x | m + s·ẑ) as pixels in [0, 1]                    (B, T, 1, H, W)

A latent frame is a D x 1 x 1 image, so the video backbone runs on it with no convolution
(``VideoBackboneConfig(widths=())``: one linear map from the latent to the frame's token and one
back). The decoder only draws frames like the ones the VAE was trained on, which is what makes the
latent space attractive for long rollouts; its reconstructions are also the ceiling of what a latent
model can show (benchmarks report them beside the latent models).
"""

from __future__ import annotations

import torch
import torch.nn as nn

from dfkit.models.vae import VAE


class FrameCodec(nn.Module):
    """A per-frame VAE with the standardization of its latents: frames in [0, 1] <-> latent frames.

    mean, std: (D,) statistics of the posterior means μ_φ(x) over the training frames.
    """

    def __init__(self, vae: VAE, mean: torch.Tensor, std: torch.Tensor):
        super().__init__()
        D = vae.config.latent_dim
        if tuple(mean.shape) != (D,) or tuple(std.shape) != (D,) or not bool((std > 0).all()):
            raise ValueError(f"expected a latent mean and a positive std of shape ({D},), got {tuple(mean.shape)} and {tuple(std.shape)}")
        self.vae = vae.eval()
        self.register_buffer("mean", mean.detach().clone().float())
        self.register_buffer("std", std.detach().clone().float())

    @property
    def latent_dim(self) -> int:
        return self.vae.config.latent_dim

    @torch.no_grad()
    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        """Frames (B, T, C, H, W) in [0, 1] -> standardized latent frames (B, T, D, 1, 1)."""
        mu, _ = self.vae.encode(frames)                                     # (B, T, D)
        return ((mu - self.mean) / self.std)[..., None, None]

    @torch.no_grad()
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Latent frames (B, T, D, 1, 1) -> frames (B, T, C, H, W) in [0, 1] (the decoder's expected pixels)."""
        if latents.dim() != 5 or tuple(latents.shape[2:]) != (self.latent_dim, 1, 1):
            raise ValueError(f"expected latent frames of shape (B, T, {self.latent_dim}, 1, 1), got {tuple(latents.shape)}")
        z = latents[..., 0, 0] * self.std + self.mean                       # (B, T, D)
        return self.vae.to_pixels(self.vae.decode(z))


def latent_statistics(vae: VAE, frames: torch.Tensor, chunk: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-dimension mean and standard deviation (D,) of the posterior means of ``frames`` (N, T, C, H, W),
    uint8 (0..255) or float in [0, 1], encoded ``chunk`` clips at a time."""
    means = encode_means(vae, frames, chunk).flatten(0, 1)                  # (N·T, D)
    return means.mean(0), means.std(0).clamp_min(1e-6)


@torch.no_grad()
def encode_means(vae: VAE, frames: torch.Tensor, chunk: int = 256) -> torch.Tensor:
    """Posterior means (N, T, D) of clips (N, T, C, H, W), uint8 (0..255) or float in [0, 1]."""
    vae = vae.eval()
    parts = []
    for start in range(0, frames.shape[0], chunk):
        part = frames[start:start + chunk]
        part = part.float() / 255.0 if part.dtype == torch.uint8 else part.float()
        parts.append(vae.encode(part)[0])
    return torch.cat(parts)


class LatentSequenceModel(nn.Module):
    """A video backbone trained on latent frames, with the codec that maps frames in and out.

    Calls go to the backbone (``model(latents, levels)``, ``encode_history``, ``is_causal``,
    ``max_window``), so the samplers and rollouts of :mod:`dfkit.sequence` take it as it is, on
    latent frames; :meth:`encode` and :meth:`decode` cross between frames and latents.
    """

    def __init__(self, backbone: nn.Module, codec: FrameCodec):
        super().__init__()
        if getattr(backbone.config, "channels", None) != codec.latent_dim:
            raise ValueError(f"expected a backbone with {codec.latent_dim} channels (the codec's latent_dim), "
                             f"got {getattr(backbone.config, 'channels', None)}")
        self.backbone, self.codec = backbone, codec

    @property
    def config(self):
        return self.backbone.config

    @property
    def is_causal(self) -> bool:
        return self.backbone.is_causal

    @property
    def max_window(self):
        return self.backbone.max_window

    def num_parameters(self) -> int:
        """Parameters of the backbone, the part trained on latents (the frame VAE is counted with its own checkpoint)."""
        return self.backbone.num_parameters()

    def forward(self, *args, **kwargs):
        return self.backbone(*args, **kwargs)

    def encode_history(self, frames: torch.Tensor, levels: torch.Tensor):
        return self.backbone.encode_history(frames, levels)

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        return self.codec.encode(frames)

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        return self.codec.decode(latents)
