"""Profiles: one dataclass of presets per way the course is run.

* ``quick``: CI and graders; every notebook runs top to bottom within 90 seconds on 2 CPU cores,
  from an empty dataset cache and checkpoint folder.
* ``class``: the default on a CPU laptop; each notebook within 5 minutes on 2 cores with the
  reference models installed (:mod:`dfkit.reference_models`, ``dfkit checkpoints``).
* ``gpu``: one GPU; full resolution (Moving-MNIST 64×64 with 2 digits, longer clips).

Select with ``DFKIT_PROFILE=quick|class|gpu`` or ``get_profile("quick")``.

Image models (28×28 digits): ``profile.unet`` / ``profile.unet_training`` for DDPM and flow matching
(flow matching uses ``dataclasses.replace(profile.unet, level_scale=1000.0)`` so that t ∈ [0, 1] is
embedded like a level in 0..1000), ``profile.vae`` / ``profile.vae_training`` for the VAE.

Sequence models (notebooks 04-07, ``benchmarks/sequence_rollouts.py``): ``profile.pendulum_sequence``
and ``profile.moving_mnist_sequence`` (or ``profile.sequence("pendulum")``) are
:class:`SequencePresets`: one backbone config at the dataset's resolution, the training horizon, a
TrainConfig per model family, and how rollouts are sampled; ``dfkit.sequence.recipes`` builds,
trains and rolls out the models from them. The class step counts are sized so that one model trains
in minutes on 2 cores (``benchmarks/training_speed.py`` projects them on the machine at hand); the
learning rate decays along a cosine (``TrainConfig.lr_decay``), which reached a lower final loss in
fewer steps than a constant rate. Each preset below names the benchmark table that chose it.

Lessons: ``profile.lessons`` (:class:`dfkit.budgets.LessonBudgets`) sizes what each notebook does
beyond its models, e.g. ``profile.lessons.teacher_forcing.samples``.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field

from dfkit.budgets import (DiffusionForcingBudget, FlowMatchingBudget, FullSequenceBudget, GuidanceBudget, LessonBudgets,
                           TeacherForcingBudget, VAEBudget)
from dfkit.data.moving_mnist import MovingMNISTConfig
from dfkit.data.pendulum import PendulumConfig
from dfkit.diffusion.schedules import check_level_shift
from dfkit.models.unet import UNetConfig
from dfkit.models.vae import VAEConfig
from dfkit.models.video import VideoBackboneConfig
from dfkit.train import TrainConfig

ENV_VAR = "DFKIT_PROFILE"
DEFAULT = "class"


PARAMETERIZATIONS = ("eps", "x0", "v")


@dataclass(frozen=True)
class SequencePresets:
    """The sequence models of one dataset in one profile, and how their rollouts are sampled.

    Every model uses ``backbone``; ``dfkit.sequence.recipes`` only sets its ``temporal`` kind
    (causal: teacher forcing, the regressor, Diffusion Forcing; bidirectional: full-sequence
    diffusion; gru: the GRU variants) and ``max_frames`` (the window the model is trained on).

    Windows. Diffusion Forcing, full-sequence diffusion and the regressor train on windows of
    ``horizon`` frames; the teacher-forced models on ``context + 1`` frames (``context`` clean
    frames, then the one they predict), and the Markov experiment's on 1 + 1 and 2 + 1. Every
    rollout starts from the same ``context`` ground-truth frames and runs for
    ``horizon × m`` frames, m in ``rollout_multiples``.

    Training levels. ``level_shift`` s draws the diffusion objectives' levels from
    :func:`dfkit.diffusion.schedules.shifted_levels` (1: uniform on 1..K, Ho et al.'s Algorithm 1 and
    Diffusion Forcing's). Moving-MNIST uses 10, which puts 71% of the training levels above 0.8 K
    (uniform: 20%), where a frame must be drawn from its history alone; the pendulum 5 (56%), but 3
    (43%) for its full-sequence model (``full_sequence_level_shift``), whose trainings agree there (at 5, one
    of three failed).

    Parameterization ``"v"``: with the cosine schedule ᾱ_K ≈ 2e-9, so an ε-model's x̂_0 near
    k = K divides its error by sqrt(ᾱ_K) ≈ 5e-5, while a v-model's x̂_0 has no such blow-up.
    Stabilization level k_small = 50 (the default) noises history frames with std
    sqrt(1 - ᾱ_50) ≈ 0.09 on the [-1, 1] scale: small against the frame (0 < k_small << K), about
    the size of a generated frame's pixel error. The `class` pendulum models use 300 (std 0.46), the
    best level of the sweep in ``benchmarks/stabilization_level_class.md``.
    """

    backbone: VideoBackboneConfig = field(default_factory=VideoBackboneConfig)
    horizon: int = 16                      # training window (frames) of DF, full-sequence and the regressor
    context: int = 4                       # ground-truth frames before a rollout; the teacher-forced history
    teacher_forcing: TrainConfig = field(default_factory=TrainConfig)
    markov: TrainConfig = field(default_factory=TrainConfig)             # 1- and 2-frame teacher forcing
    regressor: TrainConfig = field(default_factory=TrainConfig)
    full_sequence: TrainConfig = field(default_factory=TrainConfig)
    diffusion_forcing: TrainConfig = field(default_factory=TrainConfig)
    parameterization: str = "v"
    sampling_steps: int = 10               # DDIM steps per frame (rungs from K down to 0)
    stabilization_level: int = 50          # k_small of stabilized rollouts; the top history level of teacher_forcing_noisy_history
    chunk: int = 8                         # new frames per window: full-sequence extension, pyramid
    reconstruction_weight: float = 1.0     # w of reconstruction guidance (full-sequence extension)
    shared_level_fraction: float = 0.0     # DF training: share of clips with one level for all frames
    clean_history_fraction: float = 0.25   # DF training of diffusion_forcing_clean_history: share of clips with clean first frames
    sorted_levels: bool = False            # DF training: each clip's levels sorted along time (DiffusionForcing(sorted_levels=True))
    level_shift: float = 1.0               # s of the diffusion objectives' training levels (dfkit.diffusion.shifted_levels; 1: uniform)
    full_sequence_level_shift: float | None = None   # s of full-sequence diffusion alone (None: level_shift)
    rollout_multiples: tuple[int, ...] = (4, 10)
    eval_clips: int = 32                   # test clips rolled out by the benchmark
    markov_clips: int = 256                # test clips of the swing-direction experiment
    gru_variants: bool = False             # also train and roll out the GRU regressor and GRU DF
    frame_vae: VAEConfig | None = None     # the per-frame VAE of the latent models (None: the dataset has none)
    frame_vae_training: TrainConfig = field(default_factory=TrainConfig)
    latent_backbone: VideoBackboneConfig = field(default_factory=lambda: VideoBackboneConfig(image_size=1, widths=()))
    latent: TrainConfig = field(default_factory=TrainConfig)             # latent teacher forcing and Diffusion Forcing

    def __post_init__(self):
        object.__setattr__(self, "rollout_multiples", tuple(self.rollout_multiples))

    @property
    def rollout_lengths(self) -> tuple[int, ...]:
        """Frames generated after the context: ``horizon × m`` for m in ``rollout_multiples``."""
        return tuple(self.horizon * m for m in self.rollout_multiples)

    def training_level_shift(self, objective: str) -> float:
        """The level shift of ``objective``'s training levels ("full_sequence", "teacher_forcing", ...):
        ``full_sequence_level_shift`` for full-sequence diffusion when it is set, else ``level_shift``."""
        if objective == "full_sequence" and self.full_sequence_level_shift is not None:
            return self.full_sequence_level_shift
        return self.level_shift

    @property
    def bands(self) -> tuple[tuple[int, int], ...]:
        """Horizon bands of 1-based generated frames: (1, H), then (previous + 1, H × m) per multiple."""
        bands, first = [(1, self.horizon)], self.horizon + 1
        for length in self.rollout_lengths:
            if length >= first:
                bands.append((first, length))
                first = length + 1
        return tuple(bands)

    def validate(self, dataset=None, num_levels: int = 1000) -> None:
        """Raise ValueError unless the presets fit together (and fit ``dataset``'s config when given)."""
        self.backbone.validate()
        if self.horizon < 2 or self.context < 1:
            raise ValueError(f"expected horizon >= 2 and context >= 1, got horizon={self.horizon}, context={self.context}")
        if not 1 <= self.chunk < self.horizon or self.context > self.horizon - self.chunk:
            raise ValueError(f"expected 1 <= chunk < horizon and context <= horizon - chunk (a window holds the history and "
                             f"the new frames), got chunk={self.chunk}, context={self.context}, horizon={self.horizon}")
        if self.parameterization not in PARAMETERIZATIONS:
            raise ValueError(f"expected parameterization in {PARAMETERIZATIONS}, got {self.parameterization!r}")
        if not 1 <= self.sampling_steps <= num_levels or not 0 <= self.stabilization_level <= num_levels:
            raise ValueError(f"expected 1 <= sampling_steps <= {num_levels} and 0 <= stabilization_level <= {num_levels}, "
                             f"got {self.sampling_steps} and {self.stabilization_level}")
        if not self.reconstruction_weight >= 0 or not 0.0 <= self.shared_level_fraction <= 1.0 \
                or not 0.0 <= self.clean_history_fraction <= 1.0:
            raise ValueError(f"expected reconstruction_weight >= 0 and shared_level_fraction, clean_history_fraction in [0, 1], "
                             f"got {self.reconstruction_weight}, {self.shared_level_fraction} and {self.clean_history_fraction}")
        check_level_shift(self.level_shift)
        if self.full_sequence_level_shift is not None:
            check_level_shift(self.full_sequence_level_shift)
        if not self.rollout_multiples or any(not isinstance(m, int) or m < 1 for m in self.rollout_multiples):
            raise ValueError(f"expected rollout_multiples to be ints >= 1, got {self.rollout_multiples}")
        if self.eval_clips < 1 or self.markov_clips < 1:
            raise ValueError(f"expected eval_clips >= 1 and markov_clips >= 1, got {self.eval_clips} and {self.markov_clips}")
        for name in ("teacher_forcing", "markov", "regressor", "full_sequence", "diffusion_forcing", "frame_vae_training", "latent"):
            getattr(self, name).validate()
        if self.frame_vae is not None:
            self.frame_vae.validate()
            self.latent_backbone.validate()
            if self.latent_backbone.widths:
                raise ValueError(f"expected a latent backbone without convolutions (widths=()), got widths={self.latent_backbone.widths}")
        if dataset is not None:
            size = getattr(dataset, "image_size", None) or getattr(dataset, "canvas_size")
            if self.frame_vae is not None and self.frame_vae.image_size != size:
                raise ValueError(f"expected a frame VAE at the dataset's {size}x{size} frames, got image_size={self.frame_vae.image_size}")
            if self.backbone.image_size != size:
                raise ValueError(f"expected a backbone at the dataset's {size}x{size} frames, got image_size={self.backbone.image_size}")
            if max(self.horizon, self.context + 1) > dataset.num_frames:
                raise ValueError(f"expected training windows (horizon {self.horizon}, context + 1 = {self.context + 1}) "
                                 f"within the dataset's clips of {dataset.num_frames} frames")


@dataclass(frozen=True)
class Profile:
    name: str
    moving_mnist: MovingMNISTConfig = field(default_factory=MovingMNISTConfig)
    pendulum: PendulumConfig = field(default_factory=PendulumConfig)
    unet: UNetConfig = field(default_factory=UNetConfig)
    unet_training: TrainConfig = field(default_factory=TrainConfig)
    vae: VAEConfig = field(default_factory=VAEConfig)
    vae_training: TrainConfig = field(default_factory=TrainConfig)
    pendulum_sequence: SequencePresets = field(default_factory=SequencePresets)
    moving_mnist_sequence: SequencePresets = field(default_factory=SequencePresets)
    lessons: LessonBudgets = field(kw_only=True)   # what each notebook's own experiments may cost

    def sequence(self, dataset: str) -> SequencePresets:
        """The sequence-model presets of ``dataset`` ("pendulum" or "moving_mnist")."""
        if dataset not in SEQUENCE_DATASETS:
            raise ValueError(f"unknown dataset {dataset!r}; expected one of {SEQUENCE_DATASETS}")
        return getattr(self, f"{dataset}_sequence")


SEQUENCE_DATASETS = ("pendulum", "moving_mnist")


def _sequence_training(steps: int, batch_size: int, lr: float, warmup_steps: int, ema_decay: float, log_every: int = 50,
                       lr_decay: str = "none") -> TrainConfig:
    return TrainConfig(steps=steps, batch_size=batch_size, lr=lr, warmup_steps=warmup_steps, ema_decay=ema_decay, log_every=log_every,
                       lr_decay=lr_decay)


# quick: tiny backbones that train in seconds; the numbers they produce say nothing about quality.
_QUICK_TRAINING = _sequence_training(150, 16, 2e-3, 10, 0.99, log_every=10)
_QUICK_SEQUENCE = SequencePresets(
    backbone=VideoBackboneConfig(image_size=16, widths=(8, 16), d_model=32, num_layers=2, num_heads=2, max_frames=8),
    horizon=8, context=4, chunk=4, sampling_steps=5, eval_clips=8, markov_clips=64,
    teacher_forcing=dataclasses.replace(_QUICK_TRAINING, batch_size=32), markov=dataclasses.replace(_QUICK_TRAINING, batch_size=32),
    regressor=_QUICK_TRAINING, full_sequence=_QUICK_TRAINING, diffusion_forcing=_QUICK_TRAINING,
)

# class: the default backbone (2.06M parameters); every batch holds 240-256 frames of 32x32 except the Markov
# models' (64 x 2 or 3 frames). Cosine learning-rate decay: a lower final loss in fewer steps than a constant rate,
# and trainings that agree with each other (benchmarks/training_seeds_class.md). Each dataset sets its own steps.
_CLASS_TRAINING = _sequence_training(2_400, 16, 1e-3, 100, 0.995, lr_decay="cosine")
# Training levels shifted towards high noise (level_shift 5: 56% of the levels above 0.8 K, uniform 20%); the
# full-sequence model keeps 3, where its trainings agree: benchmarks/level_shift_class*.md.
PENDULUM_LEVEL_SHIFT = 5.0
PENDULUM_FULL_SEQUENCE_LEVEL_SHIFT = 3.0
# 3,600 steps for the pendulum's diffusion models, 2,000 for the regressor and the Markov models:
# benchmarks/sequence_rollouts_class_pendulum.md (errors against the course's targets, training times).
_CLASS_PENDULUM_TRAINING = dataclasses.replace(_CLASS_TRAINING, steps=3_600)
_CLASS_PENDULUM = SequencePresets(
    backbone=VideoBackboneConfig(image_size=32, max_frames=16),
    horizon=16, context=4, chunk=8, stabilization_level=300,  # benchmarks/stabilization_level_class.md
    level_shift=PENDULUM_LEVEL_SHIFT, full_sequence_level_shift=PENDULUM_FULL_SEQUENCE_LEVEL_SHIFT,
    teacher_forcing=dataclasses.replace(_CLASS_PENDULUM_TRAINING, batch_size=48),         # 48 x 5 frames
    markov=dataclasses.replace(_CLASS_TRAINING, steps=2_000, batch_size=64),              # 64 x 2 or 3 frames
    regressor=dataclasses.replace(_CLASS_TRAINING, steps=2_000),                          # 16 x 16 frames
    full_sequence=_CLASS_PENDULUM_TRAINING, diffusion_forcing=_CLASS_PENDULUM_TRAINING,   # 16 x 16 frames
)
# Moving-MNIST: the decoders also see the neighbouring frames' encoder maps (neighbor_skips; one token per frame
# lost the digit at once: benchmarks/moving_mnist_first_frames_class_one_token.md), and the diffusion models' levels
# are shifted further (level_shift 10: 71% above 0.8 K; benchmarks/moving_mnist_first_frames_class*.md).
MOVING_MNIST_LEVEL_SHIFT = 10.0
_CLASS_MOVING_MNIST_TRAINING = dataclasses.replace(_CLASS_TRAINING, steps=2_000, batch_size=24)  # 24 x 10 frames
_CLASS_MOVING_MNIST = dataclasses.replace(
    _CLASS_PENDULUM, horizon=10, chunk=5, stabilization_level=50, level_shift=MOVING_MNIST_LEVEL_SHIFT, full_sequence_level_shift=None,
    backbone=VideoBackboneConfig(image_size=32, max_frames=10, neighbor_skips=True),
    teacher_forcing=dataclasses.replace(_CLASS_MOVING_MNIST_TRAINING, batch_size=48),     # 48 x 5 frames
    regressor=_CLASS_MOVING_MNIST_TRAINING,
    full_sequence=_CLASS_MOVING_MNIST_TRAINING, diffusion_forcing=_CLASS_MOVING_MNIST_TRAINING,
    # latent models: a per-frame VAE with a 32-number latent (beta 0.5: sharper reconstructions than the ELBO's 1),
    # and a backbone on latent frames that trains many more steps per minute than on pixels
    frame_vae=VAEConfig(image_size=32, latent_dim=32, base_channels=32, channel_mults=(1, 2, 2), beta=0.5),
    frame_vae_training=TrainConfig(steps=3_000, batch_size=128, lr=1e-3, ema_decay=None),
    latent_backbone=VideoBackboneConfig(image_size=1, widths=(), max_frames=10),
    latent=_sequence_training(15_000, 128, 5e-4, 200, 0.999, log_every=100),
)

# gpu: not measured yet; sized like the gpu UNet (about 20k steps), a 64x64 backbone with a wider encoder.
_GPU_TRAINING = _sequence_training(20_000, 32, 3e-4, 500, 0.9995, log_every=100)
_GPU_BACKBONE = VideoBackboneConfig(image_size=64, widths=(64, 128, 128, 256), d_model=512, num_layers=6, num_heads=8, max_frames=32)
_GPU_PENDULUM = SequencePresets(
    backbone=_GPU_BACKBONE, horizon=32, context=4, chunk=16, eval_clips=256, markov_clips=1_024, gru_variants=True,
    teacher_forcing=dataclasses.replace(_GPU_TRAINING, batch_size=128), markov=dataclasses.replace(_GPU_TRAINING, steps=10_000, batch_size=128),
    regressor=_GPU_TRAINING, full_sequence=_GPU_TRAINING, diffusion_forcing=_GPU_TRAINING, level_shift=PENDULUM_LEVEL_SHIFT,
    full_sequence_level_shift=PENDULUM_FULL_SEQUENCE_LEVEL_SHIFT,
)
_GPU_MOVING_MNIST = dataclasses.replace(
    _GPU_PENDULUM, horizon=16, chunk=8, level_shift=MOVING_MNIST_LEVEL_SHIFT, full_sequence_level_shift=None,
    backbone=dataclasses.replace(_GPU_BACKBONE, max_frames=16, neighbor_skips=True),
    frame_vae=VAEConfig(image_size=64, latent_dim=64, base_channels=64, channel_mults=(1, 2, 2, 2), beta=0.5),
    frame_vae_training=TrainConfig(steps=10_000, batch_size=128, lr=1e-3, warmup_steps=200, ema_decay=None, log_every=100),
    latent_backbone=VideoBackboneConfig(image_size=1, widths=(), d_model=512, num_layers=6, num_heads=8, max_frames=16),
    latent=dataclasses.replace(_GPU_TRAINING, batch_size=256),
)

# Lessons (dfkit.budgets). Sampling calls a small model many times on small batches, where a second torch thread
# mostly waits, so the CPU profiles sample on one thread; the class sizes keep each notebook within its budget
# with the reference models installed (benchmarks/notebook_times_class.md).
_QUICK_LESSONS = LessonBudgets(
    vae=VAEBudget(frame_clips=256, frame_steps=100, beta_steps=25, eval_digits=200, bound_digits=64),
    flow_matching=FlowMatchingBudget(points=500, toy_evaluations=(2, 4, 8, 16, 32), mlp_steps=300,
                                     digit_samples=100, digit_evaluations=(4, 8)),
    teacher_forcing=TeacherForcingBudget(shown_clips=3, samples=16, curve_clips=8, curve_frames=None, mnist_clips=8,
                                         mnist_multiple=10, threads=1),                  # tiny models: one thread is fastest
    full_sequence=FullSequenceBudget(sample_clips=6, weights=(0.0, 1.0, 4.0), weight_clips=8, plan_clips=8,
                                     plan_scales=(0.0, 30.0, 100.0), threads=1),
    diffusion_forcing=DiffusionForcingBudget(rollout_clips=8, stabilization_levels=(0, 50), spread_contexts=2, spread_samples=4,
                                             spread_horizons=4, mnist_clips=8),
    guidance=GuidanceBudget(plan_clips=16, plan_scales=(0.0, 30.0, 100.0), rollout_clips=8, rollout_multiple=4,
                            vanilla_scales=(1.0, 2.0, 3.0), fractional_levels=(200,), mnist_clips=8, mnist_identity=False,
                            threads=1),
)
_CLASS_LESSONS = LessonBudgets(
    vae=VAEBudget(frame_clips=1_000, frame_steps=1_200, beta_steps=300, eval_digits=1_000, bound_digits=200),
    flow_matching=FlowMatchingBudget(points=2_000, toy_evaluations=(2, 4, 8, 16, 32, 64), mlp_steps=2_000,
                                     digit_samples=200, digit_evaluations=(4, 8, 16, 32)),
    teacher_forcing=TeacherForcingBudget(shown_clips=4, samples=16, curve_clips=8, curve_frames=32, mnist_clips=8,
                                         mnist_multiple=4),
    full_sequence=FullSequenceBudget(sample_clips=8, weights=(0.0, 1.0, 4.0), weight_clips=16, plan_clips=16,
                                     plan_scales=(0.0, 30.0, 100.0, 300.0), threads=1),
    diffusion_forcing=DiffusionForcingBudget(rollout_clips=8, stabilization_levels=(0, 300), spread_contexts=2, spread_samples=6,
                                             spread_horizons=2, mnist_clips=8),
    # history guidance costs several model calls per frame: 8 pendulum clips (quick and gpu: as many as the rollout table)
    guidance=GuidanceBudget(plan_clips=32, plan_scales=(0.0, 10.0, 30.0, 100.0), rollout_clips=8, rollout_multiple=4,
                            vanilla_scales=(1.0, 2.0), fractional_levels=(500,), mnist_clips=8, mnist_identity=True, threads=1),
)
_GPU_LESSONS = LessonBudgets(
    vae=VAEBudget(frame_clips=1_000, frame_steps=5_000, beta_steps=2_000, eval_digits=1_000, bound_digits=1_000),
    flow_matching=FlowMatchingBudget(points=4_000, toy_evaluations=(2, 4, 8, 16, 32, 64, 128), mlp_steps=5_000,
                                     digit_samples=1_000, digit_evaluations=(4, 8, 16, 32, 64)),
    teacher_forcing=TeacherForcingBudget(shown_clips=6, samples=32, curve_clips=64, curve_frames=None, mnist_clips=64,
                                         mnist_multiple=10),
    full_sequence=FullSequenceBudget(sample_clips=8, weights=(0.0, 0.5, 1.0, 2.0, 4.0, 8.0), weight_clips=128, plan_clips=128,
                                     plan_scales=(0.0, 10.0, 30.0, 100.0, 300.0, 1000.0)),
    diffusion_forcing=DiffusionForcingBudget(rollout_clips=256, stabilization_levels=(0, 20, 50, 100, 200, 300, 500),
                                             spread_contexts=16, spread_samples=16, spread_horizons=4, mnist_clips=256,
                                             threads=None),
    guidance=GuidanceBudget(plan_clips=256, plan_scales=(0.0, 10.0, 30.0, 100.0, 300.0, 1000.0), rollout_clips=256,
                            rollout_multiple=10, vanilla_scales=(1.0, 1.5, 2.0, 3.0), fractional_levels=(100, 300, 500),
                            mnist_clips=128, mnist_identity=True),
)


PROFILES = {
    "quick": Profile(
        name="quick",
        moving_mnist=MovingMNISTConfig(num_sequences=256, num_frames=12, canvas_size=32, num_digits=1, digit_size=16, speed=1.6),
        pendulum=PendulumConfig(num_sequences=256, num_frames=24, image_size=16),
        unet=UNetConfig(base_channels=8, channel_mults=(1, 2, 2)),  # ~49k parameters
        unet_training=TrainConfig(steps=100, batch_size=32, lr=1e-3, warmup_steps=10, ema_decay=0.99, log_every=10),
        vae=VAEConfig(base_channels=8, latent_dim=8),  # ~29k parameters
        vae_training=TrainConfig(steps=150, batch_size=32, lr=2e-3, ema_decay=None, log_every=10),
        pendulum_sequence=dataclasses.replace(_QUICK_SEQUENCE, level_shift=PENDULUM_LEVEL_SHIFT,
                                              full_sequence_level_shift=PENDULUM_FULL_SEQUENCE_LEVEL_SHIFT),
        moving_mnist_sequence=dataclasses.replace(
            _QUICK_SEQUENCE, level_shift=MOVING_MNIST_LEVEL_SHIFT,
            backbone=dataclasses.replace(_QUICK_SEQUENCE.backbone, image_size=32, widths=(8, 16, 16), neighbor_skips=True),
            frame_vae=VAEConfig(image_size=32, latent_dim=8, base_channels=8, channel_mults=(1, 2, 2), beta=0.5),
            frame_vae_training=dataclasses.replace(_QUICK_TRAINING, steps=60, batch_size=32, ema_decay=None),
            latent_backbone=VideoBackboneConfig(image_size=1, widths=(), d_model=32, num_layers=2, num_heads=2, max_frames=8),
            latent=_QUICK_TRAINING),
        lessons=_QUICK_LESSONS,
    ),
    "class": Profile(
        name="class",
        moving_mnist=MovingMNISTConfig(num_sequences=4_000, num_frames=20, canvas_size=32, num_digits=1, digit_size=16, speed=1.6),
        pendulum=PendulumConfig(num_sequences=2_000, num_frames=32, image_size=32),
        unet=UNetConfig(base_channels=32, channel_mults=(1, 2, 2)),  # ~0.78M parameters
        unet_training=TrainConfig(steps=1_100, batch_size=64, lr=1e-3, warmup_steps=50, ema_decay=0.995),  # benchmarks/image_models_class.md
        vae=VAEConfig(base_channels=32, latent_dim=16),  # ~0.30M parameters
        vae_training=TrainConfig(steps=2_400, batch_size=64, lr=1e-3, ema_decay=None),
        pendulum_sequence=_CLASS_PENDULUM,
        moving_mnist_sequence=_CLASS_MOVING_MNIST,
        lessons=_CLASS_LESSONS,
    ),
    "gpu": Profile(
        name="gpu",
        moving_mnist=MovingMNISTConfig(num_sequences=10_000, num_frames=20, canvas_size=64, num_digits=2, digit_size=28, speed=3.6),
        pendulum=PendulumConfig(num_sequences=10_000, num_frames=64, image_size=64),
        unet=UNetConfig(base_channels=96, channel_mults=(1, 2, 2), num_res_blocks=2, attention_at=(1, 2), dropout=0.1),  # ~11M
        unet_training=TrainConfig(steps=20_000, batch_size=128, lr=2e-4, warmup_steps=500, ema_decay=0.9995, log_every=100),
        vae=VAEConfig(base_channels=64, latent_dim=32),  # ~1.2M parameters
        vae_training=TrainConfig(steps=10_000, batch_size=128, lr=1e-3, warmup_steps=200, ema_decay=0.999, log_every=100),
        pendulum_sequence=_GPU_PENDULUM,
        moving_mnist_sequence=_GPU_MOVING_MNIST,
        lessons=_GPU_LESSONS,
    ),
}


def get_profile(name: str | None = None) -> Profile:
    """The profile called ``name``, else ``$DFKIT_PROFILE``, else ``class``."""
    chosen = name or os.environ.get(ENV_VAR) or DEFAULT
    if chosen not in PROFILES:
        raise ValueError(f"unknown profile {chosen!r}; expected one of {sorted(PROFILES)}")
    return PROFILES[chosen]
