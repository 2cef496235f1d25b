"""Lesson 07 (guidance): planning the pendulum by cost guidance, and history guidance.

The notebook keeps the formulas in view (the exercises) and calls these for the rest::

    budget = lesson_budget(profile)
    new_x0 = cost_guided_x0(x0_hat, gradient, levels, num_context, scale, "classifier", schedule)
    levels = view_levels(levels, num_context, keep=2, level=None, num_levels=K)        # which frame at which level
    frames = raise_level(x, levels, target_levels, noise, schedule)                     # q(x_k | x_s), frame by frame
    terms = history_guidance_terms("fractional", 1.0, level=200)                        # [(keep, level, weight), ...]
    hook = StudentCostGuidance(AngleCost(theta_star, frame=5), scale, cost_guided_x0)   # the sampler's guidance= hook
    combine = check_practice(guided_prediction)                                       # a student's, if it matches
    hook = StudentHistoryGuidance(model, terms, combine, generator)

The references of the graded exercises are the library's own, re-exported here from
:mod:`dfkit.sequence.guidance`: ``cost_guided_x0`` (the step of :class:`~dfkit.sequence.CostGuidance`),
``view_levels`` and ``raise_level`` (the views of :func:`~dfkit.sequence.guidance.show_history`) and
``history_guidance_terms`` (the weights of :class:`~dfkit.sequence.HistoryGuidance`).
``guided_prediction`` is the reference of the practice exercise; the two hooks run the students'
own versions inside :func:`dfkit.sequence.sample_with_matrix`, so the rollouts and plans the
notebook measures are built from the students' code.

Conventions as in :mod:`dfkit.sequence.guidance`: a window is ``(B, c + T, C, H, W)`` with the c
history frames first, its levels ``(B, c + T)``; a view ``(keep, level)`` shows the last ``keep``
history frames (None: all) at ``level`` (None: as the sampler shows them) and masks the others
at level K.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch

from dfkit.budgets import GuidanceBudget
from dfkit.diffusion.ddpm import to_x0_eps
from dfkit.diffusion.schedules import NoiseSchedule, standard_normal
from dfkit.sequence.guidance import cost_guided_x0, history_guidance_terms, raise_level, view_levels  # graded: the library's
from dfkit.sequence.sampler import GuidanceInput
from dfkit.viz import show_clips  # the notebook's

# --------------------------------------------------------------------------- budget


def lesson_budget(profile) -> GuidanceBudget:
    """What the lesson may cost beyond its models: ``profile.lessons.guidance``, a :class:`~dfkit.budgets.GuidanceBudget`."""
    return profile.lessons.guidance


# --------------------------------------------------------------------------- comparing term lists


def same_terms(got, expected, tolerance: float = 1e-6) -> bool:
    """Do two term lists describe the same combination (same weight per view; zero weights may be left out)?"""
    return combined_weights(got) is not None and _close(combined_weights(got), combined_weights(expected), tolerance)


def combined_weights(terms) -> dict | None:
    """{(keep, level): total weight} of a term list, zero totals dropped; None if it is not a list of triples."""
    try:
        total: dict = {}
        for keep, level, weight in terms:
            key = (None if keep is None else int(keep), None if level is None else int(level))
            total[key] = total.get(key, 0.0) + float(weight)
    except (TypeError, ValueError):
        return None
    return {key: value for key, value in total.items() if abs(value) > 1e-12}


def _close(a: dict, b: dict, tolerance: float) -> bool:
    keys = set(a) | set(b)
    return all(abs(a.get(key, 0.0) - b.get(key, 0.0)) <= tolerance for key in keys)


# --------------------------------------------------------------------------- the students' functions as sampler hooks


class StudentCostGuidance:
    """Cost guidance whose update is a student's ``cost_guided_x0`` (a ``guidance=`` hook of the sampler).

    As :class:`dfkit.sequence.CostGuidance`: the cost of x̂_0 of the generated frames is
    differentiated through the model with respect to the window x_k; the student's function
    turns the gradient into the new x̂_0, and the hook hands the sampler the difference.
    """

    requires_grad = True

    def __init__(self, cost: Callable, scale: float, update: Callable = cost_guided_x0, weighting: str = "classifier"):
        self.cost, self.scale, self.update, self.weighting = cost, float(scale), update, weighting

    def __call__(self, g: GuidanceInput) -> torch.Tensor | None:
        if self.scale == 0:
            return None
        cost = self.cost(g.x0_hat[:, g.num_context:])                                    # scalar
        (gradient,) = torch.autograd.grad(cost, g.x, retain_graph=True)                  # (B, c + T, C, H, W)
        x0_hat = g.x0_hat.detach()
        moved = self.update(x0_hat, gradient, g.levels, g.num_context, self.scale, self.weighting, g.schedule)
        return moved - x0_hat


def guided_prediction(model: Callable, x: torch.Tensor, levels: torch.Tensor, num_context: int, terms, schedule: NoiseSchedule,
                      prediction: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Σ_j w_j model(view_j of the window) for terms [(keep, level, w_j), ...] (Song et al. 2025).

    Terms with weight 0 are skipped. The plain conditional view (level None, keep None or c)
    is ``prediction``, the model's output on the window as it is. Every other view: its levels
    by :func:`view_levels`, its frames by :func:`raise_level` with noise
    ``torch.randn(x[:, :c].shape, generator=generator)`` for the history and zeros for the
    generated frames (they do not move), one draw per view in the order of the terms, then
    one model call. The same draws as :class:`dfkit.sequence.HistoryGuidanceHook`.
    x, prediction: ``(B, c + T, C, H, W)``; levels ``(B, c + T)``.
    """
    combined = torch.zeros_like(prediction)
    for keep, level, weight in terms:
        if weight == 0:
            continue
        if level is None and (keep is None or keep == num_context):
            branch = prediction
        else:
            target = view_levels(levels, num_context, keep, level, schedule.num_levels)
            history_noise = standard_normal(x[:, :num_context].shape, generator, x.device, x.dtype)
            noise = torch.cat([history_noise, torch.zeros_like(x[:, num_context:])], dim=1)      # generated frames stay
            branch = model(raise_level(x, levels, target, noise, schedule), target)
        combined = combined + weight * branch
    return combined


class StudentHistoryGuidance:
    """History guidance from a student's terms and ``guided_prediction`` (a ``guidance=`` hook of the sampler).

    At every row the hook hands ``combine(model, x, levels, c, terms, schedule, prediction,
    generator)`` the window and the sampler's conditional prediction; the combined prediction
    replaces the conditional one (the hook returns the x̂_0 difference).
    """

    requires_grad = False

    def __init__(self, model: Callable, terms, combine: Callable = guided_prediction, generator: torch.Generator | None = None):
        self.model, self.terms = model, [(keep, level, float(w)) for keep, level, w in terms]
        self.combine, self.generator = combine, generator

    def combined_prediction(self, x: torch.Tensor, levels: torch.Tensor, num_context: int, schedule: NoiseSchedule,
                            prediction: torch.Tensor) -> torch.Tensor:
        return self.combine(self.model, x, levels, num_context, self.terms, schedule, prediction, self.generator)

    def __call__(self, g: GuidanceInput) -> torch.Tensor | None:
        x, prediction = g.x.detach(), g.prediction.detach()
        with torch.no_grad():
            combined = self.combined_prediction(x, g.levels, g.num_context, g.schedule, prediction)
            x0_hat, _ = to_x0_eps(combined, g.parameterization, x, g.levels, g.schedule)
            return x0_hat - g.x0_hat.detach()


class _ToyWindowModel:
    """A deterministic stand-in for a video model: each frame mixes with the previous one, by level."""

    def __call__(self, frames: torch.Tensor, levels: torch.Tensor) -> torch.Tensor:
        weight = torch.cos(levels.to(frames.dtype) / 300)[..., None, None, None]           # (B, W, 1, 1, 1)
        previous = torch.cat([torch.zeros_like(frames[:, :1]), frames[:, :-1]], dim=1)
        return 0.7 * frames * weight + 0.3 * previous.roll(1, dims=-1) + 0.01 * levels.to(frames.dtype)[..., None, None, None]


def _practice_cases():
    """(arguments, description) of the cases ``check_practice`` compares on."""
    schedule = __import__("dfkit.diffusion.schedules", fromlist=["make_schedule"]).make_schedule("cosine", 1000)
    model = _ToyWindowModel()
    cases = []
    for seed, (kind, scale, options) in enumerate([("vanilla", 2.0, {}), ("vanilla", 1.0, {}),
                                                   ("fractional", 1.5, {"level": 300}),
                                                   ("temporal", [1.0, 0.5], {"windows": [1, 2]})]):
        generator = torch.Generator().manual_seed(seed)
        x = torch.randn(2, 5, 1, 4, 4, generator=generator)
        levels = torch.cat([torch.full((2, 3), 50), torch.randint(1, 1001, (2, 2), generator=generator)], dim=1)
        terms = history_guidance_terms(kind, scale, **options)
        cases.append(((model, x, levels, 3, terms, schedule, model(x, levels)), seed, f"{kind} terms {terms}"))
    return cases


def check_practice(function: Callable, verbose: bool = True) -> Callable:
    """``function`` if it matches :func:`guided_prediction` on a few windows, else the library's, with a notice."""
    problems = []
    for arguments, seed, description in _practice_cases():
        expected = guided_prediction(*arguments, torch.Generator().manual_seed(seed))
        try:
            got = function(*arguments, torch.Generator().manual_seed(seed))
        except NotImplementedError:
            problems = ["it is not written yet"]
            break
        except Exception as error:  # a student's bug: report it in one line
            problems.append(f"{description}: raised {type(error).__name__}: {error}")
            continue
        if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
            problems.append(f"{description}: expected a tensor of shape {tuple(expected.shape)}, got "
                            f"{tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__}")
        elif not torch.allclose(got, expected, atol=1e-5):
            problems.append(f"{description}: largest difference {float((got - expected).abs().max()):.3g}")
    if not problems:
        if verbose:
            print("guided_prediction matches dfkit.lessons.guidance.guided_prediction on 4 windows: the notebook uses yours.")
        return function
    if verbose:
        print(f"Notice: guided_prediction differs from the library ({problems[0]}), so the rest of this notebook uses "
              f"dfkit.lessons.guidance.guided_prediction instead of yours.")
    return guided_prediction


# --------------------------------------------------------------------------- experiments


def plan(model, context: torch.Tensor, num_frames: int, schedule: NoiseSchedule, steps: int, parameterization: str,
         hook=None, seed: int = 0) -> torch.Tensor:
    """``num_frames`` frames after ``context`` (both in [0, 1]) sampled together with a pyramid matrix, optionally guided.

    A pyramid matrix moves every frame at once (each one step behind the one before), so a cost
    on frame t* can still bend the frames before it. Returns ``(B, N, 1, H, W)`` in [0, 1].
    """
    from dfkit.sequence import sample_with_matrix, scheduling_matrix
    from dfkit.sequence.objectives import to_model_range, to_unit_range

    matrix = scheduling_matrix("pyramid", num_frames, steps, schedule.num_levels)
    frames = sample_with_matrix(model, matrix, schedule, context=to_model_range(context), parameterization=parameterization,
                                guidance=hook, clip_x0=1.0, generator=torch.Generator().manual_seed(seed))
    return to_unit_range(frames.detach())


def planning_rows(model, context, true_states, target_angle, target_frame: int, num_frames: int, schedule, steps: int,
                  parameterization: str, scales, make_hook: Callable, config, seed: int = 0, log=print):
    """One row of planning rates (hit, valid, physical, success, reachable) per guidance scale, and the frames."""
    from dfkit.sequence.planning import planning_report

    rows, plans = [], {}
    for scale in scales:
        hook = make_hook(scale) if scale > 0 else None
        frames = plan(model, context, num_frames, schedule, steps, parameterization, hook, seed)
        report = planning_report(frames, context, target_angle, target_frame, config, true_states=true_states)
        label = "unguided" if scale == 0 else f"w = {scale:g}"
        rows.append({"guidance": label, **report["rates"],
                     "median target err°": float(np.median(report["per_clip"]["target_error"]))})
        plans[label] = frames
        if log:
            log(f"{label:10s} " + "  ".join(f"{k} {v:.2f}" for k, v in report["rates"].items()))
    return rows, plans


def history_settings(budget: GuidanceBudget, num_context: int) -> dict:
    """{label: terms or None} of the history-guidance settings the notebook compares (None: no guidance)."""
    settings = {"no history guidance": None}
    for w in budget.vanilla_scales:
        if w != 1.0:
            settings[f"vanilla, w = {w:g}"] = history_guidance_terms("vanilla", w)
    for k in budget.fractional_levels:
        settings[f"fractional, w = 1, k_f = {k}"] = history_guidance_terms("fractional", 1.0, level=k)
    windows = tuple(sorted({1, num_context}))
    settings[f"temporal, windows {windows}, w_i = 1"] = history_guidance_terms("temporal", [1.0] * len(windows), windows=windows)
    return settings


def pendulum_history_table(model, context, truth, num_frames: int, settings: dict, schedule, parameterization: str,
                           rollout_config, window: int, config, bands, terms_hook: Callable, seed: int = 0, log=print):
    """Stabilized Diffusion Forcing rollouts under each history-guidance setting; rows of pendulum metrics, videos."""
    from dfkit.metrics.pendulum import pendulum_report
    from dfkit.sequence import rollout_sliding_window
    from dfkit.sequence.objectives import to_model_range, to_unit_range

    rows, videos, baselines = [], {}, None
    for label, terms in settings.items():
        generator = torch.Generator().manual_seed(seed)
        hook = None if terms is None else terms_hook(terms, generator)
        frames = rollout_sliding_window(model, to_model_range(context), num_frames, schedule, parameterization, rollout_config,
                                        window=window, guidance=hook, generator=generator)
        frames = to_unit_range(frames)
        report = pendulum_report(frames.numpy(), truth, context[:, -1], config, bands, name=label)
        rows.append(_pendulum_row(report[0], bands))
        baselines = baselines or [_pendulum_row(r, bands) for r in report[1:]]
        videos[label] = frames
        if log:
            log(f"{label:32s} angle err° (last band) {rows[-1][f'angle err° {bands[-1][0]}-{bands[-1][1]}']:6.1f}  "
                f"valid {rows[-1]['valid frames']:.2f}")
    return rows + baselines, videos


def _pendulum_row(row: dict, bands) -> dict:
    keep = ["method"] + [f"angle err° {a}-{b}" for a, b in bands] + ["valid frames", "VPT@10° (frames)", "VPT@20° (frames)"]
    return {key: row.get(key) for key in keep}


def format_table(rows: list[dict]) -> str:
    """Rows of dicts as a fixed-width text table (numbers with 2 decimals)."""
    columns = list(rows[0])
    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    widths = [max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(columns)]
    lines = ["  ".join(column.ljust(width) for column, width in zip(columns, widths))]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)) for line in cells]
    return "\n".join(lines)


def _cell(value) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.2f}"
    return "" if value is None else str(value)


# --------------------------------------------------------------------------- pictures


def planning_figure(rows: list[dict]):
    """Hit, physical and success rates against the guidance scale (the unguided baseline at the left)."""
    import matplotlib.pyplot as plt

    labels = [row["guidance"] for row in rows]
    figure, ax = plt.subplots(figsize=(6, 3.2))
    for name, marker in (("hit", "o"), ("valid", "s"), ("physical", "^"), ("success", "*")):
        ax.plot(range(len(rows)), [row[name] for row in rows], marker=marker, label=name)
    if "reachable" in rows[0]:
        ax.axhline(rows[0]["reachable"], color="k", ls=":", lw=1, label="reachable (ceiling)")
    ax.set_xticks(range(len(rows)), labels)
    ax.set(ylim=(-0.05, 1.05), ylabel="share of clips", title="planning to θ* at t*: rates against the scale")
    ax.legend(frameon=False, fontsize=8, loc="center left", bbox_to_anchor=(1, 0.5))
    figure.tight_layout()
    return figure


def view_strip(history: torch.Tensor, schedule: NoiseSchedule, views: dict, view_levels: Callable = view_levels,
               raise_level: Callable = raise_level, seed: int = 0):
    """The c history frames ``(c, 1, H, W)`` in [0, 1] under each view {name: (keep, level)}, one row per view."""
    from dfkit.sequence.objectives import to_model_range, to_unit_range

    c = history.shape[0]
    x = to_model_range(history)[None]                                                      # (1, c, 1, H, W)
    shown = torch.zeros(1, c, dtype=torch.long)
    rows = {}
    for name, (keep, level) in views.items():
        target = view_levels(shown, c, keep, level, schedule.num_levels)
        noise = torch.randn(x.shape, generator=torch.Generator().manual_seed(seed))
        rows[name] = to_unit_range(raise_level(x, shown, target, noise, schedule)[0].clamp(-1, 1))
    return show_clips(rows, title="the history as each view shows it to the model")


def low_pass_figure(frames: torch.Tensor, schedule: NoiseSchedule, levels=(0, 50, 200, 500, 800)):
    """Power spectrum of frames ``(N, 1, H, W)`` in [-1, 1] after scaling by sqrt(ᾱ_k), beside the noise floor 1 - ᾱ_k.

    Where the signal curve lies above the floor the view still shows the frames' content; noise
    drowns the high frequencies first: a history shown at level k_f is a low-pass view of it.
    """
    import matplotlib.pyplot as plt

    from dfkit.metrics.spectrum import radial_power_spectrum

    frequencies, power = radial_power_spectrum(frames[:, 0])
    figure, ax = plt.subplots(figsize=(5.5, 3.4))
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(levels)))
    for k, colour in zip(levels, colours):
        alpha_bar = float(schedule.alpha_bars[k])
        ax.loglog(frequencies, alpha_bar * power, color=colour, label=f"signal at k = {k}")
        if k > 0:
            ax.axhline(1 - alpha_bar, color=colour, ls="--", lw=0.8)
    ax.set(xlabel="spatial frequency (cycles / pixel)", ylabel="power",
           title="noise as a low-pass filter (dashed: noise floor 1 - ᾱ_k)")
    ax.legend(frameon=False, fontsize=7)
    figure.tight_layout()
    return figure


def visible_frequency(frames: torch.Tensor, schedule: NoiseSchedule, level: int) -> float:
    """The highest frequency (cycles / pixel) whose signal power ᾱ_k P(f) still exceeds the noise 1 - ᾱ_k (0 if none)."""
    from dfkit.metrics.spectrum import radial_power_spectrum

    frequencies, power = radial_power_spectrum(frames[:, 0])
    alpha_bar = float(schedule.alpha_bars[level])
    above = frequencies[alpha_bar * power > 1 - alpha_bar]
    return float(above.max()) if len(above) else 0.0


def view_explorer(history: torch.Tensor, schedule: NoiseSchedule, view_levels: Callable = view_levels,
                  raise_level: Callable = raise_level):
    """Sliders over (keep, k_f): the history frames as that view shows them (a static strip without ipywidgets)."""
    c = history.shape[0]
    try:
        import ipywidgets as widgets
    except ImportError:
        return view_strip(history, schedule, {"all, as shown": (None, None), "all at k = 300": (None, 300)}, view_levels, raise_level)
    import matplotlib.pyplot as plt

    output = widgets.Output()
    keep = widgets.IntSlider(value=c, min=0, max=c, description="keep")
    level = widgets.IntSlider(value=0, min=0, max=schedule.num_levels, step=10, description="k_f")

    def draw(*_):
        with output:
            output.clear_output(wait=True)
            figure = view_strip(history, schedule, {f"keep {keep.value}, k_f {level.value}": (keep.value, level.value)},
                                view_levels, raise_level)
            plt.show()
            plt.close(figure)

    keep.observe(draw, names="value")
    level.observe(draw, names="value")
    draw()
    return widgets.VBox([widgets.HBox([keep, level]), output])
