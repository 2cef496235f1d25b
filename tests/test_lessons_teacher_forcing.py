"""Lesson 04 (teacher forcing): the reference functions, the rollout loop, the experiments that
reproduce the benchmark, the figures, and the assignment's grading (solution full marks, release
nothing, catalogued mistakes lose points)."""

import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch

matplotlib.use("Agg")

from autograder.standins import ToyNextFrame  # noqa: E402
from dfkit.data.pendulum import render  # noqa: E402
from dfkit.diffusion.ddpm import q_sample  # noqa: E402
from dfkit.diffusion.schedules import make_schedule  # noqa: E402
from dfkit.lessons import teacher_forcing as tf  # noqa: E402
from dfkit.profiles import PROFILES, get_profile  # noqa: E402
from dfkit.sequence.objectives import TeacherForcing  # noqa: E402
from helpers import load_benchmark  # noqa: E402

ASSIGNMENT = "04_teacher_forcing"
REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.usefixtures("one_thread")


def seeded(seed):
    return torch.Generator().manual_seed(seed)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


# ----------------------------------------------------------------------------- training pairs and inputs


def test_pairs_hold_every_target_after_its_history():
    clips = torch.arange(2 * 6, dtype=torch.float32).reshape(2, 6, 1, 1, 1).expand(2, 6, 1, 2, 3)
    histories, targets = tf.teacher_forcing_pairs(clips, 2)
    assert histories.shape == (2, 4, 2, 1, 2, 3) and targets.shape == (2, 4, 1, 2, 3)
    for b in range(2):
        for i in range(4):
            assert torch.equal(histories[b, i], clips[b, i:i + 2]) and torch.equal(targets[b, i], clips[b, i + 2])
    with pytest.raises(ValueError, match="1 <= context < T = 6"):
        tf.teacher_forcing_pairs(clips, 6)
    with pytest.raises(ValueError, match=r"expected clips of shape \(B, T, C, H, W\)"):
        tf.teacher_forcing_pairs(clips[0], 1)


def test_teacher_forcing_input_noises_the_target_only():
    schedule = make_schedule("cosine", 1000)
    history, target, noise = torch.randn(3, 2, 1, 4, 4), torch.randn(3, 1, 4, 4), torch.randn(3, 1, 4, 4)
    k = torch.tensor([1, 500, 1000])
    inputs, levels = tf.teacher_forcing_input(history, target, k, schedule, noise)
    assert torch.equal(inputs[:, :2], history)
    assert torch.allclose(inputs[:, 2], q_sample(target, k, noise, schedule))
    assert levels.dtype == torch.long and levels.tolist() == [[0, 0, 1], [0, 0, 500], [0, 0, 1000]]
    with pytest.raises(ValueError, match="expected target of shape"):
        tf.teacher_forcing_input(history, target[:, 0], k, schedule, noise)


def test_the_objective_shows_the_model_what_teacher_forcing_input_builds():
    class Spy(torch.nn.Module):
        def forward(self, frames, levels):
            self.frames, self.levels = frames.detach(), levels.detach()
            return torch.zeros_like(frames)

    schedule = make_schedule("cosine", 1000)
    clips = torch.rand(5, 6, 1, 4, 4)
    spy = Spy()
    TeacherForcing(schedule, "eps", context=2, rescale=False)(spy, clips, generator=seeded(0))
    assert spy.levels.shape == (5, 3) and (spy.levels[:, :2] == 0).all() and (spy.levels[:, 2] >= 1).all()
    for b in range(5):      # each history is two consecutive clean frames of its clip
        starts = [s for s in range(5) if torch.equal(spy.frames[b, :2], clips[b, s:s + 2])]
        assert starts, b


# ----------------------------------------------------------------------------- rollout loop


def test_rollout_feeds_back_its_own_frames():
    sampler = ToyNextFrame([0.9, -0.5], 0.1)
    context = torch.rand(2, 3, 1, 2, 2)
    frames = tf.autoregressive_rollout(sampler, context, 4, 2)
    video = context
    for _ in range(4):
        video = torch.cat([video, sampler(video[:, -2:])[:, None]], dim=1)
    assert frames.shape == (2, 4, 1, 2, 2) and torch.allclose(frames, video[:, 3:])
    with pytest.raises(ValueError, match="expected history to be an int from 1 to the 3 context frames"):
        tf.autoregressive_rollout(sampler, context, 4, 4)


# ----------------------------------------------------------------------------- swing direction


def test_swing_direction_wraps_through_the_top():
    before = torch.from_numpy(render(np.radians([10.0, 40.0, 170.0, -170.0, 25.0]), 16))[:, None]
    after = torch.from_numpy(render(np.radians([30.0, 20.0, -170.0, 170.0, 25.0]), 16))[:, None]
    direction = tf.swing_direction(before, after)
    assert direction.dtype == torch.long and direction.tolist() == [1, -1, 1, -1, 0]


def test_towards_bottom_halves_the_angle():
    from dfkit.data.pendulum import estimate_angle

    last = torch.from_numpy(render(np.radians([60.0, -100.0]), 16))[:, None]
    assert np.allclose(np.degrees(estimate_angle(tf.towards_bottom(last))), [30.0, -50.0], atol=3)


# ----------------------------------------------------------------------------- experiments against the benchmark


@pytest.fixture(scope="module")
def quick_models():
    from dfkit.sequence.recipes import sequence_model

    profile = get_profile("quick")
    names = tf.MARKOV_MODELS + ("regressor",)
    return profile, {name: sequence_model(name, "pendulum", profile, progress=False) for name in names}


def test_markov_experiment_samples_each_clip_at_one_random_time(quick_models):
    profile, models = quick_models
    got = tf.markov_experiment(models, profile)
    assert [row["method"] for row in got["rows"]] == [
        "teacher forcing, 1 context frame", "teacher forcing, 2 context frames", "teacher forcing, 4 context frames",
        "swing towards the bottom (1-frame prior)", "true next frame (ceiling)"]
    earliest, latest = got["target frames"]
    assert earliest == 4 and latest == profile.pendulum.num_frames - 1      # every model has its whole history
    B, size = got["clips"], profile.pendulum.image_size
    assert all(frames.shape == (B, 1, size, size) for frames in got["predicted"].values())
    assert got["rows"][-1]["accuracy"] > 0.9, "the true next frame must read as the true swing direction"
    again = tf.markov_experiment(models, profile)                          # seeded: the same times and samples
    assert [row["accuracy"] for row in again["rows"]] == pytest.approx([row["accuracy"] for row in got["rows"]], nan_ok=True)
    other = tf.markov_experiment(models, profile, seed=1)                  # other times: the prior scores differently
    assert other["rows"][3]["included"] != got["rows"][3]["included"] or other["rows"][3]["accuracy"] != got["rows"][3]["accuracy"]
    benchmark = load_benchmark("sequence_rollouts")                        # the benchmark's table is this experiment
    assert benchmark.markov_experiment(profile, benchmark.Models("pendulum", profile))["rows"] == got["rows"]
    assert "swing towards the bottom" in tf.markov_table(got["rows"])
    assert len(tf.markov_figure(got["rows"]).axes) == 1


def test_rollout_rows_reproduce_the_benchmark_rows(quick_models):
    from dfkit.sequence.recipes import rollout

    profile, models = quick_models
    benchmark = load_benchmark("sequence_rollouts")
    loaded = benchmark.Models("pendulum", profile)
    setup = tf.rollout_setup(profile)
    frames = tf.autoregressive_rollout(tf.next_frame_sampler("teacher_forcing", models["teacher_forcing"], profile, seed=0),
                                       setup.context, setup.num_frames, 4)
    regressor = rollout("regressor", models["regressor"], setup.context, setup.num_frames, profile, dataset="pendulum")
    mine = tf.rollout_rows({"teacher forcing": frames, "regressor": regressor}, setup, profile)
    assert [row["method"] for row in mine] == ["teacher forcing", "regressor", "copy last frame", "hanging still", "true frames"]
    label = dict((name, label) for label, name, _ in benchmark.methods("pendulum", profile))
    original = benchmark.METHODS, benchmark.PENDULUM_METHODS
    try:
        benchmark.METHODS = tuple(m for m in original[0] if m[1] in ("teacher_forcing", "regressor"))
        benchmark.PENDULUM_METHODS = ()
        theirs = benchmark.pendulum_rollouts(profile, loaded)["rows"]
    finally:
        benchmark.METHODS, benchmark.PENDULUM_METHODS = original
    theirs = {row["method"]: row for row in theirs}
    for row, method in zip(mine, [label["teacher_forcing"], label["regressor"], "copy last frame", "hanging still", "true frames"]):
        for key, value in row.items():
            if key != "method":
                assert value == pytest.approx(theirs[method][key], rel=1e-3, abs=0.05), (method, key)
    assert "angle err° 1-8" in tf.format_rows(mine)


def test_one_step_predictions_see_the_true_history():
    seen = []

    def sample_next(window):
        seen.append(window.shape[1])
        return window[:, -1]

    video = torch.rand(2, 7, 1, 3, 3)
    predictions = tf.one_step_predictions(sample_next, video, start=2, history=3)
    assert predictions.shape == (2, 5, 1, 3, 3) and seen == [2, 3, 3, 3, 3]
    assert torch.equal(predictions, video[:, 1:6])


def test_with_progress_passes_frames_through():
    sample_next = tf.with_progress(lambda window: window[:, -1] + 1, 3, "test")
    frames = tf.autoregressive_rollout(sample_next, torch.zeros(2, 1, 1, 2, 2), 3, 1)
    assert torch.equal(frames[:, :, 0, 0, 0], torch.tensor([[1.0, 2.0, 3.0]] * 2))


def test_every_profile_has_a_budget():
    for profile in PROFILES.values():
        budget = tf.lesson_budget(profile)
        assert budget is profile.lessons.teacher_forcing
        assert budget.shown_clips >= 1 and budget.samples >= 2


# ----------------------------------------------------------------------------- figures and widgets


def test_figures_draw_without_a_display():
    frames = torch.rand(4, 1, 8, 8)
    assert len(tf.show_frames({"a": frames, "b": frames}, [0, 2]).axes) == 4
    noisy = {100: torch.randn(1, 8, 8), 900: torch.randn(1, 8, 8)}
    assert len(tf.training_pair_figure(frames[:2], frames[2], noisy).axes) == 3 * 3
    assert len(tf.error_curves_figure({"a": np.arange(5.0), "copy last frame": np.ones(5)}, 2).axes) == 1


def test_rollout_viewer_is_a_slider_or_a_static_strip(monkeypatch):
    videos = {"truth": torch.rand(2, 6, 1, 8, 8), "model": torch.rand(2, 6, 1, 8, 8)}
    pytest.importorskip("ipywidgets")
    box = tf.rollout_viewer(videos)
    assert (box.children[0].min, box.children[0].max) == (0, 5)
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    figure = tf.rollout_viewer(videos)
    assert len(figure.axes) == 2 * 5              # frames 1, 2, 4, 5, 6 of 6


# ----------------------------------------------------------------------------- the assignment




