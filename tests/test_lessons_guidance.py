"""Lesson 07 (guidance): the reference formulas agree with dfkit.sequence.guidance, the student hooks
reproduce the library's hooks, the experiments and pictures run, and the assignment grades as it should."""


import matplotlib
import pytest
import torch

matplotlib.use("Agg")

from autograder import testing  # noqa: E402
from dfkit.diffusion.schedules import make_schedule  # noqa: E402
from dfkit.lessons import guidance  # noqa: E402
from dfkit.models.video import VideoBackbone, VideoBackboneConfig  # noqa: E402
from dfkit.profiles import PROFILES  # noqa: E402
from dfkit.sequence import CostGuidance, HistoryGuidance, HistoryGuidanceHook, HistoryView, sample_with_matrix, scheduling_matrix  # noqa: E402
from dfkit.sequence.guidance import show_history  # noqa: E402
from dfkit.sequence.planning import AngleCost  # noqa: E402

ASSIGNMENT = "07_guidance"
SCHEDULE = make_schedule("cosine", 1000)
pytestmark = pytest.mark.usefixtures("one_thread")


def seeded(seed):
    return torch.Generator().manual_seed(seed)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def tiny_model(seed=0, frames=6, size=8):
    torch.manual_seed(seed)
    config = VideoBackboneConfig(image_size=size, widths=(4, 8), d_model=16, num_layers=1, num_heads=2, max_frames=frames)
    return VideoBackbone(config).eval()


def window(batch=2, context=3, frames=2, history_level=50, seed=0):
    generator = seeded(seed)
    x = torch.randn(batch, context + frames, 1, 4, 4, generator=generator)
    levels = torch.cat([torch.full((batch, context), history_level), torch.randint(0, 1001, (batch, frames), generator=generator)], 1)
    return x, levels


# ----------------------------------------------------------------------------- the formulas


@pytest.mark.parametrize("keep, level", [(None, None), (0, None), (2, None), (None, 300), (1, 700), (3, 50)])
def test_view_levels_and_raise_level_are_the_librarys_show_history(keep, level):
    x, levels = window()
    frames, expected_levels = show_history(HistoryView(keep, level), x, levels, 3, SCHEDULE, seeded(1))
    target = guidance.view_levels(levels, 3, keep, level, 1000)
    noise = torch.cat([torch.randn(2, 3, 1, 4, 4, generator=seeded(1)), torch.randn(2, 2, 1, 4, 4)], dim=1)
    assert torch.equal(target, expected_levels)
    assert torch.allclose(guidance.raise_level(x, levels, target, noise, SCHEDULE), frames, atol=1e-5)


def test_raise_level_composes_and_keeps_unmoved_frames():
    """q(x_k | x_s) after q(x_s | x_0) has the law of q(x_k | x_0): signal sqrt(ᾱ_k), variance 1 - ᾱ_k."""
    x0 = torch.full((20_000, 1, 1, 1, 1), 0.8, dtype=torch.float64)
    s, k = torch.full((20_000, 1), 200), torch.full((20_000, 1), 600)
    generator = seeded(2)
    x_s = guidance.raise_level(x0, torch.zeros_like(s), s, torch.randn(x0.shape, generator=generator, dtype=torch.float64), SCHEDULE)
    x_k = guidance.raise_level(x_s, s, k, torch.randn(x0.shape, generator=generator, dtype=torch.float64), SCHEDULE)
    alpha = float(SCHEDULE.alpha_bars[600])
    assert abs(float(x_k.mean()) - alpha**0.5 * 0.8) < 0.02 and abs(float(x_k.var()) - (1 - alpha)) < 0.02
    same = torch.randn(2, 3, 1, 2, 2)
    assert torch.equal(guidance.raise_level(same, torch.full((2, 3), 40), torch.full((2, 3), 40), torch.randn(2, 3, 1, 2, 2), SCHEDULE), same)
    with pytest.raises(ValueError, match="noise can be added"):
        guidance.raise_level(same, torch.full((2, 3), 40), torch.full((2, 3), 10), same, SCHEDULE)


def test_raise_level_from_a_high_level_still_adds_noise_in_float32():
    """(ᾱ_s - ᾱ_k) / ᾱ_s is computed as 1 - ᾱ_k / ᾱ_s: 1 - ᾱ_s rounds to 1 in float32 near K."""
    short = make_schedule("linear", 10)
    x, noise = torch.zeros(1, 1, 1, 1, 1), torch.ones(1, 1, 1, 1, 1)
    raised = guidance.raise_level(x, torch.tensor([[9]]), torch.tensor([[10]]), noise, short)
    assert float(raised) > 0.99


@pytest.mark.parametrize("kind, args, library", [
    ("vanilla", dict(scale=2.0), HistoryGuidance.vanilla(2.0)),
    ("vanilla", dict(scale=0.0), HistoryGuidance.vanilla(0.0)),
    ("fractional", dict(scale=1.5, level=200), HistoryGuidance.fractional(1.5, 200)),
    ("temporal", dict(scale=[1.0, 0.5], windows=[1, 3]), HistoryGuidance.temporal((1, 3), (1.0, 0.5))),
])
def test_history_guidance_terms_are_the_librarys_views(kind, args, library):
    terms = guidance.history_guidance_terms(kind, **args)
    assert guidance.same_terms(terms, [(v.keep, v.level, w) for v, w in zip(library.views, library.weights)])
    assert abs(sum(w for _, _, w in terms) - 1) < 1e-12
    with pytest.raises(ValueError, match="expected kind"):
        guidance.history_guidance_terms("spectral", 1.0)


def test_same_terms_merges_views_and_refuses_malformed_lists():
    assert guidance.same_terms([(None, None, 1.0), (0, None, 0.5), (0, None, -0.5)], [(None, None, 1.0)])
    assert not guidance.same_terms([(None, None, 1.0)], [(None, None, 2.0), (0, None, -1.0)])
    assert guidance.combined_weights([1, 2]) is None and guidance.combined_weights("abc") is None


def test_cost_guided_x0_moves_generated_frames_down_the_gradient():
    x0, levels = window(history_level=50)
    gradient = torch.randn(x0.shape, generator=seeded(3))
    for weighting in ("classifier", "reconstruction"):
        moved = guidance.cost_guided_x0(x0, gradient, levels, 3, 2.0, weighting, SCHEDULE)
        assert torch.equal(moved[:, :3], x0[:, :3])
        assert float(((moved - x0)[:, 3:] * gradient[:, 3:]).sum()) < 0            # against the gradient
    assert torch.equal(guidance.cost_guided_x0(x0, gradient, levels, 3, 0.0, "classifier", SCHEDULE), x0)


# ----------------------------------------------------------------------------- the hooks in the sampler


def test_student_cost_guidance_equals_the_librarys_cost_guidance():
    model = tiny_model()
    context = torch.rand(2, 2, 1, 8, 8) * 2 - 1
    matrix = scheduling_matrix("pyramid", 4, 3, 1000)
    cost = AngleCost(target_angle=torch.tensor([0.5, -1.0]), frame=3)
    for weighting in ("classifier", "reconstruction"):
        library = sample_with_matrix(model, matrix, SCHEDULE, context=context, parameterization="v",
                                     guidance=CostGuidance(cost, 20.0, weighting), clip_x0=1.0, generator=seeded(4))
        mine = sample_with_matrix(model, matrix, SCHEDULE, context=context, parameterization="v",
                                  guidance=guidance.StudentCostGuidance(cost, 20.0, guidance.cost_guided_x0, weighting),
                                  clip_x0=1.0, generator=seeded(4))
        assert torch.allclose(mine, library, atol=1e-5)
    assert guidance.StudentCostGuidance(cost, 0.0)(None) is None


@pytest.mark.parametrize("library, terms", [
    (HistoryGuidance.vanilla(2.0), guidance.history_guidance_terms("vanilla", 2.0)),
    (HistoryGuidance.fractional(1.0, 200), guidance.history_guidance_terms("fractional", 1.0, level=200)),
    (HistoryGuidance.temporal((1, 2), (1.0, 1.0)), guidance.history_guidance_terms("temporal", [1.0, 1.0], windows=[1, 2])),
])
def test_student_history_guidance_equals_the_librarys_hook(library, terms):
    model = tiny_model()
    context = torch.rand(2, 3, 1, 8, 8) * 2 - 1
    matrix = scheduling_matrix("pyramid", 3, 3, 1000)
    options = dict(context=context, parameterization="v", stabilization_level=50, clip_x0=1.0)
    expected = sample_with_matrix(model, matrix, SCHEDULE, guidance=HistoryGuidanceHook(model, library, seeded(5)),
                                  generator=seeded(6), **options)
    got = sample_with_matrix(model, matrix, SCHEDULE, guidance=guidance.StudentHistoryGuidance(model, terms, generator=seeded(5)),
                             generator=seeded(6), **options)
    assert torch.allclose(got, expected, atol=1e-5)


def test_practice_check_keeps_a_right_function_and_replaces_a_wrong_one(capsys):
    assert guidance.check_practice(guidance.guided_prediction) is guidance.guided_prediction
    assert "uses yours" in capsys.readouterr().out

    def forgets_the_weights(model, x, levels, num_context, terms, schedule, prediction, generator):
        return sum(guidance.guided_prediction(model, x, levels, num_context, [(k, l, 1.0)], schedule, prediction, generator)
                   for k, l, w in terms if w != 0) / len(terms)

    def unwritten(*args):
        raise NotImplementedError()

    assert guidance.check_practice(forgets_the_weights) is guidance.guided_prediction
    assert "Notice: guided_prediction differs" in capsys.readouterr().out
    assert guidance.check_practice(unwritten) is guidance.guided_prediction
    assert "not written yet" in capsys.readouterr().out


def test_student_history_guidance_with_scale_one_is_unguided_sampling():
    model = tiny_model()
    context = torch.rand(2, 3, 1, 8, 8) * 2 - 1
    matrix = scheduling_matrix("autoregressive", 3, 3, 1000)
    plain = sample_with_matrix(model, matrix, SCHEDULE, context=context, parameterization="v", generator=seeded(6))
    hook = guidance.StudentHistoryGuidance(model, guidance.history_guidance_terms("vanilla", 1.0), generator=seeded(9))
    guided = sample_with_matrix(model, matrix, SCHEDULE, context=context, parameterization="v", guidance=hook, generator=seeded(6))
    assert torch.allclose(guided, plain, atol=1e-6)


# ----------------------------------------------------------------------------- experiments and pictures


def test_every_profile_has_a_budget():
    for profile in PROFILES.values():
        budget = guidance.lesson_budget(profile)
        assert budget is profile.lessons.guidance
        assert budget.plan_scales[0] == 0 and 1.0 in budget.vanilla_scales
        # a fractional view adds noise to the stabilized history; it cannot take any away
        assert min(budget.fractional_levels) > profile.pendulum_sequence.stabilization_level


def test_planning_rows_report_rates_for_every_scale():
    from dfkit.data.pendulum import PendulumConfig

    model = tiny_model(frames=4, size=8)
    config = PendulumConfig(num_sequences=4, num_frames=4, image_size=8)
    context = torch.rand(3, 1, 1, 8, 8)
    states = torch.zeros(3, 2).numpy()
    theta = torch.tensor([0.3, -0.2, 1.0])
    rows, plans = guidance.planning_rows(model, context, states, theta.numpy(), 2, 3, SCHEDULE, 2, "v", (0.0, 10.0),
                                         lambda w: guidance.StudentCostGuidance(AngleCost(theta, 2), w), config, log=None)
    assert [row["guidance"] for row in rows] == ["unguided", "w = 10"]
    assert set(rows[0]) >= {"hit", "valid", "physical", "success", "reachable"}
    assert plans["w = 10"].shape == (3, 3, 1, 8, 8)
    assert guidance.planning_figure(rows).axes
    assert "hit" in guidance.format_table(rows)


def test_history_settings_and_table_run_with_a_tiny_model():
    from dfkit.data.pendulum import PendulumConfig
    from dfkit.metrics.pendulum import continue_physics
    from dfkit.sequence import RolloutConfig

    budget = guidance.lesson_budget(PROFILES["quick"])
    settings = guidance.history_settings(budget, 2)
    assert settings["no history guidance"] is None and any(label.startswith("fractional") for label in settings)
    model = tiny_model(frames=4, size=8)
    config = PendulumConfig(num_sequences=2, num_frames=4, image_size=8)
    context = torch.rand(2, 2, 1, 8, 8)
    truth = continue_physics(torch.zeros(2, 2).numpy() + 0.3, 4, config)
    chosen = {label: settings[label] for label in list(settings)[:2]}
    rows, videos = guidance.pendulum_history_table(model, context, truth, 4, chosen, SCHEDULE, "v", RolloutConfig(steps=2, chunk=2),
                                                   4, config, ((1, 2), (3, 4)),
                                                   lambda terms, g: guidance.StudentHistoryGuidance(model, terms, generator=g), log=None)
    assert [row["method"] for row in rows[:2]] == list(chosen) and len(rows) == 5
    assert all(v.shape == (2, 4, 1, 8, 8) for v in videos.values())


def test_pictures_draw_without_a_display(monkeypatch):
    history = torch.rand(3, 1, 8, 8)
    assert len(guidance.view_strip(history, SCHEDULE, {"a": (None, None), "b": (1, 300)}).axes) == 6
    frames = torch.rand(6, 1, 16, 16) * 2 - 1
    assert guidance.low_pass_figure(frames, SCHEDULE).axes
    assert guidance.visible_frequency(frames, SCHEDULE, 0) > guidance.visible_frequency(frames, SCHEDULE, 900) >= 0
    assert len(guidance.show_clips({"a": history, "b": history[:2]}).axes) == 6
    monkeypatch.setitem(__import__("sys").modules, "ipywidgets", None)
    assert guidance.view_explorer(history, SCHEDULE).axes


# ----------------------------------------------------------------------------- the assignment


def test_the_practice_exercise_is_a_solution_cell_followed_by_its_comparison():
    cells = testing.load(testing.solution_path(ASSIGNMENT))["cells"]
    sources = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells]
    number = next(i for i, source in enumerate(sources) if source.startswith("def guided_prediction("))
    assert cells[number]["metadata"]["nbgrader"]["solution"] and not cells[number]["metadata"]["nbgrader"]["grade"]
    assert sources[number + 1] == "guided_prediction = guidance.check_practice(guided_prediction)"
