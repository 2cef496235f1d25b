"""Lesson 05 (full-sequence diffusion): the extension and planning loops that run the student's
functions, the rollout table and the plots of the notebook.

The references of the graded exercises are the library's own, re-exported here:
``full_sequence_noise`` (:mod:`dfkit.sequence.objectives`, the input of full-sequence training),
``replace_known``, ``reconstruction_gradient`` and ``reconstruction_guided_x0``
(:mod:`dfkit.sequence.rollout`, the steps of :func:`~dfkit.sequence.rollout.extend_video`) and
``border_inconsistency`` (:mod:`dfkit.metrics.pendulum`). The notebook keeps the ideas in view
and calls these for the rest::

    budget = lesson_budget(profile)                                   # what the experiments may cost
    x_k, levels = full_sequence_noise(clips, k, noise, schedule)      # one level per clip, all frames
    x = replace_known(x, levels, known, noise, schedule)              # the replacement step
    gradient = reconstruction_gradient(denoiser, x_k, levels, known)  # ∇_{x_k} ||x̂_0^a - x^a||²
    x0 = reconstruction_guided_x0(x0_hat, gradient, levels, w, a, schedule)   # the guided clean estimate
    jumps = border_inconsistency(angles, borders)                     # (B, 2): at the borders, inside
    video = extend(model, known, 24, schedule, "v", steps=10, chunk=8, method="reconstruction")
    table = pendulum_rollout_table(model, profile)                    # the benchmark's rows for this model
    rows = planning_sweep(model, context, targets, t_star, scales, ...)   # planning by cost guidance

Frames are videos ``(B, T, C, H, W)``: in [-1, 1] where a model sees them, in [0, 1] where they
are shown or scored. Levels are integers ``(B, T)``, 0 clean and K pure noise.
"""

from __future__ import annotations

import math
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from dfkit import viz
from dfkit.budgets import FullSequenceBudget
from dfkit.diffusion.ddpm import check_parameterization
from dfkit.diffusion.schedules import NoiseSchedule, standard_normal
from dfkit.metrics.pendulum import border_inconsistency, frame_surprise  # noqa: F401  (graded: the border measure)
from dfkit.metrics.pendulum import wrap_tensor as wrap  # noqa: F401  (the notebook's)
from dfkit.sequence.guidance import CombinedGuidance, CostGuidance
from dfkit.sequence.objectives import full_sequence_noise  # noqa: F401  (graded: the full-sequence objective's input)
from dfkit.sequence.planning import AngleCost, planning_report
from dfkit.sequence.rollout import ReconstructionGuidance
from dfkit.sequence.rollout import reconstruction_gradient, reconstruction_guided_x0, replace_known  # noqa: F401  (graded: extend_video's own)
from dfkit.sequence.sampler import GuidanceInput, sample_with_matrix
from dfkit.sequence.scheduling import full_sequence_matrix

# ----------------------------------------------------------------------------- budget


def lesson_budget(profile) -> FullSequenceBudget:
    """What the lesson may cost beyond its models: ``profile.lessons.full_sequence``, a :class:`~dfkit.budgets.FullSequenceBudget`."""
    return profile.lessons.full_sequence


@contextmanager
def torch_threads(count: int):
    """Run a block with ``count`` torch threads (e.g. every core for a training), then restore the setting."""
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


# ----------------------------------------------------------------------------- borders and pixel change


def window_borders(num_known: int, num_frames: int, chunk: int) -> list[int]:
    """Indices of the first frame of every generated chunk in ``known + generated`` (num_frames generated)."""
    return list(range(num_known, num_known + num_frames, chunk))


def pixel_change(frames) -> np.ndarray:
    """Mean squared change per pixel between consecutive frames, ``(B, N)`` with NaN at frame 0 (frames in [0, 1])."""
    video = frames.detach().cpu().double().numpy() if hasattr(frames, "detach") else np.asarray(frames, dtype=np.float64)
    change = ((video[:, 1:] - video[:, :-1]) ** 2).reshape(video.shape[0], video.shape[1] - 1, -1).mean(-1)
    return np.concatenate([np.full((video.shape[0], 1), np.nan), change], axis=1)


# ----------------------------------------------------------------------------- the loops, with the student's functions


class ReplacementHook:
    """The sampler's ``replace`` hook: known frames replaced by fresh q(x_k | truth) before every model call.

    Noise is drawn from ``generator`` exactly as :func:`dfkit.sequence.rollout.extend_video` draws it,
    so with the library's ``replace_known`` the results agree bit for bit.
    """

    def __init__(self, known: torch.Tensor, schedule: NoiseSchedule, generator=None, replace_fn=replace_known):
        self.known, self.schedule, self.generator, self.replace_fn = known, schedule, generator, replace_fn

    def __call__(self, x: torch.Tensor, levels: torch.Tensor, row: int) -> torch.Tensor:
        noise = standard_normal(self.known.shape, self.generator, self.known.device, self.known.dtype)
        return self.replace_fn(x, levels, self.known, noise, self.schedule)


@dataclass(frozen=True, eq=False)
class ReconstructionHook:
    """A guidance hook: ∇_{x_k} ||x̂_0^a - x^a||² by autograd, then ``guided_fn`` turns it into x̃_0."""

    known: torch.Tensor                       # (B, a, C, H, W)
    weight: float = 1.0
    guided_fn: object = reconstruction_guided_x0
    requires_grad = True                      # the sampler hands over x_k as a leaf that requires grad

    def __call__(self, g: GuidanceInput) -> torch.Tensor:
        start, stop = g.num_context, g.num_context + self.known.shape[1]
        error = ((g.x0_hat[:, start:stop] - self.known) ** 2).sum()
        (gradient,) = torch.autograd.grad(error, g.x, retain_graph=True)     # (B, W, C, H, W); kept for other hooks
        x0_hat = g.x0_hat.detach()
        return self.guided_fn(x0_hat, gradient, g.levels, self.weight, stop, g.schedule) - x0_hat


def extend(model, known: torch.Tensor, num_frames: int, schedule: NoiseSchedule, parameterization: str = "v",
           steps: int = 10, chunk: int = 8, window: int | None = None, method: str = "replacement", weight: float = 1.0,
           clip_x0: float | None = 1.0, generator=None, replace_fn=replace_known, guided_fn=reconstruction_guided_x0,
           return_trajectories: bool = False):
    """Extend ``known`` (B, c, C, H, W) in [-1, 1] by ``num_frames`` frames, one window at a time.

    The loop of :func:`dfkit.sequence.rollout.extend_video`, written out with the lesson's functions:

    1. the window holds the last ``window - n`` frames of the video (known) and n = ``chunk`` new ones;
    2. it is sampled with the full-sequence matrix (one level for all of its frames); before every
       model call ``replace_fn`` overwrites the known frames with q(x_k | truth);
    3. with ``method="reconstruction"`` the new frames' x̂_0 is corrected by ``guided_fn`` (weight w);
    4. the new frames join the video, and the window slides by n.

    Returns the ``num_frames`` new frames (and, if asked, each window's trajectory ``(M + 1, B, W, …)``).
    """
    check_parameterization(parameterization)
    if method not in ("replacement", "reconstruction"):
        raise ValueError(f"expected method 'replacement' or 'reconstruction', got {method!r}")
    window = window or model.max_window
    if known.shape[1] > window - chunk:
        raise ValueError(f"expected at most window - chunk = {window - chunk} known frames, got {known.shape[1]}")
    B, _, C, H, W = known.shape
    video, produced, trajectories = known, 0, []
    while produced < num_frames:
        n = min(chunk, num_frames - produced)
        truth = video[:, -(window - n):]                                        # (B, a, C, H, W)
        a = truth.shape[1]
        guidance = ReconstructionHook(truth, weight, guided_fn) if method == "reconstruction" else None
        frames, trajectory = sample_with_matrix(
            model, full_sequence_matrix(a + n, steps, schedule.num_levels), schedule, shape=(B, a + n, C, H, W),
            parameterization=parameterization, guidance=guidance, replace=ReplacementHook(truth, schedule, generator, replace_fn),
            clip_x0=clip_x0, generator=generator, device=known.device, return_trajectory=True,
        )
        trajectories.append(trajectory.detach())
        video = torch.cat([video, frames[:, a:].detach()], dim=1)
        produced += n
    new = video[:, known.shape[1]:]
    return (new, trajectories) if return_trajectories else new


# ----------------------------------------------------------------------------- the real model's x̂_0 and its gradient


def model_denoiser(model, parameterization: str, schedule: NoiseSchedule):
    """``(x_k, levels) -> x̂_0``: the model's prediction turned into its clean estimate (differentiable)."""
    from dfkit.diffusion.ddpm import to_x0_eps

    def denoiser(x_k: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
        return to_x0_eps(model(x_k, levels), parameterization, x_k, levels, schedule)[0]

    return denoiser


def library_guided_x0(model, x_k: torch.Tensor, levels: torch.Tensor, known: torch.Tensor, weight: float,
                      parameterization: str, schedule: NoiseSchedule) -> torch.Tensor:
    """x̂_0 + the correction of :class:`~dfkit.sequence.rollout.ReconstructionGuidance` on one window, as the sampler computes it."""
    x = x_k.detach().requires_grad_(True)
    with torch.enable_grad():
        prediction = model(x, levels)
        x0_hat = model_denoiser(lambda *_: prediction, parameterization, schedule)(x, levels)
        g = GuidanceInput(x, levels, levels, prediction, x0_hat, 0, 0, schedule, parameterization)
        correction = ReconstructionGuidance(known, weight)(g)
    return (x0_hat + correction).detach()


# ----------------------------------------------------------------------------- experiments


def read_angles(frames) -> torch.Tensor:
    """θ̂ of every frame, ``(B, N)`` float64, frames in [0, 1] (the pixel reader of the metrics)."""
    from dfkit.data.pendulum import estimate_angle

    video = frames.detach().cpu().numpy() if hasattr(frames, "detach") else np.asarray(frames)
    return torch.from_numpy(np.asarray(estimate_angle(video), dtype=np.float64))


def true_frames(states, image_size: int) -> torch.Tensor:
    """The pendulum rendered at the true angles of ``states`` (B, N, 2): ``(B, N, 1, S, S)`` in [0, 1]."""
    from dfkit.data.pendulum import render

    states = np.asarray(states)
    return torch.from_numpy(render(states[..., 0], image_size)).float()[:, :, None]


def clip_report(frames, config) -> dict:
    """Are clips ``(B, T, 1, H, W)`` in [0, 1] pendulum videos? Share of valid frames and of physical clips,
    and how far the pendulum moves per frame.

    valid: the frame shows one pendulum (:func:`dfkit.metrics.pendulum.frame_validity`); physical: one
    free swing with the data's physics explains every frame's angle within 10°
    (:func:`dfkit.sequence.planning.physics_fit`, the test of the planning report); |Δθ| per frame: the
    mean angle change between consecutive frames (:func:`dfkit.metrics.pendulum.angle_steps`), which
    jumps when frames do not follow each other.
    """
    from dfkit.metrics.pendulum import angle_steps, frame_validity
    from dfkit.sequence.planning import PHYSICS_TOLERANCE, physics_fit

    video = frames.detach().cpu().numpy() if hasattr(frames, "detach") else np.asarray(frames)
    score, _ = physics_fit(read_angles(video).numpy(), config, PHYSICS_TOLERANCE)
    return {"count": len(video), "valid frames": float(frame_validity(video)[0].mean()),
            "physical clips": float(np.mean(score <= 1.0)), "|Δθ| per frame °": float(angle_steps(video).mean())}


METHOD_LABELS = {
    "reconstruction": "full sequence, sliding window + reconstruction guidance",
    "replacement": "full sequence, sliding window + replacement",
    "clean_history": "full sequence, sliding window, clean history (out of distribution)",
}


def extend_with_clean_history(model, context: torch.Tensor, num_frames: int, profile, seed: int = 0) -> torch.Tensor:
    """The naive extension: known frames shown clean (level 0) beside new frames at level k.

    A full-sequence model never saw such a window (the lecture's out-of-distribution case).
    context: ``(B, c, 1, H, W)`` in [0, 1]; returns ``(B, num_frames, 1, H, W)`` in [0, 1].
    """
    from dfkit.recipes import course_schedule
    from dfkit.sequence.objectives import to_model_range, to_unit_range
    from dfkit.sequence.recipes import presets
    from dfkit.sequence.rollout import RolloutConfig, rollout_sliding_window

    chosen = presets("pendulum", profile)
    config = RolloutConfig(steps=chosen.sampling_steps, kind="full_sequence", chunk=chosen.chunk)
    known = to_model_range(context)[:, -(chosen.horizon - chosen.chunk):]
    frames = rollout_sliding_window(model, known, num_frames, course_schedule(), chosen.parameterization, config,
                                    window=chosen.horizon, generator=torch.Generator().manual_seed(seed))
    return to_unit_range(frames)


def pendulum_rollout_table(model, profile, methods=("reconstruction", "replacement", "clean_history"), seed: int = 0) -> dict:
    """The full-sequence rows of the course's rollout benchmark, measured the same way.

    Same test clips, context, length (10 H frames), truth (the physics continued from the last
    context state) and metrics as ``benchmarks/sequence_rollouts.py``, with its baselines. The
    benchmark's row is ``"reconstruction"``; ``"replacement"`` drops the guidance and
    ``"clean_history"`` shows the known frames clean (:func:`extend_with_clean_history`).
    Returns ``{"rows", "frames" (method -> (B, N, 1, H, W) in [0, 1]), "context", "truth", "bands"}``.
    """
    from dfkit.metrics.pendulum import pendulum_report, rollout_start
    from dfkit.sequence.recipes import dataset_split, presets, rollout

    unknown = sorted(set(methods) - set(METHOD_LABELS))
    if unknown:
        raise ValueError(f"unknown method(s) {unknown}; expected some of {sorted(METHOD_LABELS)}")
    chosen, config = presets("pendulum", profile), profile.pendulum
    clips = dataset_split("pendulum", profile, "test", progress=False)
    bands = chosen.bands
    num_frames = bands[-1][1]
    context, truth = rollout_start(clips, chosen.eval_clips, chosen.context, num_frames, config)   # (B, c, 1, H, W), (B, N, 2)
    first, last_band = bands[-1][0] - 1, f"{bands[-1][0]}-{bands[-1][1]}"
    rows, frames, baselines = [], {}, None
    for method in methods:
        label = METHOD_LABELS[method]
        if method == "clean_history":
            frames[method] = extend_with_clean_history(model, context, num_frames, profile, seed)
        else:
            frames[method] = rollout("full_sequence", model, context, num_frames, profile, dataset="pendulum",
                                     method=method, seed=seed)
        full = pendulum_report(frames[method].numpy(), truth, context[:, -1], config, bands, name=label)
        tail = pendulum_report(frames[method][:, first:].numpy(), truth[:, first:], context[:, -1], config,
                               ((1, num_frames - first),), name=label)
        summaries = [_summary(f, t, bands, last_band) for f, t in zip(full, tail)]
        rows.append(summaries[0])
        baselines = baselines or summaries[1:]
    return {"rows": rows + baselines, "frames": frames, "context": context, "truth": truth, "bands": bands}


def _summary(row: dict, tail: dict, bands, last_band: str) -> dict:
    summary = {"method": row["method"]}
    summary.update({f"angle err° {a}-{b}": row[f"angle err° {a}-{b}"] for a, b in bands})
    summary[f"valid {last_band}"] = tail["valid frames"]
    summary[f"energy drift {last_band}"] = row.get(f"energy drift {last_band}")
    summary["VPT@10° (frames)"] = row["VPT@10° (frames)"]
    summary["VPT@20° (frames)"] = row["VPT@20° (frames)"]
    return summary


def border_table(videos: dict, borders, measure=border_inconsistency) -> list[dict]:
    """Rows ``{"video", "surprise° at borders", "surprise° inside", "ratio"}`` from ``name -> angles (B, N)``.

    ``measure(angles, borders) -> (B, 2)`` is :func:`border_inconsistency` or the student's version.
    """
    rows = []
    for name, angles in videos.items():
        jumps = torch.rad2deg(torch.as_tensor(measure(angles, borders))).mean(0)        # (2,)
        border, inside = float(jumps[0]), float(jumps[1])
        rows.append({"video": name, "surprise° at borders": border, "surprise° inside": inside,
                     "ratio": border / inside if inside > 0 else math.nan})
    return rows


def plan(model, context: torch.Tensor, target_angle, target_frame: int, schedule: NoiseSchedule, parameterization: str = "v",
         steps: int = 10, scale: float = 100.0, reconstruction_weight: float | None = None, generator=None,
         clip_x0: float = 1.0) -> torch.Tensor:
    """Sample one window that continues ``context`` (B, c, 1, H, W) in [-1, 1] and is guided to θ* at t*.

    The context frames are held by replacement; the cost 1 - cos(θ̂ - θ*) of generated frame
    ``target_frame`` (0-based among the generated frames) is added as cost guidance with the
    "reconstruction" weighting (and, if a weight is given, reconstruction guidance too).
    Returns the ``window - c`` generated frames in [-1, 1].
    """
    B, c, C, H, W = context.shape
    window = model.max_window
    cost = CostGuidance(AngleCost(target_angle, c + target_frame), scale=scale, weighting="reconstruction")
    hooks = [cost] if scale > 0 else []
    if reconstruction_weight:
        hooks.append(ReconstructionGuidance(context, reconstruction_weight))
    guidance = None if not hooks else hooks[0] if len(hooks) == 1 else CombinedGuidance(*hooks)
    frames = sample_with_matrix(
        model, full_sequence_matrix(window, steps, schedule.num_levels), schedule, shape=(B, window, C, H, W),
        parameterization=parameterization, guidance=guidance, replace=ReplacementHook(context, schedule, generator),
        clip_x0=clip_x0, generator=generator, device=context.device,
    )
    return frames[:, c:].detach()


def planning_sweep(model, context, true_states, targets: dict, target_frame: int, scales, schedule: NoiseSchedule,
                   config, parameterization: str = "v", steps: int = 10, seed: int = 0) -> tuple[list[dict], dict]:
    """Plan every context to each kind of target at each scale; rows of planning rates and the plans.

    context: ``(B, c, 1, H, W)`` in [0, 1]; true_states: ``(B, 2)`` at the last context frame;
    targets: ``kind -> (B,) θ*`` radians. Success is judged by :func:`dfkit.sequence.planning.planning_report`
    (the plan hits θ* at t*, every frame is one pendulum, and a free swing through the context explains it).
    """
    from dfkit.sequence.objectives import to_model_range, to_unit_range

    rows, plans = [], {}
    for kind, theta in targets.items():
        for scale in scales:
            frames = plan(model, to_model_range(context), torch.as_tensor(theta, dtype=torch.float32), target_frame, schedule,
                          parameterization, steps, scale, generator=torch.Generator().manual_seed(seed))
            shown = to_unit_range(frames)
            report = planning_report(shown, context, np.asarray(theta), target_frame, config, true_states=true_states)
            rows.append({"target": kind, "scale": scale, **report["rates"],
                         "median target error°": float(np.median(report["per_clip"]["target_error"]))})
            plans[(kind, scale)] = shown
    return rows, plans


# ----------------------------------------------------------------------------- plots


def _plt():
    import matplotlib.pyplot as plt

    return plt


def show_clips(rows: dict, title: str | None = None, highlight=None, max_frames: int = 40):
    """One row per entry ``name -> (T, 1, H, W)`` frames in [0, 1]; frames in ``highlight`` framed in orange.

    :func:`dfkit.viz.show_clips` as a film strip (frames close together, no frame lines) of at most
    ``max_frames`` frames a row.
    """
    return viz.show_clips(rows, title, size=(0.55, 0.7), margin=(1.2, 0.4), highlight=highlight, max_frames=max_frames, film=True)


def matrix_figure(matrix: torch.Tensor, title: str = "full-sequence scheduling matrix"):
    """Heatmap of a scheduling matrix: rows = sampling steps, columns = frames, colour = level."""
    plt = _plt()
    figure, axis = plt.subplots(figsize=(0.35 * matrix.shape[1] + 2, 0.3 * matrix.shape[0] + 1.2))
    image = axis.imshow(matrix.numpy(), cmap="viridis", aspect="auto")
    axis.set(xlabel="frame t", ylabel="row m (sampling step)", title=title)
    figure.colorbar(image, ax=axis, label="level k")
    figure.tight_layout()
    return figure


def surprise_figure(curves: dict, borders, ylabel: str = "surprise e_t (degrees)", title: str | None = None):
    """Mean of a per-frame measure over clips against the frame index, window borders marked."""
    plt = _plt()
    figure, axis = plt.subplots(figsize=(8, 3))
    for b in borders:
        axis.axvline(b, color="tab:orange", lw=0.8, alpha=0.5)
    for name, values in curves.items():
        values = np.asarray(values, dtype=np.float64)
        if values.ndim == 2:
            with warnings.catch_warnings():                                   # frames where every clip is NaN
                warnings.simplefilter("ignore", RuntimeWarning)
                values = np.nanmean(values, axis=0)
        axis.plot(np.arange(values.shape[-1]), values, label=name)
    axis.set(xlabel="frame index (given frames first; orange: first frame of a new window)", ylabel=ylabel, title=title)
    axis.legend(frameon=False, fontsize=8)
    figure.tight_layout()
    return figure


def window_explorer(trajectory: torch.Tensor, num_known: int, sample: int = 0):
    """A slider over the sampler's rows of one window: the frames as the model sees them at that row.

    ``trajectory``: ``(M + 1, B, W, 1, H, W)`` in [-1, 1] (from :func:`extend` with
    ``return_trajectories=True``). Without ipywidgets, a static figure of a few rows.
    """
    frames = ((trajectory[:, sample] + 1) / 2).clamp(0, 1)                      # (M + 1, W, 1, H, W)
    rows = frames.shape[0]

    def figure_at(row: int):
        return show_clips({f"row {row}": frames[row]}, highlight=range(num_known),
                          title=f"row {row} of {rows - 1}: known frames (orange) after the replacement step")

    try:
        import ipywidgets as widgets
    except ImportError:
        shown = sorted({0, rows // 3, 2 * rows // 3, rows - 1})
        return show_clips({f"row {r}": frames[r] for r in shown}, highlight=range(num_known),
                          title="the window at a few rows (known frames framed)")
    output = widgets.Output()
    slider = widgets.IntSlider(value=rows // 2, min=0, max=rows - 1, description="row m")

    def show(change=None):
        with output:
            output.clear_output(wait=True)
            figure = figure_at(slider.value)
            _plt().show()
            _plt().close(figure)

    slider.observe(show, names="value")
    show()
    return widgets.VBox([slider, output])


def gradient_figure(gradient: torch.Tensor, num_known: int):
    """Root-mean-square of the reconstruction gradient per frame of the window (mean over clips)."""
    plt = _plt()
    size = gradient.detach().double().pow(2).flatten(2).mean(-1).sqrt().mean(0).numpy()        # (W,)
    figure, axis = plt.subplots(figsize=(6, 2.6))
    colours = ["tab:blue" if t < num_known else "tab:orange" for t in range(len(size))]
    axis.bar(np.arange(len(size)), size, color=colours)
    axis.set(xlabel="frame of the window (blue: known, orange: new)", ylabel="RMS of the gradient",
             title="∇ of the known frames' reconstruction error, per frame")
    figure.tight_layout()
    return figure


def planning_figure(rows: list[dict]):
    """hit and success rates against the guidance scale, one line per target kind."""
    plt = _plt()
    figure, axes = plt.subplots(1, 2, figsize=(8, 3), sharey=True)
    for axis, column in zip(axes, ("hit", "success")):
        for kind in dict.fromkeys(r["target"] for r in rows):
            mine = [r for r in rows if r["target"] == kind]
            axis.plot([str(r["scale"]) for r in mine], [r[column] for r in mine], "o-", label=kind)
        axis.set(xlabel="guidance scale", title=column, ylim=(-0.05, 1.05))
    axes[0].set_ylabel("share of clips")
    axes[0].legend(frameon=False, fontsize=8)
    figure.tight_layout()
    return figure
