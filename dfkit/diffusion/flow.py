"""Flow matching with the straight (rectified / optimal-transport) path.

Time runs the other way from diffusion levels, as in the lecture and in
Lipman et al. (2023): t = 0 is noise, t = 1 is data, and

    x_t = (1 - t) x_0 + t x_1,      x_0 ~ N(0, I) (noise),  x_1 ~ data
    u_t(x_t | x_0, x_1) = x_1 - x_0  (the conditional velocity, constant in t)

Beware the clash of names: in flow matching **x_0 is noise and x_1 is data**,
while in DDPM x_0 is clean data. To keep code readable the functions below
never say x_0 or x_1; they take ``noise`` and ``data``.

A velocity model ``velocity_fn(x_t, t)`` regresses E[x_1 - x_0 | x_t] (the
marginal velocity); sampling integrates dx/dt = u(x, t) from t = 0 to t = 1.

Times ``t`` are float tensors whose shape is a prefix of the data shape (``(B,)``
or ``(B, T)``), broadcast by appending singleton dims, or plain Python floats.

The last section shows that diffusion is a special case: the Gaussian path
x_t = α_t · data + σ_t · noise read off a ``NoiseSchedule``, whose velocity an
eps-prediction model provides; Euler steps on it are DDIM steps.
"""

from __future__ import annotations

import torch

from dfkit.diffusion.ddpm import check_same_shape
from dfkit.diffusion.schedules import NoiseSchedule, expand_like, standard_normal

METHODS = ("euler", "midpoint", "heun")


def check_times(t, data: torch.Tensor | None = None) -> torch.Tensor:
    """Validate flow times: floats in [0, 1], shape a prefix of ``data.shape``.

    Returns a float tensor (``data``'s dtype and device when ``data`` is given).
    """
    if isinstance(t, bool) or not isinstance(t, (int, float, torch.Tensor)):
        raise ValueError(f"expected times t as a float tensor, got {type(t).__name__}")
    if not isinstance(t, torch.Tensor):
        t = torch.tensor(float(t), dtype=torch.float64)
    if not t.is_floating_point():
        raise ValueError(f"expected floating-point times t in [0, 1], got dtype {t.dtype}")
    if t.numel() > 0:
        low, high = float(t.min()), float(t.max())
        if not (0.0 <= low and high <= 1.0):  # also rejects nan
            raise ValueError(f"expected times t in [0, 1], got min {low} and max {high}")
    if data is not None:
        if t.dim() > data.dim() or tuple(data.shape[: t.dim()]) != tuple(t.shape):
            raise ValueError(
                f"expected times whose shape is a prefix of the data shape {tuple(data.shape)} "
                f"(e.g. {tuple(data.shape[:1])}), got {tuple(t.shape)}"
            )
        t = t.to(device=data.device, dtype=data.dtype)
    return t


# --------------------------------------------------------------------------- training


def interpolate(noise: torch.Tensor, data: torch.Tensor, t) -> torch.Tensor:
    """The point on the straight path at time t: x_t = (1 - t) · noise + t · data."""
    check_same_shape("data", data, "noise", noise)
    t = expand_like(check_times(t, data), data)                     # (B, 1, 1, 1) or (B, T, 1, 1, 1)
    return (1 - t) * noise + t * data


def target_velocity(noise: torch.Tensor, data: torch.Tensor) -> torch.Tensor:
    """The conditional velocity of the straight path: d x_t / dt = data - noise (x_1 - x_0)."""
    check_same_shape("data", data, "noise", noise)
    return data - noise


def flow_loss(
    velocity_model,
    data: torch.Tensor,
    t=None,
    noise: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Conditional flow-matching loss (Lipman et al. 2023, eq. 9 with the straight path):

        L = E_{t ~ U[0, 1], x_0 ~ N(0, I), x_1 ~ data} || v_θ(x_t, t) - (x_1 - x_0) ||²

    Args:
        velocity_model: callable ``(x_t, t) -> velocity`` of the shape of ``x_t``.
        data: x_1, ``(B, …)``.
        t: times; ``None`` draws one per sample uniformly in [0, 1) (shape ``(B,)``).
        noise: x_0; drawn with ``generator`` if ``None``.
    """
    if t is None:
        source = generator.device if generator is not None else data.device
        t = torch.rand(data.shape[:1], generator=generator, device=source).to(data.device)
    t = check_times(t, data)
    if noise is None:
        noise = standard_normal(data.shape, generator=generator, device=data.device, dtype=data.dtype)
    # 1. a point on the path, 2. the model's velocity there, 3. regress onto data - noise
    x_t = interpolate(noise, data, t)
    velocity = velocity_model(x_t, t)
    check_same_shape("velocity model output", velocity, "data", data)
    return ((velocity - target_velocity(noise, data)) ** 2).mean()


# --------------------------------------------------------------------------- sampling (ODE solvers)


def _step_size(t, t_next, x: torch.Tensor) -> torch.Tensor:
    return expand_like(check_times(t_next, x) - check_times(t, x), x)


def euler_step(velocity_fn, x_t: torch.Tensor, t, t_next) -> torch.Tensor:
    """Euler: x_{t'} = x_t + (t' - t) · u(x_t, t). First order."""
    h = _step_size(t, t_next, x_t)
    return x_t + h * velocity_fn(x_t, check_times(t, x_t))


def midpoint_step(velocity_fn, x_t: torch.Tensor, t, t_next) -> torch.Tensor:
    """Explicit midpoint: evaluate u half a step ahead, then take the full step. Second order."""
    t, t_next = check_times(t, x_t), check_times(t_next, x_t)
    h = expand_like(t_next - t, x_t)
    x_half = x_t + h / 2 * velocity_fn(x_t, t)
    return x_t + h * velocity_fn(x_half, (t + t_next) / 2)


def heun_step(velocity_fn, x_t: torch.Tensor, t, t_next) -> torch.Tensor:
    """Heun: average the slope at x_t and at the Euler guess (Karras et al. 2022, Algorithm 1). Second order."""
    t, t_next = check_times(t, x_t), check_times(t_next, x_t)
    h = expand_like(t_next - t, x_t)
    slope = velocity_fn(x_t, t)
    x_guess = x_t + h * slope
    return x_t + h / 2 * (slope + velocity_fn(x_guess, t_next))


STEPPERS = {"euler": euler_step, "midpoint": midpoint_step, "heun": heun_step}


@torch.no_grad()
def sample(velocity_fn, noise: torch.Tensor, steps: int, method: str = "euler", return_trajectory: bool = False):
    """Integrate dx/dt = u(x, t) from t = 0 (``noise``) to t = 1 on a uniform grid.

    Args:
        velocity_fn: ``(x_t, t) -> velocity``; called with ``t`` of shape ``(B,)``.
        noise: the starting point x_0 ~ N(0, I), ``(B, …)``.
        steps: number of solver steps; ``"midpoint"`` and ``"heun"`` call the
            model twice per step.

    Returns:
        the sample at t = 1, or ``(sample, trajectory)`` with trajectory
        ``(steps + 1, *noise.shape)``. Runs without gradients.
    """
    if method not in STEPPERS:
        raise ValueError(f"expected method in {METHODS}, got {method!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"expected steps to be an int >= 1, got {steps!r}")
    step = STEPPERS[method]
    times = torch.linspace(0.0, 1.0, steps + 1, dtype=torch.float64)   # t_i = i / steps
    x = noise
    trajectory = [x]
    for t, t_next in zip(times[:-1].tolist(), times[1:].tolist()):
        t_batch = torch.full(noise.shape[:1], t, dtype=noise.dtype, device=noise.device)
        t_next_batch = torch.full(noise.shape[:1], t_next, dtype=noise.dtype, device=noise.device)
        x = step(velocity_fn, x, t_batch, t_next_batch)
        if return_trajectory:
            trajectory.append(x)
    return (x, torch.stack(trajectory)) if return_trajectory else x


# --------------------------------------------------------------------------- diffusion as a flow


def schedule_path(schedule: NoiseSchedule, t, like: torch.Tensor | None = None):
    """Diffusion's Gaussian path in flow time: x_t = α_t · data + σ_t · noise.

    Flow time t corresponds to level τ = (1 - t) · K, so the nodes t_k = 1 - k/K
    carry α = sqrt(ᾱ_k) and σ = sqrt(1 - ᾱ_k). Between nodes α_t and σ_t are
    linear in t (so α_t² + σ_t² is 1 only at the nodes); any such Gaussian path
    is a valid flow-matching path (Lipman et al. 2023, Sec. 4), and for this one
    an Euler step from node to node is exactly a DDIM step (see ``velocity_from_eps``).
    With a cosine schedule (s → 0) this is the path α_t = sin(πt/2), σ_t = cos(πt/2).

    Times within 1e-3 levels of a node are snapped to it, so float32 grids land on nodes.

    Returns:
        ``(alpha, sigma, dalpha_dt, dsigma_dt)``, each broadcastable against ``like``.
        The derivatives are those of the segment that leads towards the data
        (from level ⌈τ⌉ to ⌈τ⌉ - 1).
    """
    t = check_times(t, like)
    K = schedule.num_levels
    tau = (1 - t.double()) * K
    nearest = tau.round()
    tau = torch.where((tau - nearest).abs() < 1e-3, nearest, tau)
    upper = tau.ceil().clamp(1, K).long()                           # the noisier end of the segment
    lower = upper - 1
    weight = upper - tau                                            # 0 at the upper node, 1 at the lower
    root = schedule.alpha_bars.to(t.device).double().sqrt()         # α at every node
    noise_root = schedule.one_minus_alpha_bars.to(t.device).double().sqrt()  # σ at every node
    alpha = root[upper] + weight * (root[lower] - root[upper])
    sigma = noise_root[upper] + weight * (noise_root[lower] - noise_root[upper])
    dalpha_dt = K * (root[lower] - root[upper])                     # dτ/dt = -K
    dsigma_dt = K * (noise_root[lower] - noise_root[upper])
    return tuple(expand_like(value.to(t.dtype), like) for value in (alpha, sigma, dalpha_dt, dsigma_dt))


def velocity_from_eps(x_t: torch.Tensor, t, eps: torch.Tensor, schedule: NoiseSchedule) -> torch.Tensor:
    """The flow velocity of ``schedule_path`` given a noise prediction ε̂ at (x_t, t):

        d̂ata = (x_t - σ_t ε̂) / α_t,     u = α'_t · d̂ata + σ'_t · ε̂

    (the probability-flow ODE of diffusion written as a flow). An Euler step of
    size 1/K from the node of level k then gives
    x + (α_{k-1} - α_k) d̂ata + (σ_{k-1} - σ_k) ε̂ = sqrt(ᾱ_{k-1}) x̂_0 + sqrt(1 - ᾱ_{k-1}) ε̂,
    which is DDIM's deterministic update (Song et al. 2021, eq. 12, σ = 0).
    Where α_t = 0 (zero terminal SNR at t = 0) d̂ata is set to 0, as in ``ddpm.x0_from_eps``.
    """
    check_same_shape("eps", eps, "x_t", x_t)
    alpha, sigma, dalpha_dt, dsigma_dt = schedule_path(schedule, t, like=x_t)
    safe_alpha = torch.where(alpha > 0, alpha, torch.ones_like(alpha))
    data_hat = torch.where(alpha > 0, (x_t - sigma * eps) / safe_alpha, torch.zeros_like(x_t))
    return dalpha_dt * data_hat + dsigma_dt * eps
