"""Lesson 06 (Diffusion Forcing): the reference answers, the pictures and the explorer, the rollout table, and the assignment's grading (solution full marks, release nothing,
catalogued mistakes lose points)."""

import sys

import matplotlib
import numpy as np
import pytest
import torch

matplotlib.use("Agg")

from autograder.standins import ToyVideoDenoiser  # noqa: E402
from dfkit.diffusion.ddpm import ddim_step, q_sample  # noqa: E402
from dfkit.diffusion.schedules import make_schedule  # noqa: E402
from dfkit.lessons import diffusion_forcing as lesson  # noqa: E402
from dfkit.models.video import VideoBackbone, VideoBackboneConfig  # noqa: E402
from dfkit.profiles import PROFILES, get_profile  # noqa: E402
from dfkit.sequence.scheduling import scheduling_matrix  # noqa: E402

ASSIGNMENT = "06_diffusion_forcing"
QUESTIONS = ("noisy_clips", "autoregressive_matrix", "pyramid_matrix", "walk_matrix", "stabilized_history")
SCHEDULE = make_schedule("cosine", 1000)
pytestmark = pytest.mark.usefixtures("one_thread")


def seeded(seed):
    return torch.Generator().manual_seed(seed)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


# ----------------------------------------------------------------------------- reference answers


def test_noisy_clips_draws_an_independent_level_per_frame_and_noises_each_frame_to_it():
    frames = torch.rand(300, 20, 1, 2, 2, generator=seeded(0)) * 2 - 1
    noisy, levels, noise = lesson.noisy_clips(frames, make_schedule("linear", 10), generator=seeded(1))
    assert levels.shape == (300, 20) and levels.dtype == torch.long
    assert set(levels.unique().tolist()) == set(range(11))                        # 0 and K included
    assert (levels == levels[:, :1]).all(1).float().mean() < 0.01                 # not one level per clip
    schedule = make_schedule("linear", 10)
    assert torch.allclose(noisy, q_sample(frames, levels, noise, schedule))
    again = lesson.noisy_clips(frames, schedule, generator=seeded(1))
    assert all(torch.equal(a, b) for a, b in zip((noisy, levels, noise), again))
    _, above, _ = lesson.noisy_clips(frames, schedule, min_level=3, generator=seeded(2))
    assert int(above.min()) == 3 and int(above.max()) == 10
    with pytest.raises(ValueError, match=r"expected frames as a float tensor of shape \(B, T, C, H, W\)"):
        lesson.noisy_clips(torch.zeros(4, 1, 8, 8), schedule)


def plain_loop(denoiser, matrix, noise, schedule, parameterization):
    x = noise
    for m in range(matrix.shape[0] - 1):
        levels, next_levels = matrix[m].expand(len(x), -1), matrix[m + 1].expand(len(x), -1)
        x = ddim_step(x, levels, next_levels, denoiser(x, levels), schedule, parameterization)
    return x


@pytest.mark.parametrize("kind", ["full_sequence", "autoregressive", "pyramid", "trapezoid"])
def test_walk_matrix_is_the_plain_row_loop_of_algorithm_2(kind):
    toy = ToyVideoDenoiser(0.5, 0.3, 0.4, 0.2)
    matrix = scheduling_matrix(kind, 5, 3, 1000, chunk_size=2)
    noise = torch.randn(2, 5, 1, 3, 3, generator=seeded(3))
    for parameterization in ("x0", "v"):
        assert torch.allclose(lesson.walk_matrix(toy, matrix, noise, SCHEDULE, parameterization),
                              plain_loop(toy, matrix, noise, SCHEDULE, parameterization), atol=1e-6)


def test_the_autoregressive_walk_of_a_causal_denoiser_is_frame_by_frame_generation():
    toy = ToyVideoDenoiser(0.6, 0.3, 0.3, 0.5)
    noise = torch.randn(2, 3, 1, 2, 2, generator=seeded(4), dtype=torch.float64)
    whole = lesson.walk_matrix(toy, scheduling_matrix("autoregressive", 3, 4, 1000), noise, SCHEDULE, "x0")
    frames = noise[:, :0]
    for t in range(3):          # each frame sampled alone after the clean ones before it
        window = torch.cat([frames, noise[:, t:t + 1]], dim=1)
        levels = torch.zeros(window.shape[:2], dtype=torch.long)
        for k, k_next in zip([1000, 750, 500, 250], [750, 500, 250, 0]):
            levels[:, -1], next_levels = k, levels.clone()
            next_levels[:, -1] = k_next
            window = ddim_step(window, levels, next_levels, toy(window, levels), SCHEDULE, "x0")
        frames = window
    assert torch.allclose(whole, frames, atol=1e-10)


def test_stabilized_history_noises_or_only_labels_the_history():
    context = torch.rand(3, 4, 1, 5, 5, generator=seeded(5)) * 2 - 1
    noise = torch.randn(context.shape, generator=seeded(6))
    shown, levels = lesson.stabilized_history(context, 50, SCHEDULE, noise)
    assert levels.shape == (3, 4) and levels.dtype == torch.long and bool((levels == 50).all())
    assert torch.allclose(shown, q_sample(context, levels, noise, SCHEDULE))
    labelled, levels = lesson.stabilized_history(context, 50, SCHEDULE, noise, add_noise=False)
    assert labelled is context and bool((levels == 50).all())
    clean, _ = lesson.stabilized_history(context, 0, SCHEDULE, noise)
    assert torch.equal(clean, context)                                             # ᾱ_0 = 1


def test_every_profile_has_a_budget():
    for profile in PROFILES.values():
        budget = lesson.lesson_budget(profile)
        assert budget is profile.lessons.diffusion_forcing
        assert budget.rollout_clips >= 1 and budget.spread_samples >= 2 and 0 in budget.stabilization_levels
        assert profile.pendulum_sequence.stabilization_level in budget.stabilization_levels     # the preset is compared
    before = torch.get_num_threads()
    with lesson.torch_threads(1):
        assert torch.get_num_threads() == 1
    with lesson.torch_threads(None):
        assert torch.get_num_threads() == before
    assert torch.get_num_threads() == before


# ----------------------------------------------------------------------------- pictures, explorer, measurements


def tiny_model(max_frames=6):
    torch.manual_seed(0)
    return VideoBackbone(VideoBackboneConfig(image_size=16, widths=(4, 8), d_model=16, num_layers=1, num_heads=2,
                                             max_frames=max_frames)).eval()


def test_figures_draw_without_a_display():
    matrix = scheduling_matrix("pyramid", 4, 3, 1000)
    assert lesson.plot_matrix(matrix, title="pyramid").get_title() == "pyramid"
    assert len(lesson.matrix_gallery(6, 3, 1000, chunk_size=2).axes) == 4 + 4         # four heatmaps and their colour bars
    frames = torch.rand(5, 1, 8, 8)
    figure = lesson.show_clips({"a": frames, "b": frames[:3]}, labels={"a": list(range(5))})
    assert len(figure.axes) == 2 * 5
    assert lesson.model_calls(matrix) == matrix.shape[0] - 1
    assert lesson.plot_curves({"a": np.arange(5.0), "b": np.ones(5)}, 2, "error", "t").axes[0].get_title() == "t"
    assert lesson.model_calls(scheduling_matrix("pyramid", 3, 2, 1000, delay=4)) == 3 * 2


def test_explorer_is_a_widget_or_four_static_figures(monkeypatch):
    model, context = tiny_model(), torch.rand(1, 2, 1, 16, 16)
    frames = lesson.explorer_frames(model, context, SCHEDULE, scheduling_matrix("autoregressive", 3, 2, 1000))
    assert frames.shape == (1, 3, 1, 16, 16) and 0 <= float(frames.min()) and float(frames.max()) <= 1
    pytest.importorskip("ipywidgets")
    box = lesson.matrix_explorer(model, context, SCHEDULE, steps=2)
    kind, chunk = box.children[0].children
    horizon, delay = box.children[1].children
    assert kind.value == "pyramid" and horizon.max == 4 and chunk.max == 4 and delay.max == 2
    kind.value = "trapezoid"                                                         # redraws without error
    monkeypatch.setitem(sys.modules, "ipywidgets", None)                             # as if ipywidgets were not installed
    figures = lesson.matrix_explorer(model, context, SCHEDULE, steps=2)
    assert len(figures) == 4


def test_pyramid_snapshot_keeps_later_frames_noisier():
    trajectory, matrix = lesson.pyramid_snapshot(tiny_model(), torch.rand(1, 2, 1, 16, 16), SCHEDULE, 3, 4)
    assert trajectory.shape == (matrix.shape[0], 4, 1, 16, 16)
    assert all(bool((row[:-1] <= row[1:]).all()) for row in matrix)


def test_pendulum_summary_scores_the_truth_as_the_floor():
    profile = get_profile("quick")
    config = profile.pendulum
    from dfkit.metrics.pendulum import continue_physics

    states = np.array([[0.8, 0.0], [-0.5, 1.0]])
    truth = continue_physics(states, 16, config)                                     # (2, 16, 2)
    frames = lesson.render_truth(truth.reshape(-1, 2), config.image_size).reshape(2, 16, 1, config.image_size, config.image_size)
    rows = lesson.pendulum_summary(frames.numpy(), truth, frames[:, 0], config, ((1, 4), (5, 16)), "truth again")
    assert [r["method"] for r in rows] == ["truth again", "copy last frame", "hanging still", "true frames"]
    assert rows[0]["angle err° 5-16"] < 2 and rows[0]["valid 5-16"] == 1.0


def test_circular_spread_is_zero_for_agreement_and_wraps_around():
    angles = np.array([[0.1, 3.1], [0.1, -3.1]])                                     # (samples, frames)
    spread = lesson.circular_spread(angles)
    assert spread[0] < 1e-3 and spread[1] < 5                                         # ±3.1 rad are 4° apart
    assert lesson.circular_spread(np.array([[0.0], [np.pi / 2]]))[0] > 40


# ----------------------------------------------------------------------------- the assignment




