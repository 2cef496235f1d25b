"""The measurements of benchmarks/temporal_coherence.py: motion per frame and the other-frames loss ratio."""

import pytest
import torch

from dfkit.data.pendulum import render
from dfkit.models.video import VideoBackbone, VideoBackboneConfig
from helpers import load_benchmark

pytestmark = pytest.mark.usefixtures("one_thread")


def swings(num_clips=6, num_frames=8, step_degrees=5.0, size=32) -> torch.Tensor:
    """(B, T, 1, size, size) clips in [0, 1]: clip b starts at angle 20°·b and turns by step_degrees per frame."""
    degrees = 20.0 * torch.arange(num_clips)[:, None] + step_degrees * torch.arange(num_frames)[None]
    return torch.from_numpy(render(torch.deg2rad(degrees).numpy(), size)).float()[:, :, None]


def test_motion_reads_the_turn_per_frame():
    benchmark = load_benchmark("temporal_coherence")
    mean, p90 = benchmark.motion(swings(step_degrees=5.0))
    assert mean == pytest.approx(5.0, abs=1.0) and p90 == pytest.approx(5.0, abs=1.5)
    assert benchmark.motion(swings(step_degrees=0.0))[0] < 0.5


def test_other_frames_ratio_is_one_for_a_per_frame_model_and_above_one_for_a_model_that_copies_its_neighbour():
    benchmark = load_benchmark("temporal_coherence")
    clips = swings() * 2 - 1                                                # [-1, 1], as the models see frames
    alone = lambda frames, levels: 0.5 * frames                             # noqa: E731  each frame on its own
    assert benchmark.other_frames_ratio(alone, clips, 300, "x0", seed=0) == pytest.approx(1.0, abs=1e-6)
    untrained = VideoBackbone(VideoBackboneConfig(image_size=32, widths=(8, 16), d_model=32, num_layers=1, num_heads=2,
                                                  temporal="bidirectional", max_frames=8)).eval()
    assert benchmark.other_frames_ratio(untrained, clips, 300, "v", seed=0) == pytest.approx(1.0, abs=1e-6), "predicts 0 at init"
    # x̂_0 of the last frame = the frame before it, noisy: close to the truth only if it is the same clip's
    neighbour = lambda frames, levels: frames.roll(1, dims=1)               # noqa: E731
    assert benchmark.other_frames_ratio(neighbour, clips, 100, "x0", seed=0) > 2
