"""Lesson 01 (the variational autoencoder): the figures, the latent-walk widget and the small trainings.

The notebook keeps the math in view and calls these for everything else::

    budget = lesson_budget(profile)                       # how much the extra trainings may cost
    frame_vae, run = train_frame_vae(my_vae_loss, profile) # a VAE on Moving-MNIST frames, any loss_fn
    show_images({"digits": x, "reconstructions": vae.reconstruct(x)})
    latent_walk(vae, test_digits[:10])                     # a slider between two digits (static strip without widgets)
    rows = beta_sweep(vae, train_digits, test_digits, profile)
    beta_tradeoff_figure(rows, test_digits[:6])

Images are (N, C, H, W) and clips (N, T, C, H, W), floats in [0, 1]; numbers are in nats per image.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math

import numpy as np
import torch

from dfkit.budgets import VAEBudget
from dfkit.models.vae import VAE, VAEConfig, elbo, iwae_bound, vae_loss
from dfkit.train import TrainConfig, TrainResult, train

# ----------------------------------------------------------------------------- budget


def lesson_budget(profile) -> VAEBudget:
    """What the lesson may cost beyond its models: ``profile.lessons.vae``, a :class:`~dfkit.budgets.VAEBudget`."""
    return profile.lessons.vae


# ----------------------------------------------------------------------------- data


def moving_mnist_clips(profile, split: str = "train", count: int | None = None) -> torch.Tensor:
    """Moving-MNIST clips (N, T, 1, H, W) in [0, 1] with the profile's settings; ``count`` clips at most.

    The test split is generated with only ``count`` clips, so looking at a few costs little.
    """
    from dfkit import data

    config = profile.moving_mnist
    if split != "train" and count is not None:
        config = dataclasses.replace(config, num_sequences=count)
    clips = data.load("moving_mnist", split, progress=False, **dataclasses.asdict(config))
    return clips.frames(None if count is None else slice(0, count))


def frames_as_images(clips: torch.Tensor) -> torch.Tensor:
    """(N, T, C, H, W) -> (N·T, C, H, W): every frame becomes one training image."""
    if not isinstance(clips, torch.Tensor) or clips.ndim != 5:
        raise ValueError(f"expected clips of shape (N, T, C, H, W), got {tuple(clips.shape) if isinstance(clips, torch.Tensor) else type(clips).__name__}")
    return clips.reshape(-1, *clips.shape[2:])


def frame_vae_config(profile) -> VAEConfig:
    """The digit VAE of the profile, resized for Moving-MNIST frames (one more stride-2 stage per doubling past 32 px)."""
    size = profile.moving_mnist.canvas_size
    extra = max(0, int(round(math.log2(size / 32))))
    mults = tuple(profile.vae.channel_mults) + (profile.vae.channel_mults[-1],) * extra
    return dataclasses.replace(profile.vae, image_size=size, channel_mults=mults)


def train_frame_vae(loss_fn, profile, likelihood: str = "bernoulli", progress: bool = True) -> tuple[VAE, TrainResult]:
    """Train a fresh VAE on single Moving-MNIST frames with ``loss_fn(model, x, generator)``.

    ``likelihood`` only tells the model how to turn its output into pixels (sigmoid of logits, or a
    clamped Gaussian mean); the loss function decides what is actually trained.
    """
    budget = profile.lessons.vae
    frames = frames_as_images(moving_mnist_clips(profile, "train", budget.frame_clips))   # (N·T, 1, H, W)
    settings = profile.vae_training
    config = TrainConfig(steps=budget.frame_steps, batch_size=settings.batch_size, lr=settings.lr,
                         warmup_steps=settings.warmup_steps, ema_decay=None, seed=1, progress=progress,
                         log_every=max(1, min(50, budget.frame_steps // 10)))
    model = VAE(dataclasses.replace(frame_vae_config(profile), likelihood=likelihood))
    result = train(model, loss_fn, frames, config)
    return result.model.eval(), result


# ----------------------------------------------------------------------------- numbers


@torch.no_grad()
def elbo_terms(vae: VAE, x: torch.Tensor, beta: float = 1.0, seed: int = 0) -> dict[str, float]:
    """Mean over ``x`` of the ELBO, its reconstruction term and its KL term (nats per image), with a seeded sample."""
    vae.eval()
    terms = elbo(vae, x, beta=beta, generator=torch.Generator().manual_seed(seed))
    return {name: float(value.mean()) for name, value in terms.items()}


@torch.no_grad()
def kl_per_dimension(vae: VAE, x: torch.Tensor) -> torch.Tensor:
    """Average KL(q(z_j|x) || N(0, 1)) of each latent dimension j over ``x`` -> (D,)."""
    mu, logvar = vae.encode(x)
    return (0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)).mean(dim=0)


@torch.no_grad()
def bound_comparison(vae: VAE, x: torch.Tensor, samples=(1, 8, 64), seed: int = 0) -> dict[str, float]:
    """Mean over ``x`` of the one-sample ELBO and of the importance-weighted bounds IWAE_K (nats per image).

    ELBO <= IWAE_K <= log p(x) in expectation, and IWAE_K grows towards log p(x) with K: the gap
    between the ELBO and a large-K IWAE shows how loose the bound is on this model.
    """
    vae.eval()
    numbers = {"ELBO": elbo_terms(vae, x, seed=seed)["elbo"]}
    for k in samples:
        numbers[f"IWAE, K = {k}"] = float(iwae_bound(vae, x, k, torch.Generator().manual_seed(seed)).mean())
    return numbers


def fine_tune(vae: VAE, images: torch.Tensor, beta: float, steps: int, profile, seed: int = 0, progress: bool = False) -> VAE:
    """A copy of ``vae`` trained ``steps`` more steps on ``images`` with the KL term weighted by ``beta``."""
    settings = profile.vae_training
    config = TrainConfig(steps=steps, batch_size=settings.batch_size, lr=settings.lr, ema_decay=None, seed=seed, progress=progress,
                         log_every=max(1, min(50, steps)))
    model = copy.deepcopy(vae)
    return train(model, functools.partial(vae_loss, beta=beta), images, config).model.eval()


def beta_sweep(vae: VAE, train_images: torch.Tensor, test_images: torch.Tensor, profile, progress: bool = True) -> list[dict]:
    """Fine-tune ``vae`` once per β of the lesson budget and measure each on ``test_images``.

    Returns one row per β: ``beta``, ``reconstruction`` (E_q log p(x|z)), ``kl``, ``elbo`` (with β = 1,
    so the rows compare as bounds on log p(x)), ``active`` (latent dimensions carrying more than
    0.05 nats) and the fine-tuned ``model``.
    """
    budget = profile.lessons.vae
    rows = []
    for beta in budget.betas:
        if progress:
            print(f"β = {beta:g}: {budget.beta_steps} more training steps")
        model = fine_tune(vae, train_images, beta, budget.beta_steps, profile, progress=progress)
        terms = elbo_terms(model, test_images)
        active = int((kl_per_dimension(model, test_images) > 0.05).sum())
        rows.append({"beta": beta, "reconstruction": terms["reconstruction"], "kl": terms["kl"], "elbo": terms["elbo"],
                     "active": active, "model": model})
    return rows


def beta_table(rows: list[dict]) -> str:
    """The sweep as a small text table."""
    lines = [f"{'β':>5} | {'E_q log p(x|z)':>14} | {'KL(q || p)':>10} | {'ELBO (β = 1)':>12} | active dims",
             "-" * 66]
    for row in rows:
        lines.append(f"{row['beta']:>5g} | {row['reconstruction']:>14.1f} | {row['kl']:>10.1f} | {row['elbo']:>12.1f} | "
                     f"{row['active']} of {row['model'].config.latent_dim}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- figures


def _images(images) -> np.ndarray:
    array = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    if array.ndim == 4 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 3:
        raise ValueError(f"expected images of shape (N, 1, H, W) or (N, H, W), got {array.shape}")
    return np.clip(array, 0.0, 1.0)


def strip(images, gap: int = 2) -> np.ndarray:
    """Images (N, 1, H, W) side by side with grey gaps: one array (H, N·(W + gap) - gap) in [0, 1]."""
    array = _images(images)
    n, h, w = array.shape
    out = np.full((h, n * (w + gap) - gap), 0.5)
    for i in range(n):
        out[:, i * (w + gap): i * (w + gap) + w] = array[i]
    return out


def show_images(rows: dict, title: str | None = None, scale: float = 0.035):
    """One strip of images per entry of ``rows`` ({label: (N, 1, H, W) in [0, 1]}); returns the figure."""
    import matplotlib.pyplot as plt

    strips = {label: strip(images) for label, images in rows.items()}
    width = max(s.shape[1] for s in strips.values())
    height = sum(s.shape[0] for s in strips.values())
    figure, axes = plt.subplots(len(strips), 1, figsize=(max(3.0, scale * width), scale * height + 0.35 * len(strips) + 0.3), squeeze=False)
    for axis, (label, picture) in zip(axes[:, 0], strips.items()):
        axis.imshow(picture, cmap="gray", vmin=0, vmax=1, extent=(0, picture.shape[1], picture.shape[0], 0))
        axis.set_xlim(0, width)
        axis.set_axis_off()
        axis.set_title(label, fontsize=9, loc="left")
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return figure


def clips_figure(rows: dict, title: str | None = None):
    """Clips side by side, one strip per entry of ``rows`` ({label: (T, 1, H, W)}): frames left to right."""
    import matplotlib.pyplot as plt

    from dfkit.viz import tile

    strips = {label: tile(clip[None] if clip.ndim == 4 else clip) for label, clip in rows.items()}
    width = max(s.shape[1] for s in strips.values())
    figure, axes = plt.subplots(len(strips), 1, figsize=(min(14, width / 20 + 1), 1.1 * len(strips) + 0.4), squeeze=False)
    for axis, (label, strip) in zip(axes[:, 0], strips.items()):
        axis.imshow(strip, cmap="gray", vmin=0, vmax=1)
        axis.set_axis_off()
        axis.set_title(label, fontsize=8, loc="left")
    if title:
        figure.suptitle(title, fontsize=10)
    figure.tight_layout()
    return figure


def loss_curve_figure(curves: dict, title: str = "training loss", smooth: int = 10):
    """Loss curves ({label: list of per-step losses}), with a moving average over ``smooth`` steps."""
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(5, 3))
    for label, losses in curves.items():
        values = np.asarray(losses, dtype=float)
        window = max(1, min(smooth, len(values)))
        averaged = np.convolve(values, np.ones(window) / window, mode="valid")
        axis.plot(np.arange(window, len(values) + 1), averaged, label=label)
    axis.set(xlabel="step", ylabel="loss (nats per image)", title=title)
    axis.legend(frameon=False, fontsize=8)
    figure.tight_layout()
    return figure


def latent_trajectory_figure(latents: torch.Tensor, dims: int = 4, title: str = "the latent code of each frame"):
    """The first ``dims`` coordinates of a clip's latent codes (T, D) against the frame index."""
    import matplotlib.pyplot as plt

    values = latents.detach().cpu().numpy()
    if values.ndim != 2:
        raise ValueError(f"expected the latents of one clip, shape (T, D), got {values.shape}")
    figure, axis = plt.subplots(figsize=(5, 2.8))
    for j in range(min(dims, values.shape[1])):
        axis.plot(values[:, j], ".-", label=f"$\\mu_{j}$")
    axis.set(xlabel="frame t", ylabel="code", title=title)
    axis.legend(frameon=False, fontsize=8, ncol=min(dims, 4))
    figure.tight_layout()
    return figure


def kl_landscape_figure(kl_fn, limit: float = 3.0):
    """KL(N(μ, σ²) || N(0, 1)) of one latent dimension over a grid of μ and log σ², computed by ``kl_fn``."""
    import matplotlib.pyplot as plt

    mu, logvar = torch.meshgrid(torch.linspace(-limit, limit, 121), torch.linspace(-2 * limit, limit, 121), indexing="ij")
    kl = kl_fn(mu.reshape(-1, 1), logvar.reshape(-1, 1)).reshape(mu.shape)
    figure, axis = plt.subplots(figsize=(4.6, 3.4))
    shown = axis.contourf(mu.numpy(), logvar.numpy(), kl.detach().numpy(), levels=np.linspace(0, 8, 17), extend="max", cmap="viridis")
    axis.plot([0], [0], "w*", ms=10)
    axis.set(xlabel="μ", ylabel="log σ²", title="KL to the prior of one latent dimension")
    figure.colorbar(shown, ax=axis, label="nats")
    figure.tight_layout()
    return figure


@torch.no_grad()
def interpolate(vae: VAE, image_a: torch.Tensor, image_b: torch.Tensor, weights) -> torch.Tensor:
    """Decode (1 - w) μ(a) + w μ(b) for each w in ``weights``: (len(weights), C, H, W) pixels in [0, 1]."""
    vae.eval()
    mu, _ = vae.encode(torch.stack([image_a, image_b]))                                 # (2, D)
    w = torch.as_tensor(weights, dtype=mu.dtype).reshape(-1, 1)                         # (K, 1)
    return vae.to_pixels(vae.decode((1 - w) * mu[0] + w * mu[1]))


def interpolation_figure(vae: VAE, image_a: torch.Tensor, image_b: torch.Tensor, steps: int = 9):
    """The straight line between the codes of two images, decoded: a static view of the latent walk."""
    path = interpolate(vae, image_a, image_b, torch.linspace(0, 1, steps))
    return show_images({"digit a": image_a[None], "decode((1 - w) μ(a) + w μ(b)) for w = 0, 1/8, ..., 1": path, "digit b": image_b[None]},
                       title="a straight walk through the latent space")


def latent_walk(vae: VAE, images: torch.Tensor, steps: int = 21):
    """A widget: pick two digits, slide w from 0 to 1 and watch decode((1 - w) μ(a) + w μ(b)).

    Without ipywidgets the same walk is drawn as a static strip (returned as a figure).
    """
    try:
        import ipywidgets as widgets
    except ImportError:
        print("Note: ipywidgets is not installed, so here is the walk as a static strip (`pip install ipywidgets` gives the slider).")
        return interpolation_figure(vae, images[0], images[1])
    import matplotlib.pyplot as plt

    last = len(images) - 1
    first = widgets.IntSlider(value=0, min=0, max=last, description="digit a")
    second = widgets.IntSlider(value=min(1, last), min=0, max=last, description="digit b")
    weight = widgets.FloatSlider(value=0.5, min=0.0, max=1.0, step=1.0 / (steps - 1), description="w")

    def draw(a, b, w):
        decoded = interpolate(vae, images[a], images[b], [w])[0]
        figure, axes = plt.subplots(1, 3, figsize=(5.4, 2.0))
        for axis, picture, label in zip(axes, (images[a], decoded, images[b]), ("a", f"w = {w:.2f}", "b")):
            axis.imshow(_images(picture[None])[0], cmap="gray", vmin=0, vmax=1)
            axis.set_title(label, fontsize=9)
            axis.set_axis_off()
        plt.show()

    output = widgets.interactive_output(draw, {"a": first, "b": second, "w": weight})
    return widgets.VBox([widgets.HBox([first, second]), weight, output])


def stability_table(textbook_fn, stable_fn, logits=(2.0, 20.0, 50.0, 100.0, 200.0)) -> str:
    """log p(x = 1) of one pixel at more and more negative logits: ``textbook_fn`` against ``stable_fn`` (both (x, logits) -> (B,))."""
    name = getattr(stable_fn, "__name__", "stable form")
    lines = [f"{'logit':>7} | {'textbook formula':>16} | {name:>24}", "-" * 55]
    for value in logits:
        x, l = torch.ones(1, 1), torch.full((1, 1), -value)
        lines.append(f"{-value:>7g} | {float(textbook_fn(x, l)):>16.4g} | {float(stable_fn(x, l)):>24.4g}")
    return "\n".join(lines)


def beta_tradeoff_figure(rows: list[dict], test_images: torch.Tensor, samples: int = 6, seed: int = 0):
    """Left: the rate-distortion view (KL against reconstruction) per β. Right: reconstructions and prior samples per β."""
    import matplotlib.pyplot as plt

    figure = plt.figure(figsize=(10, 1.2 + 1.1 * len(rows)))
    grid = figure.add_gridspec(len(rows), 3, width_ratios=(1.0, 0.15, 2.4))
    axis = figure.add_subplot(grid[:, 0])
    kls = [row["kl"] for row in rows]
    distortions = [-row["reconstruction"] for row in rows]
    axis.plot(kls, distortions, "o-")
    for row, kl, distortion in zip(rows, kls, distortions):
        axis.annotate(f"β = {row['beta']:g}", (kl, distortion), textcoords="offset points", xytext=(5, 5), fontsize=8)
    axis.set(xlabel="KL(q(z|x) || p(z))  (rate)", ylabel="-E_q log p(x|z)  (distortion)", title="one point per β", )
    for r, row in enumerate(rows):
        model = row["model"]
        reconstructions = model.reconstruct(test_images[:samples])
        prior = model.sample(samples, generator=torch.Generator().manual_seed(seed))
        left, right = strip(reconstructions), strip(prior)
        picture = np.concatenate([left, np.ones((left.shape[0], 8)), right], axis=1)
        ax = figure.add_subplot(grid[r, 2])
        ax.imshow(picture, cmap="gray", vmin=0, vmax=1)
        ax.set_axis_off()
        ax.set_title(f"β = {row['beta']:g}: reconstructions  |  samples from p(z)", fontsize=8, loc="left")
    figure.tight_layout()
    return figure
