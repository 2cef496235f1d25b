"""Lesson 06 (Diffusion Forcing): the reference answers, the scheduling-matrix explorer and the
rollout experiments of the notebook. ``noisy_clips`` (:func:`dfkit.sequence.objectives.noisy_clips`)
and ``stabilized_history`` (:func:`dfkit.sequence.sampler.stabilized_history`) are the library's,
re-exported here.

The notebook keeps the ideas in view and calls these for the rest::

    budget = lesson_budget(profile)                                 # what the experiments may cost
    noisy, levels, noise = noisy_clips(clips, schedule)             # an independent level per frame
    frames = walk_matrix(denoiser, matrix, noise, schedule)         # the sampler loop over a matrix
    shown, levels = stabilized_history(context, 50, schedule, noise)    # history at level k_small
    matrix_explorer(model, context, schedule, steps)                # kind, chunk, horizon -> heatmap and frames
    rows = pendulum_rollout_table(models, profile, clips, methods)  # the rollout table, benchmark metrics
    spread = future_spread(model, context, profile, samples)        # how much samples of one context disagree

Frames are videos ``(B, T, C, H, W)``: in [-1, 1] where a model sees them, in [0, 1] where they
are shown or scored. Levels are integers ``(B, T)``, 0 clean and K pure noise. A scheduling
matrix is ``(M + 1, T)``: rows are sampling steps, columns frames, entries levels.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import torch

from dfkit import viz
from dfkit.budgets import DiffusionForcingBudget
from dfkit.diffusion.schedules import NoiseSchedule
from dfkit.metrics.pendulum import pendulum_summary
from dfkit.sequence.objectives import noisy_clips  # noqa: F401  (graded: Diffusion Forcing's training input)
from dfkit.sequence.sampler import sample_with_matrix, stabilized_history  # noqa: F401  (graded: the sampler's own)
from dfkit.sequence.scheduling import KINDS, scheduling_matrix

# ----------------------------------------------------------------------------- budget


def lesson_budget(profile) -> DiffusionForcingBudget:
    """What the lesson may cost beyond its models: ``profile.lessons.diffusion_forcing``, a :class:`~dfkit.budgets.DiffusionForcingBudget`."""
    return profile.lessons.diffusion_forcing


@contextlib.contextmanager
def torch_threads(count: int | None):
    """Run a block with ``count`` torch threads (None: leave the setting alone), then restore the setting."""
    previous = torch.get_num_threads()
    if count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


# ----------------------------------------------------------------------------- reference answers


def walk_matrix(denoiser, matrix: torch.Tensor, noise: torch.Tensor, schedule: NoiseSchedule, parameterization: str = "eps"):
    """Walk the rows of a scheduling matrix from x_K = ``noise`` (Diffusion Forcing, Algorithm 2).

    At row m the denoiser sees every frame at its level S[m, t] (one call, levels ``(B, T)``);
    each frame then takes the deterministic DDIM step from S[m, t] to S[m + 1, t], and a frame
    whose level does not change stays as it is. Returns the frames after the last row.
    """
    return sample_with_matrix(denoiser, matrix, schedule, shape=noise.shape, noise=noise, parameterization=parameterization,
                              clip_x0=None)


# ----------------------------------------------------------------------------- pictures


def show_clips(rows: dict, title: str | None = None, size: float = 0.9, labels: dict | None = None):
    """One row of frames per entry of ``rows`` ({name: (T, C, H, W) frames in [0, 1]}); ``labels`` adds a text per frame.

    :func:`dfkit.viz.show_clips` at this lesson's frame size and margins.
    """
    return viz.show_clips(rows, title, size=size, margin=(1.5, 0.4), labels=labels)


def plot_matrix(matrix: torch.Tensor, ax=None, title: str | None = None, num_levels: int | None = None, annotate: bool | None = None):
    """A scheduling matrix as a heatmap: rows = sampling steps (top: row 0), columns = frames, colour = level."""
    import matplotlib.pyplot as plt

    values = matrix.detach().cpu().numpy()
    if ax is None:
        _, ax = plt.subplots(figsize=(0.35 * values.shape[1] + 1.8, 0.22 * values.shape[0] + 1.2))
    top = num_levels if num_levels is not None else max(int(values.max()), 1)
    image = ax.imshow(values, cmap="magma_r", vmin=0, vmax=top, aspect="auto", interpolation="nearest")
    if annotate is None:
        annotate = values.size <= 160
    if annotate:
        for (m, t), level in np.ndenumerate(values):
            ax.text(t, m, str(level), ha="center", va="center", fontsize=5.5, color="white" if level > 0.55 * top else "black")
    ax.set_xlabel("frame t")
    ax.set_ylabel("row m (sampling step)")
    ax.set_xticks(range(values.shape[1]))
    ax.tick_params(labelsize=7)
    if title:
        ax.set_title(title, fontsize=9)
    plt.colorbar(image, ax=ax, fraction=0.04, pad=0.02, label="level k")
    return ax


def matrix_gallery(num_frames: int, steps: int, num_levels: int = 1000, chunk_size: int = 1, delay: int = 1):
    """The four kinds side by side (the same ladder of levels, walked at different times)."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(KINDS), figsize=(4.0 * len(KINDS), 4.2))
    for ax, kind in zip(axes, KINDS):
        matrix = scheduling_matrix(kind, num_frames, steps, num_levels, chunk_size=chunk_size, delay=delay)
        plot_matrix(matrix, ax, f"{kind}: {matrix.shape[0]} rows", num_levels, annotate=False)
    figure.tight_layout()
    return figure


def model_calls(matrix: torch.Tensor) -> int:
    """Rows at which some frame moves: the sampler calls the model once per such row."""
    return int((matrix[1:] != matrix[:-1]).any(dim=1).sum())


# ----------------------------------------------------------------------------- the scheduling-matrix explorer


def explorer_frames(model, context: torch.Tensor, schedule: NoiseSchedule, matrix: torch.Tensor, parameterization: str = "v",
                    seed: int = 0):
    """Frames generated after ``context`` ([0, 1], (B, c, C, H, W)) by walking ``matrix``; returns them in [0, 1]."""
    from dfkit.sequence.objectives import to_model_range, to_unit_range

    known = to_model_range(context)
    frames = sample_with_matrix(model, matrix, schedule, context=known, parameterization=parameterization,
                                clip_x0=1.0, generator=torch.Generator().manual_seed(seed))
    return to_unit_range(frames)                                                   # (B, T, C, H, W)


def _explorer_figure(model, context, schedule, steps, kind, chunk, horizon, delay, parameterization):
    import matplotlib.pyplot as plt

    chunk = min(chunk, horizon)
    matrix = scheduling_matrix(kind, horizon, steps, schedule.num_levels, chunk_size=chunk, delay=delay)
    frames = explorer_frames(model, context[:1], schedule, matrix, parameterization)[0]        # (T, C, H, W)
    c = context.shape[1]
    figure = plt.figure(figsize=(max(7.5, 0.9 * (c + horizon) + 1), 5.6))
    grid = figure.add_gridspec(2, c + horizon, height_ratios=[3.2, 1])
    plot_matrix(matrix, figure.add_subplot(grid[0, :]), f"{kind}, chunk {chunk}, {horizon} frames, {steps} DDIM steps per "
                f"frame: {matrix.shape[0]} rows, {model_calls(matrix)} model calls", schedule.num_levels,
                annotate=matrix.numel() <= 160)
    shown = torch.cat([context[0], frames]).numpy()[:, 0]
    for i, image in enumerate(shown):
        ax = figure.add_subplot(grid[1, i])
        ax.imshow(np.clip(image, 0, 1), cmap="gray", vmin=0, vmax=1)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title("given" if i < c else f"t={i - c}", fontsize=7, color="tab:blue" if i < c else "black")
    figure.tight_layout()
    return figure


def matrix_explorer(model, context: torch.Tensor, schedule: NoiseSchedule, steps: int, parameterization: str = "v",
                    max_frames: int | None = None):
    """Pick a kind, a chunk size and a horizon: the scheduling matrix and the frames the model makes with it.

    ``context``: ground-truth frames in [0, 1] ``(B, c, C, H, W)`` (the first clip is used); the
    horizon is limited so that history and new frames fit the model's window. Returns the widget
    box, or a list of static figures (four settings) when ipywidgets is not installed.
    """
    import matplotlib.pyplot as plt

    window = getattr(model, "max_window", None) or 16
    longest = max_frames or (window - context.shape[1])
    if longest < 1:
        raise ValueError(f"expected a context shorter than the model's window of {window} frames, got {context.shape[1]}")
    try:
        import ipywidgets as widgets
        from IPython.display import display
    except ImportError:
        print("ipywidgets is not installed, so here are four fixed settings instead of the explorer "
              "(pip install ipywidgets for the interactive version).")
        figures = []
        for kind, chunk in (("full_sequence", 1), ("autoregressive", 1), ("autoregressive", 2), ("pyramid", 1)):
            figures.append(_explorer_figure(model, context, schedule, steps, kind, chunk, longest, 1, parameterization))
            plt.show()
        return figures

    kind = widgets.Dropdown(options=list(KINDS), value="pyramid", description="kind")
    chunk = widgets.IntSlider(value=1, min=1, max=longest, description="chunk", continuous_update=False)
    horizon = widgets.IntSlider(value=longest, min=1, max=longest, description="horizon", continuous_update=False)
    delay = widgets.IntSlider(value=1, min=0, max=steps, description="delay", continuous_update=False)
    output = widgets.Output()

    def redraw(change=None):
        with output:
            output.clear_output(wait=True)
            figure = _explorer_figure(model, context, schedule, steps, kind.value, chunk.value, horizon.value, delay.value,
                                      parameterization)
            plt.show()
            plt.close(figure)

    for control in (kind, chunk, horizon, delay):
        control.observe(redraw, names="value")
    redraw()
    box = widgets.VBox([widgets.HBox([kind, chunk]), widgets.HBox([horizon, delay]), output])
    display(box)
    return box


# ----------------------------------------------------------------------------- rollouts and their table


def pendulum_truth(clips, count: int, context: int, num_frames: int, config):
    """Context frames ``(B, c, 1, H, W)`` in [0, 1] and the physics continued from the last context state ``(B, N, 2)``
    (:func:`dfkit.metrics.pendulum.rollout_start`, the benchmark's start)."""
    from dfkit.metrics.pendulum import rollout_start

    return rollout_start(clips, count, context, num_frames, config)


def render_truth(states, image_size: int) -> torch.Tensor:
    """The true pendulum drawn at ``states[..., 0]`` (angles): ``(N, 2)`` states -> ``(N, 1, H, W)`` frames in [0, 1]."""
    from dfkit.data.pendulum import render

    return torch.from_numpy(np.asarray(render(np.asarray(states)[..., 0], image_size), dtype=np.float32))[:, None]


def pendulum_rollout_table(models: dict, profile, context, truth, methods, cache: dict | None = None,
                           log=print) -> tuple[list[dict], dict]:
    """Roll every ``(label, recipe name, method, overrides)`` out from ``context`` for the bands' length.

    The columns are those of ``benchmarks/sequence_rollouts.py``'s pendulum table: training minutes
    (as recorded with the checkpoint), rollout seconds, then those of
    :func:`dfkit.metrics.pendulum.pendulum_summary`. ``models`` maps recipe names to trained models.
    A rollout whose recipe and resolved
    :class:`~dfkit.sequence.rollout.RolloutConfig` are already in ``cache`` (a dict the notebook
    keeps) is reused, not run again: the same configuration with the same seed gives the same
    frames. Returns the table rows (methods, then the baselines once) and the frames per label, in [0, 1].
    """
    import time

    from dfkit.sequence.recipes import presets, rollout, rollout_config, training_record

    bands = presets("pendulum", profile).bands
    num_frames = bands[-1][1]
    cache = {} if cache is None else cache
    rows, videos, baselines = [], {}, None
    for label, name, method, overrides in methods:
        key = (name, rollout_config(name, method, "pendulum", profile, **overrides), len(context), num_frames)
        if key not in cache:
            start = time.perf_counter()
            frames = rollout(name, models[name], context, num_frames, profile, dataset="pendulum", method=method, **overrides)
            cache[key] = (frames, time.perf_counter() - start)
        frames, seconds = cache[key]
        report = pendulum_summary(frames.numpy(), truth, context[:, -1], profile.pendulum, bands, label)
        record = training_record(name, "pendulum", profile) or {}
        train_minutes = record.get("train_seconds", math.nan) / 60
        rows.append({"method": label, "train (min)": train_minutes, "rollout (s)": seconds, **report[0]})
        baselines = baselines or report[1:]
        videos[label] = frames
        if log is not None:
            log(f"{label:48s} angle err° in the last band {report[0][f'angle err° {bands[-1][0]}-{bands[-1][1]}']:6.1f}"
                f"   ({seconds:.1f} s)")
    return rows + list(baselines or []), videos


def angle_curves(videos: dict, truth) -> dict:
    """Per generated frame, the median over clips of |θ̂ - θ| in degrees, for every video of ``videos``."""
    from dfkit.metrics.pendulum import angle_error

    return {label: np.median(angle_error(frames.numpy(), truth), axis=0) for label, frames in videos.items()}


def plot_curves(curves: dict, horizon: int, ylabel: str, title: str):
    """One line per entry of ``curves`` ({label: values per generated frame}), the training horizon dotted."""
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(8, 3.4))
    for label, curve in curves.items():
        ax.plot(np.arange(1, len(curve) + 1), curve, label=label, lw=1.4)
    ax.axvline(horizon, color="k", lw=0.8, ls=":")
    ax.text(horizon, ax.get_ylim()[1], " training horizon", fontsize=7, va="top")
    ax.set(xlabel="generated frame", ylabel=ylabel, title=title)
    ax.legend(frameon=False, fontsize=7)
    figure.tight_layout()
    return figure


# ----------------------------------------------------------------------------- the uncertain future


def circular_spread(angles: np.ndarray) -> np.ndarray:
    """Circular standard deviation in degrees over axis 0 (the samples): sqrt(-2 ln R), R the mean resultant length."""
    resultant = np.abs(np.exp(1j * angles).mean(axis=0))
    return np.degrees(np.sqrt(-2 * np.log(np.clip(resultant, 1e-12, 1.0))))


def future_spread(name: str, model, context: torch.Tensor, num_frames: int, profile, samples: int, method: str,
                  seed: int = 0) -> np.ndarray:
    """How much ``samples`` rollouts from the same context disagree, per generated frame: ``(contexts, N)`` degrees.

    Each context is repeated ``samples`` times and rolled out once (every copy draws its own
    noise); the angle of each frame is read from its pixels and the circular standard deviation
    is taken over the copies.
    """
    from dfkit.data.pendulum import estimate_angle
    from dfkit.sequence.recipes import rollout

    B = context.shape[0]
    repeated = context.repeat_interleave(samples, dim=0)                              # (B · S, c, 1, H, W)
    frames = rollout(name, model, repeated, num_frames, profile, dataset="pendulum", method=method, seed=seed)
    angles = estimate_angle(frames.numpy()).reshape(B, samples, num_frames)           # (B, S, N)
    return np.stack([circular_spread(angles[b]) for b in range(B)])                   # (B, N)


def pyramid_snapshot(model, context: torch.Tensor, schedule: NoiseSchedule, steps: int, num_frames: int,
                     parameterization: str = "v", seed: int = 0):
    """The frames of a pyramid walk at every row, and the matrix: ``(trajectory (M + 1, T, C, H, W) in [0, 1], matrix)``."""
    from dfkit.sequence.objectives import to_model_range, to_unit_range

    matrix = scheduling_matrix("pyramid", num_frames, steps, schedule.num_levels)
    _, trajectory = sample_with_matrix(model, matrix, schedule, context=to_model_range(context[:1]),
                                       parameterization=parameterization, clip_x0=1.0,
                                       generator=torch.Generator().manual_seed(seed), return_trajectory=True)
    return to_unit_range(trajectory[:, 0]), matrix


__all__ = [
    "angle_curves", "circular_spread", "explorer_frames", "future_spread",
    "lesson_budget", "matrix_explorer", "matrix_gallery", "model_calls", "noisy_clips",
    "pendulum_rollout_table", "pendulum_summary", "pendulum_truth", "plot_curves", "plot_matrix",
    "pyramid_snapshot", "render_truth", "torch_threads", "show_clips", "stabilized_history", "walk_matrix",
]
