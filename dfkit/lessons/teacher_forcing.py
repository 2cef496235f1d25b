"""Lesson 04 (teacher forcing): the exercises' reference functions and the lesson's experiments,
tables and figures.

The notebook keeps the ideas in view and calls these for the rest::

    histories, targets = teacher_forcing_pairs(clips, context=2)      # (B, T-c, c, ...), (B, T-c, ...)
    inputs, levels = teacher_forcing_input(history, target, k, schedule, noise)
    sample_next = next_frame_sampler("teacher_forcing", model, profile, "pendulum", seed=0)
    frames = autoregressive_rollout(sample_next, context, 80, history=4)   # free running
    direction = swing_direction(before, after)                        # -1, 0 or +1 per clip
    markov = markov_experiment(models, profile)                       # the benchmark's Markov table
    setup = rollout_setup(profile)                                    # the benchmark's pendulum rollouts
    rows = rollout_rows({"teacher forcing": frames}, setup, profile)

Frames are in [0, 1] everywhere in this module (as the datasets give them), except in
:func:`teacher_forcing_input`, which works on whatever scale the diffusion model uses ([-1, 1]).
The experiments follow ``benchmarks/sequence_rollouts.py`` step by step (same clips, same seeds,
same metrics and baselines), so a notebook run reproduces the benchmark's rows for its profile.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from dfkit.budgets import TeacherForcingBudget
from dfkit.data.pendulum import render
from dfkit.metrics.pendulum import angle_error, frame_validity, pendulum_summary, rollout_start
from dfkit.metrics.pendulum import swing_direction  # noqa: F401  (graded: the Markov experiment's)
from dfkit.sequence.evaluate import MARKOV_MODELS, markov_experiment, markov_table, towards_bottom  # noqa: F401  (the lesson's)
from dfkit.sequence.objectives import teacher_forcing_input  # noqa: F401  (graded: TeacherForcing's input)

# ----------------------------------------------------------------------------- budget


def lesson_budget(profile) -> TeacherForcingBudget:
    """What the lesson may cost beyond its models: ``profile.lessons.teacher_forcing``, a :class:`~dfkit.budgets.TeacherForcingBudget`."""
    return profile.lessons.teacher_forcing


# ----------------------------------------------------------------------------- the exercises' reference functions


def _check_clips(clips, name: str = "clips") -> None:
    if not isinstance(clips, torch.Tensor) or clips.dim() != 5:
        got = tuple(clips.shape) if isinstance(clips, torch.Tensor) else type(clips).__name__
        raise ValueError(f"expected {name} of shape (B, T, C, H, W), got {got}")


def teacher_forcing_pairs(clips: torch.Tensor, context: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Every training pair of p(x_t | x_{t-c}, …, x_{t-1}) in a batch of clips (the chain rule, truncated to c frames).

    For target time t = c, …, T - 1 the history is the c ground-truth frames just before it:

        histories[b, i] = clips[b, i : i + c]      (c frames, oldest first)
        targets[b, i]   = clips[b, i + c]          (the frame after them, never in its own history)

    Args:
        clips: (B, T, C, H, W).
        context: c, with 1 <= c < T.

    Returns:
        ``(histories, targets)`` of shapes (B, T - c, c, C, H, W) and (B, T - c, C, H, W).
    """
    _check_clips(clips)
    T = clips.shape[1]
    if isinstance(context, bool) or not isinstance(context, int) or not 1 <= context < T:
        raise ValueError(f"expected context to be an int with 1 <= context < T = {T}, got {context!r}")
    windows = clips.unfold(1, context + 1, 1)                      # (B, T - c, C, H, W, c + 1)
    windows = windows.permute(0, 1, 5, 2, 3, 4)                    # (B, T - c, c + 1, C, H, W)
    return windows[:, :, :context], windows[:, :, context]


def autoregressive_rollout(sample_next, context: torch.Tensor, num_frames: int, history: int) -> torch.Tensor:
    """Free running: every new frame is sampled from the last ``history`` frames, its own outputs included.

    1. the video starts as the ground-truth ``context``;
    2. ``num_frames`` times: ``sample_next`` receives the last ``history`` frames of the video
       (B, history, C, H, W), oldest first, returns the next frame (B, C, H, W), which is appended.

    Args:
        sample_next: a next-frame sampler, (B, h, C, H, W) -> (B, C, H, W).
        context: (B, c, C, H, W) ground-truth frames, c >= history.
        num_frames: N >= 1 frames to generate; history: h >= 1.

    Returns:
        the N generated frames (B, N, C, H, W), without the context.
    """
    _check_clips(context, "context")
    if isinstance(history, bool) or not isinstance(history, int) or not 1 <= history <= context.shape[1]:
        raise ValueError(f"expected history to be an int from 1 to the {context.shape[1]} context frames, got {history!r}")
    video = list(context.unbind(dim=1))                             # c frames (B, C, H, W)
    for _ in range(num_frames):
        window = torch.stack(video[-history:], dim=1)               # (B, h, C, H, W)
        video.append(sample_next(window))
    return torch.stack(video[context.shape[1]:], dim=1)             # (B, N, C, H, W)


# ----------------------------------------------------------------------------- next-frame samplers of the course models


def next_frame_sampler(name: str, model, profile, dataset: str = "pendulum", seed: int = 0,
                       generator: torch.Generator | None = None):
    """``window (B, h, C, H, W) -> next frame (B, C, H, W)``, both in [0, 1], for a recipe model.

    A teacher-forced diffusion model samples the frame with the autoregressive scheduling
    matrix (:func:`dfkit.sequence.recipes.rollout` for one frame, the randomness drawn from one
    generator seeded with ``seed``); the regressor returns its deterministic prediction.
    """
    from dfkit.sequence.recipes import rollout

    generator = generator if generator is not None else torch.Generator().manual_seed(seed)

    def sample_next(window: torch.Tensor) -> torch.Tensor:
        return rollout(name, model, window, 1, profile, dataset=dataset, generator=generator)[:, 0]

    return sample_next


def with_progress(sample_next, total: int, desc: str):
    """``sample_next`` that also advances a progress bar of ``total`` calls (one per sampled frame)."""
    from tqdm.auto import tqdm

    bar = tqdm(total=total, desc=desc, unit="frame")

    def counted(window: torch.Tensor) -> torch.Tensor:
        frame = sample_next(window)
        bar.update(1)
        if bar.n >= total:
            bar.close()
        return frame

    return counted


def one_step_predictions(sample_next, video: torch.Tensor, start: int, history: int) -> torch.Tensor:
    """Teacher-forced evaluation: frame t predicted from the *true* frames before it, for t = start, …, T - 1.

    video: (B, T, C, H, W) ground truth; each call sees video[:, max(0, t - history) : t]. Returns
    (B, T - start, C, H, W). Compare with :func:`autoregressive_rollout`, which feeds its own frames.
    """
    _check_clips(video, "video")
    predictions = [sample_next(video[:, max(0, t - history):t]) for t in range(start, video.shape[1])]
    return torch.stack(predictions, dim=1)


# ----------------------------------------------------------------------------- rollouts past the horizon


@dataclass
class RolloutSetup:
    """The benchmark's pendulum rollouts: ground-truth context, the true continuation, its frames and bands."""

    context: torch.Tensor        # (B, c, 1, H, W) in [0, 1], the first c frames of test clips
    states: np.ndarray           # (B, N, 2) true (θ, ω) of the N frames after the context
    truth: torch.Tensor          # (B, N, 1, H, W) those states rendered
    bands: tuple                 # horizon bands of 1-based generated frames: (1, H), (H + 1, 4H), (4H + 1, 10H)

    @property
    def num_frames(self) -> int:
        return self.states.shape[1]

    @property
    def last(self) -> torch.Tensor:
        return self.context[:, -1]


def rollout_setup(profile, progress: bool = False) -> RolloutSetup:
    """Test clips, their first c frames and the physics continued for 10 H frames (as the benchmark does)."""
    from dfkit.sequence.recipes import dataset_split, presets

    chosen = presets("pendulum", profile)
    clips = dataset_split("pendulum", profile, "test", progress)
    bands = chosen.bands
    context, states = rollout_start(clips, chosen.eval_clips, chosen.context, bands[-1][1], profile.pendulum)   # (B, c, 1, H, W), (B, N, 2)
    count = len(context)
    truth = torch.from_numpy(np.concatenate([render(states[i:i + 64, :, 0], context.shape[-1])
                                             for i in range(0, count, 64)]))[:, :, None]    # (B, N, 1, H, W)
    return RolloutSetup(context, states, truth, bands)


def rollout_rows(generated: dict, setup: RolloutSetup, profile) -> list[dict]:
    """One row per method, then the baselines (copy last frame, hanging still, true frames), as in the benchmark.

    Columns: angle error (degrees) per band, the share of valid frames and the energy drift in the
    last band, and the median valid prediction time at 10° and 20° (frames).
    """
    rows, baselines = [], None
    for label, frames in generated.items():
        frames = frames.detach().cpu().numpy() if hasattr(frames, "detach") else np.asarray(frames)
        summaries = pendulum_summary(frames, setup.states, setup.last, profile.pendulum, setup.bands, name=label)
        rows.append(summaries[0])
        baselines = baselines or summaries[1:]
    return rows + (baselines or [])


def angle_errors(frames, states) -> np.ndarray:
    """Mean angle error (degrees) per generated frame over the clips: (B, N, 1, H, W), (B, N, 2) -> (N,)."""
    frames = frames.detach().cpu().numpy() if hasattr(frames, "detach") else np.asarray(frames)
    return angle_error(frames, states).mean(axis=0)


def validity(frames) -> np.ndarray:
    """Share of valid frames (one pendulum at the angle read from it) per generated frame: (B, N, 1, H, W) -> (N,)."""
    return frame_validity(frames)[0].mean(axis=0)


# ----------------------------------------------------------------------------- figures and widgets


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _image(frame) -> np.ndarray:
    frame = frame.detach().cpu().numpy() if hasattr(frame, "detach") else np.asarray(frame)
    return frame.reshape(frame.shape[-2:]) if frame.ndim >= 2 else frame


def show_frames(rows: dict, columns=None, labels=None, title: str | None = None, size: float = 0.9):
    """A grid of frames: one row per entry of ``rows`` (each (N, 1, H, W) in [0, 1]), columns picked by index."""
    plt = _plt()
    first = next(iter(rows.values()))
    columns = list(range(len(first))) if columns is None else list(columns)
    figure, axes = plt.subplots(len(rows), len(columns), figsize=(len(columns) * size + 1.6, len(rows) * size + 0.4),
                                squeeze=False)
    for r, (name, frames) in enumerate(rows.items()):
        for c, index in enumerate(columns):
            axis = axes[r, c]
            axis.imshow(_image(frames[index]), cmap="gray", vmin=0, vmax=1)
            axis.set_xticks([])
            axis.set_yticks([])
            if r == 0:
                axis.set_title(labels[c] if labels is not None else str(index), fontsize=8)
        axes[r, 0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return figure


def training_pair_figure(history: torch.Tensor, target: torch.Tensor, noisy: dict):
    """One example of teacher forcing: the clean history, then the target at a few levels k.

    history (c, 1, H, W) and target (1, H, W) in [0, 1]; noisy maps k to the noisy target (1, H, W) in [-1, 1].
    """
    c = len(history)
    rows = {f"k = {k}": torch.cat([history, ((frame.clamp(-1, 1) + 1) / 2)[None]]) for k, frame in noisy.items()}
    rows = {"clean": torch.cat([history, target[None]]), **rows}
    labels = [f"x_(t-{c - i})" for i in range(c)] + ["x_t (target)"]
    return show_frames(rows, labels=labels, title="teacher forcing: clean history (level 0), noisy target (level k)")


def markov_figure(rows: list[dict]):
    """Swing-direction accuracy per method with its standard error, chance at 50% dotted."""
    plt = _plt()
    figure, axis = plt.subplots(figsize=(7.5, 0.55 * len(rows) + 1.0))
    names = [row["method"] for row in rows][::-1]
    values = [row["accuracy"] for row in rows][::-1]
    errors = [row["stderr"] for row in rows][::-1]
    axis.barh(names, values, xerr=errors, color="tab:blue", alpha=0.75, capsize=3)
    axis.axvline(0.5, color="gray", linestyle=":", label="chance")
    axis.set_xlim(0, 1.05)
    axis.set_xlabel("swing direction right (share of clips)")
    axis.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    return figure


def error_curves_figure(curves: dict, horizon: int, ylabel: str = "mean angle error (degrees)", title: str | None = None):
    """Per-frame curves (each (N,)) against the generated frame 1..N, the training horizon marked."""
    plt = _plt()
    figure, axis = plt.subplots(figsize=(7.5, 3.6))
    for name, values in curves.items():
        style = ":" if name in ("copy last frame", "hanging still", "true frames") else "-"
        axis.plot(np.arange(1, len(values) + 1), values, style, label=name)
    axis.axvline(horizon, color="gray", linestyle="--", linewidth=1)
    axis.text(horizon, axis.get_ylim()[1], " training horizon", va="top", fontsize=8, color="gray")
    axis.set_xlabel("generated frame")
    axis.set_ylabel(ylabel)
    if title:
        axis.set_title(title, fontsize=10)
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def rollout_viewer(videos: dict, clip: int = 0, start: int = 0):
    """A slider over the generated frames showing every video of ``videos`` side by side (each (B, N, 1, H, W)).

    Without ipywidgets a static strip of a few frames is drawn instead. Returns the widget, or the figure.
    """
    plt = _plt()
    length = min(len(v[clip]) for v in videos.values())
    try:
        import ipywidgets as widgets
        from IPython.display import display
    except ImportError:
        columns = sorted({0, length // 4, length // 2, 3 * length // 4, length - 1})
        figure = show_frames({name: v[clip] for name, v in videos.items()}, columns,
                             labels=[f"frame {start + i + 1}" for i in columns])
        plt.show()
        return figure

    def show(index: int):
        figure, axes = plt.subplots(1, len(videos), figsize=(1.6 * len(videos), 1.9), squeeze=False)
        for axis, (name, video) in zip(axes[0], videos.items()):
            axis.imshow(_image(video[clip][index]), cmap="gray", vmin=0, vmax=1)
            axis.set_axis_off()
            axis.set_title(name, fontsize=8)
        figure.suptitle(f"generated frame {start + index + 1} of {start + length}", fontsize=9)
        plt.show()

    slider = widgets.IntSlider(value=0, min=0, max=length - 1, step=1, description="frame",
                               continuous_update=True, layout=widgets.Layout(width="480px"))
    output = widgets.interactive_output(show, {"index": slider})
    box = widgets.VBox([slider, output])
    display(box)
    return box


def format_rows(rows: list[dict], digits: int = 2) -> str:
    """Rows of dicts as an aligned text table (NaN shown as '-')."""
    columns = list(dict.fromkeys(key for row in rows for key in row))

    def cell(value):
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "-"
        if isinstance(value, float):
            return f"{value:.{digits}f}"
        return str(value)

    table = [[cell(row.get(column)) for column in columns] for row in rows]
    widths = [max(len(column), *(len(line[i]) for line in table)) for i, column in enumerate(columns)]
    lines = ["  ".join(column.ljust(w) if i == 0 else column.rjust(w) for i, (column, w) in enumerate(zip(columns, widths)))]
    for line in table:
        lines.append("  ".join(value.ljust(w) if i == 0 else value.rjust(w) for i, (value, w) in enumerate(zip(line, widths))))
    return "\n".join(lines)
