"""Guidance hooks for the sequence sampler: cost guidance (planning) and history guidance.

Both plug into :func:`dfkit.sequence.sampler.sample_with_matrix` as ``guidance=`` hooks. The
sampler calls a hook once per row, after the model, and the hook answers with a correction δ
of the clean estimate x̂_0 of the frames that move at that row (x_k stays fixed, so the
prediction is shifted consistently, see ``sampler.shift_prediction``).

Cost guidance (classifier guidance of Dhariwal & Nichol 2021, with a cost in place of the
classifier; Diffusion Forcing, Chen et al. 2024, Algorithm 2, ``AddGuidance``). For a
differentiable cost c on the clean frames, treat exp(-w c(x_0)) as a likelihood and estimate
log p(y | x_k) ≈ -w c(x̂_0(x_k)). Classifier guidance then moves the clean estimate by
Tweedie's formula:

    δ = -w λ_k ∇_{x_k} c(x̂_0(x_k)),   λ_k = (1 - ᾱ_k) / sqrt(ᾱ_k)          ("classifier")

which is Dhariwal & Nichol's ε̂ ← ε̂ + w sqrt(1 - ᾱ_k) ∇_{x_k} c written in x̂_0 space. The
gradient flows through the model, so a cost on frame t* also moves the frames the model
uses to predict frame t* (with a causal model: the frames before it). For Gaussian data and a
linear cost this is exact: δ = -w Cov[x_0 | x_k] ∇c, and sampling gives the tilted law
p(x_0) exp(-w c(x_0)) / Z (tested against the exact Gaussian denoiser). For a trained
ε-network at high noise, x̂_0(x_k) = (x_k - sqrt(1 - ᾱ_k) ε̂) / sqrt(ᾱ_k) amplifies the
network's errors by 1 / sqrt(ᾱ_k), and λ_k multiplies them again; there the weighting of
reconstruction guidance (Ho et al. 2022, "Video Diffusion Models", eq. 7) is the safer one:

    λ_k = sqrt(ᾱ_k)                                                          ("reconstruction")

which fades the guidance out at high noise and pushes x̂_0 down the cost gradient at low
noise. Pass ``clip_x0`` to the sampler so that a strong push saturates instead of exploding.

History guidance (Song et al. 2025, "History-Guided Video Diffusion"). A model trained with
Diffusion Forcing has seen every frame at every level, including a history that is fully
noised, so noise can mask the history in or out at sampling time ("noise as masking"). A
*view* of the history shows some of its frames at some level and masks the others at level K;
history guidance combines the predictions under several views with weights summing to one
(classifier-free guidance, Ho & Salimans 2022, with the history as the condition):

    vanilla     ε̃ = ε(∅) + w [ε(h) - ε(∅)]                       (w = 1: plain conditional)
    fractional  ε̃ = ε(h) + w [ε(h at level k_f) - ε(∅)]           (w = 0: plain conditional)
    temporal    ε̃ = ε(∅) + Σ_i w_i [ε(h_i) - ε(∅)]                (h_i: the last n_i frames)

with ε(h) the prediction given the history as the sampler shows it, ε(∅) the prediction with
the whole history at level K. Noise acts as a low-pass filter on images (their power spectra
fall like a power law), so ε(h at level k_f) - ε(∅) is what the coarse, low-frequency content
of the history adds: fractional guidance amplifies it (better motion) while ε(h) keeps the
details. Every combination is linear in the prediction with weights summing to one, so it
means the same in the "eps", "x0" and "v" parameterizations.

    hook = HistoryGuidanceHook(model, HistoryGuidance.fractional(1.0, level=200), generator)
    frames = sample_with_matrix(model, matrix, schedule, context=history, guidance=hook)

* :class:`CostGuidance` — the cost hook (``requires_grad = True``), whose step is :func:`cost_guided_x0`;
* :class:`HistoryView`, :class:`HistoryGuidance` — which views, with which weights
  (:func:`history_guidance_terms`);
* :func:`show_history` — the window as a view shows it: levels by :func:`view_levels`, history
  raised by the forward transition of :func:`raise_level` (coefficients in float64);
* :func:`history_guided_prediction` — the combined prediction for one window;
* :class:`HistoryGuidanceHook` — the hook that holds the model and calls it for the extra views;
* :class:`CombinedGuidance` — several hooks in one run (history guidance while planning).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import torch

from dfkit.diffusion.ddpm import to_x0_eps
from dfkit.diffusion.schedules import NoiseSchedule, standard_normal
from dfkit.sequence.sampler import GuidanceInput

WEIGHTINGS = ("classifier", "reconstruction")


def _check_scale(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ValueError(f"expected {name} to be a finite number >= 0, got {value!r}")
    return float(value)


# --------------------------------------------------------------------------- cost guidance


def guidance_weight(schedule: NoiseSchedule, levels: torch.Tensor, weighting: str, like: torch.Tensor) -> torch.Tensor:
    """λ_k per frame, shaped to broadcast against ``like`` ``(B, W, C, H, W)``.

    "classifier": (1 - ᾱ_k) / sqrt(ᾱ_k) (0 where ᾱ_k = 0); "reconstruction": sqrt(ᾱ_k).
    """
    if weighting not in WEIGHTINGS:
        raise ValueError(f"expected weighting in {WEIGHTINGS}, got {weighting!r}")
    root = schedule.alpha_bar(levels, like=like).sqrt()
    if weighting == "reconstruction":
        return root
    safe = torch.where(root > 0, root, torch.ones_like(root))
    return torch.where(root > 0, schedule.one_minus_alpha_bar(levels, like=like) / safe, torch.zeros_like(root))


def cost_guided_x0(x0_hat: torch.Tensor, gradient: torch.Tensor, levels: torch.Tensor, num_context: int, scale: float,
                   weighting: str, schedule: NoiseSchedule) -> torch.Tensor:
    """The clean estimate moved down the cost: x̂_0 - w λ_k ∇_{x_k} c, history frames unchanged.

    λ_k (per frame, from its level, :func:`guidance_weight`): "classifier" (1 - ᾱ_k) / sqrt(ᾱ_k)
    (0 where ᾱ_k = 0), Tweedie's formula for classifier guidance; "reconstruction" sqrt(ᾱ_k)
    (Ho et al. 2022, eq. 7). The step does not depend on x̂_0, so :class:`CostGuidance` hands the
    sampler the update of a zero estimate.

    x0_hat, gradient: ``(B, c + T, C, H, W)``; levels ``(B, c + T)``; the first ``num_context``
    frames are history and keep x̂_0 as it is. Returns a tensor like ``x0_hat``.
    """
    if x0_hat.shape != gradient.shape or tuple(levels.shape) != tuple(x0_hat.shape[:2]):
        raise ValueError(f"expected x0_hat and gradient of one shape (B, W, C, H, W) and levels (B, W), "
                         f"got {tuple(x0_hat.shape)}, {tuple(gradient.shape)} and {tuple(levels.shape)}")
    step = scale * guidance_weight(schedule, levels, weighting, gradient) * gradient      # (B, W, C, H, W)
    moved = torch.arange(x0_hat.shape[1], device=x0_hat.device) >= num_context             # (W,)
    return torch.where(moved[None, :, None, None, None], x0_hat - step.to(x0_hat.dtype), x0_hat)


@dataclass(frozen=True, eq=False)
class CostGuidance:
    """Guide sampling down a differentiable cost of the clean frames (see the module doc).

    At every row: x̂_0 of the generated frames is handed to ``cost``, which returns one number
    (sum over the batch: the samples are independent, so the gradient of the sum is every
    sample's own gradient); the correction is δ = -w λ_k ∇_{x_k} cost, zero on the history
    (the step of :func:`cost_guided_x0`).

    Attributes:
        cost: ``x̂_0 of the generated frames (B, T, C, H, W), in the model range -> scalar``.
        scale: w >= 0; 0 returns no correction, so sampling is unguided bit for bit.
        weighting: λ_k, ``"classifier"`` (exact for Gaussians) or ``"reconstruction"``.
    """

    cost: Callable[[torch.Tensor], torch.Tensor]
    scale: float = 1.0
    weighting: str = "classifier"
    requires_grad = True                # the sampler hands over x_k as a leaf that requires grad

    def __post_init__(self):
        if not callable(self.cost):
            raise ValueError(f"expected cost to be callable (frames -> scalar), got {type(self.cost).__name__}")
        _check_scale(self.scale, "the guidance scale")
        if self.weighting not in WEIGHTINGS:
            raise ValueError(f"expected weighting in {WEIGHTINGS}, got {self.weighting!r}")

    def __call__(self, g: GuidanceInput) -> torch.Tensor | None:
        if self.scale == 0:
            return None
        c = g.num_context
        cost = self.cost(g.x0_hat[:, c:])                                          # scalar
        if not isinstance(cost, torch.Tensor) or cost.dim() != 0:
            got = tuple(cost.shape) if isinstance(cost, torch.Tensor) else type(cost).__name__
            raise ValueError(f"expected the cost to return a scalar tensor (sum it over the batch), got {got}")
        if not cost.requires_grad:
            raise ValueError("expected a cost that depends differentiably on the frames it is given")
        (gradient,) = torch.autograd.grad(cost, g.x, retain_graph=True)            # (B, c + T, C, H, W); kept for other hooks
        # x̃_0 - x̂_0 (zero on the history, which never moves): the guided estimate of x̂_0 = 0
        return cost_guided_x0(torch.zeros_like(gradient), gradient, g.levels, c, self.scale, self.weighting, g.schedule)


# --------------------------------------------------------------------------- history guidance


@dataclass(frozen=True)
class HistoryView:
    """How one branch of history guidance shows the history to the model.

    The last ``keep`` history frames are visible (None: all of them) at ``level`` (None: the
    level the sampler shows them at, 0 or k_small); the earlier ones are masked at level K.
    ``HistoryView()`` is the plain conditional, ``HistoryView(keep=0)`` the unconditional.
    Raising a frame from the level it is shown at to a higher one draws fresh noise from the
    forward transition q(x_k' | x_k); a frame that keeps its level is passed on untouched.
    """

    keep: int | None = None
    level: int | None = None

    def __post_init__(self):
        for name in ("keep", "level"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValueError(f"expected {name} to be None or an int >= 0, got {value!r}")


CONDITIONAL = HistoryView()
UNCONDITIONAL = HistoryView(keep=0)


def history_guidance_terms(kind: str, scale, level: int | None = None, windows: Sequence[int] | None = None) -> list[tuple]:
    """History guidance as a weighted sum of views, ``[(keep, level, weight), ...]`` (Song et al. 2025).

    * ``"vanilla"``, scale w:  ε(∅) + w [ε(h) - ε(∅)]  ->  [(None, None, w), (0, None, 1 - w)]
    * ``"fractional"``, scale w, level k_f:  ε(h) + w [ε(h at k_f) - ε(∅)]
      ->  [(None, None, 1), (None, k_f, w), (0, None, -w)]
    * ``"temporal"``, scale = weights (w_i), windows (n_i):  ε(∅) + Σ_i w_i [ε(last n_i) - ε(∅)]
      ->  [(0, None, 1 - Σ w_i), (n_1, None, w_1), ...]

    ε(h): the history as the sampler shows it (keep None, level None); ε(∅): all of it masked (keep 0).
    The constructors of :class:`HistoryGuidance` build their views from these terms.
    """
    if kind == "vanilla":
        w = float(scale)
        return [(None, None, w), (0, None, 1.0 - w)]
    if kind == "fractional":
        w = float(scale)
        return [(None, None, 1.0), (None, int(level), w), (0, None, -w)]
    if kind == "temporal":
        weights = [float(w) for w in scale]
        return [(0, None, 1.0 - sum(weights))] + [(int(n), None, w) for n, w in zip(windows, weights)]
    raise ValueError(f"expected kind in ('vanilla', 'fractional', 'temporal'), got {kind!r}")


@dataclass(frozen=True)
class HistoryGuidance:
    """A weighted sum of predictions under several views of the history; weights sum to one.

    Build it with :meth:`vanilla`, :meth:`fractional` or :meth:`temporal`, or give the views
    and weights directly. Views with weight 0 are never evaluated.
    """

    views: tuple[HistoryView, ...]
    weights: tuple[float, ...]

    def __post_init__(self):
        views, weights = tuple(self.views), tuple(self.weights)
        if not views or len(views) != len(weights):
            raise ValueError(f"expected as many weights as views (at least one), got {len(views)} views and {len(weights)} weights")
        if not all(isinstance(view, HistoryView) for view in views):
            raise ValueError("expected every view to be a HistoryView")
        if not all(isinstance(w, (int, float)) and not isinstance(w, bool) and math.isfinite(w) for w in weights):
            raise ValueError(f"expected finite numbers as weights, got {weights}")
        if abs(sum(weights) - 1.0) > 1e-6:
            raise ValueError(f"expected weights summing to 1 (a combination of predictions), got {weights} (sum {sum(weights)})")
        object.__setattr__(self, "views", views)
        object.__setattr__(self, "weights", tuple(float(w) for w in weights))

    @classmethod
    def from_terms(cls, terms: Sequence[tuple]) -> "HistoryGuidance":
        """One view per term ``(keep, level, weight)`` of :func:`history_guidance_terms`."""
        return cls(tuple(HistoryView(keep, level) for keep, level, _ in terms), tuple(weight for _, _, weight in terms))

    @classmethod
    def vanilla(cls, scale: float) -> "HistoryGuidance":
        """ε(∅) + w [ε(h) - ε(∅)]: w = 1 is the plain conditional, w = 0 the unconditional model."""
        w = _check_scale(scale, "the history guidance scale")
        return cls.from_terms(history_guidance_terms("vanilla", w))

    @classmethod
    def fractional(cls, scale: float, level: int) -> "HistoryGuidance":
        """ε(h) + w [ε(h at level k_f) - ε(∅)]: w = 0 is the plain conditional; k_f = 0 is vanilla with 1 + w."""
        w = _check_scale(scale, "the history guidance scale")
        if isinstance(level, bool) or not isinstance(level, int) or level < 0:
            raise ValueError(f"expected the fractional level k_f to be an int in [0, K], got {level!r}")
        return cls.from_terms(history_guidance_terms("fractional", w, level=level))

    @classmethod
    def temporal(cls, windows: Sequence[int], weights: Sequence[float]) -> "HistoryGuidance":
        """ε(∅) + Σ_i w_i [ε(last n_i frames) - ε(∅)]: windows (n_i,) with weights (w_i,) >= 0."""
        windows, weights = tuple(windows), tuple(weights)
        if not windows or len(windows) != len(weights):
            raise ValueError(f"expected one weight per window (at least one window), got windows {windows} and weights {weights}")
        for n in windows:
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                raise ValueError(f"expected every window to be an int >= 1 (most recent history frames kept), got {n!r}")
        ws = [_check_scale(w, "every temporal weight") for w in weights]
        return cls.from_terms(history_guidance_terms("temporal", ws, windows=windows))


def view_levels(levels: torch.Tensor, num_context: int, keep: int | None, level: int | None, num_levels: int) -> torch.Tensor:
    """The levels of the window as the view ``(keep, level)`` shows it to the model (:func:`show_history`'s levels).

    History frame i < c: among the last ``keep`` ones (None: all c) it is shown at ``level``
    (None: the level it has now); the earlier ones are masked at K = ``num_levels``. Generated
    frames keep their levels. levels: ``(B, c + T)`` integers; returns the same shape and dtype.
    """
    c = num_context
    keep = c if keep is None else keep
    history = levels[:, :c]                                                               # (B, c)
    shown = history if level is None else torch.full_like(history, level)
    visible = torch.arange(c, device=levels.device) >= c - keep                          # (c,): the last `keep`
    history = torch.where(visible, shown, torch.full_like(history, num_levels))
    return torch.cat([history, levels[:, c:]], dim=1)


def raise_level(x: torch.Tensor, levels: torch.Tensor, target_levels: torch.Tensor, noise: torch.Tensor,
                schedule: NoiseSchedule) -> torch.Tensor:
    """Each frame moved from its level s to k >= s by the forward transition q(x_k | x_s).

        x_k = sqrt(ᾱ_k / ᾱ_s) x_s + sqrt((ᾱ_s - ᾱ_k) / ᾱ_s) ε

    (the product of the steps s + 1, ..., k of the forward process; for s = 0 it is q_sample).
    Frames whose level does not change are returned exactly as they are. x, noise:
    ``(B, W, C, H, W)``; levels, target_levels: ``(B, W)``. :func:`show_history` takes the same
    transition with coefficients computed in float64 (:func:`_raise_coefficients`), which agree
    with these to float32 rounding.
    """
    if bool((target_levels < levels).any()):
        raise ValueError("expected target levels >= the current levels: noise can be added, not removed")
    ratio = schedule.alpha_bar(target_levels, like=x) / schedule.alpha_bar(levels, like=x)   # ᾱ_k / ᾱ_s: (B, W, 1, 1, 1)
    raised = ratio.sqrt() * x + (1 - ratio).clamp(min=0).sqrt() * noise      # (ᾱ_s - ᾱ_k) / ᾱ_s = 1 - ᾱ_k / ᾱ_s
    moved = (target_levels != levels)[..., None, None, None]
    return torch.where(moved, raised.to(x.dtype), x)


def _raise_coefficients(schedule: NoiseSchedule, shown: torch.Tensor, target: torch.Tensor, like: torch.Tensor):
    """ᾱ_k / ᾱ_s and (ᾱ_s - ᾱ_k) / ᾱ_s for moving level s to k, computed in float64 without cancellation.

    Near k = 0 the second is the difference of the small (1 - ᾱ)s; near K it is 1 - ᾱ_k / ᾱ_s
    (the difference of two (1 - ᾱ)s close to 1 would round to 0 in float32).
    """
    double = like.to(torch.float64)
    alpha_s, alpha_k = schedule.alpha_bar(shown, like=double), schedule.alpha_bar(target, like=double)
    small_levels = (schedule.one_minus_alpha_bar(target, like=double) - schedule.one_minus_alpha_bar(shown, like=double)) / alpha_s
    added = torch.where(alpha_s > 0.5, small_levels, 1 - alpha_k / alpha_s).clamp(min=0)
    return (alpha_k / alpha_s).to(like.dtype), added.to(like.dtype)


def show_history(view: HistoryView, x: torch.Tensor, levels: torch.Tensor, num_context: int, schedule: NoiseSchedule,
                 generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The window and its levels as ``view`` shows the history; the generated frames are untouched.

    x: ``(B, c + T, C, H, W)`` history first, as the sampler shows it; levels ``(B, c + T)``.
    The view's levels are :func:`view_levels`; history frame i moves from its level s to the
    view's level k >= s by the forward transition (:func:`raise_level`)

        x_k = sqrt(ᾱ_k / ᾱ_s) x_s + sqrt((ᾱ_s - ᾱ_k) / ᾱ_s) ε,

    with one draw of ε ``(B, c, C, H, W)`` from ``generator`` when any frame moves.
    """
    c, K = num_context, schedule.num_levels
    keep = c if view.keep is None else view.keep
    if keep > c:
        raise ValueError(f"expected a history window of at most the {c} context frames, got keep={keep}")
    if view.level is not None and view.level > K:
        raise ValueError(f"expected the history level in [0, K={K}], got {view.level}")
    viewed = view_levels(levels, c, view.keep, view.level, K)                         # (B, c + T)
    shown, target = levels[:, :c], viewed[:, :c]                                     # (B, c) each: from s to k
    if bool((target < shown).any()):
        raise ValueError(f"expected the view's level >= the level the history is shown at ({int(shown.max())}), "
                         f"got {view.level}: noise can be added to the history, not removed")
    moved = target != shown                                                           # (B, c)
    if not bool(moved.any()):
        return x, levels
    history = x[:, :c]
    keep_ratio, added_ratio = _raise_coefficients(schedule, shown, target, history)
    noise = standard_normal(history.shape, generator, history.device, history.dtype)
    raised = keep_ratio.sqrt() * history + added_ratio.sqrt() * noise
    history = torch.where(moved[..., None, None, None], raised, history)
    return torch.cat([history, x[:, c:]], dim=1), viewed


def history_guided_prediction(model: Callable, x: torch.Tensor, levels: torch.Tensor, num_context: int,
                              guidance: HistoryGuidance, schedule: NoiseSchedule, prediction: torch.Tensor | None = None,
                              generator: torch.Generator | None = None) -> torch.Tensor:
    """Σ_j w_j · model(view_j of the window), ``(B, c + T, C, H, W)`` (Song et al. 2025).

    Args:
        model: ``(frames (B, W, C, H, W), levels (B, W)) -> prediction``, trained to see noised history
            (Diffusion Forcing).
        x: ``(B, c + T, C, H, W)`` the window, history first; levels: ``(B, c + T)``.
        num_context: c >= 1, the history frames at the start of the window.
        guidance: the views and their weights.
        schedule: the noise schedule (K, and the forward transition for raising history levels).
        prediction: the model's prediction on the window as it is, if already known (the
            conditional view then costs no model call).
        generator: source of the noise that raises history frames.

    A guidance whose only nonzero weight is 1 on the conditional view returns ``prediction``
    itself, so sampling is unguided bit for bit.
    """
    if not isinstance(x, torch.Tensor) or x.dim() != 5:
        raise ValueError(f"expected the window as a tensor of shape (B, c + T, C, H, W), got {getattr(x, 'shape', type(x).__name__)}")
    if not isinstance(levels, torch.Tensor) or tuple(levels.shape) != tuple(x.shape[:2]):
        raise ValueError(f"expected levels of shape {tuple(x.shape[:2])} (B, c + T), got {getattr(levels, 'shape', type(levels).__name__)}")
    if isinstance(num_context, bool) or not isinstance(num_context, int) or not 1 <= num_context <= x.shape[1]:
        raise ValueError(f"expected history guidance to have history: num_context in [1, {x.shape[1]}], got {num_context!r}; "
                         f"pass context frames to the sampler")
    if not isinstance(guidance, HistoryGuidance):
        raise ValueError(f"expected a HistoryGuidance, got {type(guidance).__name__}")
    combined = None
    for view, weight in zip(guidance.views, guidance.weights):
        if weight == 0:
            continue
        shows_all_as_is = view.level is None and (view.keep is None or view.keep == num_context)
        if shows_all_as_is and prediction is not None:
            branch = prediction
        else:
            frames, branch_levels = show_history(view, x, levels, num_context, schedule, generator)
            branch = model(frames, branch_levels)                                        # (B, c + T, C, H, W)
        term = branch if weight == 1 else weight * branch
        combined = term if combined is None else combined + term
    return combined


class HistoryGuidanceHook:
    """History guidance as a ``guidance=`` hook of ``sample_with_matrix``; it holds the model.

    At every row the sampler has the conditional prediction; the hook evaluates the other
    views of :class:`HistoryGuidance` with ``model`` and returns the x̂_0 correction that turns
    the conditional prediction into the combined one (None when they coincide, e.g. vanilla
    guidance with scale 1). Use the same model as the sampler, trained with Diffusion Forcing.
    Every row costs one extra model call per view with a nonzero weight besides the
    conditional one; the noise that raises history frames is drawn afresh at every row from
    ``generator`` (same seed, same samples).
    """

    requires_grad = False

    def __init__(self, model: Callable, guidance: HistoryGuidance, generator: torch.Generator | None = None):
        if not callable(model):
            raise ValueError(f"expected a model (frames, levels) -> prediction, got {type(model).__name__}")
        if not isinstance(guidance, HistoryGuidance):
            raise ValueError(f"expected a HistoryGuidance, got {type(guidance).__name__}")
        self.model, self.guidance, self.generator = model, guidance, generator

    def __call__(self, g: GuidanceInput) -> torch.Tensor | None:
        x, prediction = g.x.detach(), g.prediction.detach()       # next to a gradient hook, the sampler tracks grad
        with torch.no_grad():
            combined = history_guided_prediction(self.model, x, g.levels, g.num_context, self.guidance, g.schedule,
                                                 prediction=prediction, generator=self.generator)
            if combined is prediction:
                return None
            x0_hat, _ = to_x0_eps(combined, g.parameterization, x, g.levels, g.schedule)
            return x0_hat - g.x0_hat.detach()


# --------------------------------------------------------------------------- several hooks at once


class CombinedGuidance:
    """Several hooks in one sampling run: their x̂_0 corrections add up (None when all are None).

    Each hook sees the same conditional prediction, so, e.g., history guidance plus cost
    guidance gives x̂_0 + (x̂_0^HG - x̂_0) - w λ_k ∇ c(x̂_0): the cost gradient is taken at the
    conditional estimate, a first-order approximation of taking it at the guided one. The
    combination asks for gradients when any of its hooks does.
    """

    def __init__(self, *hooks: Callable):
        if not hooks or not all(callable(hook) for hook in hooks):
            raise ValueError("expected one or more guidance hooks (GuidanceInput -> correction or None)")
        self.hooks = hooks
        self.requires_grad = any(bool(getattr(hook, "requires_grad", False)) for hook in hooks)

    def __call__(self, g: GuidanceInput) -> torch.Tensor | None:
        total = None
        for hook in self.hooks:
            correction = hook(g)
            if correction is not None:
                total = correction if total is None else total + correction
        return total
