"""Lesson 03 (flow matching): the exact marginal velocity, the practice checks, the figures, and the
assignment's grading (solution full marks, release nothing, catalogued mistakes lose points)."""

import sys

import matplotlib
import pytest
import torch

matplotlib.use("Agg")

from autograder import testing  # noqa: E402
from dfkit.budgets import FlowMatchingBudget  # noqa: E402
from dfkit.diffusion import flow  # noqa: E402
from dfkit.diffusion.gaussian import GaussianMixture  # noqa: E402
from dfkit.lessons import flow_matching  # noqa: E402
from dfkit.profiles import PROFILES  # noqa: E402

ASSIGNMENT = "03_flow_matching"
pytestmark = pytest.mark.usefixtures("one_thread")


def seeded(seed):
    return torch.Generator().manual_seed(seed)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


# ----------------------------------------------------------------------------- marginal velocity


def brute_force_velocity(x, t, points):
    """Σ_i w_i (p_i - x) / (1 - t) with w = softmax(-‖x - t p_i‖² / (2 (1 - t)²)), written plainly."""
    t = t[:, None, None]
    distances = ((x[:, None, :] - t * points[None]) ** 2).sum(-1)
    weights = torch.softmax(-distances / (2 * (1 - t[:, :, 0]) ** 2), dim=1)
    return (weights[:, :, None] * (points[None] - x[:, None]) / (1 - t)).sum(1)


def test_marginal_velocity_is_the_posterior_average_of_the_conditional_velocities():
    points = torch.randn(6, 3, generator=seeded(0), dtype=torch.float64)
    x = torch.randn(5, 3, generator=seeded(1), dtype=torch.float64)
    t = torch.rand(5, generator=seeded(2), dtype=torch.float64) * 0.95
    assert torch.allclose(flow_matching.marginal_velocity(x, t, points), brute_force_velocity(x, t, points), atol=1e-10)
    # t = 0: every point is equally likely, the pull is towards their mean
    assert torch.allclose(flow_matching.marginal_velocity(x, 0.0, points), points.mean(0) - x, atol=1e-12)
    # t = 1: x_t is a data point and x_0 has mean 0
    assert torch.equal(flow_matching.marginal_velocity(x, torch.ones(5, dtype=torch.float64), points), x)


def test_marginal_velocity_agrees_with_a_mixture_of_nearly_point_masses():
    points = torch.randn(4, 2, generator=seeded(3), dtype=torch.float64)
    mixture = GaussianMixture(torch.full((4,), 0.25), points, torch.eye(2).expand(4, 2, 2) * 1e-10)
    x = torch.randn(6, 2, generator=seeded(4), dtype=torch.float64)
    t = torch.linspace(0.05, 0.9, 6, dtype=torch.float64)
    assert torch.allclose(flow_matching.marginal_velocity(x, t, points), mixture.exact_velocity()(x, t), atol=1e-6)


def test_marginal_velocity_keeps_shape_and_dtype_and_stays_finite_near_one():
    points = torch.rand(10, 1, 4, 4, generator=seeded(5)) * 6 - 3
    x = torch.randn(3, 1, 4, 4, generator=seeded(6))
    for t in (torch.full((3,), 0.999), 0.9999):
        u = flow_matching.marginal_velocity(x, t, points)
        assert u.shape == x.shape and u.dtype == torch.float32 and torch.isfinite(u).all()


def test_marginal_velocity_explains_bad_inputs():
    x = torch.zeros(3, 2)
    with pytest.raises(ValueError, match=r"expected points of shape \(N, 2\)"):
        flow_matching.marginal_velocity(x, 0.5, torch.zeros(4, 3))
    with pytest.raises(ValueError, match="expected one time per point"):
        flow_matching.marginal_velocity(torch.zeros(3, 2, 2), torch.zeros(3, 2), torch.zeros(4, 2, 2))
    with pytest.raises(ValueError, match=r"expected times t in \[0, 1\]"):
        flow_matching.marginal_velocity(x, 1.5, torch.zeros(4, 2))


def test_the_exact_flow_of_a_finite_dataset_lands_on_its_points():
    points = torch.randn(5, 2, generator=seeded(7), dtype=torch.float64)
    landed = flow_matching.solve(flow.euler_step, lambda x, t: flow_matching.marginal_velocity(x, t, points),
                                 torch.randn(50, 2, generator=seeded(8), dtype=torch.float64), 40, return_trajectory=False)
    _, distance = flow_matching.nearest(landed, points)
    assert float(distance.max()) < 1e-6                # cdist rounds tiny distances to about 1e-8


# ----------------------------------------------------------------------------- solving and practice checks


def test_solve_walks_the_same_grid_as_the_library_sampler():
    mixture = flow_matching.toy_mixture()
    noise = torch.randn(64, 2, generator=seeded(9))
    for method, step in (("euler", flow.euler_step), ("heun", flow.heun_step)):
        mine = flow_matching.solve(step, mixture.exact_velocity(), noise, 7)
        _, library = flow.sample(mixture.exact_velocity(), noise, 7, method, return_trajectory=True)
        assert mine.shape == (8, 64, 2) and torch.allclose(mine, library)
    with pytest.raises(ValueError, match="expected steps to be an int >= 1"):
        flow_matching.solve(flow.euler_step, mixture.exact_velocity(), noise, 0)


@pytest.mark.parametrize("name", sorted(flow_matching.PRACTICE))
def test_practice_check_keeps_the_library_functions(name, capsys):
    library = getattr(flow, name)
    assert flow_matching.check_practice(name, library) is library
    out = capsys.readouterr().out
    assert "[FAIL]" not in out and "Notice" not in out and "agrees with" in out


def velocity_at_the_end(velocity_fn, x_t, t, t_next):
    h = (t_next - t).reshape(-1, *([1] * (x_t.dim() - 1)))
    return x_t + h * velocity_fn(x_t, t_next)


def fixed_step_size(velocity_fn, x_t, t, t_next):
    return x_t + 0.1 * velocity_fn(x_t, t)


def heun_without_the_half(velocity_fn, x_t, t, t_next):
    h = (t_next - t).reshape(-1, *([1] * (x_t.dim() - 1)))
    slope = velocity_fn(x_t, t)
    return x_t + h * (slope + velocity_fn(x_t + h * slope, t_next))


def detached_loss(velocity_model, data, t=None, noise=None, generator=None):
    return flow.flow_loss(velocity_model, data, t, noise, generator).detach()


def swapped_loss(velocity_model, data, t=None, noise=None, generator=None):
    t = torch.rand(len(data), generator=generator) if t is None else t
    noise = torch.randn(data.shape, generator=generator) if noise is None else noise
    x_t = flow.interpolate(noise, data, t)
    return ((velocity_model(x_t, t) - (noise - data)) ** 2).mean()


@pytest.mark.parametrize("name, wrong", [
    ("euler_step", velocity_at_the_end),
    ("euler_step", fixed_step_size),
    ("heun_step", heun_without_the_half),
    ("flow_loss", detached_loss),
    ("flow_loss", swapped_loss),
])
def test_practice_check_catches_mistakes_and_falls_back(name, wrong, capsys):
    assert flow_matching.check_practice(name, wrong) is getattr(flow, name)
    out = capsys.readouterr().out
    assert "[FAIL]" in out and f"Notice: your {name} does not match the library yet" in out


def test_an_unwritten_practice_exercise_gets_one_line(capsys):
    def euler_step(velocity_fn, x_t, t, t_next):
        raise NotImplementedError()

    assert flow_matching.check_practice("euler_step", euler_step) is flow.euler_step
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == ["Notice: your euler_step is not written yet, so the rest of this notebook uses "
                     "dfkit.diffusion.flow.euler_step instead."]


def test_velocity_network_learns_with_the_flow_loss():
    torch.manual_seed(0)
    network = flow_matching.VelocityMLP(hidden=32)
    optimizer = torch.optim.Adam(network.parameters(), lr=3e-3)
    mixture, generator = flow_matching.toy_mixture(), seeded(10)
    losses = []
    for _ in range(150):
        loss = flow.flow_loss(network, mixture.sample(128, generator=generator), generator=generator)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert network(torch.zeros(4, 2), torch.rand(4)).shape == (4, 2)
    assert sum(losses[-20:]) < 0.8 * sum(losses[:20])


def test_every_profile_has_a_budget_the_metrics_accept():
    for profile in PROFILES.values():
        budget = flow_matching.lesson_budget(profile)
        assert budget is profile.lessons.flow_matching
        assert budget.digit_samples >= 20 and min(budget.toy_evaluations) >= 2 and budget.flow_steps >= 1


# ----------------------------------------------------------------------------- figures and widgets


def test_figures_draw_without_a_display():
    mixture = flow_matching.toy_mixture()
    noise, data = torch.randn(30, 2, generator=seeded(11)), mixture.sample(30, generator=seeded(12))
    trajectory = flow_matching.solve(flow.heun_step, mixture.exact_velocity(), noise, 5)
    assert len(flow_matching.paths_figure(noise, data, flow.interpolate, trajectory, data).axes) == 2
    assert len(flow_matching.points_figure({"a": data, "b": noise}, marked=data[:3]).axes) == 2
    assert flow_matching.toy_errors_figure((2, 4), {"Euler": [0.3, 0.2]}, 0.05).axes
    digits = torch.rand(3, 4, 1, 28, 28) * 2 - 1
    assert len(flow_matching.flow_strip(digits, digits=4).axes) == 4 * 7
    assert len(flow_matching.show_digits({"row": digits[0]}, columns=5).axes) == 5


def test_digit_flow_is_a_slider_or_a_static_strip(monkeypatch):
    trajectory = torch.rand(6, 3, 1, 28, 28) * 2 - 1
    pytest.importorskip("ipywidgets")
    box = flow_matching.digit_flow(trajectory)
    slider = box.children[0]
    assert (slider.min, slider.max, slider.value) == (0, 5, 2)
    monkeypatch.setitem(sys.modules, "ipywidgets", None)             # as if ipywidgets were not installed
    figure = flow_matching.digit_flow(trajectory)
    assert len(figure.axes) == 3 * 7


def test_steps_against_quality_scores_every_sampler_beside_the_floor():
    from dfkit.metrics.classifier import DigitClassifier
    from dfkit.models.unet import UNet, UNetConfig

    torch.manual_seed(0)
    config = UNetConfig(base_channels=4, channel_mults=(1, 2))
    budget = FlowMatchingBudget(points=10, toy_evaluations=(2,), mlp_steps=1, digit_samples=20, digit_evaluations=(2, 4))
    rows = flow_matching.steps_against_quality(UNet(config).eval(), UNet(config).eval(), budget, classifier=DigitClassifier().eval(), log=None)
    assert [(r["sampler"], r["evaluations"]) for r in rows] == [
        ("flow, Euler", 2), ("DDPM, DDIM", 2), ("flow, Heun", 2), ("flow, Euler", 4), ("DDPM, DDIM", 4), ("flow, Heun", 4)]
    assert all(r["samples"] == 20 and r["fid_real_floor"] > 0 and r["images"].shape == (10, 1, 28, 28) for r in rows)
    assert len(flow_matching.steps_against_quality_figure(rows).axes) == 1
    assert flow_matching.quality_table(rows).count("\n") == len(rows)


# ----------------------------------------------------------------------------- the assignment


def test_practice_exercises_are_solution_cells_followed_by_their_comparison():
    cells = testing.load(testing.solution_path(ASSIGNMENT))["cells"]
    sources = ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells]
    for name in flow_matching.PRACTICE:
        number = next(i for i, s in enumerate(sources) if s.startswith(f"def {name}("))
        assert cells[number]["metadata"]["nbgrader"]["solution"] and not cells[number]["metadata"]["nbgrader"]["grade"]
        assert sources[number + 1] == f'{name} = flow_matching.check_practice("{name}", {name})'
