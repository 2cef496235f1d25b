"""Noise schedules: how much signal survives at each discrete noise level.

Levels are integers ``k ∈ {0, …, K}``; ``k = 0`` is clean data and ``k = K`` is
(almost) pure noise. The forward process of Ho et al. (2020), eq. 2 and eq. 4:

    q(x_k | x_{k-1}) = N(x_k; sqrt(1 - β_k) x_{k-1}, β_k I)
    q(x_k | x_0)     = N(x_k; sqrt(ᾱ_k) x_0, (1 - ᾱ_k) I),   ᾱ_k = ∏_{s ≤ k} (1 - β_s)

A schedule is nothing more than the handful of tensors below, indexed by level
(index 0 is the clean level, so ``betas[0] = 0`` and ``alpha_bars[0] = 1``):

    betas[k]                = β_k                    the variance added by step k
    alphas[k]               = α_k = 1 - β_k
    alpha_bars[k]           = ᾱ_k = ∏_{s=1}^{k} α_s  the signal kept after k steps
    one_minus_alpha_bars[k] = 1 - ᾱ_k                the noise variance at level k
    snr(k)                  = ᾱ_k / (1 - ᾱ_k)        signal-to-noise ratio

Everything is computed in float64 and stored in float32 (which every device
supports). 1 - ᾱ_k is stored on its own because computing it from a float32 ᾱ_k
close to 1 cancels digits: with the cosine schedule 1 - ᾱ_1 ≈ 4e-5 would keep
only three correct digits.

Levels may have any shape that is a *prefix* of the data shape: ``(B,)`` for a
batch of images ``(B, C, H, W)``, or ``(B, T)`` for one level per frame of a
video ``(B, T, C, H, W)`` (Diffusion Forcing). A gathered value is reshaped to
broadcast against the data by appending trailing singleton dimensions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

KINDS = ("linear", "cosine", "sigmoid")
MAX_BETA = 0.999  # Nichol & Dhariwal (2021): clip β so that the last steps stay invertible
COSINE_OFFSET = 0.008  # s in the cosine schedule of Nichol & Dhariwal (2021), eq. 17
SIGMOID_START, SIGMOID_END, SIGMOID_TAU = -3.0, 3.0, 1.0  # Chen (2023), Algorithm 1 defaults


# --------------------------------------------------------------------------- levels


def check_levels(k, num_levels: int, data: torch.Tensor | None = None) -> torch.Tensor:
    """Validate discrete noise levels and return them as a ``torch.long`` tensor.

    Args:
        k: integer tensor of levels (a Python ``int`` is accepted as a 0-d tensor).
        num_levels: ``K``; valid levels are ``0, …, K``.
        data: if given, ``k.shape`` must be a prefix of ``data.shape`` and the
            result is moved to ``data.device``.

    Raises:
        ValueError: if ``k`` is not integer, lies outside ``[0, K]`` or its shape
            is not a prefix of the data shape.
    """
    if isinstance(k, bool) or not isinstance(k, (int, torch.Tensor)):
        raise ValueError(f"expected levels as an integer tensor, got {type(k).__name__}")
    if isinstance(k, int):
        k = torch.tensor(k)
    if k.dtype == torch.bool or k.is_floating_point() or k.is_complex():
        raise ValueError(f"expected integer levels (e.g. torch.long), got dtype {k.dtype}")
    if k.numel() > 0:
        low, high = int(k.min()), int(k.max())
        if low < 0:
            raise ValueError(f"expected levels in [0, {num_levels}], got min {low}")
        if high > num_levels:
            raise ValueError(f"expected levels in [0, {num_levels}], got max {high}")
    if data is not None:
        if k.dim() > data.dim() or tuple(data.shape[: k.dim()]) != tuple(k.shape):
            raise ValueError(
                f"expected levels whose shape is a prefix of the data shape {tuple(data.shape)} "
                f"(e.g. {tuple(data.shape[:1])} or {tuple(data.shape[:2])}), got {tuple(k.shape)}"
            )
        k = k.to(data.device)
    return k.long()


def expand_like(values: torch.Tensor, like: torch.Tensor | None) -> torch.Tensor:
    """Append trailing singleton dims so ``values`` (shape a prefix of ``like.shape``) broadcasts.

    ``(B,)`` against ``(B, C, H, W)`` becomes ``(B, 1, 1, 1)``; ``(B, T)`` against
    ``(B, T, C, H, W)`` becomes ``(B, T, 1, 1, 1)``. The result takes ``like``'s
    device, and its dtype when both are floating point (integer and boolean values
    keep theirs). With ``like=None`` the values are returned as is.
    """
    if like is None:
        return values
    floating = values.is_floating_point() and like.is_floating_point()
    values = values.to(device=like.device, dtype=like.dtype if floating else values.dtype)
    return values.reshape(tuple(values.shape) + (1,) * (like.dim() - values.dim()))


# --------------------------------------------------------------------------- random draws


def standard_normal(shape, generator: torch.Generator | None = None, device=None, dtype=torch.float32) -> torch.Tensor:
    """Draw N(0, I) noise of ``shape`` on ``device``.

    The draw happens on the generator's own device and is then moved, so a CPU
    generator gives the same numbers whether the result lives on CPU or GPU.
    """
    source = generator.device if generator is not None else device
    noise = torch.randn(tuple(shape), generator=generator, device=source, dtype=dtype)
    return noise if device is None else noise.to(device)


def uniform_levels(shape, num_levels: int, generator: torch.Generator | None = None, device=None, low: int = 1) -> torch.Tensor:
    """Levels drawn uniformly from ``{low, …, K}`` (Ho et al. 2020, Algorithm 1, line 3)."""
    source = generator.device if generator is not None else device
    levels = torch.randint(low, num_levels + 1, tuple(shape), generator=generator, device=source)
    return levels if device is None else levels.to(device)


def check_level_shift(shift) -> None:
    """Raise ValueError unless ``shift`` is a configured level shift: a finite number > 0, not a bool."""
    if isinstance(shift, bool) or not isinstance(shift, (int, float)) or not 0 < shift < math.inf:
        raise ValueError(f"expected a finite level_shift > 0 (1: uniform training levels), got {shift!r}")


def shifted_levels(shape, num_levels: int, shift: float = 1.0, generator: torch.Generator | None = None, device=None,
                   low: int = 1) -> torch.Tensor:
    """Training levels in ``{low, …, K}`` that favour high noise when ``shift`` s > 1.

    u ~ U[0, 1) is mapped to τ = s·u / (1 + (s - 1)·u) (the form of the timestep shift of Esser et
    al. 2024, used here on the training levels only) and k = low + ⌊τ·(K - low + 1)⌋. τ has the
    CDF P(τ ≤ x) = x / (s - (s - 1)·x): with s = 3 the top fifth of the levels gets 43% of the
    draws instead of 20%, and the density never falls below 1/s, so every level is still trained.
    s = 1 is :func:`uniform_levels` itself (the same draws from the same generator).
    """
    if not 0 < shift < math.inf:
        raise ValueError(f"expected a finite level shift > 0, got {shift}")
    if shift == 1.0:
        return uniform_levels(shape, num_levels, generator, device, low)
    source = generator.device if generator is not None else device
    u = torch.rand(tuple(shape), generator=generator, device=source, dtype=torch.float64)
    tau = shift * u / (1 + (shift - 1) * u)                                         # in [0, 1)
    levels = (low + torch.floor(tau * (num_levels - low + 1))).long().clamp(low, num_levels)
    return levels if device is None else levels.to(device)


# --------------------------------------------------------------------------- schedule


@dataclass(frozen=True, eq=False)
class NoiseSchedule:
    """The tensors of a discrete noise schedule, indexed by level ``0 … K``.

    Attributes:
        betas: ``(K + 1,)``, β_k with β_0 = 0.
        alphas: ``(K + 1,)``, α_k = 1 - β_k.
        alpha_bars: ``(K + 1,)``, ᾱ_k = ∏_{s ≤ k} α_s with ᾱ_0 = 1.
        num_levels: ``K``.
        kind: the name of the recipe that built it (for printing).
        one_minus_alpha_bars: ``(K + 1,)``, 1 - ᾱ_k, computed before rounding to
            float32 (``make_schedule`` does this); ``None`` computes it from ``alpha_bars``.
    """

    betas: torch.Tensor
    alphas: torch.Tensor
    alpha_bars: torch.Tensor
    num_levels: int
    kind: str = "custom"
    one_minus_alpha_bars: torch.Tensor | None = None

    def __post_init__(self):
        expected = (self.num_levels + 1,)
        for name in ("betas", "alphas", "alpha_bars"):
            if tuple(getattr(self, name).shape) != expected:
                raise ValueError(f"expected {name} of shape {expected}, got {tuple(getattr(self, name).shape)}")
        if self.one_minus_alpha_bars is None:
            object.__setattr__(self, "one_minus_alpha_bars", 1 - self.alpha_bars)

    def _gather(self, values: torch.Tensor, k, like: torch.Tensor | None) -> torch.Tensor:
        k = check_levels(k, self.num_levels, like)
        return expand_like(values.to(k.device)[k], like)

    def alpha_bar(self, k, like: torch.Tensor | None = None) -> torch.Tensor:
        """ᾱ_k gathered at levels ``k``, shaped to broadcast against ``like``."""
        return self._gather(self.alpha_bars, k, like)

    def one_minus_alpha_bar(self, k, like: torch.Tensor | None = None) -> torch.Tensor:
        """1 - ᾱ_k gathered at levels ``k`` (accurate even where ᾱ_k is close to 1)."""
        return self._gather(self.one_minus_alpha_bars, k, like)

    def alpha(self, k, like: torch.Tensor | None = None) -> torch.Tensor:
        """α_k = 1 - β_k gathered at levels ``k``."""
        return self._gather(self.alphas, k, like)

    def beta(self, k, like: torch.Tensor | None = None) -> torch.Tensor:
        """β_k gathered at levels ``k``."""
        return self._gather(self.betas, k, like)

    def snr(self, k, like: torch.Tensor | None = None) -> torch.Tensor:
        """Signal-to-noise ratio ᾱ_k / (1 - ᾱ_k): ``inf`` at k = 0, ``0`` where ᾱ_k = 0."""
        return self.alpha_bar(k, like) / self.one_minus_alpha_bar(k, like)

    def to(self, device) -> "NoiseSchedule":
        """The same schedule with its tensors on ``device``."""
        return NoiseSchedule(
            betas=self.betas.to(device),
            alphas=self.alphas.to(device),
            alpha_bars=self.alpha_bars.to(device),
            num_levels=self.num_levels,
            kind=self.kind,
            one_minus_alpha_bars=self.one_minus_alpha_bars.to(device),
        )

    def __repr__(self) -> str:
        return (
            f"NoiseSchedule(kind={self.kind!r}, num_levels={self.num_levels}, "
            f"alpha_bar[1]={float(self.alpha_bars[1]):.6f}, alpha_bar[K]={float(self.alpha_bars[-1]):.3e})"
        )


def make_schedule(kind: str = "cosine", num_levels: int = 1000, zero_terminal_snr: bool = False) -> NoiseSchedule:
    """Build a noise schedule with ``K = num_levels`` levels.

    Kinds (levels ``k = 1 … K``, with τ = k / K):

    * ``"linear"`` — Ho et al. (2020), Sec. 4: β_k linear from 1e-4 to 0.02 for
      K = 1000; both ends are multiplied by 1000 / K so that other K give the same
      overall amount of noise (Nichol & Dhariwal 2021), and clipped at 0.999.
    * ``"cosine"`` — Nichol & Dhariwal (2021), eq. 17:
      ᾱ_k = f(k) / f(0), f(k) = cos²(π/2 · (τ + s) / (1 + s)), s = 0.008;
      β_k = 1 - ᾱ_k / ᾱ_{k-1} clipped at 0.999 (only the last level is affected).
    * ``"sigmoid"`` — Chen (2023), Algorithm 1, also used by Jabri et al. (2023):
      ᾱ(τ) = (σ(end/τ₀) - σ((τ (end - start) + start)/τ₀)) / (σ(end/τ₀) - σ(start/τ₀))
      with start = -3, end = 3, τ₀ = 1, then β clipped at 0.999 as above.

    ``zero_terminal_snr=True`` applies Lin et al. (2024), Algorithm 1: sqrt(ᾱ_k)
    for k = 1 … K is shifted and scaled linearly so that ᾱ_1 is kept and ᾱ_K = 0
    exactly (then β_K = 1). The last level is then truly pure noise, which makes
    eps-prediction there ill-posed: x_K = ε carries no information about x_0, so
    an eps model cannot be turned into an x_0 estimate at k = K. Train such
    schedules with ``parameterization="v"`` or ``"x0"``; with ``"eps"`` the
    samplers fall back to x̂_0 = 0 at that level (see ``ddpm.x0_from_eps``).
    """
    if kind not in KINDS:
        raise ValueError(f"expected kind in {KINDS}, got {kind!r}")
    if isinstance(num_levels, bool) or not isinstance(num_levels, int) or num_levels < 1:
        raise ValueError(f"expected num_levels to be an int >= 1, got {num_levels!r}")
    if zero_terminal_snr and num_levels < 2:
        raise ValueError(f"expected num_levels >= 2 with zero_terminal_snr=True, got {num_levels}")

    K = num_levels
    tau = torch.arange(1, K + 1, dtype=torch.float64) / K                    # τ_k = k / K, k = 1 … K
    if kind == "linear":
        scale = 1000.0 / K
        betas = torch.linspace(1e-4 * scale, 0.02 * scale, K, dtype=torch.float64)
    elif kind == "cosine":
        alpha_bars = cosine_alpha_bar(tau) / cosine_alpha_bar(torch.zeros(1, dtype=torch.float64))
        betas = betas_from_alpha_bars(alpha_bars)
    else:
        alpha_bars = sigmoid_alpha_bar(tau)
        betas = betas_from_alpha_bars(alpha_bars)
    betas = betas.clamp(max=MAX_BETA)
    alpha_bars = torch.cumprod(1 - betas, dim=0)                            # ᾱ_k = ∏ (1 - β_s)

    if zero_terminal_snr:
        alpha_bars = rescale_zero_terminal_snr(alpha_bars)
        betas = betas_from_alpha_bars(alpha_bars)                           # β_K = 1

    betas = torch.cat([torch.zeros(1, dtype=torch.float64), betas])        # β_0 = 0
    alpha_bars = torch.cat([torch.ones(1, dtype=torch.float64), alpha_bars])  # ᾱ_0 = 1
    return NoiseSchedule(
        betas=betas.float(),
        alphas=(1 - betas).float(),
        alpha_bars=alpha_bars.float(),
        num_levels=K,
        kind=kind + (" (zero terminal SNR)" if zero_terminal_snr else ""),
        one_minus_alpha_bars=(1 - alpha_bars).float(),
    )


def cosine_alpha_bar(tau: torch.Tensor, s: float = COSINE_OFFSET) -> torch.Tensor:
    """f(τ) = cos²(π/2 · (τ + s) / (1 + s)), the unnormalized cosine ᾱ (Nichol & Dhariwal 2021, eq. 17)."""
    return torch.cos((tau + s) / (1 + s) * math.pi / 2) ** 2


def sigmoid_alpha_bar(tau: torch.Tensor, start=SIGMOID_START, end=SIGMOID_END, temperature=SIGMOID_TAU) -> torch.Tensor:
    """ᾱ(τ) of the sigmoid schedule (Chen 2023, Algorithm 1), 1 at τ = 0 and 0 at τ = 1."""
    v_start = torch.sigmoid(torch.tensor(start / temperature, dtype=torch.float64))
    v_end = torch.sigmoid(torch.tensor(end / temperature, dtype=torch.float64))
    value = torch.sigmoid((tau * (end - start) + start) / temperature)
    return (v_end - value) / (v_end - v_start)


def betas_from_alpha_bars(alpha_bars: torch.Tensor) -> torch.Tensor:
    """β_k = 1 - ᾱ_k / ᾱ_{k-1} for ``alpha_bars`` = ᾱ_1 … ᾱ_K (ᾱ_0 = 1 is implied)."""
    previous = torch.cat([torch.ones(1, dtype=alpha_bars.dtype), alpha_bars[:-1]])
    return 1 - alpha_bars / previous


def rescale_zero_terminal_snr(alpha_bars: torch.Tensor) -> torch.Tensor:
    """Lin et al. (2024), Algorithm 1: make ᾱ_K = 0 while keeping ᾱ_1.

    With r_k = sqrt(ᾱ_k), r ← (r - r_K) · r_1 / (r_1 - r_K), a linear map sending
    r_1 → r_1 and r_K → 0; returns r².
    """
    root = alpha_bars.sqrt()
    first, last = root[0].clone(), root[-1].clone()
    root = (root - last) * first / (first - last)
    return root**2
