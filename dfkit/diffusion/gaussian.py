"""Gaussian mixtures: a data distribution whose perfect denoiser is known in closed form.

For data x ~ Σ_m w_m N(μ_m, Σ_m) in R^D, observed through a per-coordinate
Gaussian channel

    y = a ⊙ x + s ⊙ ε,   ε ~ N(0, I),   a, s ∈ R^D  (or one pair of vectors per sample)

everything is Gaussian given the component m (write A = diag(a), S = diag(s)):

    y | m       ~ N(A μ_m, C_m),          C_m = A Σ_m A + S²
    E[x | y, m] = μ_m + Σ_m A C_m⁻¹ (y - A μ_m)
    p(m | y)    ∝ w_m N(y; A μ_m, C_m)
    E[x | y]    = Σ_m p(m | y) E[x | y, m]

This is the denoiser a network would converge to with infinite data and
capacity, so samplers can be tested against it without training: with the exact
denoiser, DDPM, DDIM and flow-matching samplers must reproduce the mixture's
weights, means and covariances. Ordinary diffusion is the case a = sqrt(ᾱ_k),
s = sqrt(1 - ᾱ_k) for all coordinates; one level *per coordinate* plays the role
of one noise level per frame in Diffusion Forcing; the straight flow path is
a = t, s = 1 - t.

Everything is computed in float64 with Cholesky solves and a log-sum-exp over
components.
"""

from __future__ import annotations

import math

import torch

from dfkit.diffusion.ddpm import check_parameterization, eps_from_x0, v_from_eps_x0
from dfkit.diffusion.flow import check_times
from dfkit.diffusion.schedules import NoiseSchedule, check_levels, expand_like, standard_normal


class GaussianMixture:
    """A mixture of M full-covariance Gaussians in R^D.

    Args:
        weights: ``(M,)`` positive, summing to 1.
        means: ``(M, D)``.
        covariances: ``(M, D, D)`` symmetric positive definite.
    """

    def __init__(self, weights, means, covariances):
        weights = torch.as_tensor(weights, dtype=torch.float64)
        means = torch.as_tensor(means, dtype=torch.float64)
        covariances = torch.as_tensor(covariances, dtype=torch.float64)
        if weights.dim() != 1 or weights.numel() < 1:
            raise ValueError(f"expected weights of shape (M,), got {tuple(weights.shape)}")
        M = weights.numel()
        if means.dim() != 2 or means.shape[0] != M:
            raise ValueError(f"expected means of shape ({M}, D), got {tuple(means.shape)}")
        D = means.shape[1]
        if covariances.shape != (M, D, D):
            raise ValueError(f"expected covariances of shape ({M}, {D}, {D}), got {tuple(covariances.shape)}")
        if bool((weights <= 0).any()) or abs(float(weights.sum()) - 1) > 1e-6:
            raise ValueError(f"expected positive weights summing to 1, got {weights.tolist()}")
        if not torch.allclose(covariances, covariances.transpose(-1, -2)):
            raise ValueError("expected symmetric covariances")
        cholesky, info = torch.linalg.cholesky_ex(covariances)
        if bool((info != 0).any()):
            raise ValueError("expected positive definite covariances")
        self.weights = weights                                      # (M,)
        self.means = means                                          # (M, D)
        self.covariances = covariances                              # (M, D, D)
        self.cholesky = cholesky                                    # (M, D, D), Σ = L Lᵀ

    @property
    def num_components(self) -> int:
        return self.weights.numel()

    @property
    def dim(self) -> int:
        return self.means.shape[1]

    def __repr__(self) -> str:
        return f"GaussianMixture(num_components={self.num_components}, dim={self.dim})"

    # ----------------------------------------------------------------------- sampling

    def sample(self, n: int, generator: torch.Generator | None = None, return_components: bool = False, dtype=torch.float32):
        """Draw ``n`` points ``(n, D)``; optionally also the component index of each ``(n,)``."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"expected n to be an int >= 1, got {n!r}")
        components = torch.multinomial(self.weights, n, replacement=True, generator=generator)   # (n,)
        z = standard_normal((n, self.dim), generator=generator, dtype=torch.float64)            # (n, D)
        x = self.means[components] + (self.cholesky[components] @ z[:, :, None])[:, :, 0]
        x = x.to(dtype)
        return (x, components) if return_components else x

    # ----------------------------------------------------------------------- the noisy channel

    def _channel(self, y: torch.Tensor, a, s) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Validate (y, a, s); return them in float64 with a and s as rows ``(P, D)``, P ∈ {1, N}."""
        if not isinstance(y, torch.Tensor) or y.dim() != 2 or y.shape[1] != self.dim:
            shape = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
            raise ValueError(f"expected observations of shape (N, {self.dim}), got {shape}")
        N, D = y.shape

        def as_rows(name, value):
            value = torch.as_tensor(value, dtype=torch.float64, device=y.device)
            if value.shape == ():
                return value.expand(1, D)
            if value.shape == (D,):
                return value[None]                                  # shared by all observations
            if value.shape in ((N, 1), (N, D)):
                return value.expand(N, D)                           # one channel per observation
            raise ValueError(f"expected {name} of shape (), ({D},), ({N}, 1) or ({N}, {D}), got {tuple(value.shape)}")

        a, s = as_rows("a", a), as_rows("s", s)
        if a.shape != s.shape:
            a, s = a.expand(N, D), s.expand(N, D)
        if bool(((a == 0) & (s == 0)).any()):
            raise ValueError("expected a² + s² > 0 in every coordinate (a = s = 0 observes nothing, not even noise)")
        if a.shape[0] > 1 and bool((a == a[:1]).all()) and bool((s == s[:1]).all()):
            a, s = a[:1], s[:1]                                     # one channel for the whole batch: one solve
        return y.to(torch.float64), a, s

    def _posterior_terms(self, y, a, s):
        """log w_m N(y; A μ_m, C_m) ``(N, M)`` and E[x | y, m] ``(N, M, D)``."""
        y, a, s = self._channel(y, a, s)                            # (N, D), (P, D), (P, D)
        weights, means, covariances = (value.to(y.device) for value in (self.weights, self.means, self.covariances))
        a_col, a_row = a[:, None, :, None], a[:, None, None, :]     # (P, 1, D, 1), (P, 1, 1, D)
        covariance_y = a_col * covariances * a_row + torch.diag_embed(s**2)[:, None]   # C_m: (P, M, D, D)
        cholesky = torch.linalg.cholesky(covariance_y)              # (P, M, D, D)
        residual = y[:, None, :] - a[:, None, :] * means            # y - A μ_m: (N, M, D)
        if cholesky.shape[0] == 1:                                  # one C_m for all: N right-hand sides per solve
            solved = torch.cholesky_solve(residual.permute(1, 2, 0), cholesky[0]).permute(2, 0, 1)
        else:
            solved = torch.cholesky_solve(residual[..., None], cholesky)[..., 0]
        # solved = C_m⁻¹ (y - A μ_m): (N, M, D)
        mahalanobis = (residual * solved).sum(-1)                   # (N, M)
        log_det = 2 * torch.log(torch.diagonal(cholesky, dim1=-2, dim2=-1)).sum(-1)   # (P, M)
        log_joint = weights.log() - 0.5 * (mahalanobis + log_det + self.dim * math.log(2 * math.pi))
        component_means = means + torch.einsum("mde,nme->nmd", covariances, a[:, None, :] * solved)   # (N, M, D)
        return log_joint, component_means

    def responsibilities(self, y: torch.Tensor, a=1.0, s=0.0) -> torch.Tensor:
        """p(m | y) ``(N, M)``; with the defaults a = 1, s = 0 it is p(m | x) for clean points."""
        log_joint, _ = self._posterior_terms(y, a, s)
        return torch.softmax(log_joint, dim=-1)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) ``(N,)`` of clean points (log-sum-exp over components)."""
        log_joint, _ = self._posterior_terms(x, 1.0, 0.0)
        return torch.logsumexp(log_joint, dim=-1)

    def posterior_mean(self, y: torch.Tensor, a, s) -> torch.Tensor:
        """E[x | y] for y = a ⊙ x + s ⊙ ε, ``(N, D)`` float64.

        Args:
            y: ``(N, D)`` observations.
            a, s: scalars, ``(D,)`` vectors shared by all observations, or ``(N, D)``
                (``(N, 1)``) for one channel per observation.
        """
        log_joint, component_means = self._posterior_terms(y, a, s)
        posterior = torch.softmax(log_joint, dim=-1)                # p(m | y): (N, M)
        return (posterior[..., None] * component_means).sum(1)     # (N, D)

    # ----------------------------------------------------------------------- exact models

    def exact_denoiser(self, schedule: NoiseSchedule, parameterization: str = "eps"):
        """The Bayes-optimal denoiser for ``schedule`` as a callable ``(x_k, k) -> prediction``.

        ``x_k`` is ``(N, D)``; ``k`` is ``(N,)`` (one level per point, as for images)
        or ``(N, D)`` (one level per coordinate, as for frames in Diffusion Forcing).
        The prediction is E[x_0 | x_k] converted to ``parameterization``, in
        ``x_k``'s dtype.
        """
        check_parameterization(parameterization)

        def denoiser(x_k: torch.Tensor, k) -> torch.Tensor:
            x = x_k.to(torch.float64)
            k = check_levels(k, schedule.num_levels, x)
            signal = schedule.alpha_bar(k, like=x).sqrt().expand(x.shape)            # a = sqrt(ᾱ_k): (N, D)
            noise = schedule.one_minus_alpha_bar(k, like=x).sqrt().expand(x.shape)  # s = sqrt(1 - ᾱ_k)
            x0_hat = self.posterior_mean(x, signal, noise)
            if parameterization == "x0":
                prediction = x0_hat
            else:
                eps_hat = eps_from_x0(x, k, x0_hat, schedule)
                prediction = eps_hat if parameterization == "eps" else v_from_eps_x0(eps_hat, x0_hat, k, schedule)
            return prediction.to(x_k.dtype)

        return denoiser

    def exact_velocity(self):
        """The marginal velocity E[x_1 - x_0 | x_t] of the straight flow path, ``(x_t, t) -> u``.

        With data x_1 from this mixture and x_t = t x_1 + (1 - t) ε:
        x_1 - x_0 = (x_1 - x_t) / (1 - t), so u = (E[x_1 | x_t] - x_t) / (1 - t) for t < 1,
        and u = x_t at t = 1 (where x_t = x_1 and E[x_0] = 0). ``t`` is ``(N,)`` or ``(N, D)``.
        """

        def velocity(x_t: torch.Tensor, t) -> torch.Tensor:
            x = x_t.to(torch.float64)
            t = expand_like(check_times(t, x), x).expand(x.shape)   # (N, D)
            remaining = 1 - t
            data_hat = self.posterior_mean(x, t, remaining)
            safe_remaining = torch.where(remaining > 0, remaining, torch.ones_like(remaining))
            u = torch.where(remaining > 0, (data_hat - x) / safe_remaining, x)
            return u.to(x_t.dtype)

        return velocity

    # ----------------------------------------------------------------------- checking samples

    def assign(self, x: torch.Tensor) -> torch.Tensor:
        """The most probable component of each clean point, ``(N,)``."""
        return self.responsibilities(x).argmax(-1)

    def empirical_components(self, x: torch.Tensor):
        """Weights ``(M,)``, means ``(M, D)`` and covariances ``(M, D, D)`` of samples split by ``assign``.

        Compare them with ``weights``, ``means`` and ``covariances`` to check a sampler.
        Components that receive fewer than two points get ``nan`` statistics.
        """
        x = x.to(torch.float64)
        labels = self.assign(x)
        M, D = self.num_components, self.dim
        weights = torch.zeros(M, dtype=torch.float64, device=x.device)
        means = torch.full((M, D), float("nan"), dtype=torch.float64, device=x.device)
        covariances = torch.full((M, D, D), float("nan"), dtype=torch.float64, device=x.device)
        for m in range(self.num_components):
            members = x[labels == m]
            weights[m] = members.shape[0] / x.shape[0]
            if members.shape[0] >= 2:
                means[m] = members.mean(0)
                centred = members - means[m]
                covariances[m] = centred.T @ centred / (members.shape[0] - 1)
        return weights, means, covariances


def toy_mixture() -> GaussianMixture:
    """The 2-D Gaussian mixture of the lectures' figures and the flow-matching lesson: three components."""
    return GaussianMixture(
        weights=[0.5, 0.3, 0.2],
        means=[[-1.5, 0.0], [1.2, 1.0], [1.0, -1.3]],
        covariances=[[[0.10, 0.04], [0.04, 0.08]], [[0.05, 0.0], [0.0, 0.12]], [[0.03, -0.01], [-0.01, 0.03]]],
    )
