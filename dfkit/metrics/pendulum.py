"""Physics-grounded metrics for generated pendulum videos, each beside trivial baselines.

A model sees context frames of a simulated pendulum whose state (θ, ω) is known and generates
``T`` more frames. The angle is read back from pixels with no learning
(:func:`dfkit.data.pendulum.estimate_angle`, the direction of the intensity centroid from the
pivot) and compared with the TRUE physics continued from the same state
(:func:`continue_physics`, or the clip's own ground-truth states). Frame t = 1 … T is the t-th
generated frame; summaries are means over horizon bands (frames 1-16, 17-64, 65-160 by default).
:func:`rollout_start` gives the context frames and that true future for the first clips of a split.

* angle error    |wrap(θ̂_t - θ_t)| in degrees; :func:`angle_steps` |wrap(θ̂_{t+1} - θ̂_t)|, the motion per frame;
* energy drift   |Ê_t - E_t| / max(E_t, E_min) with Ê from θ̂ and ω̂ = dθ̂/dt (finite differences),
                 E = ½ L² ω² + g L (1 - cos θ) per unit mass, E_min = g L (1 - cos 10°);
* period error   |P̂ - P| / P, periods from the zero crossings of θ̂ and of the true θ;
* valid prediction time (VPT): how many leading frames stay within 10° (or 20°) of the truth;
* frame validity: does the frame show ONE pendulum at the angle read from it (re-rendered and
  compared as masks, see :func:`frame_validity`)?
* swing-direction accuracy (the Markov experiment): does the predicted next frame move the
  way the pendulum really swings? Chance is 50%.
* border inconsistency: the surprise e_t of a frame (how far it lands from the straight
  continuation of the two before it) at the borders of the windows a video was stitched from,
  against inside them (:func:`border_inconsistency`).

:func:`pendulum_report` measures the model and, in exactly the same way, the baselines
``copy last frame`` (the last context frame repeated), ``hanging still`` (θ = 0 rendered) and
``true frames`` (the true continuation rendered: the estimator's own floor).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from dfkit.data.pendulum import PendulumConfig, energy, estimate_angle, render, simulate, wrap_angle
from dfkit.metrics.video import band_means

PENDULUM_BANDS = ((1, 16), (17, 64), (65, 160))
VPT_THRESHOLDS = (10.0, 20.0)                   # degrees
MIN_ENERGY_SWING = math.radians(10)             # E_min = g L (1 - cos 10°): below it, drift is relative to E_min
CROSSING_HYSTERESIS = math.radians(2)           # a zero crossing counts once θ goes from < -2° to > +2° (or back)

# Frame validity: a frame and the pendulum re-rendered at its estimated angle are compared as
# masks of the pixels brighter than INK_LEVEL; the frame is valid when their IoU >= VALIDITY_IOU.
# Calibration (2,000 random angles per size; min or share of frames that pass):
#
#   frame                                    16 px         32 px         64 px
#   true frames, float or uint8              IoU >= 0.90   IoU >= 0.97   IoU >= 0.99
#   true + Gaussian noise, std 0.05          100% valid    100% valid    100% valid
#   true + Gaussian noise, std 0.10          78% valid     95% valid     100% valid
#   true, blurred with σ = 1 px              80% valid     100% valid    100% valid
#   mean of frames at θ and θ + 10°          100% valid    100% valid    100% valid
#   mean of frames at θ and θ + 20°          100% valid    27% valid     0% valid
#   mean of frames at θ and θ + 40°          0% (IoU ≤ .46) 0% (≤ .37)  0% (≤ .34)
#   two bobs (max of θ and θ + 40°)          0%            0%            0%
#   empty frame                              0% (IoU = 0)  0%            0%
#
# (the first line is :func:`validity_floor`; the threshold sits well below it, so that slightly
# soft generated frames still pass, and well above every blend of two poses 40° apart.)
# So the check judges geometry: pixel noise of std 0.05 leaves a valid pendulum (its cost is the
# business of pixel metrics), while a blend of two poses, a second bob or no pendulum is invalid.
INK_LEVEL = 0.25
VALIDITY_IOU = 0.7


# ---------------------------------------------------------------- inputs

def _as_clips(frames, name: str = "frames") -> np.ndarray:
    """float32 (B, T, 1, H, W) from floats in [0, 1] or uint8 (divided by 255); no copy when already float32."""
    array = frames.detach().cpu().numpy() if hasattr(frames, "detach") else np.asarray(frames)
    if array.ndim != 5 or array.shape[2] != 1 or array.shape[3] != array.shape[4]:
        raise ValueError(f"expected {name} of shape (B, T, 1, H, W) with H = W, got {tuple(array.shape)}")
    return array.astype(np.float32) / 255 if array.dtype == np.uint8 else array.astype(np.float32, copy=False)


def _as_states(states, frames: np.ndarray, name: str = "true_states") -> np.ndarray:
    states = np.asarray(states, dtype=np.float64)
    if states.shape != frames.shape[:2] + (2,):
        raise ValueError(f"expected {name} of shape {frames.shape[:2] + (2,)} (B, T, 2) holding (theta, omega), "
                         f"got {states.shape}")
    return states


def continue_physics(state, num_frames: int, config: PendulumConfig = PendulumConfig()) -> np.ndarray:
    """The true continuation: states of the ``num_frames`` frames that follow ``state`` (free swing, no torque).

    state: (..., 2) as (θ, ω) at the last context frame; returns (..., num_frames, 2), whose
    entry t - 1 is the state one frame interval dt × t later. Integrated with the data's own RK4
    (same dt, g, L, damping and substeps as ``config``), so it matches a longer simulated clip.
    """
    state = np.asarray(state, dtype=np.float64)
    if state.ndim < 1 or state.shape[-1] != 2:
        raise ValueError(f"expected state of shape (..., 2) holding (theta, omega), got {state.shape}")
    if num_frames < 1:
        raise ValueError(f"expected num_frames >= 1, got {num_frames}")
    actions = np.zeros(state.shape[:-1] + (num_frames + 1,))
    states = simulate(state, actions, dt=config.dt, gravity=config.gravity, length=config.length,
                      damping=config.damping, substeps=config.substeps)
    return states[..., 1:, :]


def rollout_start(clips, count: int, context: int, num_frames: int, config: PendulumConfig = PendulumConfig()):
    """Where every pendulum rollout comparison starts: the first ``count`` clips of ``clips`` (a
    :class:`dfkit.data.ClipDataset` of pendulum clips, fewer when it holds fewer), their first ``context``
    frames, and the true future, the physics continued for ``num_frames`` frames from the last
    context state (:func:`continue_physics`).

    Returns ``(frames (B, context, 1, H, W) in [0, 1], states (B, num_frames, 2))``.
    """
    count = min(count, len(clips))
    if count < 1 or not 1 <= context <= clips.truth["states"].shape[1]:
        raise ValueError(f"expected at least one clip and 1 <= context <= {clips.truth['states'].shape[1]} frames, "
                         f"got {count} clip(s) and context {context}")
    frames = clips.frames(range(count))[:, :context]                                       # (B, c, 1, H, W)
    states = continue_physics(clips.truth["states"][:count, context - 1].numpy(), num_frames, config)   # (B, N, 2)
    return frames, states


# ---------------------------------------------------------------- angle

def angle_error(frames, true_states) -> np.ndarray:
    """|wrap(θ̂_t - θ_t)| in degrees, θ̂ read from the frames. frames (B, T, 1, H, W), true_states (B, T, 2) -> (B, T)."""
    frames = _as_clips(frames)
    states = _as_states(true_states, frames)
    return np.degrees(np.abs(wrap_angle(estimate_angle(frames) - states[..., 0])))


def angle_steps(frames) -> np.ndarray:
    """|wrap(θ̂_{t+1} - θ̂_t)| in degrees, how far the pendulum moves from frame to frame as read from the
    pixels: the coherence of a clip without its true states. frames (B, T, 1, H, W), T >= 2 -> (B, T - 1)."""
    frames = _as_clips(frames)
    if frames.shape[1] < 2:
        raise ValueError(f"expected clips of at least 2 frames, got {frames.shape[1]}")
    return np.degrees(np.abs(wrap_angle(np.diff(estimate_angle(frames), axis=1))))


def valid_prediction_time(errors, threshold: float = 10.0) -> np.ndarray:
    """VPT per clip: the number of leading frames whose error stays <= threshold (T when it never exceeds).

    errors: (B, T), e.g. :func:`angle_error` in degrees. Returns int (B,); summarize with the median.
    """
    errors = np.asarray(errors, dtype=np.float64)
    if errors.ndim != 2:
        raise ValueError(f"expected errors of shape (B, T), got {errors.shape}")
    exceeded = ~(errors <= threshold)                                  # NaN counts as exceeded
    return np.where(exceeded.any(axis=1), exceeded.argmax(axis=1), errors.shape[1])


# ---------------------------------------------------------------- energy

def estimated_states(frames, dt: float) -> np.ndarray:
    """(θ̂, ω̂) read from pixels: θ̂ by estimate_angle, ω̂ = dθ̂/dt by second-order finite differences.

    ω̂_t = (θ̂_{t+1} - θ̂_{t-1}) / 2dt inside the clip, one-sided second-order stencils at its two
    ends, on the unwrapped angle. frames (B, T, 1, H, W) with T >= 3 -> (B, T, 2).
    """
    frames = _as_clips(frames)
    if frames.shape[1] < 3:
        raise ValueError(f"expected at least 3 frames to differentiate the angle, got frames of shape {frames.shape}")
    theta = estimate_angle(frames)                                     # (B, T)
    omega = np.gradient(np.unwrap(theta, axis=1), dt, axis=1, edge_order=2)
    return np.stack([theta, omega], axis=-1)


def energy_drift(frames, true_states, config: PendulumConfig = PendulumConfig()) -> np.ndarray:
    """Relative energy error per frame: |Ê_t - E_t| / max(E_t, E_min). Returns (B, T).

    Ê_t = ½ L² ω̂_t² + g L (1 - cos θ̂_t) from :func:`estimated_states`; E_t from the true states
    (constant for the undamped, unforced pendulum). E_min = g L (1 - cos 10°) keeps nearly resting
    pendulums from dividing by almost nothing. True frames score about 0.014 at 32 px (the finite
    difference slightly underestimates ω̂); frames frozen at one angle lose all kinetic energy.
    """
    frames = _as_clips(frames)
    states = _as_states(true_states, frames)
    estimated = estimated_states(frames, config.dt)
    e_hat = energy(estimated, config.gravity, config.length)
    e_true = energy(states, config.gravity, config.length)
    e_min = config.gravity * config.length * (1 - math.cos(MIN_ENERGY_SWING))
    return np.abs(e_hat - e_true) / np.maximum(e_true, e_min)


# ---------------------------------------------------------------- period

def zero_crossings(theta, hysteresis: float = CROSSING_HYSTERESIS) -> list[float]:
    """Times (in frames, linearly interpolated) at which one angle sequence (T,) swings through θ = 0.

    A crossing counts once θ has gone from below -hysteresis to above +hysteresis or back, so
    jitter around 0 is not counted; its time is that of the last sign change on the way.
    Passing through ±π (the top, in a full turn) is not a crossing of 0.
    """
    theta = wrap_angle(np.asarray(theta, dtype=np.float64))
    times, last_change = [], None
    side = int(np.sign(theta[0])) if len(theta) and abs(theta[0]) > hysteresis else 0
    for t in range(1, len(theta)):
        before, after = theta[t - 1], theta[t]
        if np.sign(before) != np.sign(after):
            through_zero = abs(after - before) < math.pi
            last_change = t - 1 + before / (before - after) if through_zero else None
        if abs(after) > hysteresis:
            new_side = 1 if after > 0 else -1
            if side != 0 and new_side != side and last_change is not None:
                times.append(last_change)
            if new_side != side:
                last_change = None
            side = new_side
    return times


def oscillation_period(theta, dt: float, hysteresis: float = CROSSING_HYSTERESIS) -> np.ndarray:
    """Period in seconds per clip from zero crossings: P = 2 dt (t_last - t_first) / (n - 1).

    theta: (B, T) angles in radians. Consecutive crossings are half a period apart; NaN where a
    clip crosses fewer than twice (too short a clip, a frozen or a resting pendulum). Meant for a
    swinging pendulum: one that turns over crosses 0 once per turn, and this reads twice the time of a turn.
    """
    theta = np.asarray(theta, dtype=np.float64)
    if theta.ndim != 2:
        raise ValueError(f"expected angles of shape (B, T), got {theta.shape}")
    periods = np.full(theta.shape[0], math.nan)
    for i, row in enumerate(theta):
        times = zero_crossings(row, hysteresis)
        if len(times) >= 2:
            periods[i] = 2 * dt * (times[-1] - times[0]) / (len(times) - 1)
    return periods


def period_error(frames, true_states, config: PendulumConfig = PendulumConfig()) -> np.ndarray:
    """|P̂ - P| / P per clip: P̂ from the zero crossings of θ̂, P from those of the true θ. Returns (B,).

    NaN where either period cannot be measured (fewer than two crossings in the clip); report the
    share of clips measured beside the mean.
    """
    frames = _as_clips(frames)
    states = _as_states(true_states, frames)
    estimated = oscillation_period(estimate_angle(frames), config.dt)
    true = oscillation_period(states[..., 0], config.dt)
    return np.abs(estimated - true) / true


# ---------------------------------------------------------------- frame validity

def frame_validity(frames, threshold: float = VALIDITY_IOU) -> tuple[np.ndarray, np.ndarray]:
    """Is each frame one pendulum at the angle read from it? Returns (valid bool, IoU float), shape (...).

    frames: (..., 1, H, W) with H = W, floats in [0, 1] or uint8. The pendulum is re-rendered at
    θ̂ = estimate_angle(frame) with :func:`dfkit.data.pendulum.render` at the same size; with masks
    M = frame > INK_LEVEL and R = render(θ̂) > INK_LEVEL,

        IoU = |M ∩ R| / |M ∪ R|,   valid ⇔ IoU >= threshold (0.7, calibrated in the table above).

    A blend of two angles, two bobs or an empty frame fail; true frames pass, also as uint8.
    """
    array = frames.detach().cpu().numpy() if hasattr(frames, "detach") else np.asarray(frames)
    if array.ndim < 3 or array.shape[-3] != 1 or array.shape[-1] != array.shape[-2]:
        raise ValueError(f"expected frames of shape (..., 1, H, W) with H = W, got {tuple(array.shape)}")
    array = array.astype(np.float32) / 255 if array.dtype == np.uint8 else array.astype(np.float32, copy=False)
    images = array[..., 0, :, :].reshape(-1, array.shape[-2], array.shape[-1])   # (N, H, W)
    iou = np.empty(len(images))
    for start in range(0, len(images), 1024):                          # in chunks: render makes big temporaries
        image = images[start:start + 1024]
        mask = image > INK_LEVEL
        reference = render(estimate_angle(image), image.shape[-1]) > INK_LEVEL
        union = (mask | reference).sum(axis=(-2, -1))
        iou[start:start + 1024] = (mask & reference).sum(axis=(-2, -1)) / np.maximum(union, 1)
    iou = iou.reshape(array.shape[:-3])
    return iou >= threshold, iou


def validity_floor(image_size: int, num_angles: int = 3600) -> float:
    """The lowest IoU that true frames get from :func:`frame_validity`, over a grid of angles in [-π, π)."""
    theta = np.linspace(-math.pi, math.pi, num_angles, endpoint=False)
    return float(frame_validity(render(theta, image_size)[:, None])[1].min())


# ---------------------------------------------------------------- swing direction

def swing_direction(before, after) -> torch.Tensor:
    """Which way the pendulum moved between two frames: sign(wrap(θ(after) - θ(before))) in {-1, 0, +1}.

    θ is read from the pixels with :func:`dfkit.data.pendulum.estimate_angle`; the difference is
    wrapped to (-π, π], so a swing through the top (θ from 170° to -170°) is +20°, not -340°. +1
    means θ increased (counter-clockwise in the picture's coordinates).

    Args:
        before, after: frames (B, 1, H, W) in [0, 1].

    Returns:
        an int64 tensor (B,).
    """
    change = wrap_angle(estimate_angle(after) - estimate_angle(before))        # (B,) radians
    return torch.from_numpy(np.sign(change)).long()


def swing_direction_accuracy(predicted, last_frame, true_next_state, config: PendulumConfig = PendulumConfig(),
                             min_speed: float | None = None) -> dict[str, float]:
    """Share of predictions whose angular change has the sign of the true angular velocity. Chance: 0.5.

    predicted: the predicted next frame (B, 1, H, W), or a predicted clip (B, T, 1, H, W) whose first
    frame is used; last_frame: (B, 1, H, W), the last frame the model saw; true_next_state: (B, 2),
    the true (θ, ω) at the predicted frame. Correct when sign(wrap(θ̂(predicted) - θ̂(last_frame)))
    = sign(ω_next).

    Near a turning point one frame cannot tell the direction, so samples with |ω_next| < min_speed
    are left out. Default min_speed = (g / L + max_torque) dt: since |dω/dt| <= g/L + |u| (no
    damping), the true displacement over the step then has the sign of ω_next and is at least
    (g/L) dt² / 2 (2.8° at dt = 0.1 s, L = 1 m), far above the angle estimator's error.
    Returns {"accuracy", "stderr", "included", "excluded", "chance"}.
    """
    predicted = predicted.detach().cpu().numpy() if hasattr(predicted, "detach") else np.asarray(predicted)
    if predicted.ndim == 5:
        predicted = predicted[:, 0]
    last = last_frame.detach().cpu().numpy() if hasattr(last_frame, "detach") else np.asarray(last_frame)
    if predicted.ndim != 4 or predicted.shape[1] != 1 or predicted.shape[-1] != predicted.shape[-2]:
        raise ValueError(f"expected predicted of shape (B, 1, H, W) or (B, T, 1, H, W), got {predicted.shape}")
    if last.shape != predicted.shape:
        raise ValueError(f"expected last_frame of shape {predicted.shape} (B, 1, H, W), got {last.shape}")
    state = np.asarray(true_next_state, dtype=np.float64)
    if state.shape != (predicted.shape[0], 2):
        raise ValueError(f"expected true_next_state of shape ({predicted.shape[0]}, 2) holding (theta, omega), got {state.shape}")
    if min_speed is None:
        min_speed = (config.gravity / config.length + config.max_torque) * config.dt
    direction = swing_direction(last, predicted).numpy()                   # (B,) in {-1, 0, +1}
    omega = state[:, 1]
    included = np.abs(omega) >= min_speed
    correct = direction[included] == np.sign(omega[included])
    n = int(included.sum())
    accuracy = float(correct.mean()) if n else math.nan
    return {
        "accuracy": accuracy,
        "stderr": math.sqrt(accuracy * (1 - accuracy) / n) if n else math.nan,
        "included": n,
        "excluded": int(len(omega) - n),
        "chance": 0.5,
    }


# ---------------------------------------------------------------- window borders

def wrap_tensor(angle):
    """Angles wrapped into [-π, π): ``(a + π) mod 2π - π``, for tensors as for arrays
    (:func:`dfkit.data.pendulum.wrap_angle` is numpy's, into (-π, π])."""
    return (angle + math.pi) % (2 * math.pi) - math.pi


def frame_surprise(angles: torch.Tensor) -> torch.Tensor:
    """How far each frame lands from the straight-line continuation of the two frames before it.

        e_t = | wrap( wrap(θ_t - θ_{t-1}) - wrap(θ_{t-1} - θ_{t-2}) ) |   for t >= 2

    A free pendulum changes its angle smoothly, so e_t is small (the physics' own curvature
    plus the angle reader's error); a frame that jumps is a large e_t. Returns ``(B, N)`` with
    NaN at t = 0 and 1.
    """
    if not isinstance(angles, torch.Tensor) or angles.dim() != 2 or not angles.is_floating_point():
        got = tuple(angles.shape) if isinstance(angles, torch.Tensor) else type(angles).__name__
        raise ValueError(f"expected angles as a float tensor (B, N) in radians, got {got}")
    steps = wrap_tensor(angles[:, 1:] - angles[:, :-1])                       # (B, N - 1)
    surprise = wrap_tensor(steps[:, 1:] - steps[:, :-1]).abs()                # (B, N - 2), frames 2 .. N - 1
    return torch.cat([torch.full_like(angles[:, :2], math.nan), surprise], dim=1)


def border_inconsistency(angles: torch.Tensor, borders) -> torch.Tensor:
    """Mean surprise at the window borders and inside the windows, per clip: ``(B, 2)``.

    ``angles``: ``(B, N)`` radians, read from every frame of a video (given frames, then generated
    ones); ``borders``: the indices of the first generated frame of each window (each >= 2). With
    e_t of :func:`frame_surprise`, column 0 is the mean of e_b over the borders b and column 1
    the mean of e_t over every other frame t >= 2. A video stitched from windows that do not
    agree jumps at the borders: a ratio well above 1.
    """
    surprise = frame_surprise(angles)
    N = angles.shape[1]
    borders = sorted({int(b) for b in borders})
    if not borders or borders[0] < 2 or borders[-1] >= N:
        raise ValueError(f"expected border indices in [2, {N - 1}], got {borders}")
    at_border = torch.zeros(N, dtype=torch.bool, device=angles.device)
    at_border[borders] = True
    inside = ~at_border
    inside[:2] = False
    if not bool(inside.any()):
        raise ValueError("expected at least one frame t >= 2 that is not a border")
    return torch.stack([surprise[:, at_border].mean(1), surprise[:, inside].mean(1)], dim=1)


# ---------------------------------------------------------------- one table row per rollout

def pendulum_metrics(frames, true_states, config: PendulumConfig = PendulumConfig(), bands=PENDULUM_BANDS,
                     name: str = "model") -> dict:
    """One results row for a generated continuation (B, T, 1, H, W) of clips with true states (B, T, 2).

    Columns: angle error (degrees) and energy drift as band means, mean period error with the
    share of clips where it could be measured, median VPT at 10° and 20° (frames), share of
    valid frames.
    """
    frames = _as_clips(frames)
    states = _as_states(true_states, frames)
    errors = angle_error(frames, states)
    row = {"method": name}
    row.update({f"angle err° {band}": value for band, value in band_means(errors, bands).items()})
    if frames.shape[1] >= 3:
        drift = energy_drift(frames, states, config)
        row.update({f"energy drift {band}": value for band, value in band_means(drift, bands).items()})
    periods = period_error(frames, states, config)
    measured = np.isfinite(periods)
    row["period err"] = float(periods[measured].mean()) if measured.any() else math.nan
    row["period measured"] = float(measured.mean())
    for threshold in VPT_THRESHOLDS:
        row[f"VPT@{threshold:g}° (frames)"] = float(np.median(valid_prediction_time(errors, threshold)))
    row["valid frames"] = float(frame_validity(frames)[0].mean())
    return row


def pendulum_report(frames, true_states, last_context_frame, config: PendulumConfig = PendulumConfig(),
                    bands=PENDULUM_BANDS, name: str = "model") -> list[dict]:
    """Rows for the model and, measured the same way, ``copy last frame``, ``hanging still`` and ``true frames``.

    last_context_frame: (B, 1, H, W). ``true frames`` renders the true states at the frames' size:
    the floor of every metric that reads angles from pixels.
    """
    frames = _as_clips(frames)
    states = _as_states(true_states, frames)
    last = last_context_frame.detach().cpu().numpy() if hasattr(last_context_frame, "detach") else np.asarray(last_context_frame)
    if last.shape != (frames.shape[0],) + frames.shape[2:]:
        raise ValueError(f"expected last_context_frame of shape {(frames.shape[0],) + frames.shape[2:]} (B, 1, H, W), got {last.shape}")
    size = frames.shape[-1]
    candidates = {                                                     # each (B, T, 1, H, W); the constant ones as views
        name: frames,
        "copy last frame": np.broadcast_to(_as_clips(last[:, None], "last_context_frame[:, None]"), frames.shape),
        "hanging still": np.broadcast_to(render(0.0, size), frames.shape),
        "true frames": np.concatenate([render(states[i:i + 64, :, 0], size) for i in range(0, len(states), 64)])[:, :, None],
    }
    return [pendulum_metrics(clip, states, config, bands, method) for method, clip in candidates.items()]


def last_band_report(frames, true_states, last_context_frame, config: PendulumConfig = PendulumConfig(),
                     bands=PENDULUM_BANDS, name: str = "model") -> tuple[list[dict], list[dict]]:
    """:func:`pendulum_report` over ``bands``, and again over the frames of the last band alone (whose
    valid-frame share the rollout tables report). frames (B, N, 1, H, W) with N the last band's end."""
    frames, states = _as_clips(frames), np.asarray(true_states)
    num_frames, first = bands[-1][1], bands[-1][0] - 1
    full = pendulum_report(frames, states, last_context_frame, config, bands, name=name)
    tail = pendulum_report(frames[:, first:], states[:, first:], last_context_frame, config, ((1, num_frames - first),), name=name)
    return full, tail


def summary_columns(row: dict, tail: dict, bands=PENDULUM_BANDS) -> dict:
    """The rollout tables' main columns from one row of :func:`last_band_report` (``row`` over the bands, ``tail``
    over the last band): angle error per band, valid frames and energy drift in the last band, VPT at 10° and 20°."""
    last = f"{bands[-1][0]}-{bands[-1][1]}"
    summary = {"method": row["method"]}
    summary.update({f"angle err° {a}-{b}": row.get(f"angle err° {a}-{b}") for a, b in bands})
    summary[f"valid {last}"] = tail["valid frames"]
    summary[f"energy drift {last}"] = row.get(f"energy drift {last}")
    for threshold in VPT_THRESHOLDS:
        summary[f"VPT@{threshold:g}° (frames)"] = row[f"VPT@{threshold:g}° (frames)"]
    return summary


def pendulum_summary(frames, true_states, last_context_frame, config: PendulumConfig = PendulumConfig(),
                     bands=PENDULUM_BANDS, name: str = "model") -> list[dict]:
    """The rollout tables' main columns (:func:`summary_columns`) for ``frames`` and its baselines (copy last
    frame, hanging still, true frames), as lessons 04 and 06 and ``benchmarks/sequence_rollouts.py`` show them."""
    full, tail = last_band_report(frames, true_states, last_context_frame, config, bands, name)
    return [summary_columns(row, end, bands) for row, end in zip(full, tail)]

