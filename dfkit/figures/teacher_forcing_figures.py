"""Figures of lecture 04 (teacher forcing): two futures of one frame, what the model sees, compounding error."""

from __future__ import annotations

import math

import numpy as np
import torch

from dfkit.figures import register


@register("pendulum_two_futures", lecture="04_teacher_forcing",
          caption="One frame, two futures: the same picture swinging either way; a second frame tells them apart")
def pendulum_two_futures(profile):
    import matplotlib.pyplot as plt

    from dfkit.data.pendulum import render, simulate

    config = profile.pendulum
    size = max(config.image_size, 32)
    theta, speed, steps = math.radians(40.0), 2.5, 5
    figure, axes = plt.subplots(2, 2 * steps - 1, figsize=(1.05 * (2 * steps - 1), 2.6))
    for row, sign in enumerate((+1, -1)):
        # simulate forwards from (θ, ±ω) and backwards (time reversed: the same path with ω negated)
        forward = simulate(np.array([theta, sign * speed]), np.zeros(steps), dt=config.dt, gravity=config.gravity,
                           length=config.length)[:steps, 0]
        backward = simulate(np.array([theta, -sign * speed]), np.zeros(steps), dt=config.dt, gravity=config.gravity,
                            length=config.length)[1:steps, 0][::-1]
        angles = np.concatenate([backward, forward])                         # 2 steps - 1 frames, the shared one in the middle
        for column, angle in enumerate(angles):
            axis = axes[row, column]
            axis.imshow(render(angle, size), cmap="gray", vmin=0, vmax=1)
            axis.set_xticks([])
            axis.set_yticks([])
            if column == steps - 1:
                for spine in axis.spines.values():
                    spine.set_color("tab:red")
                    spine.set_linewidth(2.5)
        axes[row, 0].set_ylabel("ω > 0" if sign > 0 else "ω < 0", rotation=0, ha="right", va="center")
    for column in range(2 * steps - 1):
        axes[0, column].set_title(f"t {column - steps + 1:+d}" if column != steps - 1 else "t (shared)", fontsize=8)
    figure.suptitle("the framed picture is the same in both rows; only the frames around it show the direction", fontsize=9)
    figure.tight_layout()
    return figure


@register("teacher_forcing_inputs", lecture="04_teacher_forcing",
          caption="Training (teacher forcing): clean true history, noisy target at level k. Sampling: the history is the model's own")
def teacher_forcing_inputs(profile):
    import matplotlib.pyplot as plt

    from dfkit.data.pendulum import render, simulate
    from dfkit.diffusion.schedules import make_schedule
    from dfkit.lessons.teacher_forcing import teacher_forcing_input

    config, c = profile.pendulum, 3
    size = max(config.image_size, 32)
    angles = simulate(np.array([1.0, 0.0]), np.zeros(c + 1), dt=config.dt, gravity=config.gravity, length=config.length)[:c + 1, 0]
    clip = torch.from_numpy(render(angles, size))[None, :, None] * 2 - 1            # (1, c + 1, 1, H, W) in [-1, 1]
    schedule, generator = make_schedule("cosine", 1000), torch.Generator().manual_seed(0)
    noise = torch.randn(clip[:, -1].shape, generator=generator)
    levels = (0, 200, 500, 800, 1000)
    figure, axes = plt.subplots(len(levels), c + 1, figsize=(1.15 * (c + 1) + 1.2, 1.1 * len(levels) + 0.5))
    for row, k in enumerate(levels):
        inputs, shown = teacher_forcing_input(clip[:, :c], clip[:, -1], torch.tensor([k]), schedule, noise)
        for column in range(c + 1):
            axis = axes[row, column]
            axis.imshow(((inputs[0, column, 0].clamp(-1, 1) + 1) / 2).numpy(), cmap="gray", vmin=0, vmax=1)
            axis.set_xticks([])
            axis.set_yticks([])
            if row == 0:
                axis.set_title("target x_t" if column == c else f"x_(t-{c - column})", fontsize=8)
        axes[row, 0].set_ylabel(f"levels {shown[0].tolist()}", rotation=0, ha="right", va="center", fontsize=7)
    figure.suptitle("teacher forcing: the history stays clean (level 0), only the target is noised", fontsize=9)
    figure.tight_layout()
    return figure


@register("compounding_error", lecture="04_teacher_forcing",
          caption="Angle error per generated frame and share of valid frames: one-step (true history) against free running")
def compounding_error(profile):
    import matplotlib.pyplot as plt

    from dfkit.lessons import teacher_forcing as tf
    from dfkit.sequence.recipes import presets, rollout, sequence_model

    chosen = presets("pendulum", profile)
    c, H = chosen.context, chosen.horizon
    budget = profile.lessons.teacher_forcing
    setup = tf.rollout_setup(profile)
    shown, N = min(budget.curve_clips, len(setup.context)), budget.curve_frames or setup.num_frames
    context, states = setup.context[:shown], setup.states[:shown, :N]
    video = torch.cat([context, setup.truth[:shown, :N]], dim=1)
    models = {name: sequence_model(name, "pendulum", profile, progress=False) for name in ("teacher_forcing", "regressor")}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)                  # many small sampler calls: one thread is fastest on a shared machine
    try:
        diffusion_free = rollout("teacher_forcing", models["teacher_forcing"], context, N, profile, dataset="pendulum", seed=0)
        diffusion_one = tf.one_step_predictions(tf.next_frame_sampler("teacher_forcing", models["teacher_forcing"], profile, seed=1),
                                                video, c, c)
        regressor_free = rollout("regressor", models["regressor"], context, N, profile, dataset="pendulum")
        regressor_one = tf.one_step_predictions(tf.next_frame_sampler("regressor", models["regressor"], profile), video, c, H)
    finally:
        torch.set_num_threads(threads)
    last = context[:, -1:].expand(-1, N, -1, -1, -1)
    frames = np.arange(1, N + 1)
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 3.8))
    for label, clips, style, color in (("diffusion, true history", diffusion_one, "--", "tab:blue"),
                                       ("diffusion, free running", diffusion_free, "-", "tab:blue"),
                                       ("regressor, true history", regressor_one, "--", "tab:orange"),
                                       ("regressor, free running", regressor_free, "-", "tab:orange"),
                                       ("copy last frame", last, ":", "gray")):
        left.plot(frames, tf.angle_errors(clips, states), style, color=color, label=label)
        if "free" in label or "copy" in label:
            right.plot(frames, tf.validity(clips), style, color=color, label=label)
    for axis, ylabel in ((left, "mean angle error (degrees)"), (right, "share of valid frames")):
        axis.axvline(H, color="gray", linestyle="--", linewidth=1)
        axis.set_xlabel("generated frame (training horizon dashed)")
        axis.set_ylabel(ylabel)
        axis.legend(fontsize=7)
    right.set_ylim(-0.05, 1.05)
    figure.suptitle(f"pendulum, {shown} test clips, models of the '{profile.name}' profile", fontsize=9)
    figure.tight_layout()
    return figure
