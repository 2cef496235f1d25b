"""Rollouts: continuing a ground-truth clip for many frames, past the training horizon.

Every function takes c >= 1 ground-truth frames ``context (B, c, C, H, W)`` in the model
range [-1, 1] and returns the ``num_frames`` new frames ``(B, N, C, H, W)`` that follow them.

* :func:`rollout_sliding_window` — transformers (no state): each call of the sampler sees at
  most ``window`` frames (the training horizon): the last ``window - n`` frames as history and
  ``n = config.chunk`` new ones, sampled with the scheduling matrix ``config.kind``. Then the
  window slides by n frames. Diffusion Forcing, teacher-forced models (window = context + 1)
  and, as the lecture's OOD baseline, a full-sequence model given clean history.
* :func:`rollout_recurrent` — the GRU carries its hidden state: each generated chunk is fed
  back once to update the state (the paper's RNN rollout); no window at all.
* :func:`rollout_regressor` — the deterministic next-frame regressor fed its own outputs.
* :func:`extend_video` — a full-sequence model extends a video the way the lecture criticizes:
  every window is sampled jointly at one level with the known frames replaced by q_sample of
  the ground truth at the current level (replacement), optionally with reconstruction guidance
  (Ho et al. 2022, "Video Diffusion Models", eq. 7) on the unknown frames.

Stabilization (Diffusion Forcing, App. B.2): with ``stabilization_level = k_small > 0`` every
history frame (ground truth and generated) is shown to the model at level k_small. With
``add_stabilization_noise`` it is noised once, q_sample(x, k_small, ε) with ε drawn when the
frame enters the history, and that noisy version is kept for as long as the frame stays in the
window (for the GRU: the state is updated with it); without, the clean frame is only labelled
k_small. Level 0 is the plain rollout: no extra random draws, identical output.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from dfkit.diffusion.ddpm import check_parameterization, q_sample
from dfkit.diffusion.schedules import NoiseSchedule, standard_normal
from dfkit.sequence.objectives import check_clips
from dfkit.sequence.sampler import GuidanceInput, sample_with_matrix, stabilized_history
from dfkit.sequence.scheduling import KINDS, full_sequence_matrix, scheduling_matrix


@dataclass(frozen=True)
class RolloutConfig:
    """How each chunk of a rollout is sampled.

    Attributes:
        steps: rungs of the level ladder each frame walks down (DDIM levels, K -> 0).
        kind: scheduling matrix of the frames of one call (``dfkit.sequence.scheduling.KINDS``).
        chunk: new frames per sampler call (the window slides by this much).
        delay: rows between chunks of a pyramid / trapezoid matrix inside one call.
        update: ``"ddim"`` or ``"ddpm"``; ``eta``: DDIM stochasticity.
        stabilization_level: k_small for the history (0: clean history).
        add_stabilization_noise: noise the history to k_small (True) or only label it (False).
        clip_x0: clamp x̂_0 to [-clip_x0, clip_x0] (frames live in [-1, 1]); None: no clamping.
    """

    steps: int = 10
    kind: str = "autoregressive"
    chunk: int = 1
    delay: int = 1
    update: str = "ddim"
    eta: float = 0.0
    stabilization_level: int = 0
    add_stabilization_noise: bool = True
    clip_x0: float | None = 1.0

    def validate(self, num_levels: int) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"expected kind in {KINDS}, got {self.kind!r}")
        if not 1 <= self.steps <= num_levels:
            raise ValueError(f"expected 1 <= steps <= num_levels={num_levels}, got {self.steps}")
        if self.chunk < 1 or self.delay < 0:
            raise ValueError(f"expected chunk >= 1 and delay >= 0, got chunk={self.chunk}, delay={self.delay}")
        if not 0 <= self.stabilization_level <= num_levels:
            raise ValueError(f"expected stabilization_level in [0, {num_levels}], got {self.stabilization_level}")

    def matrix(self, num_frames: int, num_levels: int) -> torch.Tensor:
        """The scheduling matrix of one call that generates ``num_frames`` frames (chunks of 1 inside)."""
        return scheduling_matrix(self.kind, num_frames, self.steps, num_levels, chunk_size=1, delay=self.delay)


def _check_rollout_inputs(context, num_frames: int) -> None:
    if not isinstance(context, torch.Tensor) or context.dim() != 5 or context.shape[1] < 1 or not context.is_floating_point():
        got = tuple(context.shape) if isinstance(context, torch.Tensor) else type(context).__name__
        raise ValueError(f"expected ground-truth context as a float tensor of shape (B, c, C, H, W) with c >= 1, got {got}")
    if isinstance(num_frames, bool) or not isinstance(num_frames, int) or num_frames < 1:
        raise ValueError(f"expected num_frames to be an int >= 1, got {num_frames!r}")


def _window_size(model, window: int | None, chunk: int, num_context: int) -> int:
    limit = getattr(model, "max_window", None)
    window = window if window is not None else limit
    if window is None:
        raise ValueError("expected window= (the training horizon): this model has no max_window; "
                         "for the GRU use rollout_recurrent, which carries the state instead")
    if limit is not None and window > limit:
        raise ValueError(f"expected window <= the model's max_window={limit}, got {window}")
    if chunk >= window:
        raise ValueError(f"expected chunk < window so that at least one history frame fits, got chunk={chunk}, window={window}")
    if num_context > window - chunk:
        raise ValueError(
            f"expected at most window - chunk = {window - chunk} context frames (window={window}, chunk={chunk}), "
            f"got {num_context}; pass only the last {window - chunk} frames"
        )
    return window


class _History:
    """The frames shown to the model as history: at level k_small, noised once when they enter."""

    def __init__(self, schedule: NoiseSchedule, level: int, add_noise: bool, generator):
        self.schedule, self.level, self.add_noise, self.generator = schedule, level, add_noise, generator

    def show(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(shown (B, n, C, H, W), levels (B, n))``: :func:`~dfkit.sequence.sampler.stabilized_history` with
        noise drawn here (none at level 0 or without noise)."""
        add_noise = self.level > 0 and self.add_noise
        noise = standard_normal(frames.shape, self.generator, frames.device, frames.dtype) if add_noise else None
        return stabilized_history(frames, self.level, self.schedule, noise, add_noise)


# --------------------------------------------------------------------------- transformers: sliding window


def rollout_sliding_window(
    model,
    context: torch.Tensor,
    num_frames: int,
    schedule: NoiseSchedule,
    parameterization: str = "eps",
    config: RolloutConfig = RolloutConfig(),
    window: int | None = None,
    guidance=None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Generate ``num_frames`` frames after ``context`` with a window that slides over the video.

    1. Show the ground-truth context as history (stabilized if asked).
    2. Repeat until N frames exist: take the last ``window - n`` history frames, sample n =
       ``config.chunk`` new frames with ``config.matrix(n)`` (the model never sees more than
       ``window`` frames), add them to the history (noised once at k_small if asked).

    ``window`` defaults to the model's ``max_window``; use the training horizon (for a
    teacher-forced model with context c: c + 1). With a causal model, clean history and a
    video that fits in one window, the result is the one-call autoregressive sampler's.

    A bidirectional model is always shown a full window: it was trained on windows of exactly
    ``window`` frames, and a shorter one (the first calls after a short context) is a sequence
    length it never saw, where a causal model only sees a prefix of a training window. Its first
    call samples ``window - c`` frames, the frames not yet due waiting at level K under the
    matrix (masked by noise, as in the Diffusion Forcing Transformer); the last call's extra
    frames are dropped.
    """
    _check_rollout_inputs(context, num_frames)
    check_parameterization(parameterization)
    config.validate(schedule.num_levels)
    window = _window_size(model, window, config.chunk, context.shape[1])
    history = _History(schedule, config.stabilization_level, config.add_stabilization_noise, generator)
    shown, _ = history.show(context)                                               # (B, c, C, H, W)
    new_frames, produced = [], 0
    full_window = not getattr(model, "is_causal", True)
    with torch.no_grad():
        while produced < num_frames:
            n = max(config.chunk, window - shown.shape[1]) if full_window else min(config.chunk, num_frames - produced)
            frames = sample_with_matrix(
                model, config.matrix(n, schedule.num_levels), schedule, context=shown[:, -(window - n):],
                parameterization=parameterization, update=config.update, eta=config.eta,
                stabilization_level=config.stabilization_level, add_stabilization_noise=False,   # noised already
                guidance=guidance, clip_x0=config.clip_x0, generator=generator,
            )                                                                          # (B, n, C, H, W)
            new_frames.append(frames)
            shown = torch.cat([shown, history.show(frames)[0]], dim=1)[:, -window:]
            produced += n
    return torch.cat(new_frames, dim=1)[:, :num_frames]


# --------------------------------------------------------------------------- GRU: carried state


def rollout_recurrent(
    model,
    context: torch.Tensor,
    num_frames: int,
    schedule: NoiseSchedule,
    parameterization: str = "eps",
    config: RolloutConfig = RolloutConfig(),
    guidance=None,
    generator: torch.Generator | None = None,
    return_state: bool = False,
):
    """Generate ``num_frames`` frames after ``context`` with the GRU's carried hidden state.

    1. Run the GRU over the context (at level k_small if stabilized) to get the state z.
    2. Repeat: sample n = ``config.chunk`` new frames with ``config.matrix(n)``, the model
       called as ``model(x, k, state=z)`` (it sees only the new frames; the past is in z);
       then feed the finished frames (re-noised at k_small if asked) to update z.

    With clean history this equals sampling the whole video in one call with the
    autoregressive matrix (the GRU is causal), and the final state is that of running the GRU
    once over context + generated frames at level 0. Returns the frames, and the state if asked.
    """
    _check_rollout_inputs(context, num_frames)
    check_parameterization(parameterization)
    config.validate(schedule.num_levels)
    if getattr(model, "max_window", 0) is not None:
        raise ValueError("expected a recurrent backbone (VideoBackbone with temporal='gru') that carries a state; "
                         "roll transformers out with rollout_sliding_window")
    B, _, C, H, W = context.shape
    history = _History(schedule, config.stabilization_level, config.add_stabilization_noise, generator)
    new_frames, produced = [], 0
    with torch.no_grad():
        shown, levels = history.show(context)
        _, state = model(shown, levels, return_state=True)                         # (num_layers, B, D), or (hidden, maps)
        while produced < num_frames:
            n = min(config.chunk, num_frames - produced)

            def step_model(x, k, state=state):
                return model(x, k, state=state)

            frames = sample_with_matrix(
                step_model, config.matrix(n, schedule.num_levels), schedule, shape=(B, n, C, H, W),
                parameterization=parameterization, update=config.update, eta=config.eta,
                guidance=guidance, clip_x0=config.clip_x0, generator=generator, device=context.device,
            )                                                                      # (B, n, C, H, W)
            new_frames.append(frames)
            shown, levels = history.show(frames)
            _, state = model(shown, levels, state=state, return_state=True)
            produced += n
    frames = torch.cat(new_frames, dim=1)
    return (frames, state) if return_state else frames


# --------------------------------------------------------------------------- the deterministic regressor


@torch.no_grad()
def rollout_regressor(model, context: torch.Tensor, num_frames: int, window: int | None = None) -> torch.Tensor:
    """Feed a next-frame regressor its own predictions: x̂_{t+1} = f(x̂_{t-w+1}, …, x̂_t).

    A transformer sees the last ``window`` frames (default: its ``max_window``); the GRU
    (no ``max_window``, ``window=None``) carries its state one frame at a time. Nothing is
    clamped, so the compounding error shows as it is.
    """
    _check_rollout_inputs(context, num_frames)
    if getattr(model, "is_causal", True) is False:
        raise ValueError("expected a causal next-frame regressor (temporal='causal' or 'gru')")
    zeros = lambda frames: torch.zeros(frames.shape[:2], dtype=torch.long, device=frames.device)
    limit = getattr(model, "max_window", None)
    if window is None and limit is None:                                          # GRU: carry the state
        out, state = model(context, zeros(context), return_state=True)
        frames = [out[:, -1:]]
        while len(frames) < num_frames:
            out, state = model(frames[-1], zeros(frames[-1]), state=state, return_state=True)
            frames.append(out)
        return torch.cat(frames, dim=1)
    window = _window_size(model, window, 0, context.shape[1])
    video = context
    for _ in range(num_frames):
        inputs = video[:, -window:]
        video = torch.cat([video, model(inputs, zeros(inputs))[:, -1:]], dim=1)
    return video[:, context.shape[1]:]


# --------------------------------------------------------------------------- full-sequence models


def reconstruction_gradient(denoiser, x_k: torch.Tensor, levels: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
    """∇_{x_k} || x^a - x̂_0^a(x_k) ||²: how the noisy window should move so that the model sees the known frames.

    :class:`ReconstructionGuidance` takes the same gradient through the model call the sampler
    has already made (the known frames after the window's history).

    Args:
        denoiser: ``(x_k (B, W, C, H, W), levels (B, W)) -> x̂_0 (B, W, C, H, W)``, differentiable in x_k.
        x_k: the noisy window; levels: its ``(B, W)`` levels; known: ``(B, a, C, H, W)`` the truth of its first a frames.

    Returns:
        the gradient, shape of ``x_k``: non-zero on the unknown frames too when the denoiser mixes
        frames (a bidirectional model does), which is what reconstruction guidance uses.
    """
    check_clips(x_k, "x_k")
    check_clips(known, "known")
    with torch.enable_grad():
        x = x_k.detach().requires_grad_(True)
        x0_hat = denoiser(x, levels)
        error = ((x0_hat[:, : known.shape[1]] - known) ** 2).sum()
        (gradient,) = torch.autograd.grad(error, x)
    return gradient


def reconstruction_guided_x0(x0_hat: torch.Tensor, gradient: torch.Tensor, levels: torch.Tensor, weight: float,
                             num_known: int, schedule: NoiseSchedule) -> torch.Tensor:
    """The clean estimate corrected by reconstruction guidance (Ho et al. 2022, "Video Diffusion Models", eq. 7).

        x̃_0^b = x̂_0^b - (w sqrt(ᾱ_k) / 2) ∇_{x_k^b} || x^a - x̂_0^a(x_k) ||²

    for the unknown frames b (index >= ``num_known``), each at its own level k; the known frames a
    keep x̂_0 (they are replaced anyway). The update adds a shift that does not depend on x̂_0, so
    :class:`ReconstructionGuidance` hands the sampler the update of a zero estimate.

    Args:
        x0_hat: ``(B, W, C, H, W)`` the model's clean estimate of the window.
        gradient: ``(B, W, C, H, W)`` ∇_{x_k} of the reconstruction error of the known frames.
        levels: ``(B, W)`` the current levels; weight: w >= 0; num_known: a.

    Returns:
        the corrected clean estimate, the shape and dtype of ``x0_hat``.
    """
    check_clips(x0_hat, "x0_hat")
    if gradient.shape != x0_hat.shape:
        raise ValueError(f"expected the gradient of x0_hat's shape {tuple(x0_hat.shape)}, got {tuple(gradient.shape)}")
    root = schedule.alpha_bar(levels, like=x0_hat).sqrt()                     # (B, W, 1, 1, 1)
    correction = -(weight * root / 2) * gradient
    unknown = torch.arange(x0_hat.shape[1], device=x0_hat.device) >= num_known   # (W,)
    return torch.where(unknown[:, None, None, None], x0_hat + correction.to(x0_hat.dtype), x0_hat)


@dataclass(frozen=True, eq=False)
class ReconstructionGuidance:
    """Reconstruction guidance (Ho et al. 2022, "Video Diffusion Models", eq. 7), as a sampler hook.

    For known frames a (ground truth ``known``) and unknown frames b of one window:

        x̃_0^b = x̂_0^b - (w · sqrt(ᾱ_k) / 2) · ∇_{x_k^b} || x^a - x̂_0^a(x_k) ||²

    i.e. the unknown frames are pushed towards values whose joint denoising reproduces the
    known frames. ``known`` are the first frames after the window's history. The gradient is
    that of :func:`reconstruction_gradient`, taken through the model call the sampler has made;
    the step is :func:`reconstruction_guided_x0`.
    """

    known: torch.Tensor                 # (B, a, C, H, W)
    weight: float = 1.0
    requires_grad = True                # the sampler hands over x_k as a leaf that requires grad

    def __call__(self, g: GuidanceInput) -> torch.Tensor:
        start, stop = g.num_context, g.num_context + self.known.shape[1]
        error = ((g.x0_hat[:, start:stop] - self.known) ** 2).sum()
        (gradient,) = torch.autograd.grad(error, g.x)                             # (B, W, C, H, W)
        # x̃_0 - x̂_0 (only the unknown frames b): the guided estimate of x̂_0 = 0
        return reconstruction_guided_x0(torch.zeros_like(gradient), gradient, g.levels, self.weight, stop, g.schedule)


def replace_known(x: torch.Tensor, levels: torch.Tensor, known: torch.Tensor, noise: torch.Tensor,
                  schedule: NoiseSchedule) -> torch.Tensor:
    """The replacement step: the first a frames of the window become the truth noised to their level.

        x[:, t] ← sqrt(ᾱ_{k_t}) x_known[:, t] + sqrt(1 - ᾱ_{k_t}) ε[:, t]   for t < a,   the others kept

    i.e. a fresh draw of q(x_k | x_0 = truth) at the level each known frame has now. This is the
    replacement step of :func:`extend_video`, which draws ``noise`` before every model call.

    Args:
        x: ``(B, W, C, H, W)`` the window being sampled; levels: ``(B, W)`` its current levels.
        known: ``(B, a, C, H, W)`` the ground-truth frames at the start of the window, a <= W.
        noise: ε ``(B, a, C, H, W)``.

    Returns:
        a new ``(B, W, C, H, W)`` tensor (``x`` itself is not modified).
    """
    check_clips(x, "x")
    check_clips(known, "known")
    a = known.shape[1]
    if a > x.shape[1] or known.shape[:1] + known.shape[2:] != x.shape[:1] + x.shape[2:]:
        raise ValueError(f"expected known frames (B, a <= {x.shape[1]}, {', '.join(map(str, x.shape[2:]))}), got {tuple(known.shape)}")
    noisy_truth = q_sample(known, levels[:, :a], noise, schedule)              # (B, a, C, H, W)
    return torch.cat([noisy_truth.to(x.dtype), x[:, a:]], dim=1)


def extend_video(
    model,
    known: torch.Tensor,
    num_frames: int,
    schedule: NoiseSchedule,
    parameterization: str = "eps",
    config: RolloutConfig = RolloutConfig(),
    window: int | None = None,
    method: str = "replacement",
    reconstruction_weight: float = 1.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Extend a video with a full-sequence model (one level for the whole window).

    Each call samples a window of a known frames and n = ``config.chunk`` unknown ones with the
    full-sequence matrix (``config.kind`` is not used: the model only knows equal levels):

    1. before every model call the known frames are replaced by q_sample(ground truth, k, ε)
       at the current level k, with fresh ε (the replacement method, :func:`replace_known`);
    2. with ``method="reconstruction"`` the x̂_0 of the unknown frames is also corrected by
       :class:`ReconstructionGuidance` with weight ``reconstruction_weight``;
    3. the n new frames join the video and the window slides: the next call knows the last
       ``window - n`` frames.

    Neither fixes the inconsistency the lecture discusses: the replaced frames are noised
    independently of what the model would have generated, so the two halves need not agree.
    """
    _check_rollout_inputs(known, num_frames)
    check_parameterization(parameterization)
    config.validate(schedule.num_levels)
    methods = ("replacement", "reconstruction")
    if method not in methods:
        raise ValueError(f"expected method in {methods}, got {method!r}")
    window = _window_size(model, window, config.chunk, known.shape[1])
    B, _, C, H, W = known.shape
    video, produced = known, 0
    while produced < num_frames:
        n = min(config.chunk, num_frames - produced)
        truth = video[:, -(window - n):]                                          # (B, a, C, H, W)
        a = truth.shape[1]

        def replace(x, levels, row, truth=truth):
            noise = standard_normal(truth.shape, generator, truth.device, truth.dtype)
            return replace_known(x, levels, truth, noise, schedule)

        guidance = ReconstructionGuidance(truth, reconstruction_weight) if method == "reconstruction" else None
        frames = sample_with_matrix(
            model, full_sequence_matrix(a + n, config.steps, schedule.num_levels), schedule, shape=(B, a + n, C, H, W),
            parameterization=parameterization, update=config.update, eta=config.eta,
            guidance=guidance, replace=replace, clip_x0=config.clip_x0, generator=generator, device=known.device,
        )                                                                          # (B, a + n, C, H, W)
        video = torch.cat([video, frames[:, a:]], dim=1)
        produced += n
    return video[:, known.shape[1]:]
