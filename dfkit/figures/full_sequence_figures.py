"""Figures of lecture 05 (full-sequence diffusion): one level for a whole clip, windows sliding over
a long video with known and new frames, and the surprise measure at the window borders.

None of them needs a trained model: they show the method's bookkeeping and the measure itself.
"""

from __future__ import annotations

import numpy as np
import torch

from dfkit.figures import register

SHOWN_LEVELS = (0, 250, 500, 750, 900)


def _swing(num_frames: int, start=(1.1, 0.0), image_size: int = 32):
    """One free swing: states (T, 2) and frames (T, 1, S, S) in [0, 1] (course physics, dt = 0.1)."""
    from dfkit.data.pendulum import render, simulate

    states = simulate(np.array([start], dtype=np.float64), np.zeros((1, num_frames)), dt=0.1, substeps=20)[0]
    return states, torch.from_numpy(render(states[None, :, 0], image_size)[0]).float()[:, None]


@register("full_sequence_noising", lecture="05_full_sequence",
          caption="Full-sequence training input: every frame of a clip at the same level k (cosine schedule)")
def full_sequence_noising(profile):
    import matplotlib.pyplot as plt

    from dfkit.diffusion.schedules import make_schedule
    from dfkit.sequence.objectives import full_sequence_noise

    _, frames = _swing(8)
    clips = (frames * 2 - 1)[None].expand(len(SHOWN_LEVELS), -1, -1, -1, -1)        # (L, T, 1, S, S)
    noise = torch.randn(clips.shape, generator=torch.Generator().manual_seed(0))
    noisy, _ = full_sequence_noise(clips, torch.tensor(SHOWN_LEVELS), noise, make_schedule("cosine"))
    figure, axes = plt.subplots(len(SHOWN_LEVELS), frames.shape[0], figsize=(1.0 * frames.shape[0] + 1, 1.0 * len(SHOWN_LEVELS)))
    for row, level in enumerate(SHOWN_LEVELS):
        for t in range(frames.shape[0]):
            axes[row, t].imshow(noisy[row, t, 0].numpy(), cmap="gray", vmin=-1.5, vmax=1.5)
            axes[row, t].set_xticks([])
            axes[row, t].set_yticks([])
        axes[row, 0].set_ylabel(f"k = {level}", rotation=0, ha="right", va="center")
    for t in range(frames.shape[0]):
        axes[0, t].set_title(f"t = {t}", fontsize=8)
    figure.suptitle("one level per clip, shared by all of its frames", fontsize=10)
    figure.tight_layout()
    return figure


@register("extension_windows", lecture="05_full_sequence",
          caption="Extending a video window by window: known frames (replaced by noisy truth) and new frames")
def extension_windows(profile):
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    from dfkit.sequence.scheduling import full_sequence_matrix

    context, window, chunk, windows = 4, 8, 4, 4
    total = context + chunk * windows
    layout = np.zeros((windows, total))                                          # 0 not yet, 1 known, 2 new, 3 done
    for w in range(windows):
        start = context + w * chunk                                              # first new frame of window w
        layout[w, :start] = 3
        layout[w, start - (window - chunk): start] = 1
        layout[w, start: start + chunk] = 2
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 3.2), gridspec_kw={"width_ratios": [2.2, 1]})
    colours = ListedColormap(["white", "tab:blue", "tab:orange", "0.85"])
    left.imshow(layout, cmap=colours, vmin=0, vmax=3, aspect="auto")
    left.set_xticks(np.arange(total))
    left.set_yticks(np.arange(windows), [f"window {w + 1}" for w in range(windows)])
    left.set(xlabel="frame of the video", title="blue: known (replaced), orange: new, grey: already generated")
    for b in range(context, total, chunk):
        left.axvline(b - 0.5, color="k", lw=0.8, ls=":")
    matrix = full_sequence_matrix(window, 5).numpy()                            # (S + 1, W)
    image = right.imshow(matrix, cmap="viridis", aspect="auto")
    right.axvline(window - chunk - 0.5, color="w", lw=2)
    right.set(xlabel="frame of the window", ylabel="sampling row m",
              title="inside a window: one level for all frames")
    figure.colorbar(image, ax=right, label="level k")
    figure.tight_layout()
    return figure


@register("border_surprise", lecture="05_full_sequence",
          caption="The surprise e_t of a free swing and of a swing stitched from windows that start from slightly wrong states")
def border_surprise(profile):
    import matplotlib.pyplot as plt

    from dfkit.data.pendulum import simulate
    from dfkit.metrics.pendulum import border_inconsistency, frame_surprise

    context, chunk, windows = 4, 6, 5
    total = context + chunk * windows
    states, _ = _swing(total)
    rng = np.random.default_rng(0)
    stitched = [states[:context, 0]]
    state = states[context - 1]
    for _ in range(windows):                                                     # each window continues a perturbed state
        start = state + rng.normal(0, [0.3, 0.6])
        piece = simulate(start[None], np.zeros((1, chunk + 1)), dt=0.1, substeps=20)[0, 1:]
        stitched.append(piece[:, 0])
        state = piece[-1]
    videos = {"free swing (truth)": torch.from_numpy(states[None, :, 0]),
              "stitched windows": torch.from_numpy(np.concatenate(stitched)[None])}
    borders = list(range(context, total, chunk))
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(9, 5), sharex=True)
    for name, angles in videos.items():
        top.plot(np.degrees(angles[0].numpy()), ".-", label=name)
        bottom.plot(np.degrees(frame_surprise(angles)[0].numpy()), ".-", label=name)
        at, inside = np.degrees(border_inconsistency(angles, borders)[0].numpy())
        bottom.text(1.0, 0.9 - 0.12 * len(bottom.texts), f"{name}: {at:.1f}° at borders, {inside:.1f}° inside",
                    transform=bottom.transAxes, ha="right", fontsize=8)
    for axis in (top, bottom):
        for b in borders:
            axis.axvline(b, color="tab:orange", lw=0.8, alpha=0.6)
    top.set(ylabel="θ (degrees)", title="angle per frame (orange: first frame of a window)")
    bottom.set(xlabel="frame t", ylabel="surprise e_t (degrees)")
    top.legend(frameon=False, fontsize=8)
    figure.tight_layout()
    return figure
