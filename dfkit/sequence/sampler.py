"""One sampler for every scheduling matrix (Diffusion Forcing, Chen et al. 2024, Algorithm 2).

A scheduling matrix S ``(M + 1, T)`` says which level every frame has at every row (see
:mod:`dfkit.sequence.scheduling`). :func:`sample_with_matrix` starts from pure noise and walks
the rows in order; at each row it calls the model *once* on all frames with their current
levels, then moves every frame whose level drops from S[m, t] to S[m + 1, t]:

* ``update="ddim"``: the DDIM step (Song et al. 2021, eq. 12) from S[m, t] straight to
  S[m + 1, t], with stochasticity ``eta`` (eq. 16; η = 0 is deterministic);
* ``update="ddpm"``: the ancestral update of Ho et al. (2020, Algorithm 2) generalized to a
  jump k → k': a draw from the forward posterior q(x_k' | x_k, x̂_0), which is eq. 12 with η = 1
  (for k' = k - 1 it is exactly Algorithm 2's step).

Frames whose level does not change are left exactly as they are. Both updates are
:func:`dfkit.diffusion.ddpm.ddim_step`, which works per frame.

Context ("history") frames are given clean and put in front of the generated frames; they
never change. By default they are shown to the model at level 0. With stabilization
(Diffusion Forcing, App. B.2) they are shown at a small level k_small instead
(:func:`stabilized_history`), either truly noised, q_sample(x, k_small) with noise drawn once
per call, or only *labelled* k_small (``add_stabilization_noise=False``), which tells the model
to trust them a little less.

Special cases of this one sampler:

* The full-sequence matrix without context is plain DDIM on the whole clip with one level
  broadcast to every frame: with the same generator it gives bit-for-bit what
  :func:`dfkit.diffusion.ddpm.ddim_sample` gives for ``(x, k) -> model(x, k[:, None].expand(B, T))``.
* A teacher-forced model with ``context`` clean history frames and the autoregressive matrix
  with chunk 1 over one new frame is exactly its autoregressive sampler: the model sees the
  history at level 0 and the new frame at its current level, as in training. Over several
  new frames with a causal model, the frames still at level K after the current one are
  invisible to it, so one call with the autoregressive matrix equals a frame-by-frame
  rollout whose history stays clean (compare ``rollout.rollout_sliding_window``).
* Stabilization level 0 is the plain sampler: no noise is drawn, the levels are 0.

History cache: the history is the same at every row, and a causal model's outputs there never
depend on the frames after it. When the model offers ``encode_history`` (a causal
:class:`~dfkit.models.video.VideoBackbone`) and no guidance hook needs the whole window, the
history is encoded once per call and every row runs the model on the generated frames only
(``cache_history=False`` turns this off; both give the same frames up to rounding). For one new
frame after 15 history frames that is 16 times less work per row.

Hooks (both optional, both keep unguided sampling bit-for-bit when they do nothing; a guidance
hook turns the history cache off, so compare it with ``cache_history=False``):

* ``guidance(g: GuidanceInput) -> correction | None``: called after the model at every row;
  returns a correction δ of the shape of ``g.x0_hat`` that moves the clean estimate
  x̂_0 ← x̂_0 + δ of the frames that move at this row. The prediction is shifted consistently
  (x_k stays fixed, so ε̂ ← ε̂ - sqrt(ᾱ_k / (1 - ᾱ_k)) δ), which is classifier / cost guidance
  written in x̂_0 space: δ = s (1 - ᾱ_k) / sqrt(ᾱ_k) ∇_{x_k} log p(y | x_k) is Dhariwal & Nichol's
  ε̂ - sqrt(1 - ᾱ_k) s ∇ log p. A zero correction changes nothing. A hook with the attribute
  ``requires_grad = True`` gets ``g.x`` as a leaf that requires grad and ``g.x0_hat`` attached
  to it, so it can return -w ∇_x cost(x̂_0) (reconstruction or cost guidance). Hooks that need
  the model (history guidance) hold it themselves; ``g.num_context`` says which frames of the
  window are history.
* ``replace(x, levels, row) -> x``: called on the generated frames before the model at every
  row; the replacement method of conditional sampling (known frames replaced by q_sample of
  the ground truth at the current level, see ``rollout.extend_video``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from dfkit.diffusion.ddpm import check_parameterization, ddim_step, q_sample, to_x0_eps
from dfkit.diffusion.schedules import NoiseSchedule, expand_like, standard_normal
from dfkit.sequence.objectives import check_clips
from dfkit.sequence.scheduling import validate_matrix

UPDATES = ("ddim", "ddpm")


@dataclass(frozen=True)
class GuidanceInput:
    """What a guidance hook sees at one row of the matrix (the whole window, history first).

    Attributes:
        x: ``(B, c + T, C, H, W)`` the model's input: c history frames, then the generated ones.
        levels: ``(B, c + T)`` their current levels.
        next_levels: ``(B, c + T)`` the levels after this row (history: unchanged).
        prediction: ``(B, c + T, C, H, W)`` the model output in ``parameterization``.
        x0_hat: ``(B, c + T, C, H, W)`` the clean estimate derived from it.
        row: the matrix row m (the update goes from row m to row m + 1).
        num_context: c, the number of history frames at the start of the window.
        schedule: the noise schedule.
        parameterization: ``"eps"``, ``"x0"`` or ``"v"``.
    """

    x: torch.Tensor
    levels: torch.Tensor
    next_levels: torch.Tensor
    prediction: torch.Tensor
    x0_hat: torch.Tensor
    row: int
    num_context: int
    schedule: NoiseSchedule
    parameterization: str


def shift_prediction(prediction: torch.Tensor, parameterization: str, delta: torch.Tensor, k: torch.Tensor, schedule: NoiseSchedule) -> torch.Tensor:
    """The prediction whose clean estimate is x̂_0 + δ at the same x_k (for levels k >= 1).

    From x_k = sqrt(ᾱ_k) x̂_0 + sqrt(1 - ᾱ_k) ε̂ held fixed:
    x0: x̂_0 + δ;  eps: ε̂ - sqrt(ᾱ_k / (1 - ᾱ_k)) δ;  v: v̂ - δ / sqrt(1 - ᾱ_k).
    Where δ is zero the result equals the prediction bit for bit.
    """
    check_parameterization(parameterization)
    if parameterization == "x0":
        return prediction + delta
    alpha_bar = schedule.alpha_bar(k, like=prediction)
    noise_std = schedule.one_minus_alpha_bar(k, like=prediction).clamp(min=1e-20).sqrt()
    if parameterization == "eps":
        return prediction - alpha_bar.sqrt() / noise_std * delta
    return prediction - delta / noise_std


def stabilized_history(context: torch.Tensor, k_small: int, schedule: NoiseSchedule, noise: torch.Tensor | None,
                       add_noise: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """History frames as a stabilized Diffusion Forcing sampler shows them (Chen et al. 2024, App. B.2).

    Every history frame is reported at level k_small; with ``add_noise`` it is also noised to that
    level, q(x_{k_small} | x) = sqrt(ᾱ_{k_small}) x + sqrt(1 - ᾱ_{k_small}) ε, otherwise it stays
    clean and is only *labelled* k_small (``noise`` is then not used and may be None). k_small = 0
    is the plain clean history (ᾱ_0 = 1). :func:`sample_with_matrix` and the rollouts of
    :mod:`dfkit.sequence.rollout` show their history through this function.

    Returns ``(shown (B, c, C, H, W), levels (B, c) int64)``.
    """
    check_clips(context, "context")
    B, c = context.shape[:2]
    levels = torch.full((B, c), int(k_small), dtype=torch.long, device=context.device)        # (B, c)
    if not add_noise:
        return context, levels
    return q_sample(context, levels, noise, schedule), levels                                  # (B, c, C, H, W)


def _check_model_window(model, num_frames: int) -> None:
    limit = getattr(model, "max_window", None)
    if limit is not None and num_frames > limit:
        raise ValueError(
            f"expected at most max_window={limit} frames per model call (history + generated), got {num_frames}; "
            f"use fewer context frames or a shorter matrix, or roll out with a sliding window"
        )


def _resolve_shape(shape, context: torch.Tensor | None, num_frames: int) -> tuple[int, int, int, int, int]:
    if context is not None:
        if not isinstance(context, torch.Tensor) or context.dim() != 5 or not context.is_floating_point():
            got = tuple(context.shape) if isinstance(context, torch.Tensor) else type(context).__name__
            raise ValueError(f"expected context frames as a float tensor of shape (B, c, C, H, W), got {got}")
        B, _, C, H, W = context.shape
        expected = (B, num_frames, C, H, W)
        if shape is not None and tuple(int(n) for n in shape) != expected:
            raise ValueError(f"expected shape {expected} (batch and frame size of the context, T from the matrix), got {tuple(shape)}")
        return expected
    if shape is None:
        raise ValueError("expected a sample shape (B, T, C, H, W) or context frames (B, c, C, H, W)")
    shape = tuple(int(n) for n in shape)
    if len(shape) != 5 or min(shape) < 1 or shape[1] != num_frames:
        raise ValueError(f"expected shape (B, T={num_frames}, C, H, W) with T the matrix width, got {shape}")
    return shape


def _device(model, context, noise, device) -> torch.device:
    if device is not None:
        return torch.device(device)
    for tensor in (context, noise):
        if tensor is not None:
            return tensor.device
    if isinstance(model, torch.nn.Module):
        parameter = next(model.parameters(), None)
        if parameter is not None:
            return parameter.device
    return torch.device("cpu")


def sample_with_matrix(
    model: Callable,
    matrix: torch.Tensor,
    schedule: NoiseSchedule,
    shape=None,
    context: torch.Tensor | None = None,
    parameterization: str = "eps",
    update: str = "ddim",
    eta: float = 0.0,
    stabilization_level: int = 0,
    add_stabilization_noise: bool = True,
    guidance: Callable | None = None,
    replace: Callable | None = None,
    clip_x0: float | None = None,
    noise: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    device=None,
    return_trajectory: bool = False,
    cache_history: bool = True,
):
    """Generate T frames by walking a scheduling matrix (Diffusion Forcing, Algorithm 2).

    Args:
        model: ``(frames (B, W, C, H, W), levels (B, W)) -> prediction (B, W, C, H, W)``, W = c + T.
        matrix: ``(M + 1, T)`` integer scheduling matrix, row 0 all K, last row all 0.
        schedule: the noise schedule the model was trained with.
        shape: ``(B, T, C, H, W)`` of the frames to generate; may be omitted with ``context``.
        context: ``(B, c, C, H, W)`` clean history frames in [-1, 1], or None.
        parameterization: what the model predicts, ``"eps"``, ``"x0"`` or ``"v"``.
        update: ``"ddim"`` (eq. 12 with ``eta``) or ``"ddpm"`` (the ancestral posterior draw).
        eta: DDIM stochasticity in [0, 1] (ignored by ``"ddpm"``, which is η = 1).
        stabilization_level: k_small, the level the history is shown at (0: clean).
        add_stabilization_noise: True: history = q_sample(context, k_small) (noise fixed for the
            call); False: the clean history is only labelled k_small.
        guidance: ``guidance(GuidanceInput) -> correction of x̂_0 or None`` (see the module doc).
        replace: ``replace(x (B, T, …), levels (B, T), row) -> x``, applied before each model call.
        clip_x0: if given, x̂_0 of the moving frames is clamped to [-clip_x0, clip_x0] (after
            guidance) and ε̂ recomputed from it; finished frames then lie in that range.
        noise: the starting frames x_K ``(B, T, C, H, W)``; drawn with ``generator`` if None.
        generator: the source of every random draw (same seed, same samples).
        device: where to sample; default: the context's, the noise's, the model's, else CPU.
        return_trajectory: also return the generated frames after every row ``(M + 1, B, T, …)``.
        cache_history: encode the history once (causal models with ``encode_history``, no guidance).

    Returns:
        the generated frames ``(B, T, C, H, W)`` (without the history), and the trajectory
        if asked. Random draws, in order: the history noise (k_small > 0 with noise), x_K, and
        at each row of a stochastic update N(0, I) for the frames that move, ``(B, n_moving, …)``.
    """
    # 1. check the inputs
    num_levels = schedule.num_levels
    validate_matrix(matrix, num_levels)
    check_parameterization(parameterization)
    if update not in UPDATES:
        raise ValueError(f"expected update in {UPDATES}, got {update!r}")
    if not 0.0 <= eta <= 1.0:
        raise ValueError(f"expected eta in [0, 1], got {eta}")
    if isinstance(stabilization_level, bool) or not isinstance(stabilization_level, int) or not 0 <= stabilization_level <= num_levels:
        raise ValueError(f"expected stabilization_level to be an int in [0, {num_levels}], got {stabilization_level!r}")
    model_levels = getattr(getattr(model, "config", None), "num_levels", num_levels)
    if model_levels != num_levels:
        raise ValueError(f"expected a schedule with the model's num_levels={model_levels}, got {num_levels}")
    T = matrix.shape[1]
    B, _, C, H, W = _resolve_shape(shape, context, T)
    c = 0 if context is None else context.shape[1]
    _check_model_window(model, c + T)
    device = _device(model, context, noise, device)
    matrix = matrix.to(device)
    eta = 1.0 if update == "ddpm" else float(eta)

    # 2. the history, as the model will see it at every row
    if c:
        context = context.to(device)
        add_noise = stabilization_level > 0 and add_stabilization_noise
        history_noise = standard_normal(context.shape, generator, device, context.dtype) if add_noise else None
        context, history_levels = stabilized_history(context, stabilization_level, schedule, history_noise, add_noise)
    else:
        history_levels = torch.zeros((B, 0), dtype=torch.long, device=device)
    history = _encoded_history(model, context, history_levels) if c and cache_history and guidance is None else None

    # 3. x_K ~ N(0, I) for the frames to generate
    if noise is None:
        x = standard_normal((B, T, C, H, W), generator, device, torch.float32 if context is None else context.dtype)
    else:
        if tuple(noise.shape) != (B, T, C, H, W):
            raise ValueError(f"expected noise of shape {(B, T, C, H, W)}, got {tuple(noise.shape)}")
        x = noise.to(device)
    trajectory = [x]

    for m in range(matrix.shape[0] - 1):
        levels, next_levels = matrix[m].expand(B, T), matrix[m + 1].expand(B, T)       # (B, T) each
        moving = matrix[m + 1] != matrix[m]                                             # (T,)
        if not bool(moving.any()):
            trajectory.append(x)
            continue
        # 4. (optional) replace known frames, then ask the model once about all frames
        if replace is not None:
            x = replace(x, levels, m)
        if history is not None:
            with torch.no_grad():
                prediction, correction = model(x, levels, history=history), None          # (B, T, C, H, W)
        else:
            window = x if not c else torch.cat([context, x], dim=1)                    # (B, c + T, C, H, W)
            window_levels = torch.cat([history_levels, levels], dim=1)                 # (B, c + T)
            prediction, correction = _predict(model, window, window_levels, torch.cat([history_levels, next_levels], 1),
                                              m, c, schedule, parameterization, guidance)
            prediction = prediction[:, c:]                                              # (B, T, C, H, W)
        # 5. guidance and clipping move x̂_0 of the frames that move at this row
        step_parameterization = parameterization
        if correction is not None or clip_x0 is not None:
            prediction, step_parameterization = _corrected(prediction, correction, x, levels, moving, schedule, parameterization, clip_x0, c)
        # 6. step every moving frame from S[m, t] to S[m + 1, t]; the others stay
        step_noise = None
        if eta > 0:
            step_noise = torch.zeros_like(x)
            step_noise[:, moving] = standard_normal((B, int(moving.sum()), C, H, W), generator, device, x.dtype)
        x = ddim_step(x, levels, next_levels, prediction, schedule, step_parameterization, eta=eta, noise=step_noise)
        trajectory.append(x)
    return (x, torch.stack(trajectory)) if return_trajectory else x


def _encoded_history(model, context, levels):
    """``model.encode_history(context, levels)`` for a causal model that has it, else None (no cache)."""
    encode = getattr(model, "encode_history", None)
    if encode is None or not getattr(model, "is_causal", False):
        return None
    with torch.no_grad():
        return encode(context, levels)


def _predict(model, window, levels, next_levels, row, num_context, schedule, parameterization, guidance):
    """The model's prediction on the window and, with a hook, the hook's x̂_0 correction (detached)."""
    if guidance is None:
        with torch.no_grad():
            return model(window, levels), None
    needs_grad = bool(getattr(guidance, "requires_grad", False))
    with torch.set_grad_enabled(needs_grad):
        if needs_grad:
            window = window.detach().requires_grad_(True)
        prediction = model(window, levels)
        x0_hat, _ = to_x0_eps(prediction, parameterization, window, levels, schedule)
        correction = guidance(GuidanceInput(window, levels, next_levels, prediction, x0_hat, row, num_context, schedule, parameterization))
    if correction is not None:
        if not isinstance(correction, torch.Tensor) or correction.shape != x0_hat.shape:
            got = tuple(correction.shape) if isinstance(correction, torch.Tensor) else type(correction).__name__
            raise ValueError(f"expected the guidance correction of x0_hat's shape {tuple(x0_hat.shape)}, got {got}")
        correction = correction.detach()
    return prediction.detach(), correction


def _corrected(prediction, correction, x, levels, moving, schedule, parameterization, clip_x0, num_context):
    """The prediction with x̂_0 of the moving frames shifted by the correction (and clamped).

    Returns ``(prediction, parameterization)``. Without clamping the prediction keeps its
    parameterization and a zero correction leaves it bit for bit. With clamping the step is
    handed the clamped x̂_0 itself (``"x0"``; ε̂ is recomputed from it), so that frames that
    reach level 0 lie exactly in [-clip_x0, clip_x0].
    """
    delta = torch.zeros_like(prediction) if correction is None else correction[:, num_context:]
    moving = expand_like(moving.expand(levels.shape), prediction)
    if clip_x0 is None:
        shifted = shift_prediction(prediction, parameterization, delta, levels, schedule)
        return torch.where(moving, shifted, prediction), parameterization
    x0_hat, _ = to_x0_eps(prediction, parameterization, x, levels, schedule)
    return torch.where(moving, (x0_hat + delta).clamp(-clip_x0, clip_x0), x0_hat), "x0"
