"""Profiles: one dataclass of presets per way the course is run.

* ``quick``: CI and graders; every notebook runs top to bottom in about a minute on 2 CPU cores.
* ``class``: the default on a CPU laptop; each notebook within 10 minutes on 2 cores.
* ``gpu``: one GPU; full resolution (Moving-MNIST 64×64 with 2 digits, longer clips).

Select with ``DFKIT_PROFILE=quick|class|gpu`` or ``get_profile("quick")``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from dfkit.data.moving_mnist import MovingMNISTConfig
from dfkit.data.pendulum import PendulumConfig

ENV_VAR = "DFKIT_PROFILE"
DEFAULT = "class"


@dataclass(frozen=True)
class Profile:
    name: str
    moving_mnist: MovingMNISTConfig = field(default_factory=MovingMNISTConfig)
    pendulum: PendulumConfig = field(default_factory=PendulumConfig)


PROFILES = {
    "quick": Profile(
        name="quick",
        moving_mnist=MovingMNISTConfig(num_sequences=256, num_frames=12, canvas_size=32, num_digits=1, digit_size=16, speed=1.6),
        pendulum=PendulumConfig(num_sequences=256, num_frames=24, image_size=16),
    ),
    "class": Profile(
        name="class",
        moving_mnist=MovingMNISTConfig(num_sequences=4_000, num_frames=20, canvas_size=32, num_digits=1, digit_size=16, speed=1.6),
        pendulum=PendulumConfig(num_sequences=2_000, num_frames=32, image_size=32),
    ),
    "gpu": Profile(
        name="gpu",
        moving_mnist=MovingMNISTConfig(num_sequences=10_000, num_frames=20, canvas_size=64, num_digits=2, digit_size=28, speed=3.6),
        pendulum=PendulumConfig(num_sequences=10_000, num_frames=64, image_size=64),
    ),
}


def get_profile(name: str | None = None) -> Profile:
    """The profile called ``name``, else ``$DFKIT_PROFILE``, else ``class``."""
    chosen = name or os.environ.get(ENV_VAR) or DEFAULT
    if chosen not in PROFILES:
        raise ValueError(f"unknown profile {chosen!r}; expected one of {sorted(PROFILES)}")
    return PROFILES[chosen]
