"""Figures of lecture 07 (guidance): what guidance does to a distribution, the angle cost's gradient,
and the views of a history that history guidance combines. All analytic or rendered: no trained model."""

from __future__ import annotations

import numpy as np
import torch

from dfkit.figures import register

SWING = np.radians([40.0, 28.0, 14.0, 0.0])       # a pendulum history: four frames swinging towards the bottom


def _normal(x, mean, std):
    return np.exp(-0.5 * ((x - mean) / std) ** 2) / (std * np.sqrt(2 * np.pi))


@register("guidance_tilts", lecture="07_guidance",
          caption="Guidance reweights the model's distribution: classifier-free guidance (left), a cost (right)")
def guidance_tilts(profile):
    """Left: p(x) of two classes and p(x) p(y | x)^w, the target of classifier-free guidance with scale w.
    Right: p(x) exp(-w c(x)) for a quadratic cost around a target: the tilt cost guidance samples."""
    import matplotlib.pyplot as plt

    x = np.linspace(-5, 5, 801)
    dx = x[1] - x[0]
    one, two = _normal(x, -1.5, 1.0), _normal(x, 1.5, 1.0)                # p(x | y = 1), p(x | y = 2)
    prior = 0.5 * one + 0.5 * two
    posterior = 0.5 * two / prior                                          # p(y = 2 | x)
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.4))
    left.plot(x, prior, "k", lw=1, label="p(x), w = 0 (unconditional)")
    for w, colour in ((1.0, "C0"), (3.0, "C1"), (8.0, "C3")):
        tilted = prior * posterior**w
        left.plot(x, tilted / (tilted.sum() * dx), color=colour, label=f"∝ p(x) p(y=2 | x)^w, w = {w:g}" + (" (conditional)" if w == 1 else ""))
    left.set(xlabel="x", title="classifier-free guidance: ε(∅) + w [ε(y) - ε(∅)]")
    left.legend(frameon=False, fontsize=7, loc="upper left")
    target = 2.5
    cost = 0.5 * (x - target) ** 2
    right.plot(x, prior, "k", lw=1, label="p(x) (unguided)")
    for w, colour in ((0.5, "C0"), (2.0, "C1"), (8.0, "C3")):
        tilted = prior * np.exp(-w * cost)
        right.plot(x, tilted / (tilted.sum() * dx), color=colour, label=f"∝ p(x) exp(-w c(x)), w = {w:g}")
    right.axvline(target, color="k", ls=":", lw=1)
    right.set(xlabel="x", title=f"cost guidance, c(x) = ½ (x - {target:g})²")
    right.legend(frameon=False, fontsize=7, loc="upper left")
    figure.tight_layout()
    return figure


@register("guidance_angle_gradient", lecture="07_guidance",
          caption="The differentiable angle cost: a pendulum frame and -∇ of its cost for a target 60° further")
def guidance_angle_gradient(profile):
    import matplotlib.pyplot as plt

    from dfkit.data.pendulum import render
    from dfkit.sequence.planning import AngleCost

    size = profile.pendulum.image_size
    frame = torch.from_numpy(render(SWING[:1], size)).double()[None, :, None]          # (1, 1, 1, H, W) in [0, 1]
    frame.requires_grad_(True)
    cost = AngleCost(target_angle=float(SWING[0]) + np.radians(60), frame=0)(frame * 2 - 1)
    (gradient,) = torch.autograd.grad(cost, frame)
    figure, axes = plt.subplots(1, 2, figsize=(5.6, 2.9))
    axes[0].imshow(frame.detach()[0, 0, 0], cmap="gray", vmin=0, vmax=1)
    axes[0].set_title(f"frame, θ = {np.degrees(SWING[0]):.0f}°", fontsize=9)
    limit = float(gradient.abs().max())
    axes[1].imshow(-gradient[0, 0, 0], cmap="RdBu_r", vmin=-limit, vmax=limit)
    axes[1].set_title("-∇ cost: brighten red, darken blue", fontsize=9)
    for ax in axes:
        ax.set_axis_off()
    figure.tight_layout()
    return figure


@register("guidance_history_views", lecture="07_guidance",
          caption="A pendulum history under the views of history guidance (rows) and the levels each view gives the frames")
def guidance_history_views(profile):
    from dfkit.data.pendulum import render
    from dfkit.diffusion.schedules import make_schedule
    from dfkit.lessons.guidance import view_strip

    size = max(profile.pendulum.image_size, 32)
    history = torch.from_numpy(render(SWING, size))[:, None]                            # (4, 1, H, W) in [0, 1]
    views = {"ε(h): as given": (None, None), "ε(h_2): last 2 frames": (2, None), "ε(h at k_f = 200)": (None, 200),
             "ε(h at k_f = 500)": (None, 500), "ε(∅): all masked": (0, None)}
    return view_strip(history, make_schedule("cosine", 1000), views, seed=0)
