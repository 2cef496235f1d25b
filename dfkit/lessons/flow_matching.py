"""Lesson 03 (flow matching): the exact marginal velocity of a finite dataset, the practice checks,
the small 2-D trainings, the figures, the digit-flow slider and the steps-against-quality table.

The notebook keeps the math in view and calls these for everything else::

    budget = lesson_budget(profile)                         # how much the lesson's experiments may cost
    u = marginal_velocity(x_t, t, points)                   # E[x_1 - x_0 | x_t] when the data are `points`
    euler_step = check_practice("euler_step", euler_step)   # compare with dfkit.diffusion.flow, else use it
    path = solve(euler_step, velocity_fn, noise, steps=20)  # (steps + 1, *noise.shape), t = 0 first
    paths_figure(noise, data, interpolate, trajectory, ...) # straight conditional paths, curved marginal flow
    digit_flow(trajectory)                                  # a slider over t (a static strip without widgets)
    rows = steps_against_quality(flow_model, ddpm_model, budget, euler_step, heun_step)
    steps_against_quality_figure(rows)

Flow time runs from t = 0 (noise) to t = 1 (data), as in :mod:`dfkit.diffusion.flow`; digits are
in [-1, 1] inside the models and in [0, 1] whenever they are shown or scored.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn

from dfkit.budgets import FlowMatchingBudget
from dfkit.diffusion import flow
from dfkit.diffusion.ddpm import check_same_shape
from dfkit.diffusion.gaussian import toy_mixture  # noqa: F401  (the lesson's 2-D data)
from dfkit.metrics.points import sliced_wasserstein  # noqa: F401  (the lesson's distance)

# ----------------------------------------------------------------------------- budget


def lesson_budget(profile) -> FlowMatchingBudget:
    """What the lesson may cost beyond its models: ``profile.lessons.flow_matching``, a :class:`~dfkit.budgets.FlowMatchingBudget`."""
    return profile.lessons.flow_matching


# ----------------------------------------------------------------------------- the exact marginal velocity


def marginal_velocity(x_t: torch.Tensor, t, points: torch.Tensor) -> torch.Tensor:
    """The marginal velocity u_t(x) = E[x_1 - x_0 | x_t = x] of the straight path when the data
    distribution is the empirical distribution of ``points`` (each with weight 1/N).

    Given x_1 = p_i, the path x_t = (1 - t) x_0 + t p_i with x_0 ~ N(0, I) gives

        p_t(x | p_i) = N(x; t p_i, (1 - t)² I),      u_t(x | p_i) = (p_i - x) / (1 - t),

    and the lecture's average of conditional velocities (Lipman et al. 2023, eq. 8) becomes

        u_t(x) = Σ_i w_i(x) (p_i - x) / (1 - t),      w_i(x) = softmax_i( -‖x - t p_i‖² / (2 (1 - t)²) ),

    the weights being the posterior p(x_1 = p_i | x_t = x). At t = 1, x_t is a data point and
    x_0 is independent of it with mean 0, so u_1(x) = x.

    Args:
        x_t: ``(B, …)`` points at time t.
        t: a float, or a tensor of shape ``()`` or ``(B,)`` (one time per point), in [0, 1].
        points: ``(N, …)`` the dataset, with the trailing shape of ``x_t``.

    Returns:
        ``(B, …)`` velocities, in ``x_t``'s dtype. Computed in float64 with a log-sum-exp
        (softmax) over the points, so times close to 1 stay finite.
    """
    if not isinstance(x_t, torch.Tensor) or x_t.dim() < 2:
        raise ValueError(f"expected x_t of shape (B, ...), got {tuple(x_t.shape) if isinstance(x_t, torch.Tensor) else type(x_t).__name__}")
    if not isinstance(points, torch.Tensor) or points.dim() != x_t.dim() or points.shape[1:] != x_t.shape[1:] or len(points) < 1:
        shape = tuple(points.shape) if isinstance(points, torch.Tensor) else type(points).__name__
        raise ValueError(f"expected points of shape (N, {', '.join(str(n) for n in x_t.shape[1:])}), got {shape}")
    t = flow.check_times(t, x_t)
    if t.dim() > 1:
        raise ValueError(f"expected one time per point, of shape () or ({len(x_t)},), got {tuple(t.shape)}")
    x = x_t.flatten(1).double()                                     # (B, D)
    p = points.flatten(1).double().to(x.device)                     # (N, D)
    t = t.double().expand(len(x))[:, None]                          # (B, 1)
    remaining = 1 - t                                               # 1 - t: the noise scale of p_t(x | p_i)
    safe = torch.where(remaining > 0, remaining, torch.ones_like(remaining))
    # -‖x - t p_i‖² / (2 (1 - t)²) up to a term that does not depend on i: (t x·p_i - t² ‖p_i‖² / 2) / (1 - t)²
    logits = (t * (x @ p.T) - t**2 * (p * p).sum(1)[None] / 2) / safe**2      # (B, N)
    weights = torch.softmax(logits, dim=1)                          # p(x_1 = p_i | x_t): (B, N)
    velocity = (weights @ p - x) / safe                             # (B, D)
    velocity = torch.where(remaining > 0, velocity, x)
    return velocity.reshape(x_t.shape).to(x_t.dtype)


# ----------------------------------------------------------------------------- solving the ODE


def solve(step, velocity_fn, noise: torch.Tensor, steps: int, return_trajectory: bool = True):
    """Integrate dx/dt = u(x, t) from t = 0 to t = 1 on the uniform grid t_i = i / steps with ``step``.

    ``step(velocity_fn, x_t, t, t_next)`` is any one-step solver (``euler_step``, ``heun_step``),
    called with times of shape ``(B,)``. Returns the trajectory ``(steps + 1, *noise.shape)``
    (noise first, the sample last), or only the sample. Runs without gradients.
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"expected steps to be an int >= 1, got {steps!r}")
    times = torch.linspace(0.0, 1.0, steps + 1, dtype=torch.float64)
    x, trajectory = noise, [noise]
    with torch.no_grad():
        for t, t_next in zip(times[:-1].tolist(), times[1:].tolist()):
            now = torch.full(noise.shape[:1], t, dtype=noise.dtype, device=noise.device)
            later = torch.full(noise.shape[:1], t_next, dtype=noise.dtype, device=noise.device)
            x = step(velocity_fn, x, now, later)
            trajectory.append(x)
    return torch.stack(trajectory) if return_trajectory else x


# ----------------------------------------------------------------------------- practice exercises

PRACTICE = {"euler_step": "dfkit.diffusion.flow.euler_step", "heun_step": "dfkit.diffusion.flow.heun_step",
            "flow_loss": "dfkit.diffusion.flow.flow_loss"}


def _field(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """A velocity field that depends on x and on t: u = (1 + 2 t) (0.5 - x) + sin(3 t)."""
    t = flow.check_times(t, x)
    t = t.reshape(tuple(t.shape) + (1,) * (x.dim() - t.dim()))
    return (1 + 2 * t) * (0.5 - x) + torch.sin(3 * t)


class _LinearField(nn.Module):
    """A tiny trainable velocity model for the loss checks: u = x W + t b, on flattened points."""

    def __init__(self, dim: int, seed: int, dtype=torch.float32):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.weight = nn.Parameter(torch.randn(dim, dim, generator=generator, dtype=dtype) / math.sqrt(dim))
        self.bias = nn.Parameter(torch.randn(dim, generator=generator, dtype=dtype))

    def forward(self, x: torch.Tensor, t) -> torch.Tensor:
        t = flow.check_times(t, x).expand(len(x))
        return (x.flatten(1) @ self.weight + t[:, None] * self.bias).reshape(x.shape)


def _step_cases():
    """(description, x_t, t, t_next) for the step checks: per-point times, uneven steps, images, float64."""
    g = torch.Generator().manual_seed(3)
    return [
        ("4 points in 2-D, one step from t = 0.2 to 0.3",
         torch.randn(4, 2, generator=g), torch.full((4,), 0.2), torch.full((4,), 0.3)),
        ("2 images (2, 1, 3, 3), each at its own time, steps of different sizes",
         torch.randn(2, 1, 3, 3, generator=g), torch.tensor([0.1, 0.6]), torch.tensor([0.35, 0.7])),
        ("one point (batch of 1), the last step to t = 1",
         torch.randn(1, 2, generator=g), torch.tensor([0.75]), torch.tensor([1.0])),
        ("3 points in float64, a long step from t = 0 to 0.5",
         torch.randn(3, 2, generator=g, dtype=torch.float64), torch.zeros(3, dtype=torch.float64), torch.full((3,), 0.5, dtype=torch.float64)),
    ]


def _loss_cases():
    g = torch.Generator().manual_seed(4)
    return [
        ("8 points in 2-D", torch.randn(8, 2, generator=g), torch.rand(8, generator=g), torch.randn(8, 2, generator=g)),
        ("3 images (3, 1, 2, 2)", torch.randn(3, 1, 2, 2, generator=g), torch.tensor([0.0, 0.5, 1.0]), torch.randn(3, 1, 2, 2, generator=g)),
        ("one point (batch of 1)", torch.randn(1, 2, generator=g), torch.tensor([0.3]), torch.randn(1, 2, generator=g)),
    ]


def _compare(got, expected: torch.Tensor, what: str) -> str | None:
    """None when ``got`` is a tensor like ``expected``, else why not."""
    if not isinstance(got, torch.Tensor):
        return f"{what}: expected a torch tensor, got {type(got).__name__}"
    if got.shape != expected.shape:
        return f"{what}: expected shape {tuple(expected.shape)}, got {tuple(got.shape)}"
    if got.dtype != expected.dtype:
        return f"{what}: expected dtype {expected.dtype}, got {got.dtype}"
    got, expected = got.detach(), expected.detach()
    tolerance = dict(rtol=1e-9, atol=1e-12) if expected.dtype == torch.float64 else dict(rtol=1e-4, atol=1e-5)
    if not torch.allclose(got, expected, **tolerance, equal_nan=True):
        wrong = ~torch.isclose(got, expected, **tolerance, equal_nan=True)
        first = tuple(int(i) for i in wrong.nonzero()[0]) if wrong.dim() else ()
        return (f"{what}: {int(wrong.sum())} of {wrong.numel()} values differ; at index {first}: "
                f"expected {float(expected[first]):.6g}, got {float(got[first]):.6g}")
    return None


def _run_practice(name: str, function) -> list[tuple[str, str | None]]:
    """(case, problem or None) for every case of one practice exercise."""
    import importlib

    module_name, _, attribute = PRACTICE[name].rpartition(".")
    library = getattr(importlib.import_module(module_name), attribute)
    results = []

    def attempt(description, call):
        try:
            results.append((description, call()))
        except NotImplementedError:
            results.append((description, f"{name} is not written yet (it still raises NotImplementedError)"))
        except Exception as error:                      # the student's code may raise anything
            results.append((description, f"{name} raised {type(error).__name__}: {error}"))

    if name in ("euler_step", "heun_step"):
        for description, x, t, t_next in _step_cases():
            attempt(description, lambda x=x, t=t, t_next=t_next, d=description: _compare(
                function(_field, x.clone(), t.clone(), t_next.clone()), library(_field, x, t, t_next), d))
    else:
        for number, (description, data, t, noise) in enumerate(_loss_cases()):
            def loss_case(data=data, t=t, noise=noise, description=description, seed=number):
                model = _LinearField(data[0].numel(), seed)
                got = function(model, data.clone(), t=t.clone(), noise=noise.clone())
                problem = _compare(got, library(model, data, t=t, noise=noise), description)
                if problem is None and got.dim() != 0:
                    problem = f"{description}: expected a single number (a 0-d tensor), got shape {tuple(got.shape)}"
                if problem is None and not got.requires_grad:
                    problem = f"{description}: the loss does not depend on the model's parameters (was it detached?)"
                return problem
            attempt(description, loss_case)

        def random_draws():
            model = _LinearField(2, 7)
            data = torch.randn(16, 2, generator=torch.Generator().manual_seed(5))
            first = function(model, data, generator=torch.Generator().manual_seed(6))
            again = function(model, data, generator=torch.Generator().manual_seed(6))
            if not isinstance(first, torch.Tensor) or first.dim() != 0 or not torch.isfinite(first):
                return f"with t=None and noise=None: expected a finite 0-d tensor, got {first!r}"
            if not torch.equal(first, again):
                return "with t=None and noise=None: the same generator seed gave two different losses (draw t and noise with `generator`)"
            return None
        attempt("t and noise drawn with a seeded generator", random_draws)
    return results


def check_practice(name: str, function, verbose: bool = True):
    """Compare a practice exercise with the library's version on a few cases; return what to use next.

    Returns ``function`` when it agrees with dfkit on every case, else the library's function with a
    one-line notice (so the rest of the notebook runs either way). ``name`` is one of
    ``euler_step``, ``heun_step``, ``flow_loss``.
    """
    import importlib

    if name not in PRACTICE:
        raise ValueError(f"unknown practice exercise {name!r}; expected one of {sorted(PRACTICE)}")
    results = _run_practice(name, function)
    passed = all(problem is None for _, problem in results)
    not_written = any(problem and "not written yet" in problem for _, problem in results)
    if verbose and not not_written:
        for description, problem in results:
            print(f"[{'PASS' if problem is None else 'FAIL'}] {description}")
            if problem is not None:
                print(f"    {problem}")
        print(f"{name}: agrees with {PRACTICE[name]} on {sum(p is None for _, p in results)} of {len(results)} cases")
    if passed:
        return function
    module_name, _, attribute = PRACTICE[name].rpartition(".")
    why = "is not written yet" if not_written else "does not match the library yet"
    print(f"Notice: your {name} {why}, so the rest of this notebook uses {PRACTICE[name]} instead.")
    return getattr(importlib.import_module(module_name), attribute)


# ----------------------------------------------------------------------------- a velocity network for 2-D points


class VelocityMLP(nn.Module):
    """u_θ(x, t) for points in the plane: [x, sin/cos features of t] -> three SiLU layers -> velocity."""

    def __init__(self, dim: int = 2, hidden: int = 128, frequencies: int = 8):
        super().__init__()
        self.register_buffer("frequencies", math.pi * 2.0 ** torch.arange(frequencies, dtype=torch.float32) / 2)
        self.net = nn.Sequential(
            nn.Linear(dim + 2 * frequencies, hidden), nn.SiLU(),
            nn.Linear(hidden, hidden), nn.SiLU(),
            nn.Linear(hidden, hidden), nn.SiLU(),
            nn.Linear(hidden, dim),
        )

    def forward(self, x: torch.Tensor, t) -> torch.Tensor:
        t = flow.check_times(t, x).expand(len(x))[:, None]                # (B, 1)
        angles = t * self.frequencies                                       # (B, F)
        return self.net(torch.cat([x, angles.sin(), angles.cos()], dim=1))  # (B, D)


# ----------------------------------------------------------------------------- numbers


def nearest(samples: torch.Tensor, references: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Index of and Euclidean distance to each sample's nearest reference, both (N,)."""
    check_same_shape("references[0]", references[:1], "samples[0]", samples[:1])
    distances = torch.cdist(samples.flatten(1).double(), references.flatten(1).double())
    closest = distances.min(1)
    return closest.indices, closest.values


# ----------------------------------------------------------------------------- figures


def _plt():
    import matplotlib.pyplot as plt

    return plt


def _unit(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> [0, 1] for showing digits."""
    return ((images.detach().float().cpu() + 1) / 2).clamp(0, 1)


def paths_figure(noise: torch.Tensor, data: torch.Tensor, interpolate, trajectory: torch.Tensor, reference: torch.Tensor | None = None,
                 times=(0.0, 0.25, 0.5, 0.75, 1.0)):
    """Left: straight conditional paths between random pairs (noise_i, data_i), dots at ``times``.
    Right: trajectories (steps + 1, N, 2) of the marginal flow, which bend."""
    plt = _plt()
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4.6), sharex=True, sharey=True)
    shown = min(len(noise), 40)
    for axis in (left, right):
        if reference is not None:
            axis.scatter(*reference[:, :2].T.numpy(), s=3, color="0.8", zorder=0, label="data")
        axis.set_aspect("equal")
    for i in range(shown):
        left.plot([noise[i, 0], data[i, 0]], [noise[i, 1], data[i, 1]], color="tab:blue", lw=0.6, alpha=0.6)
    colours = plt.cm.viridis(torch.linspace(0, 1, len(times)).numpy())
    for colour, t in zip(colours, times):
        x_t = interpolate(noise[:shown], data[:shown], torch.full((shown,), float(t), dtype=noise.dtype))
        left.scatter(*x_t.T.numpy(), s=9, color=colour, zorder=3, label=f"t = {t:g}")
    left.set_title("conditional paths: x_t = (1 - t) x_0 + t x_1 (straight)")
    left.legend(frameon=False, fontsize=7, loc="lower left")
    paths = trajectory[:, :shown].numpy()
    for i in range(paths.shape[1]):
        right.plot(paths[:, i, 0], paths[:, i, 1], color="tab:red", lw=0.6, alpha=0.6)
    right.scatter(*paths[0].T, s=9, color=colours[0], zorder=3, label="start, t = 0")
    right.scatter(*paths[-1].T, s=9, color=colours[-1], zorder=3, label="end, t = 1")
    right.set_title(f"marginal flow, {len(trajectory) - 1} solver steps (curved)")
    right.legend(frameon=False, fontsize=7, loc="lower left")
    figure.tight_layout()
    return figure


def points_figure(clouds: dict, marked: torch.Tensor | None = None, title: str | None = None):
    """One scatter panel per entry of ``clouds`` (label -> points (N, 2)), on shared axes;
    ``marked`` points (a training set, say) are drawn as black crosses on every panel."""
    plt = _plt()
    figure, axes = plt.subplots(1, len(clouds), figsize=(3.4 * len(clouds), 3.5), sharex=True, sharey=True, squeeze=False)
    for axis, (label, points) in zip(axes[0], clouds.items()):
        axis.scatter(*points[:, :2].detach().T.numpy(), s=3, alpha=0.5)
        if marked is not None:
            axis.scatter(*marked[:, :2].T.numpy(), s=40, marker="x", color="k", label="training points")
            axis.legend(frameon=False, fontsize=7, loc="lower left")
        axis.set_title(label, fontsize=9)
        axis.set_aspect("equal")
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return figure


def toy_errors_figure(evaluations, errors: dict, floor: float):
    """Sliced Wasserstein distance to the data against velocity evaluations, one line per solver."""
    plt = _plt()
    figure, axis = plt.subplots(figsize=(5.6, 3.8))
    for name, values in errors.items():
        axis.loglog(evaluations, values, "o-", ms=4, label=name)
    axis.axhline(floor, color="k", ls=":", label="two real samples")
    axis.set_xticks(list(evaluations), [str(e) for e in evaluations])
    axis.xaxis.set_minor_formatter(plt.NullFormatter())
    axis.yaxis.set_major_formatter(plt.FormatStrFormatter("%.2g"))
    axis.yaxis.set_minor_formatter(plt.FormatStrFormatter("%.2g"))
    axis.set(xlabel="velocity evaluations (Heun: two per step)", ylabel="sliced Wasserstein to the data",
             title="the exact velocity: the only error is the solver's")
    axis.legend(frameon=False, fontsize=8)
    return figure


def show_digits(rows: dict, title: str | None = None, columns: int = 10):
    """One row of digits per entry of ``rows`` (label -> images (N, 1, 28, 28) in [-1, 1])."""
    plt = _plt()
    figure, axes = plt.subplots(len(rows), columns, figsize=(columns * 0.9, len(rows) * 1.0 + 0.3), squeeze=False)
    for r, (label, images) in enumerate(rows.items()):
        images = _unit(images)
        for c in range(columns):
            axis = axes[r, c]
            axis.set_axis_off()
            if c < len(images):
                axis.imshow(images[c, 0].numpy(), cmap="gray", vmin=0, vmax=1)
        axes[r, 0].set_title(label, fontsize=8, loc="left")
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return figure


def flow_strip(trajectory: torch.Tensor, shown_times=(0.0, 0.2, 0.4, 0.6, 0.8, 0.9, 1.0), digits: int = 6):
    """A static picture of the flow: one row per digit, one column per time (trajectory (steps + 1, N, 1, H, W))."""
    plt = _plt()
    steps = len(trajectory) - 1
    indices = [round(t * steps) for t in shown_times]
    digits = min(digits, trajectory.shape[1])
    figure, axes = plt.subplots(digits, len(indices), figsize=(len(indices) * 0.95, digits * 0.95 + 0.3), squeeze=False)
    for c, index in enumerate(indices):
        images = _unit(trajectory[index, :digits])
        for r in range(digits):
            axes[r, c].imshow(images[r, 0].numpy(), cmap="gray", vmin=0, vmax=1)
            axes[r, c].set_axis_off()
        axes[0, c].set_title(f"t = {index / steps:.2f}", fontsize=8)
    figure.tight_layout()
    return figure


def digit_flow(trajectory: torch.Tensor, digits: int = 8):
    """A slider over t showing digits flowing from noise (t = 0) to samples (t = 1).

    Without ipywidgets (or outside a notebook) a static strip is shown instead. Returns the widget,
    or the static figure.
    """
    plt = _plt()
    steps = len(trajectory) - 1
    digits = min(digits, trajectory.shape[1])
    try:
        import ipywidgets as widgets
        from IPython.display import display
    except ImportError:
        figure = flow_strip(trajectory, digits=min(digits, 6))
        plt.show()
        return figure

    def show(index: int):
        images = _unit(trajectory[index, :digits])
        figure, axes = plt.subplots(1, digits, figsize=(digits * 1.0, 1.35))
        for axis, image in zip(axes, images):
            axis.imshow(image[0].numpy(), cmap="gray", vmin=0, vmax=1)
            axis.set_axis_off()
        figure.suptitle(f"t = {index / steps:.2f}   (step {index} of {steps})", fontsize=10)
        plt.show()

    slider = widgets.IntSlider(value=steps // 2, min=0, max=steps, step=1, description="step",
                               continuous_update=True, layout=widgets.Layout(width="480px"))
    output = widgets.interactive_output(show, {"index": slider})
    box = widgets.VBox([slider, output])
    display(box)
    return box


# ----------------------------------------------------------------------------- steps against quality on digits


def steps_against_quality(flow_model, ddpm_model, budget: FlowMatchingBudget, euler_step=flow.euler_step, heun_step=flow.heun_step,
                          classifier=None, seed: int = 0, log=print) -> list[dict]:
    """Sample digits with each solver at each number of model evaluations and score them.

    Flow model: Euler (one evaluation per step) and Heun (two per step, so half the steps), with the
    given step functions. DDPM model: deterministic DDIM (η = 0), one evaluation per step. Every
    sampler starts from the same noise. Returns one row per (sampler, evaluations) holding the scores
    of :func:`dfkit.metrics.images.score_digit_samples` (the classifier-FID beside its real floor)
    and ``images``, the first ten samples in [-1, 1].
    """
    import time

    from dfkit.diffusion.ddpm import ddim_sample
    from dfkit.metrics.classifier import get_classifier
    from dfkit.metrics.images import score_digit_samples
    from dfkit.recipes import PARAMETERIZATION, course_schedule

    classifier = classifier if classifier is not None else get_classifier(progress=False)
    schedule = course_schedule()
    shape = (budget.digit_samples, 1, 28, 28)
    rows = []

    def noise():
        return torch.randn(shape, generator=torch.Generator().manual_seed(seed))

    for evaluations in budget.digit_evaluations:
        runs = {
            "flow, Euler": lambda: solve(euler_step, flow_model, noise(), evaluations, return_trajectory=False),
            "DDPM, DDIM": lambda: ddim_sample(lambda x, k: ddpm_model(x, k.float()), shape, schedule, steps=evaluations,
                                              parameterization=PARAMETERIZATION, generator=torch.Generator().manual_seed(seed)),
        }
        if evaluations >= 2:
            runs["flow, Heun"] = lambda: solve(heun_step, flow_model, noise(), evaluations // 2, return_trajectory=False)
        for sampler, run in runs.items():
            start = time.perf_counter()
            with torch.no_grad():
                samples = run()                                                   # (N, 1, 28, 28) in [-1, 1]
            seconds = time.perf_counter() - start
            scores = score_digit_samples(_unit(samples), classifier, seed=seed)
            rows.append({"sampler": sampler, "evaluations": evaluations, "seconds": seconds, "images": samples[:10], **scores})
            if log is not None:
                log(f"{sampler:12s} {evaluations:3d} evaluations: FID {scores['fid']:8.1f} (real floor {scores['fid_real_floor']:.1f}), "
                    f"confidence {scores['confidence']:.2f} (real {scores['confidence_real']:.2f}), "
                    f"{scores['coverage']}/10 classes, {seconds:.1f} s")
    return rows


def steps_against_quality_figure(rows: list[dict]):
    """Classifier-FID against model evaluations, one line per sampler, the real-data floor dotted."""
    plt = _plt()
    figure, axis = plt.subplots(figsize=(5.8, 3.9))
    for sampler in dict.fromkeys(r["sampler"] for r in rows):
        mine = [r for r in rows if r["sampler"] == sampler]
        axis.semilogx([r["evaluations"] for r in mine], [r["fid"] for r in mine], "o-", ms=4, label=sampler)
    axis.axhline(rows[0]["fid_real_floor"], color="k", ls=":", label=f"real digits ({rows[0]['samples']} of them)")
    evaluations = sorted({r["evaluations"] for r in rows})
    axis.set_xticks(evaluations, [str(e) for e in evaluations])
    axis.xaxis.set_minor_formatter(plt.NullFormatter())
    axis.set(xlabel="model evaluations per sample", ylabel="classifier-FID (lower is better)",
             title=f"{rows[0]['samples']} digits per point")
    axis.set_ylim(bottom=0)
    axis.legend(frameon=False, fontsize=8)
    return figure


def quality_table(rows: list[dict]) -> str:
    """The rows as a small text table (sampler, evaluations, FID, floor, confidence, coverage, seconds)."""
    lines = [f"{'sampler':12s} {'evals':>5s} {'FID':>8s} {'floor':>7s} {'confidence':>10s} {'classes':>7s} {'seconds':>7s}"]
    for r in rows:
        lines.append(f"{r['sampler']:12s} {r['evaluations']:5d} {r['fid']:8.1f} {r['fid_real_floor']:7.1f} "
                     f"{r['confidence']:10.2f} {r['coverage']:5d}/10 {r['seconds']:7.1f}")
    return "\n".join(lines)
