"""DDPM and DDIM: the forward process, the loss and the reverse samplers.

Notation (Ho et al. 2020; levels as in ``schedules``): x_0 is clean data, x_k its
noisy version at level k, ε ~ N(0, I) the noise, ᾱ_k the signal kept at level k.

A denoiser ``denoiser(x_k, k)`` returns one of three *parameterizations* of what
it believes about x_0 (Salimans & Ho 2022 for v):

    "eps":  ε̂                                   (Ho et al. 2020)
    "x0":   x̂_0
    "v":    v̂ = sqrt(ᾱ_k) ε̂ - sqrt(1 - ᾱ_k) x̂_0

All three carry the same information because x_k = sqrt(ᾱ_k) x_0 + sqrt(1 - ᾱ_k) ε
ties them together; the conversions below move between them.

Levels ``k`` are integer tensors whose shape is a prefix of the data shape: ``(B,)``
for images ``(B, C, H, W)`` or ``(B, T)`` for one level per video frame
``(B, T, C, H, W)``. Every function here works per element, so frames at
different levels can be denoised in one call (Diffusion Forcing).
"""

from __future__ import annotations

import torch

from dfkit.diffusion.schedules import NoiseSchedule, check_levels, expand_like, standard_normal, uniform_levels

PARAMETERIZATIONS = ("eps", "x0", "v")


def check_parameterization(parameterization: str) -> str:
    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(f"expected parameterization in {PARAMETERIZATIONS}, got {parameterization!r}")
    return parameterization


def check_same_shape(name: str, tensor: torch.Tensor, reference_name: str, reference: torch.Tensor) -> None:
    if not isinstance(tensor, torch.Tensor):
        raise ValueError(f"expected {name} to be a tensor, got {type(tensor).__name__}")
    if tensor.shape != reference.shape:
        raise ValueError(
            f"expected {name} of the same shape as {reference_name} {tuple(reference.shape)}, got {tuple(tensor.shape)}"
        )


# --------------------------------------------------------------------------- forward process


def q_sample(x0: torch.Tensor, k, noise: torch.Tensor, schedule: NoiseSchedule) -> torch.Tensor:
    """Noise clean data to level k in one jump (Ho et al. 2020, eq. 4):

        x_k = sqrt(ᾱ_k) x_0 + sqrt(1 - ᾱ_k) ε,   ε = ``noise``

    Args:
        x0: clean data, e.g. ``(B, C, H, W)`` or ``(B, T, C, H, W)``.
        k: integer levels, shape a prefix of ``x0.shape`` (``(B,)`` or ``(B, T)``).
        noise: ε, same shape as ``x0``.
    """
    check_same_shape("noise", noise, "x0", x0)
    alpha_bar = schedule.alpha_bar(k, like=x0)                    # (B, 1, 1, 1) or (B, T, 1, 1, 1)
    one_minus_alpha_bar = schedule.one_minus_alpha_bar(k, like=x0)  # 1 - ᾱ_k, same shape
    return alpha_bar.sqrt() * x0 + one_minus_alpha_bar.sqrt() * noise


def posterior_mean_variance(x0: torch.Tensor, x_k: torch.Tensor, k, schedule: NoiseSchedule):
    """Mean and variance of the forward posterior q(x_{k-1} | x_k, x_0) (Ho et al. 2020, eq. 6–7):

        μ̃_k = sqrt(ᾱ_{k-1}) β_k / (1 - ᾱ_k) · x_0 + sqrt(α_k) (1 - ᾱ_{k-1}) / (1 - ᾱ_k) · x_k
        β̃_k = (1 - ᾱ_{k-1}) / (1 - ᾱ_k) · β_k

    Defined for levels k >= 1. At k = 1 the variance is 0 and the mean is x_0.

    Returns:
        ``(mean, variance)``: mean has the shape of ``x_k``; variance has the
        level shape followed by singleton dims, so it broadcasts against ``x_k``.
    """
    check_same_shape("x_k", x_k, "x0", x0)
    k = check_levels(k, schedule.num_levels, x0)
    if k.numel() > 0 and int(k.min()) < 1:
        raise ValueError(f"expected levels k >= 1 for the posterior q(x_(k-1) | x_k, x_0), got min {int(k.min())}")
    alpha_bar_prev = schedule.alpha_bar(k - 1, like=x0)           # ᾱ_{k-1}
    one_minus_alpha_bar = schedule.one_minus_alpha_bar(k, like=x0)   # 1 - ᾱ_k
    one_minus_alpha_bar_prev = schedule.one_minus_alpha_bar(k - 1, like=x0)   # 1 - ᾱ_{k-1}
    alpha, beta = schedule.alpha(k, like=x0), schedule.beta(k, like=x0)
    coef_x0 = alpha_bar_prev.sqrt() * beta / one_minus_alpha_bar
    coef_xk = alpha.sqrt() * one_minus_alpha_bar_prev / one_minus_alpha_bar
    mean = coef_x0 * x0 + coef_xk * x_k
    variance = one_minus_alpha_bar_prev / one_minus_alpha_bar * beta
    return mean, variance


# --------------------------------------------------------------------------- parameterizations


def x0_from_eps(x_k: torch.Tensor, k, eps: torch.Tensor, schedule: NoiseSchedule) -> torch.Tensor:
    """x̂_0 = (x_k - sqrt(1 - ᾱ_k) ε̂) / sqrt(ᾱ_k)   (eq. 4 solved for x_0; Ho et al. 2020, eq. 15).

    Where ᾱ_k = 0 (the last level of a zero-terminal-SNR schedule) x_k is pure
    noise and says nothing about x_0; the division is undefined and 0 is returned
    there (the mean of centred data) instead of ``nan``/``inf``.
    """
    check_same_shape("eps", eps, "x_k", x_k)
    root = schedule.alpha_bar(k, like=x_k).sqrt()
    safe_root = torch.where(root > 0, root, torch.ones_like(root))
    x0 = (x_k - schedule.one_minus_alpha_bar(k, like=x_k).sqrt() * eps) / safe_root
    return torch.where(root > 0, x0, torch.zeros_like(x0))


def eps_from_x0(x_k: torch.Tensor, k, x0: torch.Tensor, schedule: NoiseSchedule) -> torch.Tensor:
    """ε̂ = (x_k - sqrt(ᾱ_k) x̂_0) / sqrt(1 - ᾱ_k)   (eq. 4 solved for ε).

    At k = 0 (ᾱ_0 = 1) x_k is the data itself and the noise is undefined; 0 (the
    mean of ε) is returned there.
    """
    check_same_shape("x0", x0, "x_k", x_k)
    root = schedule.one_minus_alpha_bar(k, like=x_k).sqrt()
    safe_root = torch.where(root > 0, root, torch.ones_like(root))
    eps = (x_k - schedule.alpha_bar(k, like=x_k).sqrt() * x0) / safe_root
    return torch.where(root > 0, eps, torch.zeros_like(eps))


def v_from_eps_x0(eps: torch.Tensor, x0: torch.Tensor, k, schedule: NoiseSchedule) -> torch.Tensor:
    """v = sqrt(ᾱ_k) ε - sqrt(1 - ᾱ_k) x_0   (Salimans & Ho 2022, Sec. 4)."""
    check_same_shape("x0", x0, "eps", eps)
    alpha_bar, one_minus_alpha_bar = schedule.alpha_bar(k, like=eps), schedule.one_minus_alpha_bar(k, like=eps)
    return alpha_bar.sqrt() * eps - one_minus_alpha_bar.sqrt() * x0


def x0_from_v(x_k: torch.Tensor, k, v: torch.Tensor, schedule: NoiseSchedule) -> torch.Tensor:
    """x̂_0 = sqrt(ᾱ_k) x_k - sqrt(1 - ᾱ_k) v̂   (defined at every level, including ᾱ_k = 0)."""
    check_same_shape("v", v, "x_k", x_k)
    alpha_bar, one_minus_alpha_bar = schedule.alpha_bar(k, like=x_k), schedule.one_minus_alpha_bar(k, like=x_k)
    return alpha_bar.sqrt() * x_k - one_minus_alpha_bar.sqrt() * v


def eps_from_v(x_k: torch.Tensor, k, v: torch.Tensor, schedule: NoiseSchedule) -> torch.Tensor:
    """ε̂ = sqrt(1 - ᾱ_k) x_k + sqrt(ᾱ_k) v̂   (defined at every level)."""
    check_same_shape("v", v, "x_k", x_k)
    alpha_bar, one_minus_alpha_bar = schedule.alpha_bar(k, like=x_k), schedule.one_minus_alpha_bar(k, like=x_k)
    return one_minus_alpha_bar.sqrt() * x_k + alpha_bar.sqrt() * v


def to_x0_eps(prediction: torch.Tensor, parameterization: str, x_k: torch.Tensor, k, schedule: NoiseSchedule):
    """Turn a denoiser output in any parameterization into ``(x̂_0, ε̂)``."""
    check_parameterization(parameterization)
    check_same_shape("prediction", prediction, "x_k", x_k)
    if parameterization == "eps":
        return x0_from_eps(x_k, k, prediction, schedule), prediction
    if parameterization == "x0":
        return prediction, eps_from_x0(x_k, k, prediction, schedule)
    return x0_from_v(x_k, k, prediction, schedule), eps_from_v(x_k, k, prediction, schedule)


def prediction_target(parameterization: str, x0: torch.Tensor, eps: torch.Tensor, k, schedule: NoiseSchedule) -> torch.Tensor:
    """What a perfect denoiser outputs for the pair (x_0, ε) in ``parameterization``."""
    check_parameterization(parameterization)
    if parameterization == "eps":
        return eps
    if parameterization == "x0":
        return x0
    return v_from_eps_x0(eps, x0, k, schedule)


# --------------------------------------------------------------------------- loss


def min_snr_weight(k, schedule: NoiseSchedule, parameterization: str, gamma: float, like: torch.Tensor | None = None):
    """Min-SNR-γ loss weights, per level (Hang et al. 2023, "Efficient Diffusion Training via Min-SNR Weighting Strategy").

    The x_0-loss is weighted by min(SNR, γ). Because at fixed x_k
    ||ε - ε̂||² = SNR · ||x_0 - x̂_0||² and ||v - v̂||² = (SNR + 1) · ||x_0 - x̂_0||²,
    the same weighting of the *x_0 error* reads

        "x0":  min(SNR, γ)
        "eps": min(SNR, γ) / SNR   = min(1, γ / SNR)
        "v":   min(SNR, γ) / (SNR + 1)

    Written so that SNR = 0 (ᾱ = 0) and SNR = ∞ (k = 0) give finite weights.
    """
    check_parameterization(parameterization)
    if not gamma > 0:
        raise ValueError(f"expected min_snr_gamma > 0, got {gamma}")
    snr = schedule.snr(k, like)
    clipped = snr.clamp(max=gamma)                                  # min(SNR, γ)
    if parameterization == "x0":
        return clipped
    if parameterization == "eps":
        return (gamma / snr).clamp(max=1.0)                         # γ / 0 = inf → 1
    return clipped / (snr + 1)                                      # γ / inf → 0


def diffusion_loss(
    denoiser,
    x0: torch.Tensor,
    schedule: NoiseSchedule,
    parameterization: str = "eps",
    k=None,
    noise: torch.Tensor | None = None,
    min_snr_gamma: float | None = None,
    generator: torch.Generator | None = None,
    loss_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """The simplified DDPM objective (Ho et al. 2020, eq. 14 / Algorithm 1), any parameterization:

        L = E_{k, x_0, ε} [ w_k · || target - denoiser(sqrt(ᾱ_k) x_0 + sqrt(1 - ᾱ_k) ε, k) ||² ]

    with target ε, x_0 or v, and w_k = 1 or the min-SNR-γ weight.

    Args:
        denoiser: callable ``(x_k, k) -> prediction`` of the shape of ``x_k``.
        x0: clean data ``(B, …)``.
        k: levels; ``None`` draws one level per sample uniformly from {1, …, K}
            (shape ``(B,)``). Any prefix shape such as ``(B, T)`` is accepted.
        noise: ε; drawn with ``generator`` if ``None``.
        min_snr_gamma: γ of min-SNR weighting (5 in Hang et al.), or ``None`` for w = 1.
        loss_mask: optional bool tensor of the levels' shape; elements under False carry no loss
            (e.g. frames shown clean as history, which hold nothing to denoise).

    Returns:
        scalar mean of the weighted squared error over all elements (over the unmasked ones).
    """
    check_parameterization(parameterization)
    # 1. draw the level and the noise
    if k is None:
        k = uniform_levels(x0.shape[:1], schedule.num_levels, generator=generator, device=x0.device)
    k = check_levels(k, schedule.num_levels, x0)
    if noise is None:
        noise = standard_normal(x0.shape, generator=generator, device=x0.device, dtype=x0.dtype)
    # 2. corrupt the data and ask the denoiser
    x_k = q_sample(x0, k, noise, schedule)
    prediction = denoiser(x_k, k)
    check_same_shape("denoiser output", prediction, "x0", x0)
    # 3. regress onto the target
    target = prediction_target(parameterization, x0, noise, k, schedule)
    squared_error = (prediction - target) ** 2
    if min_snr_gamma is not None:
        squared_error = min_snr_weight(k, schedule, parameterization, min_snr_gamma, like=x0) * squared_error
    if loss_mask is None:
        return squared_error.mean()
    if loss_mask.shape != k.shape or loss_mask.dtype != torch.bool:
        raise ValueError(f"expected loss_mask as a bool tensor of the levels' shape {tuple(k.shape)}, "
                         f"got {loss_mask.dtype} {tuple(loss_mask.shape)}")
    weights = loss_mask.reshape(k.shape + (1,) * (x0.dim() - k.dim())).expand_as(x0).to(x0.dtype)
    return (weights * squared_error).sum() / weights.sum().clamp(min=1.0)


# --------------------------------------------------------------------------- ancestral sampling (DDPM)


def ancestral_step(
    x_k: torch.Tensor,
    k,
    prediction: torch.Tensor,
    schedule: NoiseSchedule,
    parameterization: str = "eps",
    noise: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
    clip_x0: float | None = None,
) -> torch.Tensor:
    """One step of ancestral sampling, x_k → x_{k-1} (Ho et al. 2020, Algorithm 2, line 4).

    Algorithm 2 writes the mean as (x_k - β_k / sqrt(1 - ᾱ_k) ε̂) / sqrt(α_k); that
    is the posterior mean μ̃_k(x_k, x̂_0) of eq. 7 with x̂_0 from eq. 15, which is
    how it is computed here so that any parameterization and x̂_0 clipping work.
    The variance is σ_k² = β̃_k (the posterior variance; Ho et al. found β_k equally
    good), which is 0 at k = 1: no noise is added at the last step.

    Works per element: ``k`` may have any prefix shape (e.g. ``(B, T)``), and
    elements whose level is 0 are returned unchanged, so a per-frame schedule
    can hold a finished frame still.

    Args:
        x_k: current sample.
        k: integer levels of ``x_k``.
        prediction: denoiser output at ``(x_k, k)`` in ``parameterization``.
        noise: z ~ N(0, I) of the shape of ``x_k``; drawn with ``generator`` if ``None``.
        clip_x0: if given, x̂_0 is clamped to ``[-clip_x0, clip_x0]`` before the mean.
    """
    k = check_levels(k, schedule.num_levels, x_k)
    if noise is None:
        noise = standard_normal(x_k.shape, generator=generator, device=x_k.device, dtype=x_k.dtype)
    check_same_shape("noise", noise, "x_k", x_k)
    level = k.clamp(min=1)                                          # level 0 is masked out at the end
    # 1. what the denoiser thinks the clean data is
    x0_hat, _ = to_x0_eps(prediction, parameterization, x_k, level, schedule)
    if clip_x0 is not None:
        x0_hat = x0_hat.clamp(-clip_x0, clip_x0)
    # 2. the forward posterior q(x_{k-1} | x_k, x̂_0)
    mean, variance = posterior_mean_variance(x0_hat, x_k, level, schedule)
    # 3. sample it; z = 0 where k = 1 (β̃_1 = 0 already, the mask makes it explicit)
    add_noise = expand_like((k > 1).to(x_k.dtype), x_k)
    x_prev = mean + add_noise * variance.sqrt() * noise
    # 4. levels already at 0 stay where they are
    return torch.where(expand_like(k == 0, x_k), x_k, x_prev)


def _sampling_device(denoiser, device):
    if device is not None:
        return torch.device(device)
    if isinstance(denoiser, torch.nn.Module):
        parameter = next(denoiser.parameters(), None)
        if parameter is not None:
            return parameter.device
    return torch.device("cpu")


def _check_shape(shape) -> tuple:
    shape = tuple(int(n) for n in shape)
    if len(shape) < 1 or min(shape) < 1:
        raise ValueError(f"expected a sample shape like (B, C, H, W) with positive sizes, got {shape}")
    return shape


@torch.no_grad()
def ddpm_sample(
    denoiser,
    shape,
    schedule: NoiseSchedule,
    parameterization: str = "eps",
    generator: torch.Generator | None = None,
    device=None,
    return_trajectory: bool = False,
):
    """Generate samples with K ancestral steps (Ho et al. 2020, Algorithm 2).

    Args:
        denoiser: ``(x_k, k) -> prediction``; called with ``k`` of shape ``(B,)``.
        shape: sample shape, batch first, e.g. ``(B, C, H, W)``.
        device: where to sample; default: the denoiser's parameters, else CPU.

    Returns:
        x_0, or ``(x_0, trajectory)`` with trajectory ``(K + 1, *shape)`` holding
        x_K, x_{K-1}, …, x_0. Runs without gradients.
    """
    check_parameterization(parameterization)
    shape = _check_shape(shape)
    device = _sampling_device(denoiser, device)
    # 1. x_K ~ N(0, I)
    x = standard_normal(shape, generator=generator, device=device)
    trajectory = [x]
    for level in range(schedule.num_levels, 0, -1):
        # 2. ask the denoiser at the current level, 3. step to level - 1
        k = torch.full(shape[:1], level, dtype=torch.long, device=device)
        prediction = denoiser(x, k)
        x = ancestral_step(x, k, prediction, schedule, parameterization, generator=generator)
        if return_trajectory:
            trajectory.append(x)
    return (x, torch.stack(trajectory)) if return_trajectory else x


# --------------------------------------------------------------------------- DDIM


def ddim_levels(num_levels: int, steps: int) -> list[int]:
    """The levels a ``steps``-step DDIM sampler visits, from K down to 0.

    Level i of the list is ⌊(steps - i) · K / steps⌋, i = 0 … steps: exactly
    ``steps + 1`` distinct levels, the first K (start from the noisiest level the
    model was trained on, where x_K ~ N(0, I) is the right start) and the last 0
    (the final update lands on clean data), with strides that differ by at most
    one level. The often-copied ``range(0, K, K // steps)`` instead starts below K
    (e.g. 980 of 1000) and, when ``steps`` does not divide K, takes more steps
    than asked; Lin et al. (2024) discuss why starting at K matters.
    """
    if isinstance(num_levels, bool) or not isinstance(num_levels, int) or num_levels < 1:
        raise ValueError(f"expected num_levels to be an int >= 1, got {num_levels!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= num_levels:
        raise ValueError(f"expected steps to be an int in [1, {num_levels}] (num_levels), got {steps!r}")
    return [(i * num_levels) // steps for i in range(steps, -1, -1)]


def ddim_step(
    x_k: torch.Tensor,
    k,
    k_prev,
    prediction: torch.Tensor,
    schedule: NoiseSchedule,
    parameterization: str = "eps",
    eta: float = 0.0,
    noise: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """One DDIM step from level k to a lower level k_prev (Song et al. 2021, eq. 12):

        x_{k_prev} = sqrt(ᾱ_prev) x̂_0 + sqrt(1 - ᾱ_prev - σ²) ε̂ + σ z
        σ = η · sqrt((1 - ᾱ_prev) / (1 - ᾱ_k)) · sqrt(1 - ᾱ_k / ᾱ_prev)      (eq. 16)

    η = 0 is the deterministic DDIM sampler; η = 1 with k_prev = k - 1 is exactly
    the ancestral step (σ² = β̃_k). k_prev = 0 returns x̂_0.

    Works per element: ``k`` and ``k_prev`` are integer tensors of any prefix
    shape with k_prev <= k; where k_prev == k the element is returned unchanged.
    """
    if not 0.0 <= eta <= 1.0:
        raise ValueError(f"expected eta in [0, 1], got {eta}")
    k = check_levels(k, schedule.num_levels, x_k)
    k_prev = check_levels(k_prev, schedule.num_levels, x_k)
    if bool((k_prev > k).any()):
        raise ValueError("expected k_prev <= k elementwise (DDIM moves towards clean data), got some k_prev > k")
    if noise is None:
        noise = (
            standard_normal(x_k.shape, generator=generator, device=x_k.device, dtype=x_k.dtype)
            if eta > 0
            else torch.zeros_like(x_k)
        )
    check_same_shape("noise", noise, "x_k", x_k)
    # 1. predicted clean data and noise at the current level
    x0_hat, eps_hat = to_x0_eps(prediction, parameterization, x_k, k, schedule)
    # 2. the stochasticity σ of eq. 16, 0 for η = 0
    alpha_bar, alpha_bar_prev = schedule.alpha_bar(k, like=x_k), schedule.alpha_bar(k_prev, like=x_k)
    one_minus_alpha_bar = schedule.one_minus_alpha_bar(k, like=x_k)
    one_minus_alpha_bar_prev = schedule.one_minus_alpha_bar(k_prev, like=x_k)
    # the clamps only matter where k = k_prev = 0 or K, which step 4 masks out
    variance_ratio = one_minus_alpha_bar_prev / one_minus_alpha_bar.clamp(min=1e-12)
    signal_ratio = alpha_bar / alpha_bar_prev.clamp(min=1e-12)
    sigma = eta * (variance_ratio * (1 - signal_ratio)).clamp(min=0).sqrt()
    # 3. eq. 12: "predicted x_0" + "direction pointing to x_k" + random noise
    direction = (one_minus_alpha_bar_prev - sigma**2).clamp(min=0).sqrt() * eps_hat
    x_prev = alpha_bar_prev.sqrt() * x0_hat + direction + sigma * noise
    # 4. elements not asked to move stay put
    return torch.where(expand_like(k_prev == k, x_k), x_k, x_prev)


@torch.no_grad()
def ddim_sample(
    denoiser,
    shape,
    schedule: NoiseSchedule,
    steps: int = 50,
    eta: float = 0.0,
    parameterization: str = "eps",
    generator: torch.Generator | None = None,
    device=None,
    return_trajectory: bool = False,
):
    """Generate samples with ``steps`` DDIM steps over ``ddim_levels(K, steps)`` (Song et al. 2021).

    Returns x_0, or ``(x_0, trajectory)`` with trajectory ``(steps + 1, *shape)``
    holding the sample at each visited level, pure noise first. Runs without gradients.
    """
    check_parameterization(parameterization)
    if not 0.0 <= eta <= 1.0:
        raise ValueError(f"expected eta in [0, 1], got {eta}")
    levels = ddim_levels(schedule.num_levels, steps)
    shape = _check_shape(shape)
    device = _sampling_device(denoiser, device)
    # 1. x_K ~ N(0, I)
    x = standard_normal(shape, generator=generator, device=device)
    trajectory = [x]
    for level, level_prev in zip(levels[:-1], levels[1:]):
        # 2. ask the denoiser at the current level, 3. jump to the next visited level
        k = torch.full(shape[:1], level, dtype=torch.long, device=device)
        k_prev = torch.full(shape[:1], level_prev, dtype=torch.long, device=device)
        prediction = denoiser(x, k)
        x = ddim_step(x, k, k_prev, prediction, schedule, parameterization, eta=eta, generator=generator)
        if return_trajectory:
            trajectory.append(x)
    return (x, torch.stack(trajectory)) if return_trajectory else x
