import math

import pytest
import torch

from dfkit.diffusion.ddpm import ddim_sample
from dfkit.diffusion.flow import (
    check_times,
    euler_step,
    flow_loss,
    heun_step,
    interpolate,
    midpoint_step,
    sample,
    schedule_path,
    target_velocity,
    velocity_from_eps,
)
from dfkit.diffusion.schedules import make_schedule
from helpers import seeded


def test_interpolate_goes_from_noise_at_zero_to_data_at_one():
    noise, data = torch.randn(3, 2, 4, generator=seeded(0)), torch.randn(3, 2, 4, generator=seeded(1))
    assert torch.equal(interpolate(noise, data, torch.zeros(3)), noise)
    assert torch.equal(interpolate(noise, data, torch.ones(3)), data)
    halfway = interpolate(noise, data, torch.tensor([0.5, 0.25, 1.0]))
    assert torch.allclose(halfway[0], (noise[0] + data[0]) / 2)
    assert torch.allclose(halfway[1], 0.75 * noise[1] + 0.25 * data[1])
    assert torch.equal(halfway[2], data[2])


def test_interpolate_uses_one_time_per_frame():
    noise, data = torch.randn(2, 3, 1, 2, 2, generator=seeded(0)), torch.randn(2, 3, 1, 2, 2, generator=seeded(1))
    t = torch.tensor([[0.0, 0.5, 1.0], [0.1, 0.9, 0.3]])
    x_t = interpolate(noise, data, t)
    for b in range(2):
        for f in range(3):
            assert torch.allclose(x_t[b, f], (1 - t[b, f]) * noise[b, f] + t[b, f] * data[b, f])


def test_target_velocity_is_the_time_derivative_of_the_path():
    noise, data = torch.randn(4, 5, generator=seeded(0), dtype=torch.float64), torch.randn(4, 5, generator=seeded(1), dtype=torch.float64)
    t, h = torch.full((4,), 0.3, dtype=torch.float64), 1e-6
    finite_difference = (interpolate(noise, data, t + h) - interpolate(noise, data, t - h)) / (2 * h)
    assert torch.allclose(target_velocity(noise, data), finite_difference, atol=1e-7)
    assert torch.allclose(target_velocity(noise, data), data - noise)


def test_flow_loss_is_zero_for_the_true_velocity_and_positive_otherwise():
    data, noise = torch.randn(8, 1, 4, 4, generator=seeded(0)), torch.randn(8, 1, 4, 4, generator=seeded(1))
    t = torch.linspace(0, 1, 8)
    perfect = flow_loss(lambda x_t, times: data - noise, data, t=t, noise=noise)
    assert float(perfect) == 0.0
    wrong = flow_loss(lambda x_t, times: torch.zeros_like(x_t), data, t=t, noise=noise)
    assert float(wrong) == pytest.approx(float(((data - noise) ** 2).mean()), rel=1e-6)


def test_flow_loss_draws_times_in_the_unit_interval_and_is_reproducible():
    seen = []

    def recording(x_t, t):
        seen.append((x_t.clone(), t.clone()))
        return torch.zeros_like(x_t)

    data = torch.randn(500, 2, generator=seeded(0))
    first = flow_loss(recording, data, generator=seeded(3))
    second = flow_loss(recording, data, generator=seeded(3))
    assert float(first) == float(second)
    t = seen[0][1]
    assert t.shape == (500,) and t.is_floating_point()
    assert 0 <= float(t.min()) and float(t.max()) < 1 and float(t.std()) > 0.25   # spread over [0, 1)
    assert torch.equal(seen[0][0], seen[1][0])


def test_flow_loss_accepts_one_time_per_frame():
    data, noise = torch.randn(2, 3, 4, generator=seeded(0)), torch.randn(2, 3, 4, generator=seeded(1))
    t = torch.tensor([[0.0, 0.5, 1.0], [0.2, 0.2, 0.7]])
    assert float(flow_loss(lambda x_t, times: data - noise, data, t=t, noise=noise)) == 0.0


def test_times_are_validated_with_clear_messages():
    data = torch.zeros(3, 2)
    with pytest.raises(ValueError, match=r"expected times t in \[0, 1\], got min -0.5"):
        interpolate(data, data, torch.tensor([-0.5, 0.0, 0.2]))
    with pytest.raises(ValueError, match=r"expected times t in \[0, 1\].*max 1.5"):
        interpolate(data, data, torch.tensor([0.0, 1.5, 0.2]))
    with pytest.raises(ValueError, match=r"expected times t in \[0, 1\]"):
        interpolate(data, data, torch.tensor([0.0, float("nan"), 0.2]))
    with pytest.raises(ValueError, match="expected floating-point times"):
        interpolate(data, data, torch.tensor([0, 1, 0]))
    with pytest.raises(ValueError, match=r"prefix of the data shape \(3, 2\)"):
        interpolate(data, data, torch.tensor([0.1, 0.2]))
    with pytest.raises(ValueError, match=r"expected data of the same shape as noise \(3, 2\), got \(3, 3\)"):
        interpolate(data, torch.zeros(3, 3), torch.tensor([0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match=r"expected times t in \[0, 1\]"):
        flow_loss(lambda x, t: x, data, t=torch.tensor([0.1, 0.2, 2.0]))
    assert check_times(0.5).shape == ()


# --------------------------------------------------------------------------- ODE solvers


def test_euler_step_follows_the_velocity():
    x = torch.randn(3, 2, generator=seeded(0))
    velocity = lambda x_t, t: torch.ones_like(x_t) * 2.0
    out = euler_step(velocity, x, torch.tensor([0.0, 0.5, 0.9]), torch.tensor([0.1, 0.5, 1.0]))
    assert torch.allclose(out, x + 2.0 * torch.tensor([0.1, 0.0, 0.1])[:, None])


@pytest.mark.parametrize("step", [midpoint_step, heun_step])
def test_second_order_steps_are_exact_when_the_velocity_is_linear_in_time(step):
    x = torch.randn(4, 3, generator=seeded(0), dtype=torch.float64)
    velocity = lambda x_t, t: (1.0 + 3.0 * t)[:, None].expand_as(x_t)   # x(t) = x + t + 1.5 t²
    t0, t1 = torch.full((4,), 0.2, dtype=torch.float64), torch.full((4,), 0.7, dtype=torch.float64)
    exact = x + (0.7 - 0.2) + 1.5 * (0.7**2 - 0.2**2)
    assert torch.allclose(step(velocity, x, t0, t1), exact)
    assert not torch.allclose(euler_step(velocity, x, t0, t1), exact)


@pytest.mark.parametrize("method,order", [("euler", 1), ("midpoint", 2), ("heun", 2)])
def test_solvers_converge_at_their_order(method, order):
    # dx/dt = -x + t from x(0) = x0 has the solution x(t) = (x0 + 1) e^{-t} + t - 1
    x0 = torch.tensor([[0.5], [-2.0]], dtype=torch.float64)
    exact = (x0 + 1) * math.exp(-1.0)                                    # at t = 1
    velocity = lambda x_t, t: -x_t + t[:, None]
    errors = [float((sample(velocity, x0, steps, method) - exact).abs().max()) for steps in (8, 16, 32)]
    ratios = [errors[0] / errors[1], errors[1] / errors[2]]
    for ratio in ratios:
        assert ratio == pytest.approx(2**order, rel=0.15)


def test_sample_visits_a_uniform_time_grid_and_returns_the_trajectory():
    seen = []

    def velocity(x_t, t):
        seen.append(t.clone())
        return torch.ones_like(x_t)

    noise = torch.zeros(2, 3)
    out, trajectory = sample(velocity, noise, steps=4, return_trajectory=True)
    assert [float(t[0]) for t in seen] == [0.0, 0.25, 0.5, 0.75]
    assert all(t.shape == (2,) for t in seen)
    assert torch.allclose(out, torch.ones(2, 3))                         # integrates u = 1 over [0, 1]
    assert trajectory.shape == (5, 2, 3) and torch.equal(trajectory[0], noise) and torch.equal(trajectory[-1], out)
    seen.clear()
    sample(velocity, noise, steps=2, method="heun")
    assert [float(t[0]) for t in seen] == [0.0, 0.5, 0.5, 1.0]


def test_sample_rejects_bad_arguments():
    noise = torch.zeros(2, 3)
    with pytest.raises(ValueError, match="expected steps to be an int >= 1, got 0"):
        sample(lambda x, t: x, noise, 0)
    with pytest.raises(ValueError, match=r"expected method in \('euler', 'midpoint', 'heun'\), got 'rk4'"):
        sample(lambda x, t: x, noise, 4, method="rk4")


# --------------------------------------------------------------------------- diffusion as a flow


def test_schedule_path_passes_through_the_schedule_nodes():
    schedule = make_schedule("cosine", 50)
    k = torch.tensor([50, 37, 10, 1, 0])
    t = 1 - k.double() / 50
    alpha, sigma, _, _ = schedule_path(schedule, t)
    assert torch.allclose(alpha.double(), schedule.alpha_bars[k].double().sqrt(), atol=1e-7)
    assert torch.allclose(sigma.double(), schedule.one_minus_alpha_bars[k].double().sqrt(), atol=1e-7)
    # between nodes α_t and σ_t are linear, so the velocity is the slope of the segment
    t_mid = torch.tensor([1 - 36.5 / 50], dtype=torch.float64)
    alpha_mid, _, dalpha, _ = schedule_path(schedule, t_mid)
    nodes = schedule.alpha_bars[[37, 36]].double().sqrt()
    assert float(alpha_mid) == pytest.approx(float(nodes.mean()), rel=1e-6)
    assert float(dalpha) == pytest.approx(50 * float(nodes[1] - nodes[0]), rel=1e-6)


def test_euler_on_the_schedule_path_is_ddim():
    # DDIM with every level is the Euler method on the diffusion path, for any eps model
    schedule = make_schedule("cosine", 40)

    def eps_model(x_k, k):
        return torch.tanh(x_k) * (0.3 + k.to(x_k.dtype)[:, None] / 40)

    def velocity(x_t, t):
        k = torch.round((1 - t.double()) * 40).long()                    # the node this time sits on
        return velocity_from_eps(x_t, t, eps_model(x_t, k), schedule)

    start = torch.randn(6, 2, generator=seeded(0), dtype=torch.float64)
    via_flow = sample(velocity, start, steps=40)
    via_ddim = ddim_sample(eps_model, (6, 2), schedule, steps=40, generator=seeded(0))
    assert torch.allclose(start.float(), torch.randn(6, 2, generator=seeded(0)))   # same starting noise
    assert torch.allclose(via_flow.float(), via_ddim, atol=1e-4)
