"""Planning on the pendulum by cost guidance, and an honest measure of whether a plan worked.

The task: given context frames of a swinging pendulum, generate a continuation in which the
pendulum is at a target angle θ* at generated frame t*. The model only generates frames (the
course's pendulum data are free swings, no torque), so "planning" means steering the sampler
towards the futures the model finds plausible that also satisfy the goal
(:class:`dfkit.sequence.guidance.CostGuidance` with :class:`AngleCost`).

The cost reads the angle the way the metrics do (:func:`dfkit.data.pendulum.estimate_angle`,
the direction of the intensity centroid seen from the pivot), but in torch, so that it can be
differentiated (:func:`pendulum_angle`):

    θ̂ = atan2(Σ_p I_p c_p, Σ_p I_p r_p),   cost = Σ_b [1 - cos(θ̂_{b, t*} - θ*_b)]

(r_p, c_p: pixel centre rows / columns measured from the pivot, I = (x + 1) / 2 the
intensity of a model-range frame). 1 - cos is smooth, periodic and ≈ ½ (θ̂ - θ*)² near the target.

Why hitting the target in the frames is not enough. A generator can always "reach" θ* by
drawing a pendulum there, whatever the physics: teleporting, smearing two poses, or drawing
a bob that no swing from the context could reach. A plan is only honest if a real pendulum
could have produced the clip. The data have no actions, so the real future is fixed by the
state (θ, ω), and two clean frames pin that state down (the Markov experiment). We therefore
ask whether SOME free swing, with the data's own physics (g, L, damping, dt, RK4), explains
the context frames within the angle reader's own error (``context_tolerance``, 1.5°) and the
generated frames up to t* within ``physics_tolerance`` (10°) — found by a search over initial
states (:func:`physics_fit`). With two or more context frames this is, up to the reader's
error, the true continuation; with one, either swing direction at any speed is allowed; with
none, any swing.
:func:`planning_report` reports, per clip and as rates:

* ``hit``       the generated frame t* shows θ within ``hit_tolerance`` of θ*;
* ``valid``     every generated frame is one pendulum (``dfkit.metrics.pendulum.frame_validity``);
* ``physical``  a free swing through the context explains frames 1..t* within ``physics_tolerance``;
* ``success``   all three: the plan reaches the goal in a way physics allows;
* ``reachable`` (when the true states are given) the true continuation itself passes within
  ``hit_tolerance`` of θ* at t*: the ceiling for honest success with two or more context frames.

With a free-swing model and two context frames, a target the true swing does not reach can
only be hit by breaking physics: ``hit`` may rise with the guidance scale while ``success``
stays near zero (not exactly zero: two frames read within 1.5° still leave the speed
uncertain by about 0.5 rad/s, so swings a little off the true one count as physical).

    guidance = CostGuidance(AngleCost(target_angle=theta_star, frame=5), scale=100.0)
    frames = sample_with_matrix(model, scheduling_matrix("pyramid", 6, 10), schedule,
                                context=to_model_range(context), guidance=guidance, clip_x0=1.0)
    planning_report(to_unit_range(frames), context, theta_star, 5, config, true_states=states)

On 16×16 frames the gradient of the centroid direction per pixel is small, so useful scales are
tens to a hundred; let the scheduling matrix move several frames together (pyramid or full
sequence), so that the cost on frame t* can still bend the frames before it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from dfkit.data.pendulum import PendulumConfig, estimate_angle, simulate, wrap_angle
from dfkit.metrics.pendulum import frame_validity

HIT_TOLERANCE = math.radians(10)        # θ at t* within 10° of the target
PHYSICS_TOLERANCE = math.radians(10)    # generated frames within 10° of a free swing (VPT@10° in the metrics)
CONTEXT_TOLERANCE = math.radians(1.5)   # ground-truth context frames: the estimator's own error (< 0.5° at 16 px)


# --------------------------------------------------------------------------- the angle, differentiably


def _centroid_moments(frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(Σ I r, Σ I c) of square frames ``(..., 1, H, W)`` or ``(..., H, W)``, r and c measured from the pivot."""
    if not isinstance(frames, torch.Tensor) or frames.dim() < 2 or frames.shape[-1] != frames.shape[-2]:
        got = tuple(frames.shape) if isinstance(frames, torch.Tensor) else type(frames).__name__
        raise ValueError(f"expected square frames of shape (..., 1, H, W) or (..., H, W), got {got}")
    if not frames.is_floating_point():
        raise ValueError(f"expected floating-point frames, got dtype {frames.dtype}")
    if frames.dim() >= 3 and frames.shape[-3] == 1:
        frames = frames[..., 0, :, :]
    size = frames.shape[-1]
    centre = torch.arange(size, device=frames.device, dtype=frames.dtype) + 0.5 - size / 2   # (H,)
    row = (frames * centre[:, None]).sum(dim=(-2, -1))                                        # (...)
    col = (frames * centre[None, :]).sum(dim=(-2, -1))
    return row, col


def pendulum_angle(frames: torch.Tensor) -> torch.Tensor:
    """θ̂ from frames in [0, 1], differentiable: the direction of the intensity centroid from the pivot.

    frames: ``(..., 1, H, W)`` or ``(..., H, W)``; returns ``(...)`` radians. The same estimator
    as :func:`dfkit.data.pendulum.estimate_angle` (dividing by the mass does not change a
    direction, so it is left out).
    """
    row, col = _centroid_moments(frames)
    return torch.atan2(col, row)


@dataclass(frozen=True, eq=False)
class AngleCost:
    """cost(x̂_0) = Σ_b [1 - cos(θ̂(x̂_0[b, t*]) - θ*_b)], for :class:`~dfkit.sequence.guidance.CostGuidance`.

    Attributes:
        target_angle: θ* in radians, one number or one per clip ``(B,)``.
        frame: t*, the index of the target frame among the generated frames (negative: from the end).

    Called on model-range frames ``(B, T, 1, H, W)``; the intensity is (x + 1) / 2, not clamped,
    so that dark pixels still get a gradient (brightening a pixel on the target side of the
    pivot turns the centroid towards θ*). cos(θ̂ - θ*) is computed from the centroid direction
    without atan2, which is smooth everywhere but at an empty frame.
    """

    target_angle: float | torch.Tensor
    frame: int

    def __post_init__(self):
        if isinstance(self.frame, bool) or not isinstance(self.frame, int):
            raise ValueError(f"expected the target frame t* to be an int, got {self.frame!r}")
        angle = torch.as_tensor(self.target_angle, dtype=torch.float64)
        if angle.dim() > 1 or not bool(torch.isfinite(angle).all()):
            raise ValueError(f"expected target_angle as a finite number or a (B,) tensor of radians, got {self.target_angle!r}")

    def __call__(self, frames: torch.Tensor) -> torch.Tensor:
        if not isinstance(frames, torch.Tensor) or frames.dim() != 5:
            raise ValueError(f"expected frames of shape (B, T, 1, H, W), got {getattr(frames, 'shape', type(frames).__name__)}")
        B, T = frames.shape[:2]
        if not -T <= self.frame < T:
            raise ValueError(f"expected the target frame t* in [-{T}, {T - 1}] (the clip has {T} generated frames), got {self.frame}")
        row, col = _centroid_moments((frames[:, self.frame] + 1) / 2)                 # (B,) each
        target = torch.as_tensor(self.target_angle, dtype=frames.dtype, device=frames.device)
        if target.dim() == 1 and target.shape[0] != B:
            raise ValueError(f"expected {B} target angles (one per clip), got {target.shape[0]}")
        length = (row**2 + col**2 + torch.finfo(frames.dtype).tiny).sqrt()
        cosine = (row * torch.cos(target) + col * torch.sin(target)) / length        # cos(θ̂ - θ*)
        return (1 - cosine).sum()


# --------------------------------------------------------------------------- is the plan physical?


def physics_fit(angles, config: PendulumConfig = PendulumConfig(), tolerance=1.0, max_speed: float = 6.0,
                offset: float = math.radians(4)) -> tuple[np.ndarray, np.ndarray]:
    """The free swing that best explains observed angles, frame by frame within a tolerance.

    angles: ``(B, n)`` radians, one per frame dt apart (context frames, then generated ones).
    tolerance: radians, one number or one per frame ``(n,)`` (tight for ground-truth frames,
    looser for generated ones). A swing's score is max_t |wrap(θ_t - angle_t)| / tolerance_t,
    so a score <= 1 means every frame is explained within its tolerance.

    Candidates start at frame 0 with θ_0 = angles[:, 0] + o, |o| <= ``offset``, and
    |ω_0| <= ``max_speed`` rad/s; each is simulated with the data's physics (``config``: g, L,
    damping, dt, RK4 substeps; no torque). A coarse grid (ω every 0.1 rad/s, o every 1°) is
    refined once around its best (ω every 0.01 rad/s, o every 0.25°).

    Returns ``(score (B,), states (B, n, 2))``: the best score and that swing's states.
    """
    angles = np.asarray(angles, dtype=np.float64)
    if angles.ndim != 2 or angles.shape[1] < 1:
        raise ValueError(f"expected angles of shape (B, n) with n >= 1, got {angles.shape}")
    B, n = angles.shape
    tolerance = np.asarray(tolerance, dtype=np.float64)
    if tolerance.shape not in ((), (n,)) or not bool((tolerance > 0).all()):
        raise ValueError(f"expected a tolerance > 0 in radians, one number or one per frame ({n},), got {tolerance}")
    coarse_offsets = np.linspace(-offset, offset, 9)
    coarse_speeds = np.arange(-max_speed, max_speed + 1e-9, 0.1)
    theta0 = angles[:, :1] + np.repeat(coarse_offsets, len(coarse_speeds))[None]        # (B, N)
    omega0 = np.broadcast_to(np.tile(coarse_speeds, len(coarse_offsets))[None], theta0.shape)
    best = _best_swing(angles, tolerance, theta0, omega0, config)
    rows = np.arange(B)
    fine_offsets = np.arange(-4, 5) * (coarse_offsets[1] - coarse_offsets[0]) / 4
    fine_speeds = np.arange(-10, 11) * 0.01                                              # includes the coarse best
    theta0 = theta0[rows, best][:, None] + np.repeat(fine_offsets, len(fine_speeds))[None]
    omega0 = omega0[rows, best][:, None] + np.tile(fine_speeds, len(fine_offsets))[None]
    best = _best_swing(angles, tolerance, theta0, omega0, config)
    start = np.stack([theta0[rows, best], omega0[rows, best]], axis=-1)                  # (B, 2)
    states = simulate(start, np.zeros((B, n)), dt=config.dt, gravity=config.gravity, length=config.length,
                      damping=config.damping, substeps=config.substeps)                 # (B, n, 2)
    score = (np.abs(wrap_angle(states[..., 0] - angles)) / tolerance).max(axis=1)
    return score, states


def _best_swing(angles, tolerance, theta0, omega0, config):
    """Index ``(B,)`` of the candidate swing (θ_0, ω_0) ``(B, N)`` with the best score per clip."""
    start = np.stack([theta0, omega0], axis=-1)                                             # (B, N, 2)
    states = simulate(start, np.zeros(start.shape[:2] + (angles.shape[1],)), dt=config.dt, gravity=config.gravity,
                      length=config.length, damping=config.damping, substeps=config.substeps)   # (B, N, n, 2)
    score = (np.abs(wrap_angle(states[..., 0] - angles[:, None, :])) / tolerance).max(axis=-1)   # (B, N)
    return score.argmin(axis=1)


def planning_report(frames, context, target_angle, target_frame: int, config: PendulumConfig = PendulumConfig(),
                    true_states=None, hit_tolerance: float = HIT_TOLERANCE, physics_tolerance: float = PHYSICS_TOLERANCE,
                    context_tolerance: float = CONTEXT_TOLERANCE) -> dict:
    """Did the plans reach θ* at t*, and could a real pendulum have done it? (see the module doc)

    Args:
        frames: the generated clips ``(B, T, 1, H, W)`` in [0, 1] (map model outputs with
            ``objectives.to_unit_range``).
        context: the context frames ``(B, c, 1, H, W)`` in [0, 1] that preceded them (c may be 0).
        target_angle: θ* in radians, a number or ``(B,)``; target_frame: t* (index into ``frames``).
        config: the pendulum physics of the data (dt, g, L, damping, substeps).
        true_states: optional ``(B, 2)`` true (θ, ω) at the last context frame, for ``reachable``.
        hit_tolerance: radians between θ̂_{t*} and θ*.
        physics_tolerance, context_tolerance: radians between the fitted swing and the generated
            frames 1..t*, and the context frames (ground truth: only the estimator's own error).

    Returns a dict: ``rates`` (share of clips for each of hit, valid, physical, success and,
    with true states, reachable) and ``per_clip`` arrays of those flags plus ``target_error``
    (degrees, |wrap(θ̂_{t*} - θ*)|) and ``physics_error`` (degrees, the largest distance of the
    generated frames 1..t* from the best-fitting swing).
    """
    frames = _as_numpy(frames, "frames")
    context = _as_numpy(context, "context")
    if frames.shape[1] < 1 or frames.shape[2] != 1 or frames.shape[3] != frames.shape[4]:
        raise ValueError(f"expected frames of shape (B, T, 1, H, W) with T >= 1 and H = W, got {frames.shape}")
    B, T = frames.shape[:2]
    if context.shape[0] != B or context.shape[2:] != frames.shape[2:]:
        raise ValueError(f"expected context of shape ({B}, c, {', '.join(map(str, frames.shape[2:]))}), got {context.shape}")
    if isinstance(target_frame, bool) or not isinstance(target_frame, int) or not -T <= target_frame < T:
        raise ValueError(f"expected target_frame t* to be an int in [-{T}, {T - 1}], got {target_frame!r}")
    for name, value in (("hit_tolerance", hit_tolerance), ("physics_tolerance", physics_tolerance),
                        ("context_tolerance", context_tolerance)):
        if not value > 0:
            raise ValueError(f"expected {name} > 0 radians, got {value}")
    t_star, c = target_frame % T, context.shape[1]
    target = np.broadcast_to(np.asarray(target_angle, dtype=np.float64), (B,))

    theta = estimate_angle(np.concatenate([context, frames], axis=1))                      # (B, c + T)
    target_error = np.abs(wrap_angle(theta[:, c + t_star] - target))
    hit = target_error <= hit_tolerance
    valid = frame_validity(frames)[0].all(axis=1)
    observed = theta[:, : c + t_star + 1]                                                  # context, then frames 1..t*
    tolerance = np.where(np.arange(c + t_star + 1) < c, context_tolerance, physics_tolerance)
    score, swing = physics_fit(observed, config, tolerance)
    physical = score <= 1.0
    physics_error = np.abs(wrap_angle(swing[:, c:, 0] - observed[:, c:])).max(axis=1)
    per_clip = {"hit": hit, "valid": valid, "physical": physical, "success": hit & valid & physical,
                "target_error": np.degrees(target_error), "physics_error": np.degrees(physics_error)}
    if true_states is not None:
        states = np.asarray(true_states, dtype=np.float64)
        if states.shape != (B, 2):
            raise ValueError(f"expected true_states of shape ({B}, 2) holding (theta, omega) at the last context frame, got {states.shape}")
        future = simulate(states, np.zeros((B, t_star + 2)), dt=config.dt, gravity=config.gravity, length=config.length,
                          damping=config.damping, substeps=config.substeps)                 # (B, t* + 2, 2)
        per_clip["reachable"] = np.abs(wrap_angle(future[:, t_star + 1, 0] - target)) <= hit_tolerance
    rates = {name: float(np.mean(per_clip[name])) for name in ("hit", "valid", "physical", "success", "reachable") if name in per_clip}
    return {"rates": rates, "per_clip": per_clip}


def _as_numpy(frames, name: str) -> np.ndarray:
    array = frames.detach().cpu().numpy() if hasattr(frames, "detach") else np.asarray(frames)
    if array.ndim != 5:
        raise ValueError(f"expected {name} of shape (B, T, 1, H, W), got {array.shape}")
    return array.astype(np.float64) / 255.0 if array.dtype == np.uint8 else array.astype(np.float64)
