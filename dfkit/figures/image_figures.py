"""Figures of the image lectures: schedules, the forward process, noise as a low-pass filter, steps vs quality."""

from __future__ import annotations

import numpy as np
import torch

from dfkit.diffusion.gaussian import toy_mixture
from dfkit.figures import register
from dfkit.metrics.points import sliced_wasserstein

SHOWN_LEVELS = (0, 100, 250, 400, 550, 700, 850, 1000)


def _digits(count: int, seed: int = 0) -> torch.Tensor:
    """Test digits scaled to [-1, 1], (count, 1, 28, 28)."""
    from dfkit.data.digits import load_digits

    images, _ = load_digits("test")
    rows = np.random.default_rng(seed).choice(len(images), size=count, replace=False)
    return torch.from_numpy(images[rows]).float()[:, None] / 127.5 - 1.0


@register("noise_schedules", lecture="02_ddpm", caption="ᾱ_k and log-SNR of the linear, cosine and sigmoid schedules")
def noise_schedules(profile):
    import matplotlib.pyplot as plt

    from dfkit.diffusion.schedules import make_schedule

    figure, (left, right) = plt.subplots(1, 2, figsize=(9, 3.4))
    levels = np.arange(1001)
    for kind in ("linear", "cosine", "sigmoid"):
        alpha_bars = make_schedule(kind).alpha_bars.double().numpy()
        left.plot(levels, alpha_bars, label=kind)
        right.plot(levels[1:-1], np.log(alpha_bars[1:-1] / (1 - alpha_bars[1:-1])), label=kind)
    zero_snr = make_schedule("linear", zero_terminal_snr=True).alpha_bars.double().numpy()
    left.plot(levels, zero_snr, "k--", lw=1, label="linear, zero terminal SNR")
    left.set(xlabel="level k", ylabel="ᾱ_k (signal kept)", title="how much of x_0 survives")
    right.set(xlabel="level k", ylabel="log SNR = log ᾱ/(1-ᾱ)", title="signal-to-noise ratio")
    left.legend(frameon=False, fontsize=8)
    figure.tight_layout()
    return figure


@register("forward_process", lecture="02_ddpm", caption="Digits through q(x_k | x_0) at increasing levels (cosine schedule)")
def forward_process(profile):
    import matplotlib.pyplot as plt

    from dfkit.diffusion.ddpm import q_sample
    from dfkit.diffusion.schedules import make_schedule

    schedule = make_schedule("cosine")
    x0 = _digits(3)
    generator = torch.Generator().manual_seed(0)
    noise = torch.randn(x0.shape, generator=generator)
    figure, axes = plt.subplots(3, len(SHOWN_LEVELS), figsize=(1.3 * len(SHOWN_LEVELS), 4.2))
    for column, level in enumerate(SHOWN_LEVELS):
        k = torch.full((3,), level, dtype=torch.long)
        x_k = q_sample(x0, k, noise, schedule)
        for row in range(3):
            axes[row, column].imshow(x_k[row, 0].numpy(), cmap="gray", vmin=-1.5, vmax=1.5)
            axes[row, column].set_axis_off()
        axes[0, column].set_title(f"k = {level}", fontsize=9)
    figure.suptitle("the same noise ε at every level: x_k = sqrt(ᾱ_k) x_0 + sqrt(1 - ᾱ_k) ε", fontsize=10)
    return figure


@register("noise_low_pass", lecture="02_ddpm", caption="Noise drowns high frequencies first: power spectra of noisy digits")
def noise_low_pass(profile):
    import matplotlib.pyplot as plt

    from dfkit.diffusion.ddpm import q_sample
    from dfkit.diffusion.schedules import make_schedule
    from dfkit.metrics.spectrum import radial_power_spectrum

    schedule = make_schedule("cosine")
    x0 = _digits(400, seed=1)
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(1))
    figure, axis = plt.subplots(figsize=(5.6, 3.8))
    colours = plt.cm.viridis(np.linspace(0, 0.9, 5))
    for colour, level in zip(colours, (0, 100, 300, 500, 700)):
        k = torch.full((len(x0),), level, dtype=torch.long)
        frequencies, power = radial_power_spectrum(q_sample(x0, k, noise, schedule))
        alpha_bar = float(schedule.alpha_bars[level])
        axis.loglog(frequencies, power, color=colour, label=f"k = {level} (ᾱ = {alpha_bar:.2f})")
        if level:
            axis.axhline(1 - alpha_bar, color=colour, ls=":", lw=1)
    axis.set_xticks([1 / 28, 0.1, 0.2, 0.5], ["1/28", "0.1", "0.2", "0.5"])
    axis.xaxis.set_minor_formatter(plt.NullFormatter())
    axis.set(xlabel="spatial frequency (cycles / pixel)", ylabel="power",
             title="digits fall off like a power law; noise is flat (dotted)")
    axis.legend(frameon=False, fontsize=8)
    return figure


def sampler_errors(steps_grid=(2, 5, 10, 20, 50, 100), samples: int = 2000, seed: int = 0) -> dict[str, list[float]]:
    """Sliced-Wasserstein error of each sampler, run with the exact denoiser of a 2-D mixture."""
    from dfkit.diffusion import flow
    from dfkit.diffusion.ddpm import ddim_sample
    from dfkit.diffusion.schedules import make_schedule

    mixture = toy_mixture()
    schedule = make_schedule("cosine")
    reference = mixture.sample(samples, generator=torch.Generator().manual_seed(seed + 1), dtype=torch.float64)
    denoiser = mixture.exact_denoiser(schedule, "eps")
    velocity = mixture.exact_velocity()
    errors = {"DDIM (η = 0)": [], "DDPM-style (DDIM η = 1)": [], "flow, Euler": [], "flow, Heun": []}
    for steps in steps_grid:
        generator = lambda: torch.Generator().manual_seed(seed)  # noqa: E731  same noise for every sampler
        shape = (samples, 2)
        runs = {
            "DDIM (η = 0)": ddim_sample(denoiser, shape, schedule, steps=steps, eta=0.0, generator=generator()),
            "DDPM-style (DDIM η = 1)": ddim_sample(denoiser, shape, schedule, steps=steps, eta=1.0, generator=generator()),
            "flow, Euler": flow.sample(velocity, torch.randn(shape, generator=generator()), steps, "euler"),
            "flow, Heun": flow.sample(velocity, torch.randn(shape, generator=generator()), max(steps // 2, 1), "heun"),
        }
        for name, points in runs.items():
            errors[name].append(sliced_wasserstein(points, reference))
    floor = sliced_wasserstein(mixture.sample(samples, generator=torch.Generator().manual_seed(seed + 2), dtype=torch.float64), reference)
    errors["two real samples"] = [floor] * len(steps_grid)
    return errors


@register("sampler_steps", lecture="03_flow_matching", caption="Sampler error against steps, with the exact denoiser of a 2-D mixture")
def sampler_steps(profile):
    import matplotlib.pyplot as plt

    steps_grid = (2, 5, 10, 20, 50, 100)
    errors = sampler_errors(steps_grid)
    figure, axis = plt.subplots(figsize=(5.6, 3.8))
    for name, values in errors.items():
        style = "k:" if name == "two real samples" else "o-"
        axis.semilogx(steps_grid, values, style, label=name, ms=4)
    axis.set(xlabel="model evaluations (Heun: 2 per step, so half the steps)", ylabel="sliced Wasserstein to the data",
             title="no training: every sampler uses the exact denoiser")
    axis.set_ylim(bottom=0)
    axis.legend(frameon=False, fontsize=8)
    return figure


@register("vae_latent_interpolation", lecture="01_vae", caption="VAE reconstructions and a walk through its latent space")
def vae_latent_interpolation(profile):
    import matplotlib.pyplot as plt

    from dfkit.recipes import image_model

    vae = image_model("vae", profile, progress=False)
    x = (_digits(8, seed=2) + 1) / 2                                      # (8, 1, 28, 28) in [0, 1]
    with torch.no_grad():
        reconstructions = vae.reconstruct(x)
        mu, _ = vae.encode(x[:2])
        weights = torch.linspace(0, 1, 8)[:, None]
        path = vae.to_pixels(vae.decode((1 - weights) * mu[0] + weights * mu[1]))
    figure, axes = plt.subplots(3, 8, figsize=(9, 3.6))
    for column in range(8):
        for row, images in enumerate((x, reconstructions, path)):
            axes[row, column].imshow(images[column, 0].numpy(), cmap="gray", vmin=0, vmax=1)
            axes[row, column].set_axis_off()
    for row, label in enumerate(("digit x", "decode(μ(x))", "decode((1-w) μ₁ + w μ₂)")):
        axes[row, 0].set_title(label, fontsize=8, loc="left")
    figure.suptitle(f"VAE, {profile.name} profile, latent dimension {vae.config.latent_dim}", fontsize=10)
    return figure
