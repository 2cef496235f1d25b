"""Ready-made sequence models of the course, and the rollout each of them is meant for.

A recipe loads the reference checkpoint ``<checkpoints>/<profile>/<dataset>_<name>`` when it
exists (:func:`dfkit.checkpoint.checkpoint_root`; ``dfkit checkpoints install PACK`` puts them
there), and otherwise trains the model with the profile's presets
(:class:`dfkit.profiles.SequencePresets`) on the dataset's train split, then saves it. The same
model can then be rolled out past its training horizon::

    profile = get_profile("class")
    model = sequence_model("diffusion_forcing", "pendulum", profile)
    frames = rollout("diffusion_forcing", model, context, 160, profile, dataset="pendulum", method="stabilized")

``context`` and the returned frames are videos ``(B, T, C, H, W)`` in [0, 1], as the datasets
give them; the models themselves work in [-1, 1] (the objectives rescale while training).

===============================  =============  =========================  ===================================
name                             backbone       objective                  rollout methods (first: default)
===============================  =============  =========================  ===================================
teacher_forcing                  causal         TeacherForcing(context=c)  autoregressive
teacher_forcing_1frame           causal         TeacherForcing(context=1)  autoregressive
teacher_forcing_2frame           causal         TeacherForcing(context=2)  autoregressive
teacher_forcing_noisy_history    causal         TeacherForcing(c, m)       stabilized, autoregressive
regressor                        causal         NextFrameRegression        regressor
full_sequence                    bidirectional  FullSequenceDiffusion      reconstruction, replacement
diffusion_forcing                causal         DiffusionForcing           autoregressive, stabilized, pyramid
diffusion_forcing_bidirectional  bidirectional  DiffusionForcing           autoregressive, stabilized, pyramid
diffusion_forcing_clean_history  causal         DiffusionForcing(h)        autoregressive, stabilized, pyramid
regressor_gru                    gru            NextFrameRegression        regressor
diffusion_forcing_gru            gru            DiffusionForcing           autoregressive, stabilized, pyramid
latent_teacher_forcing           causal         TeacherForcing(context=c)  autoregressive, stabilized
latent_diffusion_forcing         causal         DiffusionForcing           autoregressive, stabilized, pyramid
===============================  =============  =========================  ===================================

``diffusion_forcing_bidirectional`` is the full-sequence model's backbone trained with Diffusion
Forcing's independent levels (the non-causal Diffusion Forcing Transformer of History-Guided
Video Diffusion, Song et al. 2025). It samples a whole window like the full-sequence model and
continues a video from known frames at level 0 like Diffusion Forcing; every frame of its window
sees every other, so its history cannot be cached. ``diffusion_forcing_clean_history`` is
``diffusion_forcing`` trained with a share h of clips that start with clean frames
(``DiffusionForcing(clean_history_fraction=h)``, h the presets' ``clean_history_fraction``): an
experiment on how the training levels shape autoregressive rollouts
(``benchmarks/stabilization_level.py``). ``teacher_forcing_noisy_history`` is ``teacher_forcing``
trained on a history noised to one level in 0..k_small per clip
(``TeacherForcing(history_noise=k_small)``, k_small the presets' ``stabilization_level``) and
rolled out stabilized: noise augmentation of the context, teacher forcing's counterpart of
Diffusion Forcing's stabilization. ``latent_teacher_forcing`` and ``latent_diffusion_forcing`` are
the same objectives on the latent frames of a per-frame VAE (:mod:`dfkit.sequence.latent`; the
presets' ``frame_vae``, checkpoint ``<dataset>_frame_vae``): they load as a
:class:`~dfkit.sequence.latent.LatentSequenceModel`, and :func:`rollout` encodes the context and
decodes the frames, so they take and give frames like every other model.

Rollout methods:

* ``autoregressive``: one new frame per sampler call, autoregressive scheduling matrix, clean
  history. Teacher-forced models see their c history frames (window c + 1), Diffusion Forcing
  the last ``horizon - 1`` frames; the GRU carries its state instead of a window.
* ``stabilized``: the same with the history shown at level k_small (Diffusion Forcing, App. B.2).
* ``pyramid``: ``chunk`` new frames per call walked down a pyramid matrix (each frame one row
  behind the previous one: the near future is more certain), stabilized history.
* ``reconstruction`` / ``replacement``: a full-sequence model extends the video window by window
  (``chunk`` new frames, the rest of the window known), with reconstruction guidance or with
  replacement only (:func:`dfkit.sequence.rollout.extend_video`).
* ``regressor``: the deterministic next-frame regressor fed its own outputs.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from dfkit import data
from dfkit.checkpoint import (announce_training, checkpoint_root, load_checkpoint, refuse_training_unless_allowed, save_checkpoint,
                              training_folder)
from dfkit.device import pick_device
from dfkit.models.vae import VAE, vae_loss
from dfkit.models.video import VideoBackbone, VideoBackboneConfig
from dfkit.profiles import SEQUENCE_DATASETS
from dfkit.recipes import course_schedule
from dfkit.sequence.objectives import (
    DiffusionForcing, FullSequenceDiffusion, NextFrameRegression, TeacherForcing, to_model_range, to_unit_range,
)
from dfkit.sequence.latent import FrameCodec, LatentSequenceModel, latent_statistics
from dfkit.sequence.rollout import RolloutConfig, extend_video, rollout_recurrent, rollout_regressor, rollout_sliding_window
from dfkit.train import TrainConfig, train, train_resumable

DATASETS = SEQUENCE_DATASETS                 # ("pendulum", "moving_mnist")


@dataclass(frozen=True)
class ModelSpec:
    """What a recipe name means: the backbone's temporal kind, the objective and its presets."""

    temporal: str                    # "causal" | "bidirectional" | "gru"
    objective: str                   # "teacher_forcing" | "regression" | "full_sequence" | "diffusion_forcing"
    training: str                    # the SequencePresets field holding its TrainConfig
    rollouts: tuple[str, ...]        # rollout methods, the default first
    context: int | None = None       # teacher forcing: history frames (None: the presets' context)
    clean_history: bool = False      # Diffusion Forcing: mix in clips with a clean history (presets' share)
    history_noise: bool = False      # teacher forcing: history noised up to the presets' stabilization level
    latent: bool = False             # trained on the latent frames of the presets' frame VAE


MODELS: dict[str, ModelSpec] = {
    "teacher_forcing": ModelSpec("causal", "teacher_forcing", "teacher_forcing", ("autoregressive",)),
    "teacher_forcing_1frame": ModelSpec("causal", "teacher_forcing", "markov", ("autoregressive",), context=1),
    "teacher_forcing_2frame": ModelSpec("causal", "teacher_forcing", "markov", ("autoregressive",), context=2),
    "teacher_forcing_noisy_history": ModelSpec("causal", "teacher_forcing", "teacher_forcing", ("stabilized", "autoregressive"),
                                               history_noise=True),
    "regressor": ModelSpec("causal", "regression", "regressor", ("regressor",)),
    "full_sequence": ModelSpec("bidirectional", "full_sequence", "full_sequence", ("reconstruction", "replacement")),
    "diffusion_forcing": ModelSpec("causal", "diffusion_forcing", "diffusion_forcing", ("autoregressive", "stabilized", "pyramid")),
    "diffusion_forcing_bidirectional": ModelSpec("bidirectional", "diffusion_forcing", "diffusion_forcing",
                                                 ("autoregressive", "stabilized", "pyramid")),
    "diffusion_forcing_clean_history": ModelSpec("causal", "diffusion_forcing", "diffusion_forcing",
                                                 ("autoregressive", "stabilized", "pyramid"), clean_history=True),
    "regressor_gru": ModelSpec("gru", "regression", "regressor", ("regressor",)),
    "diffusion_forcing_gru": ModelSpec("gru", "diffusion_forcing", "diffusion_forcing", ("autoregressive", "stabilized", "pyramid")),
    "latent_teacher_forcing": ModelSpec("causal", "teacher_forcing", "latent", ("autoregressive", "stabilized"), latent=True),
    "latent_diffusion_forcing": ModelSpec("causal", "diffusion_forcing", "latent", ("autoregressive", "stabilized", "pyramid"), latent=True),
}
SEQUENCE_MODELS = tuple(MODELS)
ROLLOUT_OPTIONS = tuple(field.name for field in dataclasses.fields(RolloutConfig)) + ("reconstruction_weight",)


# --------------------------------------------------------------------------- names and presets


def spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` of ``name``; a ValueError names the known models otherwise."""
    if name not in MODELS:
        raise ValueError(f"unknown sequence model {name!r}; expected one of {SEQUENCE_MODELS}")
    return MODELS[name]


def available_models(dataset: str, profile) -> tuple[str, ...]:
    """The recipe names ``dataset`` has in ``profile``: every one, but the latent models only where the
    presets have a frame VAE."""
    has_vae = presets(dataset, profile).frame_vae is not None
    return tuple(name for name in SEQUENCE_MODELS if has_vae or not MODELS[name].latent)


def presets(dataset: str, profile):
    """The profile's :class:`~dfkit.profiles.SequencePresets` for ``dataset``, checked against its data config."""
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {DATASETS}")
    chosen = profile.sequence(dataset)
    chosen.validate(getattr(profile, dataset))
    return chosen


def history_length(name: str, dataset: str, profile) -> int:
    """History frames of a teacher-forced model (1, 2 or the presets' c); the presets' context for the others."""
    model_spec, chosen = spec(name), presets(dataset, profile)
    if model_spec.objective == "teacher_forcing":
        return model_spec.context or chosen.context
    return chosen.context


def window_length(name: str, dataset: str, profile) -> int:
    """Frames per training window (= the transformer's max_frames): c + 1 for teacher forcing, else the horizon."""
    if spec(name).objective == "teacher_forcing":
        return history_length(name, dataset, profile) + 1
    return presets(dataset, profile).horizon


def backbone_config(name: str, dataset: str, profile) -> VideoBackboneConfig:
    """The presets' backbone with the temporal kind of ``name`` and its window as ``max_frames``; a latent
    model's is the latent backbone on D x 1 x 1 frames, D the frame VAE's latent_dim."""
    chosen = presets(dataset, profile)
    if spec(name).latent:
        base = dataclasses.replace(chosen.latent_backbone, image_size=1, channels=frame_vae_config(dataset, profile).latent_dim)
    else:
        base = chosen.backbone
    config = dataclasses.replace(base, temporal=spec(name).temporal, max_frames=window_length(name, dataset, profile))
    config.validate()
    return config


def objective(name: str, dataset: str, profile):
    """The training loss of ``name`` (an instance of one of :mod:`dfkit.sequence.objectives`' classes)."""
    model_spec, chosen = spec(name), presets(dataset, profile)
    schedule, parameterization = course_schedule(), chosen.parameterization
    shift, rescale = chosen.training_level_shift(model_spec.objective), not model_spec.latent   # latents are standardized already
    if model_spec.objective == "teacher_forcing":
        return TeacherForcing(schedule, parameterization, context=history_length(name, dataset, profile),
                              history_noise=chosen.stabilization_level if model_spec.history_noise else 0, level_shift=shift,
                              rescale=rescale)
    if model_spec.objective == "regression":
        return NextFrameRegression(window=chosen.horizon)
    if model_spec.objective == "full_sequence":
        return FullSequenceDiffusion(schedule, parameterization, window=chosen.horizon, level_shift=shift)
    return DiffusionForcing(schedule, parameterization, window=chosen.horizon, shared_level_fraction=chosen.shared_level_fraction,
                            clean_history_fraction=chosen.clean_history_fraction if model_spec.clean_history else 0.0,
                            level_shift=shift, rescale=rescale, sorted_levels=chosen.sorted_levels)


def objective_record(loss_fn) -> dict:
    """The settings of an objective as JSON values: its class, the schedule's kind and K, every other field."""
    record = {"class": type(loss_fn).__name__}
    for item in dataclasses.fields(loss_fn):
        value = getattr(loss_fn, item.name)
        if item.name == "schedule":
            record.update(schedule=value.kind, num_levels=value.num_levels)
        else:
            record[item.name] = value
    return record


def training_config(name: str, dataset: str, profile, seed: int | None = None) -> TrainConfig:
    """The presets' TrainConfig of ``name``; ``seed`` replaces its seed (another training of the same recipe)."""
    config = getattr(presets(dataset, profile), spec(name).training)
    if seed is None:
        return config
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"expected seed to be None or an int >= 0, got {seed!r}")
    return dataclasses.replace(config, seed=seed)


def dataset_split(dataset: str, profile, split: str = "train", progress: bool = True, **overrides) -> data.ClipDataset:
    """The clips of ``dataset`` generated with the profile's parameters (``overrides`` replace some)."""
    presets(dataset, profile)
    params = {**dataclasses.asdict(getattr(profile, dataset)), **overrides}
    return data.load(dataset, split, progress=progress, **params)


def build(name: str, dataset: str, profile, progress: bool = True, seed: int | None = None):
    """An untrained model of ``name``, its loss, its training clips and its TrainConfig.

    The initial weights are drawn from the TrainConfig's seed (torch's global RNG is left as it
    was), so a model trains to the same weights whatever ran before it. ``seed`` replaces the
    presets' seed: the initial weights, the batches and the noise of another training.
    """
    config = training_config(name, dataset, profile, seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model, loss_fn = model_and_loss(name, dataset, profile)
    clips = dataset_split(dataset, profile, "train", progress)
    if spec(name).latent:
        clips = frame_codec(dataset, profile, progress=progress).encode(clips.frames())       # (N, T, D, 1, 1)
    return model, loss_fn, clips, config


def model_and_loss(name: str, dataset: str, profile):
    """An untrained backbone of ``name`` and its objective (no data, no seeding: see :func:`build`)."""
    return VideoBackbone(backbone_config(name, dataset, profile)), objective(name, dataset, profile)


# --------------------------------------------------------------------------- the frame VAE of the latent models


def frame_vae_config(dataset: str, profile):
    """The presets' frame VAE; a ValueError when ``dataset`` has no latent models in ``profile``."""
    config = presets(dataset, profile).frame_vae
    if config is None:
        raise ValueError(f"the {profile.name} presets of {dataset!r} have no frame VAE, so no latent models")
    return config


def frame_vae_path(dataset: str, profile) -> Path:
    """``<checkpoints>/<profile>/<dataset>_frame_vae``: the VAE and its latent statistics."""
    return checkpoint_root() / profile.name / f"{dataset}_frame_vae"


def frame_codec(dataset: str, profile, retrain: bool = False, progress: bool = True, save: bool = True) -> FrameCodec:
    """The trained frame VAE of ``dataset`` with its latent statistics (:class:`~dfkit.sequence.latent.FrameCodec`).

    Loads :func:`frame_vae_path` unless it is missing or ``retrain``; else trains the presets'
    ``frame_vae`` on every frame of the train split (``frame_vae_training``), measures the mean and
    standard deviation of its posterior means there, and saves both.
    """
    path, config = frame_vae_path(dataset, profile), frame_vae_config(dataset, profile)
    training = presets(dataset, profile).frame_vae_training
    if not retrain and path.with_suffix(".json").exists():
        vae, meta = load_checkpoint(path, expected_model=VAE)
        if vae.config != config or meta.get("step") != training.steps:
            raise ValueError(f"checkpoint {path} holds a frame VAE {vae.config} trained {meta.get('step')} steps, but the "
                             f"{profile.name} presets train {config} for {training.steps}; retrain it or remove the checkpoint")
        state = meta["extra_state"]
        return FrameCodec(vae, state["latent_mean"], state["latent_std"])
    what = f"the {profile.name} profile's {dataset} frame VAE"
    refuse_training_unless_allowed(what, path)
    if progress:
        announce_training(what, path, training.steps)
    frames = dataset_split(dataset, profile, "train", progress).frames_uint8      # (N, T, C, H, W) uint8
    images = frames.flatten(0, 1)                                                # every frame on its own, kept as uint8
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(training.seed)
        vae = VAE(config)
    start = time.perf_counter()
    result = train(vae, _unit_vae_loss, images, dataclasses.replace(training, progress=progress))
    vae = (result.ema_model if result.ema_model is not None else result.model).eval()
    mean, std = latent_statistics(vae, frames)
    if save:
        record = {"latent_mean": mean, "latent_std": std, "train_seconds": time.perf_counter() - start,
                  "trained_at": time.strftime("%Y-%m-%d %H:%M:%S")}
        save_checkpoint(path, vae, step=result.steps, extra_state=record)
    return FrameCodec(vae, mean, std)


def _unit_vae_loss(model, images, generator=None):
    """vae_loss on uint8 frames (0..255), scaled to [0, 1] batch by batch (the training set stays uint8)."""
    return vae_loss(model, images.float() / 255.0, generator)


def _frame_vae_digest(dataset: str, profile) -> str | None:
    """The weights' sha256 of the frame VAE checkpoint, which a latent model records and checks."""
    path = frame_vae_path(dataset, profile).with_suffix(".json")
    return json.loads(path.read_text()).get("weights_sha256") if path.exists() else None


# --------------------------------------------------------------------------- checkpoints


def checkpoint_path(name: str, dataset: str, profile, seed: int | None = None) -> Path:
    """``<checkpoints>/<profile>/<dataset>_<name>`` (the prefix of the .json / .safetensors files);
    a training with another seed than the presets' adds ``_seed<seed>``."""
    default = training_config(name, dataset, profile).seed
    chosen = training_config(name, dataset, profile, seed).seed
    suffix = "" if chosen == default else f"_seed{chosen}"
    return checkpoint_root() / profile.name / f"{dataset}_{name}{suffix}"


def training_record(name: str, dataset: str, profile, seed: int | None = None) -> dict | None:
    """What was recorded when the checkpoint was trained (train_seconds, train_cpu_seconds, load_average,
    steps, threads, machine, objective), or None when there is no checkpoint. A checkpoint that
    :func:`sequence_model` would refuse (another objective or step count) raises its ValueError."""
    path = checkpoint_path(name, dataset, profile, seed)
    if not path.with_suffix(".json").exists():
        return None
    meta = json.loads(path.with_suffix(".json").read_text())
    _check_training(path, meta, name, dataset, profile, seed)
    return dict(meta.get("extra") or {})


def _check_training(path: Path, meta: dict, name: str, dataset: str, profile, seed: int | None) -> None:
    """Raise a ValueError unless the checkpoint's record (``meta``) holds the objective and the step count the
    presets train now."""
    loss_fn = objective(name, dataset, profile)
    recorded, wanted = (meta.get("extra") or {}).get("objective"), objective_record(loss_fn)
    if recorded is None:       # written before objectives were recorded, when every training level was uniform
        recorded = {**wanted, "level_shift": 1.0} if "level_shift" in wanted else wanted
    # an option the objective gained after the record was written was off then: its default
    defaults = {item.name: item.default for item in dataclasses.fields(loss_fn) if item.default is not dataclasses.MISSING}
    recorded = {**{key: value for key, value in defaults.items() if key in wanted and key not in recorded}, **recorded}
    if recorded != wanted:
        raise ValueError(f"checkpoint {path} was trained with {recorded}, but the {profile.name} presets train "
                         f"{wanted}; retrain it (retrain=True) or remove the checkpoint")
    trained_steps, wanted_steps = meta.get("step"), training_config(name, dataset, profile, seed).steps
    if trained_steps != wanted_steps:
        raise ValueError(f"checkpoint {path} was trained for {trained_steps} steps, but the {profile.name} presets "
                         f"train {wanted_steps}; retrain it (retrain=True) or remove the checkpoint")


def load_sequence_model(name: str, dataset: str, profile, seed: int | None = None, path: Path | None = None,
                        device=None) -> VideoBackbone:
    """The checkpoint of ``name`` (default: its :func:`checkpoint_path`), checked against the presets.

    A checkpoint of another backbone, objective or step count than the profile trains raises a
    ValueError that says which; a missing one raises FileNotFoundError.
    """
    path = path if path is not None else checkpoint_path(name, dataset, profile, seed)
    model, meta = load_checkpoint(path, expected_model=VideoBackbone)
    if model.config != backbone_config(name, dataset, profile):
        raise ValueError(f"checkpoint {path} holds a backbone {model.config}, but the {profile.name} presets build "
                         f"{backbone_config(name, dataset, profile)}; retrain it (retrain=True) or remove the checkpoint")
    _check_training(path, meta, name, dataset, profile, seed)
    if spec(name).latent:
        recorded, current = (meta.get("extra") or {}).get("frame_vae_sha256"), _frame_vae_digest(dataset, profile)
        if recorded != current:
            raise ValueError(f"checkpoint {path} was trained on the latents of another frame VAE than "
                             f"{frame_vae_path(dataset, profile)}; retrain it (retrain=True) or remove the checkpoint")
        model = LatentSequenceModel(model, frame_codec(dataset, profile, progress=False))
    return model.to(pick_device(device)).eval()


def sequence_model(name: str, dataset: str, profile, retrain: bool = False, progress: bool = True, save: bool = True,
                   device=None, seed: int | None = None) -> VideoBackbone:
    """The trained model ``name`` on ``dataset`` for ``profile`` (EMA weights when kept), in eval mode;
    a latent model comes as a :class:`~dfkit.sequence.latent.LatentSequenceModel` (its frame VAE is
    loaded, or trained first).

    Loads ``<checkpoints>/<profile>/<dataset>_<name>`` unless it is missing or ``retrain``; else
    trains with :func:`dfkit.train.train` (resuming an interrupted training of the same checkpoint)
    and saves the checkpoint with the training's wall time. ``seed``: another training of the same
    recipe (its own checkpoint, see :func:`checkpoint_path`). ``DFKIT_TRAINING=never`` makes a
    missing checkpoint a :class:`~dfkit.checkpoint.MissingModelError`.
    """
    path = checkpoint_path(name, dataset, profile, seed)
    target = pick_device(device)
    if not retrain and path.with_suffix(".json").exists():
        return load_sequence_model(name, dataset, profile, seed, path, target)
    what = f"the {profile.name} profile's {dataset} {name} model"
    refuse_training_unless_allowed(what, path)
    model, loss_fn, clips, config = build(name, dataset, profile, progress, seed)
    if progress:
        announce_training(what, path, config.steps)
    work = training_folder(path) if save else None
    cpu_start = time.process_time()
    result = train_resumable(model, loss_fn, clips, dataclasses.replace(config, progress=progress, device=str(target)), work)
    cpu_seconds = time.process_time() - cpu_start          # on a shared machine, wall time alone overstates the cost
    trained = result.ema_model if result.ema_model is not None else result.model
    if save:
        tail = result.losses[-min(len(result.losses), 50):]
        record = {
            "train_seconds": result.wall_seconds, "train_cpu_seconds": cpu_seconds, "load_average": os.getloadavg()[0],
            "steps": result.steps, "torch_threads": torch.get_num_threads(),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {target.type}",
            "final_loss": sum(tail) / len(tail) if tail else None, "trained_at": time.strftime("%Y-%m-%d %H:%M:%S"),
            "objective": objective_record(loss_fn),
        }
        if spec(name).latent:
            record["frame_vae_sha256"] = _frame_vae_digest(dataset, profile)
        save_checkpoint(path, trained, step=result.steps, extra_state=record)
        shutil.rmtree(work, ignore_errors=True)
    if spec(name).latent:
        trained = LatentSequenceModel(trained, frame_codec(dataset, profile, progress=False)).to(target)
    return trained.eval()


# --------------------------------------------------------------------------- rollouts


def rollout_config(name: str, method: str, dataset: str, profile, **overrides) -> RolloutConfig:
    """The :class:`RolloutConfig` of ``method`` for model ``name`` (see the module docstring), with ``overrides``."""
    chosen = presets(dataset, profile)
    methods = spec(name).rollouts
    if method not in methods:
        raise ValueError(f"unknown rollout method {method!r} for {name!r}; expected one of {methods}")
    base = {"steps": chosen.sampling_steps, "kind": "autoregressive", "chunk": 1, "stabilization_level": 0}
    if method == "stabilized":
        base["stabilization_level"] = chosen.stabilization_level
    elif method == "pyramid":
        base.update(kind="pyramid", chunk=chosen.chunk, stabilization_level=chosen.stabilization_level)
    elif method in ("reconstruction", "replacement"):
        base.update(kind="full_sequence", chunk=chosen.chunk)
    unknown = sorted(set(overrides) - set(ROLLOUT_OPTIONS))
    if unknown:
        raise ValueError(f"unknown rollout option(s) {unknown}; expected some of {ROLLOUT_OPTIONS}")
    base.update({key: value for key, value in overrides.items() if key != "reconstruction_weight"})
    config = RolloutConfig(**base)
    config.validate(course_schedule().num_levels)
    return config


def _check_unit_context(context) -> torch.Tensor:
    if not isinstance(context, torch.Tensor) or context.dim() != 5 or not context.is_floating_point():
        got = tuple(context.shape) if isinstance(context, torch.Tensor) else type(context).__name__
        raise ValueError(f"expected context frames as a float tensor (B, c, C, H, W) in [0, 1], got {got}")
    if float(context.min()) < -1e-3 or float(context.max()) > 1 + 1e-3:
        raise ValueError(f"expected context frames in [0, 1] (the datasets' range; the recipe rescales them), "
                         f"got values from {float(context.min()):.3f} to {float(context.max()):.3f}")
    return context


def rollout(name: str, model, context: torch.Tensor, num_frames: int, profile, *, dataset: str, method: str | None = None,
            seed: int = 0, generator: torch.Generator | None = None, **overrides) -> torch.Tensor:
    """Generate ``num_frames`` frames after ground-truth ``context`` with the rollout meant for ``name``.

    context: (B, c, C, H, W) in [0, 1]; returns (B, num_frames, C, H, W) in [0, 1] on the context's device.
    ``method`` picks one of the model's rollout methods (module docstring; default the first);
    ``overrides`` replace fields of its :class:`RolloutConfig` (``steps``, ``stabilization_level``,
    ``chunk``, ...) or the ``reconstruction_weight`` of a full-sequence extension. Randomness comes
    from ``generator``, else from a CPU generator seeded with ``seed``.
    """
    model_spec, chosen = spec(name), presets(dataset, profile)
    method = method or model_spec.rollouts[0]
    config = rollout_config(name, method, dataset, profile, **overrides)
    context = _check_unit_context(context)
    history = history_length(name, dataset, profile)
    if model_spec.objective == "teacher_forcing" and context.shape[1] < history:
        raise ValueError(f"expected at least {history} context frames for {name!r} (it was trained on {history}), got {context.shape[1]}")
    device = next(model.parameters()).device
    latent = isinstance(model, LatentSequenceModel)
    if model_spec.latent != latent:
        raise ValueError(f"expected {'a LatentSequenceModel' if model_spec.latent else 'a pixel-space backbone'} for {name!r}, "
                         f"got {type(model).__name__}")
    # (B, c, C, H, W) frames in [-1, 1], or (B, c, D, 1, 1) standardized latents
    known = model.encode(context.to(device)) if latent else to_model_range(context.to(device))
    generator = generator if generator is not None else torch.Generator().manual_seed(seed)
    schedule, parameterization = course_schedule(), chosen.parameterization
    window = window_length(name, dataset, profile)
    recurrent = getattr(model, "max_window", 0) is None

    if method == "regressor":                                                   # 1. the regressor on its own outputs
        frames = rollout_regressor(model, known if recurrent else known[:, -window:], num_frames, window=None if recurrent else window)
    elif model_spec.objective == "full_sequence":                              # 2. window by window, known frames guided
        weight = overrides.get("reconstruction_weight", chosen.reconstruction_weight)
        frames = extend_video(model, known[:, -(window - config.chunk):], num_frames, schedule, parameterization, config,
                              window=window, method=method, reconstruction_weight=weight, generator=generator).detach()
    elif recurrent:                                                            # 3. the GRU carries its state
        frames = rollout_recurrent(model, known, num_frames, schedule, parameterization, config, generator=generator)
    else:                                                                      # 4. a window sliding over the video
        shown = history if model_spec.objective == "teacher_forcing" else window - config.chunk
        frames = rollout_sliding_window(model, known[:, -shown:], num_frames, schedule, parameterization, config,
                                        window=window, generator=generator)
    frames = model.decode(frames) if latent else to_unit_range(frames)
    return frames.to(context.device)                                              # (B, N, C, H, W) in [0, 1]
