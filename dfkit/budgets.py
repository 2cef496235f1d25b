"""Lesson budgets: what each notebook's own experiments may cost on top of its models.

A notebook trains and loads its models from the profile's presets (``profile.unet``,
``profile.pendulum_sequence`` ...); what it does beyond that (extra trainings, sweeps, rollouts,
figures) is sized by one frozen dataclass per lesson, grouped in :class:`LessonBudgets` and carried
by every :class:`dfkit.profiles.Profile` as ``profile.lessons``::

    budget = profile.lessons.teacher_forcing          # a TeacherForcingBudget
    budget.samples, budget.mnist_clips

The values of the ``quick``, ``class`` and ``gpu`` profiles are set in :mod:`dfkit.profiles`.
Counts are clips, frames, points or optimizer steps; ``threads`` is the number of torch threads
a lesson samples with (None: torch's choice).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class VAEBudget:
    """Lesson 01: what the lesson's own trainings may cost on top of ``image_model("vae", profile)``."""

    frame_clips: int                           # Moving-MNIST training clips whose frames train the frame VAE
    frame_steps: int                           # optimizer steps of the frame VAE (with the student's loss)
    beta_steps: int                            # fine-tuning steps for each β of the sweep
    eval_digits: int                           # held-out digits behind the reconstruction and KL numbers
    bound_digits: int                          # held-out digits for the ELBO / IWAE comparison (K decodes each)
    betas: tuple[float, ...] = (0.2, 1.0, 5.0)


@dataclass(frozen=True)
class FlowMatchingBudget:
    """Lesson 03: what the lesson's own experiments may cost on top of the two image models."""

    points: int                                # 2-D points per toy experiment (samples and references)
    toy_evaluations: tuple[int, ...]           # velocity evaluations compared on the 2-D mixture
    mlp_steps: int                             # optimizer steps of the 2-D velocity network
    digit_samples: int                         # digits scored per sampler (the metric needs at least 20)
    digit_evaluations: tuple[int, ...]         # model evaluations per digit sampler
    flow_steps: int = 20                       # Euler steps behind the digit-flow slider


@dataclass(frozen=True)
class TeacherForcingBudget:
    """Lesson 04: what the lesson's own extras cost on top of the benchmark's experiments (whose sizes are the presets').

    Sampling a frame from the teacher-forced diffusion model costs ``sampling_steps`` backbone
    calls, so its rollouts dominate the run time: the benchmark's pendulum rollout (all
    ``eval_clips`` clips, 10 H frames) is kept whole, the extras are cut to these sizes.
    """

    shown_clips: int                    # clips drawn in the strips of the data
    samples: int                        # next frames drawn from one moment per model (the Markov picture)
    curve_clips: int                    # clips of the one-step (true history) against free-running curves
    curve_frames: int | None            # frames of those curves (None: the whole 10 H rollout)
    mnist_clips: int                    # Moving-MNIST clips rolled out
    mnist_multiple: int                 # Moving-MNIST rollout length, in training horizons H
    threads: int | None = None          # torch threads for the sampling loops (None: torch's default)


@dataclass(frozen=True)
class FullSequenceBudget:
    """Lesson 05: what the lesson's own experiments may cost on top of loading (or training) the recipe models."""

    sample_clips: int                         # clips sampled from pure noise per dataset
    weights: tuple[float, ...]                # reconstruction-guidance weights w compared (0: replacement only)
    weight_clips: int                         # pendulum clips extended per weight
    plan_clips: int                           # pendulum contexts planned per target kind and scale
    plan_scales: tuple[float, ...]            # cost-guidance scales compared (0: no guidance)
    threads: int | None = None                # torch threads (None: torch's choice)


@dataclass(frozen=True)
class DiffusionForcingBudget:
    """Lesson 06: what the lesson's own experiments may cost on top of loading (or training) the recipe models.

    Nearly all of it is model calls during rollouts: 10x the horizon with the profile's DDIM steps
    is 1,600 calls of the class backbone per autoregressive rollout, whatever the batch.
    """

    rollout_clips: int                  # pendulum test clips rolled out to 10x the horizon per method
    stabilization_levels: tuple[int, ...]   # k_small values compared (0: plain autoregressive; the preset's among them)
    spread_contexts: int                # contexts whose future is sampled several times
    spread_samples: int                 # samples per context
    spread_horizons: int                # the spread is measured over this many training horizons
    mnist_clips: int                    # Moving-MNIST test clips rolled out
    threads: int | None = 1             # torch threads while sampling (None: torch's choice); trainings use every core
    explorer_context: int = 2           # ground-truth frames before the explorer's generated ones


@dataclass(frozen=True)
class GuidanceBudget:
    """Lesson 07: what the lesson's own experiments may cost on top of loading (or training) the models."""

    plan_clips: int                          # test clips planned per guidance scale
    plan_scales: tuple[float, ...]           # cost-guidance scales w swept (0: the unguided baseline)
    rollout_clips: int                       # pendulum clips rolled out per history-guidance setting
    rollout_multiple: int                    # rollout length in training horizons
    vanilla_scales: tuple[float, ...]        # w of vanilla history guidance (1: no guidance)
    fractional_levels: tuple[int, ...]       # k_f of fractional history guidance, above the pendulum k_small
    mnist_clips: int                         # Moving-MNIST clips rolled out with and without guidance
    mnist_identity: bool                     # score digit identity (trains the digit classifier once, about a minute)
    threads: int | None = None               # torch threads while sampling (None: torch's choice)


@dataclass(frozen=True)
class LessonBudgets:
    """The budgets of the lessons that run experiments of their own, one field per lesson module
    (:mod:`dfkit.lessons.vae`, ...); the DDPM lesson runs on its image model alone."""

    vae: VAEBudget
    flow_matching: FlowMatchingBudget
    teacher_forcing: TeacherForcingBudget
    full_sequence: FullSequenceBudget
    diffusion_forcing: DiffusionForcingBudget
    guidance: GuidanceBudget
