"""Lesson 05 (full-sequence diffusion): the reference answers, the extension loop against the library's,
the border measure, the experiments, the figures, and the assignment's grading (solution full marks,
release nothing, catalogued mistakes lose points)."""

import math
import sys

import matplotlib
import numpy as np
import pytest
import torch

matplotlib.use("Agg")

from autograder.standins import ToyJointDenoiser  # noqa: E402
from dfkit.data.pendulum import PendulumConfig, render, simulate, wrap_angle  # noqa: E402
from dfkit.diffusion.ddpm import q_sample  # noqa: E402
from dfkit.diffusion.schedules import make_schedule  # noqa: E402
from dfkit.lessons import full_sequence  # noqa: E402
from dfkit.models.video import VideoBackbone, VideoBackboneConfig  # noqa: E402
from dfkit.profiles import PROFILES, get_profile  # noqa: E402
from dfkit.sequence.objectives import FullSequenceDiffusion  # noqa: E402
from dfkit.sequence.rollout import ReconstructionGuidance, RolloutConfig, extend_video  # noqa: E402
from dfkit.sequence.sampler import GuidanceInput  # noqa: E402

ASSIGNMENT = "05_full_sequence"
SCHEDULE = make_schedule("cosine", 1000)
pytestmark = pytest.mark.usefixtures("one_thread")


def seeded(seed):
    return torch.Generator().manual_seed(seed)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    config = VideoBackboneConfig(image_size=16, widths=(4, 8), d_model=16, num_layers=1, num_heads=2,
                                 temporal="bidirectional", max_frames=6)
    model = VideoBackbone(config).eval()
    with torch.no_grad():                          # the output layer starts at zero: give every weight a value
        for parameter in model.parameters():
            parameter.add_(0.2 * torch.randn(parameter.shape, generator=seeded(99)))
    return model


# ----------------------------------------------------------------------------- reference answers


def test_full_sequence_noise_gives_every_frame_its_clip_level():
    clips, noise = torch.randn(3, 5, 1, 4, 4, generator=seeded(0)), torch.randn(3, 5, 1, 4, 4, generator=seeded(1))
    k = torch.tensor([0, 300, 1000])
    x_k, levels = full_sequence.full_sequence_noise(clips, k, noise, SCHEDULE)
    assert levels.shape == (3, 5) and levels.dtype == torch.long and bool((levels == k[:, None]).all())
    assert torch.equal(x_k, q_sample(clips, k, noise, SCHEDULE))            # the clip noised like one image
    assert torch.equal(x_k[0], clips[0])                                       # level 0 is clean
    drawn = FullSequenceDiffusion(SCHEDULE).draw_levels(4, 6, seeded(2))
    assert bool((drawn == drawn[:, :1]).all())                                 # the objective draws the same way
    with pytest.raises(ValueError, match=r"expected k as 3 integer levels of shape \(3,\)"):
        full_sequence.full_sequence_noise(clips, torch.tensor([1, 2]), noise, SCHEDULE)


def test_replace_known_noises_the_truth_and_keeps_the_rest():
    x = torch.randn(2, 5, 1, 3, 3, generator=seeded(3))
    before = x.clone()
    known, noise = torch.randn(2, 2, 1, 3, 3, generator=seeded(4)), torch.randn(2, 2, 1, 3, 3, generator=seeded(5))
    levels = torch.tensor([[10, 500, 7, 7, 7], [1000, 0, 3, 3, 3]])
    out = full_sequence.replace_known(x, levels, known, noise, SCHEDULE)
    assert torch.equal(out[:, 2:], x[:, 2:]) and torch.equal(x, before)
    assert torch.allclose(out[:, :2], q_sample(known, levels[:, :2], noise, SCHEDULE))
    assert torch.equal(out[1, 1], known[1, 1])                                 # level 0: the clean truth
    with pytest.raises(ValueError, match="expected known frames"):
        full_sequence.replace_known(x, levels, torch.zeros(2, 6, 1, 3, 3), noise, SCHEDULE)


def test_reconstruction_hook_with_the_reference_is_the_library_guidance(tiny_model):
    window = torch.randn(2, 5, 1, 16, 16, generator=seeded(6)).requires_grad_(True)
    levels = torch.full((2, 5), 400)
    x0_hat = tiny_model(window, levels)                                        # an "x0" model for the purpose
    g = GuidanceInput(window, levels, levels - 100, x0_hat, x0_hat, 0, 0, SCHEDULE, "x0")
    known = torch.randn(2, 2, 1, 16, 16, generator=seeded(7))
    mine = full_sequence.ReconstructionHook(known, 2.5)(g)
    library = ReconstructionGuidance(known, 2.5)(g)
    assert torch.allclose(mine, library, rtol=1e-5, atol=1e-6) and bool((mine[:, :2] == 0).all()) and mine[:, 2:].abs().sum() > 0


def test_reconstruction_gradient_flows_through_the_denoiser_to_every_frame():
    denoiser = ToyJointDenoiser(0.8, 1.5, 0.3)
    x_k, known = torch.randn(2, 4, 1, 3, 3, generator=seeded(13)), torch.randn(2, 2, 1, 3, 3, generator=seeded(14))
    levels = torch.full((2, 4), 300)
    gradient = full_sequence.reconstruction_gradient(denoiser, x_k, levels, known)
    x = x_k.clone().requires_grad_(True)
    ((denoiser(x, levels)[:, :2] - known) ** 2).sum().backward()
    assert torch.allclose(gradient, x.grad) and gradient[:, 2:].abs().sum() > 0            # the unknown frames feel it
    with torch.no_grad():                                                                    # works inside sampling loops
        assert torch.allclose(full_sequence.reconstruction_gradient(denoiser, x_k, levels, known), gradient)


def test_library_guided_x0_is_the_reference_formula(tiny_model):
    x_k, known = torch.randn(2, 5, 1, 16, 16, generator=seeded(15)), torch.randn(2, 2, 1, 16, 16, generator=seeded(16))
    levels = torch.full((2, 5), 600)
    denoiser = full_sequence.model_denoiser(tiny_model, "v", SCHEDULE)
    gradient = full_sequence.reconstruction_gradient(denoiser, x_k, levels, known)
    with torch.no_grad():
        expected = full_sequence.reconstruction_guided_x0(denoiser(x_k, levels), gradient, levels, 1.5, 2, SCHEDULE)
    got = full_sequence.library_guided_x0(tiny_model, x_k, levels, known, 1.5, "v", SCHEDULE)
    assert torch.allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert len(full_sequence.gradient_figure(gradient, 2).axes) == 1


def test_guided_x0_moves_only_the_unknown_frames_down_the_gradient():
    x0_hat, gradient = torch.randn(2, 4, 1, 3, 3, generator=seeded(8)), torch.randn(2, 4, 1, 3, 3, generator=seeded(9))
    levels = torch.tensor([[100, 100, 100, 100], [900, 900, 900, 900]])
    out = full_sequence.reconstruction_guided_x0(x0_hat, gradient, levels, 2.0, 3, SCHEDULE)
    assert torch.equal(out[:, :3], x0_hat[:, :3])
    expected = x0_hat[:, 3] - SCHEDULE.alpha_bars[levels[:, 3]].sqrt()[:, None, None, None] * gradient[:, 3]
    assert torch.allclose(out[:, 3], expected, atol=1e-6)
    assert torch.equal(full_sequence.reconstruction_guided_x0(x0_hat, gradient, levels, 0.0, 1, SCHEDULE), x0_hat)


@pytest.mark.parametrize("method", ["replacement", "reconstruction"])
def test_extend_is_the_library_extension(tiny_model, method):
    known = torch.rand(2, 3, 1, 16, 16, generator=seeded(10)) * 2 - 1
    mine, trajectories = full_sequence.extend(tiny_model, known, 5, SCHEDULE, "v", steps=3, chunk=2, method=method,
                                              weight=1.5, generator=seeded(11), return_trajectories=True)
    library = extend_video(tiny_model, known, 5, SCHEDULE, "v", RolloutConfig(steps=3, kind="full_sequence", chunk=2),
                           method=method, reconstruction_weight=1.5, generator=seeded(11))
    assert mine.shape == (2, 5, 1, 16, 16) and torch.allclose(mine, library, atol=1e-6)
    assert len(trajectories) == 3 and trajectories[0].shape == (4, 2, 5, 1, 16, 16)      # windows of 3 known + 2 new
    with pytest.raises(ValueError, match="expected at most window - chunk = 4 known frames"):
        full_sequence.extend(tiny_model, torch.zeros(1, 5, 1, 16, 16), 2, SCHEDULE, chunk=2)


# ----------------------------------------------------------------------------- the border measure


def swing_angles(count=3, frames=30):
    start = np.stack([np.linspace(-1.2, 1.4, count), np.linspace(2.0, -1.0, count)], axis=1)
    states = simulate(start, np.zeros((count, frames)), dt=0.1, substeps=20)
    return torch.from_numpy(states[..., 0]), states


def test_true_physics_has_small_surprise_and_a_jump_shows_at_its_border():
    angles, _ = swing_angles()
    surprise = full_sequence.frame_surprise(angles)
    assert bool(surprise[:, :2].isnan().all()) and float(surprise[:, 2:].max()) < math.radians(6)
    jumped = angles.clone()
    jumped[:, 10:] += 0.4
    jumped[:, 20:] -= 0.4
    measured = full_sequence.border_inconsistency(jumped, [10, 20])
    assert measured.shape == (3, 2) and bool((measured[:, 0] > 3 * measured[:, 1]).all())
    smooth = full_sequence.border_inconsistency(angles, [10, 20])
    assert bool((smooth[:, 0] < 2 * smooth[:, 1] + math.radians(1)).all())


def test_surprise_wraps_around_the_top():
    angles = torch.tensor([[math.pi - 0.2, math.pi - 0.05, -math.pi + 0.1, -math.pi + 0.25, -math.pi + 0.4]], dtype=torch.float64)
    assert torch.allclose(full_sequence.frame_surprise(angles)[:, 2:], torch.zeros(1, 3, dtype=torch.float64), atol=1e-12)


def test_border_inconsistency_explains_bad_borders():
    angles = torch.zeros(2, 6, dtype=torch.float64)
    for borders in ([], [1], [6]):
        with pytest.raises(ValueError, match=r"expected border indices in \[2, 5\]"):
            full_sequence.border_inconsistency(angles, borders)
    with pytest.raises(ValueError, match="at least one frame"):
        full_sequence.border_inconsistency(angles[:, :3], [2])
    assert full_sequence.window_borders(4, 10, 4) == [4, 8, 12]


def test_clip_report_accepts_true_clips_and_rejects_jumps():
    _, states = swing_angles(4, 10)
    frames = torch.from_numpy(render(states[..., 0], 16)).float()[:, :, None]
    report = full_sequence.clip_report(frames, PendulumConfig())
    assert {key: report[key] for key in ("count", "valid frames", "physical clips")} == {"count": 4, "valid frames": 1.0, "physical clips": 1.0}
    true_steps = np.degrees(np.abs(wrap_angle(np.diff(states[..., 0], axis=1)))).mean()
    assert report["|Δθ| per frame °"] == pytest.approx(true_steps, abs=1.0)       # the pixel reader is within a degree
    shuffled = frames[:, torch.randperm(10, generator=seeded(12))]
    jumbled = full_sequence.clip_report(shuffled, PendulumConfig())
    assert jumbled["physical clips"] < 1.0 and jumbled["|Δθ| per frame °"] > 2 * report["|Δθ| per frame °"]
    assert full_sequence.pixel_change(frames).shape == (4, 10)


def test_border_table_uses_the_given_measure():
    angles, _ = swing_angles()
    rows = full_sequence.border_table({"truth": angles}, [10], measure=lambda a, b: torch.ones(len(a), 2))
    assert rows == [{"video": "truth", "surprise° at borders": pytest.approx(math.degrees(1)),
                     "surprise° inside": pytest.approx(math.degrees(1)), "ratio": pytest.approx(1.0)}]


# ----------------------------------------------------------------------------- experiments and figures


def test_every_profile_has_a_budget():
    for profile in PROFILES.values():
        budget = full_sequence.lesson_budget(profile)
        assert budget is profile.lessons.full_sequence
        assert 0.0 in budget.weights and 0.0 in budget.plan_scales and budget.plan_clips >= 1


def test_torch_threads_restores_the_setting():
    before = torch.get_num_threads()
    with full_sequence.torch_threads(2):
        assert torch.get_num_threads() == 2
    assert torch.get_num_threads() == before


def test_rollout_table_has_the_benchmark_rows():
    profile = get_profile("quick")
    from dfkit.sequence.recipes import sequence_model

    model = sequence_model("full_sequence", "pendulum", profile, progress=False)
    table = full_sequence.pendulum_rollout_table(model, profile, methods=("replacement", "clean_history"))
    assert [row["method"] for row in table["rows"]] == [
        "full sequence, sliding window + replacement", "full sequence, sliding window, clean history (out of distribution)",
        "copy last frame", "hanging still", "true frames"]
    assert table["frames"]["clean_history"].shape == table["frames"]["replacement"].shape
    assert table["frames"]["replacement"].shape[1] == table["bands"][-1][1] == table["truth"].shape[1]
    assert table["rows"][-1]["angle err° 1-8"] < 1.0                            # the rendered truth reads back
    with pytest.raises(ValueError, match="unknown method"):
        full_sequence.pendulum_rollout_table(model, profile, methods=("pyramid",))


def test_planning_sweep_reports_every_target_and_scale(tiny_model):
    _, states = swing_angles(2, 3)
    context = torch.from_numpy(render(states[:, :3, 0], 16)).float()[:, :, None]       # (2, 3, 1, 16, 16)
    targets = {"a": torch.tensor([0.1, -0.2]), "b": torch.tensor([1.0, 2.0])}
    rows, plans = full_sequence.planning_sweep(tiny_model, context, states[:, 2], targets, 2, (0.0, 10.0), SCHEDULE,
                                               PendulumConfig(), steps=2)
    assert [(r["target"], r["scale"]) for r in rows] == [("a", 0.0), ("a", 10.0), ("b", 0.0), ("b", 10.0)]
    assert all({"hit", "valid", "physical", "success", "reachable"} <= set(r) for r in rows)
    assert plans[("a", 10.0)].shape == (2, 3, 1, 16, 16)
    assert len(full_sequence.planning_figure(rows).axes) == 2


def test_figures_draw_without_a_display(monkeypatch):
    clips = torch.rand(2, 5, 1, 8, 8)
    assert len(full_sequence.show_clips({"a": clips[0], "b": clips[1, :3]}, highlight=[1]).axes) == 10
    assert full_sequence.matrix_figure(torch.tensor([[1000, 1000], [0, 0]])).axes
    assert full_sequence.surprise_figure({"x": np.full((2, 6), np.nan)}, [2, 4]).axes
    trajectory = torch.rand(4, 2, 5, 1, 8, 8) * 2 - 1
    pytest.importorskip("ipywidgets")
    box = full_sequence.window_explorer(trajectory, 2)
    assert (box.children[0].min, box.children[0].max) == (0, 3)
    monkeypatch.setitem(sys.modules, "ipywidgets", None)                       # as if ipywidgets were not installed
    assert len(full_sequence.window_explorer(trajectory, 2).axes) == 4 * 5


# ----------------------------------------------------------------------------- the assignment




