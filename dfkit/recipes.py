"""Ready-made trainings of the course's image models, shared by notebooks, figures and benchmarks.

Each recipe loads the reference checkpoint ``<checkpoints>/<profile>/<name>`` when it exists
(:func:`dfkit.checkpoint.checkpoint_root`; ``dfkit checkpoints install PACK`` puts them there) and
otherwise trains with the profile's presets and :func:`dfkit.train.train`, then saves the checkpoint
for next time. A training that is interrupted resumes where it stopped the next time it is asked for.

    model = image_model("ddpm", get_profile("class"))    # a UNet predicting v on digits in [-1, 1]
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import torch

from dfkit.checkpoint import (announce_training, checkpoint_root, load_checkpoint, refuse_training_unless_allowed, save_checkpoint,
                              training_folder)
from dfkit.diffusion import flow
from dfkit.diffusion.ddpm import diffusion_loss
from dfkit.diffusion.schedules import NoiseSchedule, make_schedule
from dfkit.models.unet import UNet
from dfkit.models.vae import VAE, vae_loss
from dfkit.train import train_resumable

IMAGE_MODELS = ("vae", "ddpm", "flow")
SCHEDULE_KIND = "cosine"
# The course's DDPM model predicts v = sqrt(ᾱ) ε - sqrt(1 - ᾱ) x0. With the cosine schedule ᾱ_K ≈ 2e-9, so
# turning an ε prediction into x̂0 near k = K divides its error by sqrt(ᾱ_K) ≈ 5e-5; a v-model has no such
# blow-up (lecture 02, section 2).
PARAMETERIZATION = "v"


def digits(split: str = "train", scale: str = "unit") -> torch.Tensor:
    """MNIST digits (N, 1, 28, 28) as floats, ``scale="unit"`` for [0, 1] or ``"signed"`` for [-1, 1]."""
    from dfkit.data.digits import load_digits

    images = torch.from_numpy(load_digits(split)[0]).float()[:, None] / 255.0
    if scale == "signed":
        return images * 2.0 - 1.0
    if scale != "unit":
        raise ValueError(f"expected scale 'unit' or 'signed', got {scale!r}")
    return images


def course_schedule() -> NoiseSchedule:
    """The schedule every DDPM model of the course is trained with (cosine, K = 1000)."""
    return make_schedule(SCHEDULE_KIND, 1000)


class DDPMLoss:
    """The DDPM regression loss (Ho et al., Alg. 1, in any parameterization) for a UNet called as ``model(x_k, k)``."""

    def __init__(self, schedule: NoiseSchedule, parameterization: str = PARAMETERIZATION):
        self.schedule, self.parameterization = schedule, parameterization

    def __call__(self, model, batch, generator):
        return diffusion_loss(lambda x_k, k: model(x_k, k.float()), batch, self.schedule, self.parameterization, generator=generator)


def flow_matching_loss(model, batch, generator):
    """Velocity regression on the straight path; the UNet is called as ``model(x_t, t)``."""
    return flow.flow_loss(model, batch, generator=generator)


def build(name: str, profile):
    """An untrained model, its loss and its training data for ``name`` in :data:`IMAGE_MODELS`.

    The initial weights depend only on the training seed, not on the global random state.
    """
    with torch.random.fork_rng():
        torch.manual_seed(training_config(name, profile).seed)
        return _build(name, profile)


def training_config(name: str, profile):
    """The profile's TrainConfig of image model ``name``: the VAE's, or the UNets' (DDPM and flow matching)."""
    return profile.vae_training if name == "vae" else profile.unet_training


def model_config(name: str, profile):
    """The config the presets build ``name`` from (flow matching embeds t in [0, 1] like a level in 0..1000)."""
    if name == "vae":
        return profile.vae
    if name == "ddpm":
        return profile.unet
    if name == "flow":
        return dataclasses.replace(profile.unet, level_scale=1000.0)
    raise ValueError(f"unknown image model {name!r}; expected one of {IMAGE_MODELS}")


def model_and_loss(name: str, profile):
    """An untrained model of ``name`` and its training loss (no data: see :func:`build`)."""
    config = model_config(name, profile)
    if name == "vae":
        return VAE(config), vae_loss
    if name == "ddpm":
        return UNet(config), DDPMLoss(course_schedule())
    return UNet(config), flow_matching_loss


def _build(name: str, profile):
    model, loss_fn = model_and_loss(name, profile)
    return model, loss_fn, digits("train", "unit" if name == "vae" else "signed"), training_config(name, profile)


def checkpoint_path(name: str, profile) -> Path:
    """``<checkpoints>/<profile>/<name>``: the prefix of the model's .json / .safetensors files."""
    model_config(name, profile)                       # an unknown name fails here, with the known ones
    return checkpoint_root() / profile.name / name


def load_image_model(name: str, profile, path: Path | None = None) -> torch.nn.Module:
    """The checkpoint of ``name`` (default: its :func:`checkpoint_path`), checked against the presets.

    A checkpoint of another config or step count than the profile trains raises a ValueError that
    says which; a missing one raises FileNotFoundError.
    """
    path = path if path is not None else checkpoint_path(name, profile)
    model, meta = load_checkpoint(path)
    wanted_config, wanted_steps = model_config(name, profile), training_config(name, profile).steps
    if model.config != wanted_config or meta.get("step") != wanted_steps:
        raise ValueError(f"checkpoint {path} holds a {model.config} trained for {meta.get('step')} steps, but the "
                         f"{profile.name} presets train a {wanted_config} for {wanted_steps}; retrain it "
                         f"(retrain=True) or remove the checkpoint")
    return model.eval()


def image_model(name: str, profile, retrain: bool = False, progress: bool = True, save: bool = True) -> torch.nn.Module:
    """The trained model ``name`` for ``profile`` (EMA weights when the training keeps them), in eval mode.

    Loads :func:`checkpoint_path` when it exists (unless ``retrain``); else trains, resuming an
    interrupted training of the same checkpoint, and saves it (unless ``save=False``).
    ``DFKIT_TRAINING=never`` makes a missing checkpoint a :class:`~dfkit.checkpoint.MissingModelError`.
    """
    path = checkpoint_path(name, profile)
    if not retrain and path.with_suffix(".json").exists():
        return load_image_model(name, profile, path)
    refuse_training_unless_allowed(f"the {profile.name} profile's {name} model", path)
    model, loss_fn, data, config = build(name, profile)
    if progress:
        announce_training(f"the {profile.name} profile's {name} model", path, config.steps)
    work = training_folder(path) if save else None
    result = train_resumable(model, loss_fn, data, dataclasses.replace(config, progress=progress), work)
    trained = result.ema_model if result.ema_model is not None else result.model
    if save:
        save_checkpoint(path, trained, step=result.steps, extra_state={"train_seconds": result.wall_seconds})
        shutil.rmtree(work, ignore_errors=True)
    return trained.eval()
