"""Experiments on trained sequence models that the lessons and the benchmarks share.

The Markov experiment (lesson 04, ``benchmarks/sequence_rollouts.py``): which way does the pendulum
swing in the next frame a model samples from 1, 2 or c frames of history? One frame cannot tell a
swing up from a swing down; two frames can.
"""

from __future__ import annotations

import numpy as np
import torch

from dfkit.data.pendulum import estimate_angle, render
from dfkit.metrics.pendulum import swing_direction_accuracy
from dfkit.sequence.recipes import dataset_split, history_length, presets, rollout

MARKOV_MODELS = ("teacher_forcing_1frame", "teacher_forcing_2frame", "teacher_forcing")


def towards_bottom(last: torch.Tensor) -> torch.Tensor:
    """The 1-frame prior as a predictor: each frame redrawn at half its angle, a swing towards the bottom. (B, 1, H, W)."""
    return torch.from_numpy(render(0.5 * estimate_angle(last), last.shape[-1]))[:, None]


def markov_experiment(models: dict, profile, seed: int = 0, progress: bool = False) -> dict:
    """Swing direction of the next frame sampled with 1, 2 and c context frames (the benchmark's Markov table).

    ``models`` maps the names of :data:`MARKOV_MODELS` to trained models. Every test clip predicts
    one frame at a random time t_i (seeded; uniform over the frames every model can reach); lesson
    04 and ``benchmarks/sequence_rollouts.py`` both run this function. Returns {"rows", "clips",
    "target frames", "last", "states", "predicted"}: the table rows (the swing-towards-the-bottom
    prior and the true next frame included), the range of t_i (0-based), and per model its
    predicted frames (B, 1, H, W) with the last frames it saw and the true states.
    """
    chosen = presets("pendulum", profile)
    clips = dataset_split("pendulum", profile, "test", progress)
    count = min(chosen.markov_clips, len(clips))
    frames = clips.frames(range(count))                                                   # (B, T, 1, H, W)
    earliest = max(history_length(name, "pendulum", profile) for name in MARKOV_MODELS)
    targets = torch.from_numpy(np.random.default_rng(seed).integers(earliest, frames.shape[1], size=count))   # (B,)
    rows_index = torch.arange(count)
    last = frames[rows_index, targets - 1]                                                # (B, 1, H, W)
    state = clips.truth["states"][rows_index, targets].numpy()                            # (B, 2) at t_i
    rows, predicted = [], {}
    for name in MARKOV_MODELS:
        c = history_length(name, "pendulum", profile)
        context = frames[rows_index[:, None], targets[:, None] + torch.arange(-c, 0)]      # (B, c, 1, H, W)
        predicted[name] = rollout(name, models[name], context, 1, profile, dataset="pendulum", seed=seed)[:, 0]
        score = swing_direction_accuracy(predicted[name], last, state, profile.pendulum)
        rows.append({"method": f"teacher forcing, {c} context frame{'s' if c > 1 else ''}", "context frames": c, **score})
    rows.append({"method": "swing towards the bottom (1-frame prior)", "context frames": 1,
                 **swing_direction_accuracy(towards_bottom(last), last, state, profile.pendulum)})
    rows.append({"method": "true next frame (ceiling)", "context frames": None,
                 **swing_direction_accuracy(frames[rows_index, targets], last, state, profile.pendulum)})
    return {"rows": rows, "clips": count, "target frames": (earliest, frames.shape[1] - 1), "last": last, "states": state,
            "predicted": predicted}


def markov_table(rows: list[dict]) -> str:
    """The Markov rows as text: accuracy ± standard error over the clips that move fast enough."""
    lines = [f"{'method':42s} {'accuracy':>9s} {'± stderr':>9s} {'clips':>6s}"]
    for row in rows:
        lines.append(f"{row['method']:42s} {row['accuracy']:9.1%} {row['stderr']:9.1%} {row['included']:6d}")
    lines.append(f"{'chance':42s} {0.5:9.1%}")
    return "\n".join(lines)
