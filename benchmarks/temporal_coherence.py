"""Does a sequence model tie its frames together? Three measurements on the pendulum.

    python benchmarks/temporal_coherence.py --profile class     # writes benchmarks/temporal_coherence_class.md

1. Motion of unconditional samples. Each diffusion model samples clips of one training horizon
   from pure noise with the full-sequence scheduling matrix (every frame at the same level, DDIM,
   the presets' steps). The angle read from each frame gives the motion per frame |Δθ|, compared
   with true test clips and with "clips" whose frame t comes from test clip i + t: valid frames,
   no motion at all. Every frame of a sample can be a valid pendulum while the clip is not a motion.
2. Use of the other frames. The last frame of a window of true test clips is noised, all frames at
   the same level k (the configuration full-sequence training sees), and the model's loss on that
   frame is taken twice with the same noise: once with its own clip's other frames, once with the
   other frames of a different clip. A model that denoises each frame alone scores a ratio of 1;
   the more a model relies on the other frames, the higher the ratio. Measured at several k: at
   low k a frame is readable alone and near K every frame says little, so the ratio is largest
   in between.
3. What it means for a continuation: each model continues the test clips from the presets'
   ground-truth context frames for one horizon with its default rollout method (the full-sequence
   model with reconstruction guidance, Diffusion Forcing autoregressively), scored by the angle
   error against the physics continued from the last context state.

The rows are the models that can sample a window from noise: the full-sequence model, Diffusion
Forcing (causal; it never trained on one shared level but samples with any scheduling matrix) and
the full-sequence model's bidirectional backbone trained with Diffusion Forcing's independent levels.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from dfkit.diffusion.ddpm import prediction_target, q_sample
from dfkit.diffusion.schedules import standard_normal
from dfkit.metrics.pendulum import angle_steps, continue_physics, frame_validity, pendulum_metrics
from dfkit.profiles import get_profile
from dfkit.recipes import course_schedule
from dfkit.sequence.objectives import to_model_range, to_unit_range
from dfkit.sequence.recipes import dataset_split, presets, rollout, sequence_model
from dfkit.sequence.sampler import sample_with_matrix
from dfkit.sequence.scheduling import full_sequence_matrix
from report import benchmark_parser, parse_arguments, write_report

HERE = Path(__file__).resolve().parent
MODELS = ("full_sequence", "diffusion_forcing", "diffusion_forcing_bidirectional")
LEVELS = (100, 300, 500, 700, 900)


def motion(frames: torch.Tensor) -> tuple[float, float]:
    """Mean and 90th percentile of |Δθ| in degrees between consecutive frames of (B, T, 1, H, W) clips in [0, 1]."""
    step = angle_steps(frames)                                                      # (B, T - 1)
    return float(step.mean()), float(np.percentile(step, 90))


def unconditional_clips(model, num_clips: int, horizon: int, steps: int, parameterization: str, seed: int) -> torch.Tensor:
    """(num_clips, horizon, 1, H, W) clips in [0, 1] sampled from noise with the full-sequence matrix."""
    schedule = course_schedule()
    size = model.config.image_size
    with torch.no_grad():
        frames = sample_with_matrix(model, full_sequence_matrix(horizon, steps, schedule.num_levels), schedule,
                                    shape=(num_clips, horizon, 1, size, size), parameterization=parameterization,
                                    generator=torch.Generator().manual_seed(seed))
    return to_unit_range(frames)


def other_frames_ratio(model, clips: torch.Tensor, level: int, parameterization: str, seed: int) -> float:
    """Loss on the last frame with another clip's frames before it / with its own, all frames at ``level``.

    clips: (B, T, 1, H, W) in [-1, 1], B >= 2; the other clip of clip i is clip i + 1 (mod B).
    """
    schedule = course_schedule()
    B, T = clips.shape[:2]
    generator = torch.Generator().manual_seed(seed)
    noise = standard_normal(clips.shape, generator)
    levels = torch.full((B, T), level, dtype=torch.long)
    device = next(model.parameters()).device if isinstance(model, torch.nn.Module) else clips.device
    losses = []
    for others in (clips, clips.roll(1, dims=0)):
        window = torch.cat([others[:, :-1], clips[:, -1:]], dim=1)                 # the last frame is always clip i's
        noisy = q_sample(window, levels, noise, schedule)
        target = prediction_target(parameterization, window, noise, levels, schedule)[:, -1]
        with torch.no_grad():
            prediction = model(noisy.to(device), levels.to(device))[:, -1].to(target.device)
        losses.append(float(((prediction - target) ** 2).mean()))
    return losses[1] / losses[0]


def measure(profile, names=MODELS, num_clips: int = 32, seed: int = 0) -> list[dict]:
    chosen, config = presets("pendulum", profile), profile.pendulum
    H, c = chosen.horizon, chosen.context
    test = dataset_split("pendulum", profile, "test", progress=False)
    count = min(num_clips, len(test))
    video = test.frames(range(count))                                                 # (B, T, 1, H, W) in [0, 1]
    true, context = video[:, :H], video[:, :c]
    physics = continue_physics(test.truth["states"][:count, c - 1].numpy(), H, config)  # (B, H, 2) after the context
    error = f"continuation err° 1-{H}"
    shuffled = true[(torch.arange(count)[:, None] + torch.arange(H)[None]) % count, torch.arange(H)[None]]  # frame t of clip i + t
    rows = []
    for label, clips in (("test clips", true), ("test frames, each from another clip", shuffled)):
        mean, p90 = motion(clips)
        rows.append({"clips": label, "|Δθ| per frame °": mean, "90th pct °": p90,
                     "valid frames": float(frame_validity(clips)[0].mean())} | {f"ratio k={k}": None for k in LEVELS} | {error: None})
    for name in names:
        model = sequence_model(name, "pendulum", profile)
        start = time.perf_counter()
        sampled = unconditional_clips(model, count, H, chosen.sampling_steps, chosen.parameterization, seed)
        mean, p90 = motion(sampled)
        row = {"clips": f"{name} (its samples)", "|Δθ| per frame °": mean, "90th pct °": p90,
               "valid frames": float(frame_validity(sampled)[0].mean())}
        for k in LEVELS:
            row[f"ratio k={k}"] = other_frames_ratio(model, to_model_range(true), k, chosen.parameterization, seed)
        continued = rollout(name, model, context, H, profile, dataset="pendulum", seed=seed)  # the default method
        row[error] = pendulum_metrics(continued.numpy(), physics, config, bands=((1, H),))[f"angle err° 1-{H}"]
        rows.append(row)
        print(f"{name:20s} " + "  ".join(f"{key} {value:.2f}" for key, value in row.items() if isinstance(value, float)),
              f"({time.perf_counter() - start:.0f} s)", flush=True)
    return rows


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--clips", type=int, default=32)
    args = parse_arguments(parser)
    profile = get_profile(args.profile)
    rows = measure(profile, num_clips=args.clips)
    chosen = presets("pendulum", profile)
    write_report(HERE / f"temporal_coherence_{args.profile}.md", f"Temporal coherence of the `{args.profile}` pendulum models",
                 f"Produced by `python benchmarks/temporal_coherence.py --profile {args.profile}` (see its docstring). "
                 f"{args.clips} clips of {chosen.horizon} frames: test clips, and clips each model samples from noise with "
                 f"the full-sequence matrix ({chosen.sampling_steps} DDIM steps). |Δθ|: angle change between consecutive "
                 "frames. Ratio k: the model's loss on the last frame of a window, all frames at level k, when the frames "
                 "before it come from another clip, divided by the loss with its own frames (1: the model ignores the other "
                 f"frames). Continuation: angle error over the {chosen.horizon} frames each model generates after "
                 f"{chosen.context} ground-truth frames with its default rollout method.", rows)


if __name__ == "__main__":
    main()
