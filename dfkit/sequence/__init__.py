"""Sequence models of the course: teacher forcing, full-sequence diffusion and Diffusion Forcing.

* ``objectives``: the training losses (``TeacherForcing``, ``NextFrameRegression``,
  ``FullSequenceDiffusion``, ``DiffusionForcing``), each a ``loss_fn`` for :func:`dfkit.train.train`;
* ``scheduling``: scheduling matrices (which level every frame has at every sampling step);
* ``sampler``: one sampler executing any scheduling matrix (Diffusion Forcing, Alg. 2);
* ``rollout``: generation past the training horizon, and extending a video with a full-sequence model;
* ``guidance``: cost guidance (planning) and history guidance (vanilla, fractional, temporal) as sampler hooks;
* ``planning``: the pendulum's differentiable angle, the target-angle cost and an honest planning report;
* ``recipes``: presets-driven training (or loading) of every sequence model, and their rollouts.
"""

from dfkit.sequence.guidance import CombinedGuidance, CostGuidance, HistoryGuidance, HistoryGuidanceHook, HistoryView
from dfkit.sequence.objectives import DiffusionForcing, FullSequenceDiffusion, NextFrameRegression, TeacherForcing
from dfkit.sequence.rollout import (
    ReconstructionGuidance,
    RolloutConfig,
    extend_video,
    rollout_recurrent,
    rollout_regressor,
    rollout_sliding_window,
)
from dfkit.sequence.sampler import GuidanceInput, sample_with_matrix, shift_prediction
from dfkit.sequence.scheduling import scheduling_matrix, validate_matrix

__all__ = [
    "CombinedGuidance", "CostGuidance", "HistoryGuidance", "HistoryGuidanceHook", "HistoryView",
    "DiffusionForcing", "FullSequenceDiffusion", "GuidanceInput", "NextFrameRegression", "ReconstructionGuidance",
    "RolloutConfig", "TeacherForcing", "extend_video", "rollout_recurrent", "rollout_regressor",
    "rollout_sliding_window", "sample_with_matrix", "scheduling_matrix", "shift_prediction", "validate_matrix",
]
