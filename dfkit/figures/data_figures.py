"""Figures about the course datasets."""

from __future__ import annotations

import dataclasses

import numpy as np

from dfkit.figures import register


@register("moving_mnist_clips", lecture="04_teacher_forcing", caption="Moving-MNIST clips: digits bounce off the walls")
def moving_mnist_clips(profile):
    import matplotlib.pyplot as plt

    from dfkit.data import moving_mnist
    from dfkit.viz import tile

    config = dataclasses.replace(profile.moving_mnist, num_sequences=3, num_frames=min(profile.moving_mnist.num_frames, 12))
    frames = moving_mnist.generate(config, "train")["frames"]
    figure, axis = plt.subplots(figsize=(1.0 * frames.shape[1], 1.0 * frames.shape[0]))
    axis.imshow(tile(frames), cmap="gray", vmin=0, vmax=1)
    axis.set_axis_off()
    axis.set_title("Moving-MNIST: one row per clip, time runs to the right")
    return figure


@register("pendulum_clip", lecture="04_teacher_forcing", caption="A pendulum clip and the angle read back from its pixels")
def pendulum_clip(profile):
    import matplotlib.pyplot as plt

    from dfkit.data import pendulum
    from dfkit.viz import tile

    config = dataclasses.replace(profile.pendulum, num_sequences=1, num_frames=40, max_initial_angle=1.2)
    clip = pendulum.generate(config, "train")
    shown = clip["frames"][:, ::4]
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(8, 4.2), gridspec_kw={"height_ratios": [1, 1.6]})
    top.imshow(tile(shown), cmap="gray", vmin=0, vmax=1)
    top.set_axis_off()
    top.set_title("every 4th frame")
    time = np.arange(config.num_frames) * config.dt
    bottom.plot(time, np.degrees(clip["states"][0, :, 0]), label="simulated θ")
    bottom.plot(time, np.degrees(pendulum.estimate_angle(clip["frames"][0])), "o", ms=3, label="θ estimated from pixels")
    bottom.set_xlabel("time (s)")
    bottom.set_ylabel("angle (degrees)")
    bottom.legend(frameon=False)
    return figure
