"""Helpers of lesson 02 (DDPM and DDIM): pictures, the noise-level explorer, a small 2-D denoiser.

The notebook keeps the ideas in view (the exercises, the training loop, the sampling loops); the
plotting code lives here:

* ``plot_schedule``: ᾱ_k, the log signal-to-noise ratio, and how much an ε error is magnified
  when it is turned into a guess of x_0;
* ``show_images``: a grid of digits in [-1, 1];
* ``noise_spectrum``, ``masking_figure``, ``masking_explorer``: noise as a soft mask and as a
  low-pass filter, a slider over the noise level beside the power spectrum (a static figure where
  ipywidgets is missing);
* ``MixtureDenoiser``, ``plot_mixture``: a small network for 2-D points and a picture of samples
  over the density of a Gaussian mixture;
* ``one_thread``: a context that keeps small tensor work on one CPU thread;
* ``plot_trajectory``, ``plot_steps_vs_quality``: what a sampler visits and what fewer steps cost.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np
import torch
import torch.nn as nn

from dfkit.diffusion.schedules import NoiseSchedule

# --------------------------------------------------------------------------- the schedule


def plot_schedule(schedule: NoiseSchedule):
    """Three panels: ᾱ_k, log SNR(k), and sqrt((1 - ᾱ_k) / ᾱ_k), the factor from an ε error to an x̂_0 error."""
    import matplotlib.pyplot as plt

    levels = np.arange(schedule.num_levels + 1)
    alpha_bars = schedule.alpha_bars.double().numpy()
    one_minus = schedule.one_minus_alpha_bars.double().numpy()
    inner = slice(1, schedule.num_levels + 1)
    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(12, 3.2))
    left.plot(levels, alpha_bars, label="ᾱ_k (signal kept)")
    left.plot(levels, one_minus, label="1 - ᾱ_k (noise variance)")
    left.set(xlabel="level k", title=f"{schedule.kind} schedule, K = {schedule.num_levels}")
    left.legend(frameon=False, fontsize=8)
    middle.plot(levels[inner], np.log(alpha_bars[inner] / one_minus[inner]))
    middle.axhline(0, color="k", lw=0.5)
    middle.set(xlabel="level k", ylabel="log SNR", title="log ᾱ_k / (1 - ᾱ_k)")
    right.semilogy(levels[inner], np.sqrt(one_minus[inner] / alpha_bars[inner]))
    right.set(xlabel="level k", title="x̂_0 error per unit of ε error")
    figure.tight_layout()
    return figure


def show_images(images, titles=None, ncols: int | None = None, title: str | None = None, size: float = 1.1):
    """A grid of images ``(N, 1, H, W)`` (or ``(N, H, W)``) in [-1, 1]; values outside are clipped for display."""
    import matplotlib.pyplot as plt

    array = images.detach().cpu().float().numpy() if hasattr(images, "detach") else np.asarray(images, dtype=np.float64)
    if array.ndim == 4:
        if array.shape[1] != 1:
            raise ValueError(f"expected grayscale images of shape (N, 1, H, W), got {array.shape}")
        array = array[:, 0]
    if array.ndim != 3:
        raise ValueError(f"expected images of shape (N, 1, H, W) or (N, H, W), got {array.shape}")
    count = len(array)
    ncols = min(count, ncols or count)
    nrows = math.ceil(count / ncols)
    figure, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.3 if title else 0)), squeeze=False)
    for index, axis in enumerate(axes.flat):
        axis.set_axis_off()
        if index < count:
            axis.imshow(array[index], cmap="gray", vmin=-1, vmax=1)
            if titles is not None:
                axis.set_title(str(titles[index]), fontsize=8)
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return figure


# --------------------------------------------------------------------------- noise as a mask, noise as a low-pass filter


def noise_spectrum(x0: torch.Tensor, level: int, schedule: NoiseSchedule, noise: torch.Tensor, q_sample) -> dict:
    """Power spectra of clean and noised images at one level, and the frequency where noise takes over.

    Args:
        x0: clean images ``(B, 1, H, W)`` in [-1, 1].
        level: the noise level k.
        noise: ε, same shape as ``x0``.
        q_sample: the function that noises, ``q_sample(x0, k, noise, schedule)``.

    Returns a dict with ``frequencies``, ``clean`` (P(f)), ``noisy`` (measured), ``predicted``
    (ᾱ_k P(f) + 1 - ᾱ_k), ``floor`` (1 - ᾱ_k), ``alpha_bar`` and ``cutoff``: the highest frequency
    where the signal still carries at least as much power as the noise (0 when none does).
    """
    from dfkit.metrics.spectrum import radial_power_spectrum

    k = torch.full((x0.shape[0],), int(level), dtype=torch.long)
    frequencies, clean = radial_power_spectrum(x0)
    _, noisy = radial_power_spectrum(q_sample(x0, k, noise, schedule))
    alpha_bar = float(schedule.alpha_bars[int(level)])
    floor = float(schedule.one_minus_alpha_bars[int(level)])
    above = frequencies[alpha_bar * clean >= floor]
    return {
        "frequencies": frequencies, "clean": clean, "noisy": noisy, "predicted": alpha_bar * clean + floor,
        "floor": floor, "alpha_bar": alpha_bar, "cutoff": float(above.max()) if len(above) else 0.0,
    }


def _draw_masking(axes, x0, level, schedule, noise, q_sample, shown: int = 0):
    """Draw one digit at ``level`` on ``axes[0]`` and the spectra on ``axes[1]``."""
    image_axis, spectrum_axis = axes
    spectrum = noise_spectrum(x0, level, schedule, noise, q_sample)
    k = torch.full((1,), int(level), dtype=torch.long)
    noisy = q_sample(x0[shown:shown + 1], k, noise[shown:shown + 1], schedule)
    image_axis.imshow(noisy[0, 0].numpy(), cmap="gray", vmin=-1.5, vmax=1.5)
    image_axis.set_axis_off()
    image_axis.set_title(f"k = {level}, ᾱ = {spectrum['alpha_bar']:.3f}", fontsize=9)
    f = spectrum["frequencies"]
    spectrum_axis.loglog(f, spectrum["clean"], "k--", lw=1, label="clean digits P(f)")
    spectrum_axis.loglog(f, spectrum["noisy"], "C0", lw=2, label="noisy digits")
    if level > 0:
        spectrum_axis.axhline(spectrum["floor"], color="C3", ls=":", lw=1, label="noise 1 - ᾱ")
        spectrum_axis.loglog(f, spectrum["alpha_bar"] * spectrum["clean"], "C2", lw=1, label="signal ᾱ P(f)")
    cutoff = spectrum["cutoff"]
    if level > 0 and cutoff < f[-1]:
        spectrum_axis.axvspan(max(cutoff, f[0]), f[-1], color="C3", alpha=0.08)
    if level == 0 or cutoff >= f[-1]:
        masked = "nothing masked"
    else:
        masked = "every frequency masked" if cutoff == 0 else f"masked above {cutoff:.2f} cycles/px"
    spectrum_axis.set_title(masked, fontsize=8)
    spectrum_axis.set_ylim(1e-3, max(spectrum["clean"].max(), 1.0) * 2)
    ticks = [f[0], 0.1, 0.2, 0.5]
    spectrum_axis.set_xticks(ticks, [f"1/{round(1 / f[0])}", "0.1", "0.2", "0.5"])
    spectrum_axis.xaxis.set_minor_formatter(_null_formatter())
    spectrum_axis.set_xlabel("frequency (cycles / pixel)", fontsize=8)
    return spectrum


def _null_formatter():
    from matplotlib.ticker import NullFormatter

    return NullFormatter()


def masking_figure(x0: torch.Tensor, schedule: NoiseSchedule, q_sample, noise: torch.Tensor, levels=(0, 100, 300, 500, 700)):
    """Static version of the explorer: one column per level, the digit above its spectrum."""
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(2, len(levels), figsize=(2.6 * len(levels), 5.2), gridspec_kw={"height_ratios": [1, 1.1]})
    for column, level in enumerate(levels):
        _draw_masking((axes[0, column], axes[1, column]), x0, level, schedule, noise, q_sample)
    axes[1, 0].set_ylabel("power")
    axes[1, -1].legend(frameon=False, fontsize=7, loc="lower left")
    figure.tight_layout()
    return figure


def masking_explorer(x0: torch.Tensor, schedule: NoiseSchedule, q_sample, noise: torch.Tensor, level: int = 300, step: int = 10):
    """A slider over the noise level: the noised digit and the power spectrum side by side.

    Returns the widget, or ``None`` (after showing the static :func:`masking_figure`) when
    ipywidgets is not installed.
    """
    import matplotlib.pyplot as plt

    try:
        import ipywidgets as widgets
        from IPython.display import display
    except ImportError:
        print("ipywidgets is not installed, so here are a few fixed levels instead of a slider "
              "(pip install ipywidgets for the interactive version).")
        masking_figure(x0, schedule, q_sample, noise)
        plt.show()
        return None

    slider = widgets.IntSlider(value=level, min=0, max=schedule.num_levels, step=step, description="level k",
                               continuous_update=False)
    output = widgets.Output()

    def redraw(change=None):
        with output:
            output.clear_output(wait=True)
            figure, axes = plt.subplots(1, 2, figsize=(8, 3.2), gridspec_kw={"width_ratios": [1, 1.8]})
            _draw_masking(axes, x0, slider.value, schedule, noise, q_sample)
            axes[1].legend(frameon=False, fontsize=7, loc="lower left")
            figure.tight_layout()
            plt.show()
            plt.close(figure)

    slider.observe(redraw, names="value")
    redraw()
    box = widgets.VBox([slider, output])
    display(box)
    return box


# --------------------------------------------------------------------------- a 2-D playground


@contextlib.contextmanager
def one_thread():
    """Run the enclosed torch work on one CPU thread, then restore the previous setting.

    Points in 2-D, or a small UNet on a batch of 16 digits, make tensors too small to split: a
    second thread mostly waits for the first, and on a busy 2-core machine the waiting made such
    loops 5 to 30 times slower than on one thread.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class MixtureDenoiser(nn.Module):
    """A small MLP ``(x_k, k) -> ε̂`` for points ``(N, D)``; the level enters as sinusoidal features of k / K."""

    def __init__(self, dim: int = 2, num_levels: int = 1000, width: int = 128, frequencies: int = 8):
        super().__init__()
        self.num_levels = num_levels
        self.register_buffer("scales", 2.0 ** torch.arange(frequencies, dtype=torch.float32) * math.pi / 2)
        self.net = nn.Sequential(
            nn.Linear(dim + 2 * frequencies, width), nn.SiLU(),
            nn.Linear(width, width), nn.SiLU(),
            nn.Linear(width, width), nn.SiLU(),
            nn.Linear(width, dim),
        )

    def forward(self, x_k: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
        if x_k.dim() != 2:
            raise ValueError(f"expected points of shape (N, D), got {tuple(x_k.shape)}")
        tau = (k.to(x_k.dtype) / self.num_levels)[:, None] * self.scales          # (N, F)
        return self.net(torch.cat([x_k, tau.sin(), tau.cos()], dim=1))           # (N, D)


def plot_mixture(mixture, samples=None, ax=None, title: str | None = None, limits=(-3, 3)):
    """Density of a 2-D Gaussian mixture as contours, with ``samples`` ``(N, 2)`` scattered on top."""
    import matplotlib.pyplot as plt

    if mixture.dim != 2:
        raise ValueError(f"expected a 2-D mixture, got dimension {mixture.dim}")
    if ax is None:
        _, ax = plt.subplots(figsize=(3.4, 3.4))
    grid = torch.linspace(limits[0], limits[1], 120, dtype=torch.float64)
    xx, yy = torch.meshgrid(grid, grid, indexing="xy")
    density = mixture.log_prob(torch.stack([xx.flatten(), yy.flatten()], 1)).exp().reshape(xx.shape)
    ax.contour(xx.numpy(), yy.numpy(), density.numpy(), levels=6, colors="k", linewidths=0.6, alpha=0.6)
    if samples is not None:
        points = samples.detach().cpu().double().numpy()
        ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.4, color="C0")
    ax.set(xlim=limits, ylim=limits, aspect="equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return ax


# --------------------------------------------------------------------------- sampling pictures


def plot_trajectory(states, predictions, levels, count: int = 3):
    """Rows of samples along a sampler's path: x_k above x̂_0, for the first ``count`` samples.

    Args:
        states: list of ``(B, 1, H, W)`` tensors x_k, one per visited level.
        predictions: list of the same length, x̂_0 at each visited level.
        levels: the visited levels.
    """
    import matplotlib.pyplot as plt

    columns = len(states)
    count = min(count, len(states[0]))
    figure, axes = plt.subplots(2 * count, columns, figsize=(0.75 * columns + 0.4, 0.8 * 2 * count), squeeze=False)
    for column, (state, prediction, level) in enumerate(zip(states, predictions, levels)):
        for row in range(count):
            for offset, image in ((0, state), (1, prediction)):
                axis = axes[2 * row + offset, column]
                axis.set_xticks([])
                axis.set_yticks([])
                axis.imshow(image[row, 0].detach().cpu().float().numpy(), cmap="gray", vmin=-1, vmax=1)
        axes[0, column].set_title(f"k={level}", fontsize=7)
    for row in range(count):
        axes[2 * row, 0].set_ylabel("x_k", fontsize=7)
        axes[2 * row + 1, 0].set_ylabel("x̂_0", fontsize=7)
    figure.tight_layout(pad=0.2)
    return figure


def plot_steps_vs_quality(steps, distances, fid_steps=None, fids=None, fid_floor=None):
    """Distance to a many-step reference against the number of DDIM steps, and classifier FID when given."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    panels = 2 if fids is not None else 1
    figure, axes = plt.subplots(1, panels, figsize=(4.4 * panels, 3.2), squeeze=False)
    left = axes[0, 0]
    left.loglog(steps, distances, "o-")
    left.set(xlabel="DDIM steps S", ylabel="RMS pixel distance", title="distance to the sample with the most steps")
    if fids is not None:
        right = axes[0, 1]
        right.semilogx(fid_steps, fids, "o-", label="samples")
        if fid_floor is not None:
            right.axhline(fid_floor, color="k", ls=":", label="real digits")
        right.set(xlabel="DDIM steps S", ylabel="classifier FID", title="sample quality (lower is better)")
        right.legend(frameon=False, fontsize=8)
    for axis in axes[0]:
        axis.set_xticks(list(fid_steps if axis is not left and fid_steps is not None else steps))
        axis.set_xticklabels([str(s) for s in (fid_steps if axis is not left and fid_steps is not None else steps)])
        axis.xaxis.set_minor_formatter(NullFormatter())
    figure.tight_layout()
    return figure
