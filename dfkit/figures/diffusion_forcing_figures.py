"""Figures of the Diffusion Forcing lecture: noise as masking along both axes, scheduling matrices, a pyramid
walk drawn with true frames, the stabilized history. None of them needs a trained model."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from dfkit.figures import register

STEPS = 4               # DDIM steps per frame in the illustrations (few, so every level can be printed)


def _pendulum_clip(profile, num_frames: int = 8, seed_clip: int = 0) -> torch.Tensor:
    """One pendulum clip of ``num_frames`` frames in [-1, 1], ``(T, 1, H, W)``, at the profile's resolution."""
    from dfkit.data import pendulum

    config = dataclasses.replace(profile.pendulum, num_sequences=seed_clip + 1, num_frames=num_frames, max_initial_angle=1.2)
    frames = np.asarray(pendulum.generate(config, "train")["frames"][seed_clip], dtype=np.float32)   # in [0, 1]
    return torch.from_numpy(frames).reshape(num_frames, 1, *frames.shape[-2:]) * 2 - 1


def _noised(frames: torch.Tensor, levels, seed: int = 0) -> torch.Tensor:
    """Each frame of ``frames`` (T, 1, H, W) noised to its own level (T,), with fixed noise."""
    from dfkit.diffusion.ddpm import q_sample
    from dfkit.recipes import course_schedule

    noise = torch.randn(frames.shape, generator=torch.Generator().manual_seed(seed))
    return q_sample(frames[None], torch.as_tensor(levels)[None], noise[None], course_schedule())[0]


def _frame_row(axes, frames: torch.Tensor, levels) -> None:
    for ax, frame, level in zip(axes, frames, levels):
        ax.imshow(((frame[0] + 1) / 2).clamp(0, 1).numpy(), cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"k={int(level)}", fontsize=7, pad=2)


@register("df_noise_as_masking", lecture="06_diffusion_forcing",
          caption="Levels per frame: teacher forcing, full-sequence diffusion and Diffusion Forcing are points of one plane")
def noise_as_masking(profile):
    import matplotlib.pyplot as plt

    T, K = 8, 1000
    clip = _pendulum_clip(profile, T)
    rng = np.random.default_rng(3)
    rows = {
        "teacher forcing\n(clean history, one target,\nthe future masked)": [0, 0, 0, 0, 600, K, K, K],
        "full-sequence\ndiffusion\n(one level)": [600] * T,
        "Diffusion Forcing\n(a level per frame)": rng.integers(0, K + 1, size=T).tolist(),
    }
    figure, axes = plt.subplots(len(rows), T, figsize=(1.05 * T + 1.8, 1.25 * len(rows) + 0.3))
    for row, (name, levels) in zip(axes, rows.items()):
        _frame_row(row, _noised(clip, levels), levels)
        row[0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    figure.suptitle("time runs to the right; k = 0 observed, k = 1000 masked", fontsize=9)
    figure.tight_layout()
    return figure


@register("df_scheduling_matrices", lecture="06_diffusion_forcing",
          caption="The four scheduling matrices for 6 frames and a 4-step ladder (rows: sampling steps, columns: frames)")
def scheduling_matrices(profile):
    import matplotlib.pyplot as plt

    from dfkit.lessons.diffusion_forcing import plot_matrix
    from dfkit.sequence.scheduling import scheduling_matrix

    settings = (("full_sequence", 1, 1), ("autoregressive", 1, 1), ("autoregressive", 2, 1), ("pyramid", 1, 1),
                ("pyramid", 2, 2), ("trapezoid", 1, 1))
    figure, axes = plt.subplots(2, 3, figsize=(13, 9.5))
    for ax, (kind, chunk, delay) in zip(axes.ravel(), settings):
        matrix = scheduling_matrix(kind, 6, STEPS, 1000, chunk_size=chunk, delay=delay)
        detail = f", chunk {chunk}" + (f", delay {delay}" if kind in ("pyramid", "trapezoid") and delay != 1 else "")
        plot_matrix(matrix, ax, f"{kind}{detail}: {matrix.shape[0]} rows", 1000, annotate=True)
    figure.tight_layout()
    return figure


@register("df_pyramid_walk", lecture="06_diffusion_forcing",
          caption="What the pyramid matrix means: true frames masked at the level each row gives them")
def pyramid_walk(profile):
    import matplotlib.pyplot as plt

    from dfkit.sequence.scheduling import scheduling_matrix

    T = 6
    clip = _pendulum_clip(profile, T)
    matrix = scheduling_matrix("pyramid", T, STEPS, 1000)
    figure, axes = plt.subplots(matrix.shape[0], T, figsize=(1.0 * T + 1.2, 1.02 * matrix.shape[0] + 0.4))
    for m, row in enumerate(axes):
        _frame_row(row, _noised(clip, matrix[m], seed=m), matrix[m])
        row[0].set_ylabel(f"row {m}", rotation=0, ha="right", va="center", fontsize=8)
    figure.suptitle("pyramid: the near future is decided first, the far future stays uncertain longer", fontsize=9)
    figure.tight_layout()
    return figure


@register("df_stabilized_history", lecture="06_diffusion_forcing",
          caption="History frames shown at level k_small: at 50 fine detail is hidden, at 300 (the class pendulum "
                  "preset) rod and bob stand out of heavy noise, at 700 little is left")
def stabilized_history(profile):
    import matplotlib.pyplot as plt

    from dfkit.recipes import course_schedule

    levels = (0, 50, 100, 300, 500, 700)
    clip = _pendulum_clip(profile, 1)
    schedule = course_schedule()
    figure, axes = plt.subplots(1, len(levels), figsize=(1.5 * len(levels), 1.9))
    frames = torch.cat([_noised(clip, [k]) for k in levels])
    _frame_row(axes, frames, levels)
    for ax, k in zip(axes, levels):
        ax.set_xlabel(f"noise std {float(schedule.one_minus_alpha_bars[k].sqrt()):.2f}", fontsize=7)
    figure.tight_layout()
    return figure
