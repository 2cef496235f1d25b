"""Profiles: one dataclass of presets per way the course is run.

* ``quick``: CI and graders; every notebook runs top to bottom in about a minute on 2 CPU cores.
* ``class``: the default on a CPU laptop; each notebook within 10 minutes on 2 cores.
* ``gpu``: one GPU; full resolution (Moving-MNIST 64×64 with 2 digits, longer clips).

Select with ``DFKIT_PROFILE=quick|class|gpu`` or ``get_profile("quick")``.

Image models (28×28 digits): ``profile.unet`` / ``profile.unet_training`` for DDPM and flow matching
(flow matching uses ``dataclasses.replace(profile.unet, level_scale=1000.0)`` so that t ∈ [0, 1] is
embedded like a level in 0..1000), ``profile.vae`` / ``profile.vae_training`` for the VAE.
Class step budgets come from the training throughput measured at 28×28, batch 64 (AdamW, clipping,
EMA): about 155 images per CPU-second for the class UNet and 650 for the class VAE, so 700 UNet
steps and 2,400 VAE steps cost about 5 and 4 CPU-minutes (roughly 3 and 2.5 minutes on 2 free cores).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from dfkit.data.moving_mnist import MovingMNISTConfig
from dfkit.data.pendulum import PendulumConfig
from dfkit.models.unet import UNetConfig
from dfkit.models.vae import VAEConfig
from dfkit.train import TrainConfig

ENV_VAR = "DFKIT_PROFILE"
DEFAULT = "class"


@dataclass(frozen=True)
class Profile:
    name: str
    moving_mnist: MovingMNISTConfig = field(default_factory=MovingMNISTConfig)
    pendulum: PendulumConfig = field(default_factory=PendulumConfig)
    unet: UNetConfig = field(default_factory=UNetConfig)
    unet_training: TrainConfig = field(default_factory=TrainConfig)
    vae: VAEConfig = field(default_factory=VAEConfig)
    vae_training: TrainConfig = field(default_factory=TrainConfig)


PROFILES = {
    "quick": Profile(
        name="quick",
        moving_mnist=MovingMNISTConfig(num_sequences=256, num_frames=12, canvas_size=32, num_digits=1, digit_size=16, speed=1.6),
        pendulum=PendulumConfig(num_sequences=256, num_frames=24, image_size=16),
        unet=UNetConfig(base_channels=8, channel_mults=(1, 2, 2)),  # ~49k parameters
        unet_training=TrainConfig(steps=100, batch_size=32, lr=1e-3, warmup_steps=10, ema_decay=0.99, log_every=10),
        vae=VAEConfig(base_channels=8, latent_dim=8),  # ~29k parameters
        vae_training=TrainConfig(steps=150, batch_size=32, lr=2e-3, ema_decay=None, log_every=10),
    ),
    "class": Profile(
        name="class",
        moving_mnist=MovingMNISTConfig(num_sequences=4_000, num_frames=20, canvas_size=32, num_digits=1, digit_size=16, speed=1.6),
        pendulum=PendulumConfig(num_sequences=2_000, num_frames=32, image_size=32),
        unet=UNetConfig(base_channels=32, channel_mults=(1, 2, 2)),  # ~0.78M parameters
        unet_training=TrainConfig(steps=1_100, batch_size=64, lr=1e-3, warmup_steps=50, ema_decay=0.995),  # ~4.5 min on 2 idle cores
        vae=VAEConfig(base_channels=32, latent_dim=16),  # ~0.30M parameters
        vae_training=TrainConfig(steps=2_400, batch_size=64, lr=1e-3, ema_decay=None),
    ),
    "gpu": Profile(
        name="gpu",
        moving_mnist=MovingMNISTConfig(num_sequences=10_000, num_frames=20, canvas_size=64, num_digits=2, digit_size=28, speed=3.6),
        pendulum=PendulumConfig(num_sequences=10_000, num_frames=64, image_size=64),
        unet=UNetConfig(base_channels=96, channel_mults=(1, 2, 2), num_res_blocks=2, attention_at=(1, 2), dropout=0.1),  # ~11M
        unet_training=TrainConfig(steps=20_000, batch_size=128, lr=2e-4, warmup_steps=500, ema_decay=0.9995, log_every=100),
        vae=VAEConfig(base_channels=64, latent_dim=32),  # ~1.2M parameters
        vae_training=TrainConfig(steps=10_000, batch_size=128, lr=1e-3, warmup_steps=200, ema_decay=0.999, log_every=100),
    ),
}


def get_profile(name: str | None = None) -> Profile:
    """The profile called ``name``, else ``$DFKIT_PROFILE``, else ``class``."""
    chosen = name or os.environ.get(ENV_VAR) or DEFAULT
    if chosen not in PROFILES:
        raise ValueError(f"unknown profile {chosen!r}; expected one of {sorted(PROFILES)}")
    return PROFILES[chosen]
