import math

import numpy as np
import pytest

from dfkit.data import pendulum
from dfkit.data.pendulum import PendulumConfig, energy, estimate_angle, render, simulate, wrap_angle


def free_swing(theta0, omega0=0.0, frames=500, dt=0.05, damping=0.0, gravity=9.81, length=1.0, torque=0.0):
    actions = np.full(frames, torque)
    return simulate(np.array([theta0, omega0]), actions, dt=dt, gravity=gravity, length=length, damping=damping)


def test_energy_is_conserved_without_damping_or_torque():
    for theta0 in (0.3, 1.5, 2.8):
        states = free_swing(theta0, omega0=0.5)
        e = energy(states)
        drift = np.abs(e - e[0]).max() / e[0]
        assert drift < 1e-3, f"energy drift {drift:.2e} at theta0={theta0}"


def test_small_angle_period_matches_theory():
    gravity, length, dt = 9.81, 0.7, 0.01
    states = free_swing(0.01, frames=2000, dt=dt, gravity=gravity, length=length)
    theta = states[:, 0]
    # upward zero crossings, linearly interpolated
    idx = np.flatnonzero((theta[:-1] < 0) & (theta[1:] >= 0))
    crossings = idx + (-theta[idx]) / (theta[idx + 1] - theta[idx])
    period = np.diff(crossings).mean() * dt
    expected = 2 * math.pi * math.sqrt(length / gravity)
    assert abs(period - expected) / expected < 0.01


def test_large_angle_period_is_longer_than_small_angle_period():
    dt = 0.01
    periods = []
    for theta0 in (0.05, 2.0):
        theta = free_swing(theta0, frames=2000, dt=dt)[:, 0]
        idx = np.flatnonzero((theta[:-1] < 0) & (theta[1:] >= 0))
        periods.append(np.diff(idx).mean() * dt)
    assert periods[1] > 1.2 * periods[0]


def test_damping_strictly_decreases_energy():
    states = free_swing(1.0, omega0=1.0, frames=300, damping=0.3)
    e = energy(states)
    assert np.all(np.diff(e) < 0)


def test_constant_torque_follows_the_equation():
    # From rest at the bottom, θ'' = u at t = 0, so θ(h) ≈ u h² / 2 for small h.
    u, h = 2.0, 1e-3
    states = simulate(np.array([0.0, 0.0]), np.array([u, u]), dt=h)
    assert states[1, 0] == pytest.approx(u * h**2 / 2, rel=1e-3)
    # With damping the pendulum settles where gravity balances the torque: sin θ* = u L / g.
    states = simulate(np.array([0.0, 0.0]), np.full(4000, u), dt=0.05, damping=1.0)
    assert states[-1, 0] == pytest.approx(math.asin(u / 9.81), abs=1e-4)
    assert abs(states[-1, 1]) < 1e-4
    # A torque of opposite sign mirrors the trajectory.
    mirrored = simulate(np.array([0.0, 0.0]), np.full(50, -u), dt=0.05)
    forward = simulate(np.array([0.0, 0.0]), np.full(50, u), dt=0.05)
    np.testing.assert_allclose(mirrored, -forward, atol=1e-12)


def test_torque_of_frame_t_acts_between_frames_t_and_t_plus_one():
    actions = np.zeros(10)
    actions[4] = 5.0
    free = simulate(np.array([0.3, 0.0]), np.zeros(10))
    pushed = simulate(np.array([0.3, 0.0]), actions)
    np.testing.assert_array_equal(free[:5], pushed[:5])
    assert pushed[5, 1] > free[5, 1]


def test_theta_zero_hangs_down_and_positive_theta_swings_right():
    image = render(np.array(0.0), 32)
    rows, cols = np.nonzero(image > 0.5)
    rows, cols = rows + 0.5, cols + 0.5                           # pixel centres; the pivot is at (16, 16)
    assert rows.mean() > 20 and abs(cols.mean() - 16) < 0.1
    image = render(np.array(math.pi / 2), 32)
    rows, cols = np.nonzero(image > 0.5)
    rows, cols = rows + 0.5, cols + 0.5
    assert cols.mean() > 20 and abs(rows.mean() - 16) < 0.1


def test_render_is_antialiased_and_in_unit_range():
    image = render(np.array(0.3), 32)
    assert image.min() >= 0 and image.max() <= 1
    partial = (image > 0) & (image < 1)
    assert partial.sum() > 10, "edges should have fractional coverage"


@pytest.mark.parametrize("size,mean_tolerance", [(32, 1.0), (16, 2.0), (64, 1.0)])
def test_angle_estimator_reads_back_the_angle(size, mean_tolerance):
    rng = np.random.default_rng(0)
    theta = rng.uniform(-math.pi, math.pi, size=(50, 8))
    frames = render(theta, size)[:, :, None]                     # (N, T, 1, H, W)
    frames = np.round(frames * 255) / 255                         # as stored in the cache
    error = np.degrees(np.abs(wrap_angle(estimate_angle(frames) - theta)))
    assert error.shape == theta.shape
    assert error.mean() < mean_tolerance


def test_generate_layout_and_determinism():
    config = PendulumConfig(num_sequences=5, num_frames=7, image_size=16, max_torque=1.0)
    first = pendulum.generate(config, "train")
    assert first["frames"].shape == (5, 7, 1, 16, 16) and first["frames"].dtype == np.float32
    assert first["states"].shape == (5, 7, 2) and first["actions"].shape == (5, 7)
    again = pendulum.generate(config, "train")
    for key in first:
        np.testing.assert_array_equal(first[key], again[key])
    other = pendulum.generate(config, "test")
    assert not np.allclose(first["states"][:, 0], other["states"][:, 0])
    # frames show the simulated angle
    error = np.abs(wrap_angle(estimate_angle(first["frames"]) - first["states"][..., 0]))
    assert np.degrees(error).mean() < 2.0


@pytest.mark.parametrize(
    "params,message",
    [
        ({"dt": -0.1}, "dt > 0"),
        ({"num_frames": 0}, "num_frames >= 1"),
        ({"image_size": 4}, "image_size >= 8"),
        ({"damping": -1.0}, "damping >= 0"),
    ],
)
def test_impossible_parameters_are_rejected(params, message):
    with pytest.raises(ValueError, match=message):
        PendulumConfig(**params).validate()


def test_simulate_rejects_bad_shapes():
    with pytest.raises(ValueError, match=r"\(theta, omega\)"):
        simulate(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="expected actions"):
        simulate(np.zeros((2, 2)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="square frames"):
        estimate_angle(np.zeros((2, 1, 16, 8)))
