"""Pendulum videos: simulated physics, rendered frames, and an angle read back from pixels.

Physics (per unit mass), with an optional torque input ``u``:

    θ'' = -(g / L) sin θ - b θ' + u

integrated with classical RK4 at ``substeps`` internal steps per frame and
sampled every ``dt`` seconds. θ = 0 is the pendulum hanging straight down;
positive θ swings the bob to the right of the pivot (image columns grow to the
right, rows grow downwards). ``u`` is held constant between two frames: the
action of frame t acts from frame t to frame t + 1 (the last action of a clip
acts after it).

Energy per unit mass (conserved when b = 0 and u = 0):

    E = ½ L² ω² + g L (1 - cos θ)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SPLITS = ("train", "test")
SPLIT_STREAM = {"train": 0, "test": 1}

# Geometry, as fractions of the image size: the pivot sits at the centre.
ROD_LENGTH = 0.34       # pivot to bob centre
BOB_RADIUS = 0.11
ROD_HALF_WIDTH = 0.035


@dataclass(frozen=True)
class PendulumConfig:
    num_sequences: int = 2_000
    num_frames: int = 32
    image_size: int = 32
    dt: float = 0.1                              # seconds between frames
    gravity: float = 9.81                        # g, m/s²
    length: float = 1.0                          # L, m
    damping: float = 0.0                         # b, 1/s
    max_initial_angle: float = math.pi / 2       # θ0 ~ U[-max, max] rad
    max_initial_velocity: float = 1.0            # ω0 ~ U[-max, max] rad/s
    max_torque: float = 0.0                      # u_t ~ U[-max, max] rad/s², one per frame; 0 = free swing
    substeps: int = 20                           # RK4 steps per frame
    seed: int = 0

    def validate(self) -> None:
        if self.num_sequences < 1:
            raise ValueError(f"expected num_sequences >= 1, got {self.num_sequences}")
        if self.num_frames < 1:
            raise ValueError(f"expected num_frames >= 1, got {self.num_frames}")
        if self.image_size < 8:
            raise ValueError(f"expected image_size >= 8 pixels, got {self.image_size}")
        for name in ("dt", "gravity", "length"):
            if not getattr(self, name) > 0:
                raise ValueError(f"expected {name} > 0, got {getattr(self, name)}")
        for name in ("damping", "max_initial_angle", "max_initial_velocity", "max_torque"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"expected {name} >= 0, got {getattr(self, name)}")
        if self.substeps < 1:
            raise ValueError(f"expected substeps >= 1, got {self.substeps}")


def generate(config: PendulumConfig = PendulumConfig(), split: str = "train", progress: bool = False) -> dict[str, np.ndarray]:
    """Simulate and render pendulum clips.

    Returns a dict of arrays:
        frames   float32 (N, T, 1, H, W) in [0, 1]
        states   float64 (N, T, 2)       (θ, ω) at each frame
        actions  float64 (N, T)          torque u acting from frame t to t + 1
    """
    config.validate()
    if split not in SPLITS:
        raise ValueError(f"expected split to be one of {SPLITS}, got {split!r}")
    rng = np.random.default_rng([config.seed, SPLIT_STREAM[split]])
    n = config.num_sequences
    theta0 = rng.uniform(-config.max_initial_angle, config.max_initial_angle, size=n)
    omega0 = rng.uniform(-config.max_initial_velocity, config.max_initial_velocity, size=n)
    actions = rng.uniform(-config.max_torque, config.max_torque, size=(n, config.num_frames))
    states = simulate(
        np.stack([theta0, omega0], axis=-1), actions, dt=config.dt, gravity=config.gravity,
        length=config.length, damping=config.damping, substeps=config.substeps,
    )
    chunks = range(0, n, 256)
    if progress and n > 1024:
        from tqdm.auto import tqdm
        chunks = tqdm(chunks, desc="rendering pendulum", unit="chunk")
    frames = np.concatenate([render(states[start:start + 256, :, 0], config.image_size) for start in chunks])
    return {"frames": frames[:, :, None].astype(np.float32), "states": states, "actions": actions}


def acceleration(theta, omega, torque, gravity: float, length: float, damping: float):
    """θ'' = -(g / L) sin θ - b θ' + u."""
    return -(gravity / length) * np.sin(theta) - damping * omega + torque


def simulate(initial_state, actions, dt: float = 0.1, gravity: float = 9.81, length: float = 1.0,
             damping: float = 0.0, substeps: int = 20) -> np.ndarray:
    """Integrate the pendulum with RK4.

    initial_state: (..., 2) as (θ, ω); actions: (..., T) torques. Returns states (..., T, 2),
    where states[..., 0, :] is the initial state and actions[..., t] acts from t to t + 1.
    """
    state = np.asarray(initial_state, dtype=np.float64)
    actions = np.asarray(actions, dtype=np.float64)
    if state.shape[-1] != 2:
        raise ValueError(f"expected initial_state of shape (..., 2) holding (theta, omega), got {state.shape}")
    if actions.shape[:-1] != state.shape[:-1]:
        raise ValueError(f"expected actions of shape {state.shape[:-1] + ('T',)}, got {actions.shape}")
    if not dt > 0:
        raise ValueError(f"expected dt > 0 seconds, got {dt}")
    if substeps < 1:
        raise ValueError(f"expected substeps >= 1, got {substeps}")
    h = dt / substeps
    num_frames = actions.shape[-1]
    states = np.empty(state.shape[:-1] + (num_frames, 2))
    states[..., 0, :] = state
    for t in range(1, num_frames):
        for _ in range(substeps):
            state = rk4_step(state, actions[..., t - 1], h, gravity, length, damping)
        states[..., t, :] = state
    return states


def rk4_step(state, torque, h: float, gravity: float = 9.81, length: float = 1.0, damping: float = 0.0):
    """One classical Runge-Kutta step of size h for s = (θ, ω), s' = f(s) = (ω, θ''):

        k1 = f(s), k2 = f(s + h/2 k1), k3 = f(s + h/2 k2), k4 = f(s + h k3)
        s_next = s + h/6 (k1 + 2 k2 + 2 k3 + k4)

    state: (..., 2); torque: broadcastable to state[..., 0].
    """
    def derivative(s):
        return np.stack([s[..., 1], acceleration(s[..., 0], s[..., 1], torque, gravity, length, damping)], axis=-1)

    k1 = derivative(state)
    k2 = derivative(state + 0.5 * h * k1)
    k3 = derivative(state + 0.5 * h * k2)
    k4 = derivative(state + h * k3)
    return state + (h / 6.0) * (k1 + 2 * k2 + 2 * k3 + k4)


def energy(states, gravity: float = 9.81, length: float = 1.0) -> np.ndarray:
    """Mechanical energy per unit mass: E = ½ L² ω² + g L (1 - cos θ). states: (..., 2) -> (...)."""
    states = np.asarray(states)
    theta, omega = states[..., 0], states[..., 1]
    return 0.5 * length**2 * omega**2 + gravity * length * (1.0 - np.cos(theta))


def render(theta, image_size: int) -> np.ndarray:
    """Draw the pendulum at angles ``theta`` (any shape ``S``) into float32 images ``S + (H, W)`` in [0, 1].

    An anti-aliased rod from the fixed pivot at the image centre to the bob, plus a filled disc.
    Each pixel's intensity is its approximate coverage: clip(half_width + ½ - distance, 0, 1).
    """
    theta = np.asarray(theta, dtype=np.float64)
    if image_size < 8:
        raise ValueError(f"expected image_size >= 8 pixels, got {image_size}")
    size = float(image_size)
    pivot = size / 2
    centre = np.arange(image_size) + 0.5
    rows, cols = centre[:, None], centre[None, :]                      # (H, 1), (1, W)
    t = theta[..., None, None]
    bob_row = pivot + ROD_LENGTH * size * np.cos(t)
    bob_col = pivot + ROD_LENGTH * size * np.sin(t)

    # distance from each pixel centre to the rod segment pivot -> bob
    seg_row, seg_col = bob_row - pivot, bob_col - pivot
    along = ((rows - pivot) * seg_row + (cols - pivot) * seg_col) / (ROD_LENGTH * size) ** 2
    along = np.clip(along, 0.0, 1.0)
    rod_distance = np.hypot(rows - pivot - along * seg_row, cols - pivot - along * seg_col)
    rod_half_width = max(ROD_HALF_WIDTH * size, 0.5)
    rod = np.clip(rod_half_width + 0.5 - rod_distance, 0.0, 1.0)
    bob = np.clip(BOB_RADIUS * size + 0.5 - np.hypot(rows - bob_row, cols - bob_col), 0.0, 1.0)
    return np.maximum(rod, bob).astype(np.float32)


def estimate_angle(frames) -> np.ndarray:
    """Read θ back from frames, with no learning: the direction of the intensity centroid seen from the pivot.

    frames: (..., 1, H, W) or (..., H, W) array or tensor in [0, 1]; returns θ in radians, shape (...).
    The rod and bob are symmetric about the rod's axis, so their centroid lies on it.
    """
    array = frames.detach().cpu().numpy() if hasattr(frames, "detach") else np.asarray(frames)
    if array.ndim < 2 or array.shape[-1] != array.shape[-2]:
        raise ValueError(f"expected square frames of shape (..., 1, H, W) or (..., H, W), got {array.shape}")
    if array.ndim >= 3 and array.shape[-3] == 1:
        array = array[..., 0, :, :]
    size = array.shape[-1]
    centre = np.arange(size) + 0.5 - size / 2
    mass = array.sum(axis=(-2, -1))
    safe = np.where(mass > 0, mass, 1.0)
    row = (array * centre[:, None]).sum(axis=(-2, -1)) / safe
    col = (array * centre[None, :]).sum(axis=(-2, -1)) / safe
    return np.arctan2(col, row)


def wrap_angle(angle):
    """Map angles to (-π, π]."""
    return np.angle(np.exp(1j * np.asarray(angle)))
