import math

import numpy as np
import pytest
import torch

from dfkit.data.pendulum import PendulumConfig, generate, render, simulate, wrap_angle
from dfkit.metrics.pendulum import (
    VALIDITY_IOU, angle_error, angle_steps, border_inconsistency, continue_physics, energy_drift, frame_surprise, frame_validity,
    oscillation_period, pendulum_report, period_error, rollout_start, swing_direction, swing_direction_accuracy,
    valid_prediction_time, validity_floor, wrap_tensor, zero_crossings,
)
from helpers import graded_reference

CONFIG = PendulumConfig(num_sequences=48, num_frames=8, image_size=32)
HORIZON = 96


@pytest.fixture(scope="module")
def rollout():
    """Context clips, the true states that follow them, and those states rendered (the perfect prediction)."""
    data = generate(CONFIG, "test")
    states = continue_physics(data["states"][:, -1], HORIZON, CONFIG)         # (B, T, 2)
    frames = render(states[..., 0], CONFIG.image_size)[:, :, None]             # (B, T, 1, H, W)
    return data["frames"][:, -1], states, frames


def test_continue_physics_matches_a_longer_simulation():
    data = generate(PendulumConfig(num_sequences=4, num_frames=40, image_size=16), "train")
    continued = continue_physics(data["states"][:, 9], 30, CONFIG)
    np.testing.assert_allclose(continued, data["states"][:, 10:], atol=1e-10)
    assert continue_physics(np.array([0.3, 0.0]), 5, CONFIG).shape == (5, 2)


def test_a_rollout_starts_from_the_context_and_the_physics_after_it():
    from dfkit.data import ClipDataset

    config = PendulumConfig(num_sequences=3, num_frames=12, image_size=16)
    clips = ClipDataset("pendulum", "test", config, generate(config, "test"))
    context, truth = rollout_start(clips, 2, 4, 8, config)
    assert context.shape == (2, 4, 1, 16, 16) and truth.shape == (2, 8, 2)
    assert torch.equal(context, clips.frames(range(2))[:, :4])
    np.testing.assert_allclose(truth, clips.truth["states"][:2, 4:12].numpy(), atol=1e-10)   # the clip's own future
    assert rollout_start(clips, 10, 4, 8, config)[0].shape[0] == 3                          # fewer clips than asked
    for count, context_frames in ((0, 4), (2, 0), (2, 13)):
        with pytest.raises(ValueError, match="at least one clip"):
            rollout_start(clips, count, context_frames, 8, config)


def test_true_continuation_scores_the_estimator_floor(rollout):
    _, states, frames = rollout
    errors = angle_error(frames, states)
    assert errors.shape == (48, HORIZON) and errors.max() < 1.0
    uint8 = np.round(frames * 255).astype(np.uint8)
    assert angle_error(uint8, states).max() < 1.0
    drift = energy_drift(frames, states, CONFIG)
    assert drift.mean() < 0.03 and np.percentile(drift, 99) < 0.1
    periods = period_error(frames, states, CONFIG)
    assert np.isfinite(periods).mean() > 0.9 and np.nanmax(periods) < 0.01
    assert (valid_prediction_time(errors, 10.0) == HORIZON).all()
    assert frame_validity(frames)[0].all()


def test_baselines_copy_last_grows_and_hanging_still_is_large(rollout):
    last, states, frames = rollout
    copy_last = np.repeat(last[:, None], HORIZON, axis=1)
    errors = angle_error(copy_last, states)
    mean = errors.mean(axis=0)                                                   # (T,)
    assert mean[0] < mean[1] < mean[2] < mean[4] and mean[4] > 20
    rows = {row["method"]: row for row in pendulum_report(frames, states, last, CONFIG, bands=((1, 2), (3, 8), (9, 96)))}
    assert set(rows) == {"model", "copy last frame", "hanging still", "true frames"}
    assert rows["copy last frame"]["angle err° 1-2"] < rows["copy last frame"]["angle err° 3-8"]
    assert rows["hanging still"]["angle err° 9-96"] > 20 and rows["copy last frame"]["angle err° 9-96"] > 20
    assert rows["model"]["angle err° 9-96"] < 1 and rows["true frames"]["angle err° 9-96"] < 1
    assert rows["hanging still"]["VPT@20° (frames)"] < 5 and rows["model"]["VPT@20° (frames)"] == HORIZON
    # frozen pendulums lose their kinetic energy and never cross zero
    assert rows["copy last frame"]["energy drift 9-96"] > 0.3 and rows["hanging still"]["energy drift 9-96"] > 0.5
    assert rows["copy last frame"]["period measured"] == 0 and math.isnan(rows["copy last frame"]["period err"])
    assert rows["model"]["period err"] < 0.01 and rows["model"]["energy drift 9-96"] < 0.03


def test_zero_crossings_ignore_jitter_and_passes_over_the_top():
    theta = np.radians([-10, -5, 3, -1, 1, 8, 12, 5, -4, -10])
    np.testing.assert_allclose(zero_crossings(theta), [1 + 5 / 8, 7 + 5 / 9])     # linear interpolation
    turning = np.linspace(0, 4 * np.pi, 41) - 0.3                                  # two full turns
    np.testing.assert_allclose(zero_crossings(turning), [0.3 / (0.1 * np.pi), 20 + 0.3 / (0.1 * np.pi)], atol=1e-9)


def test_period_from_zero_crossings():
    t = np.arange(200)
    theta = 0.5 * np.cos(2 * np.pi * t * 0.1 / 2.0 + np.array([[0.0], [1.0]]))   # period 2 s, dt = 0.1 s
    np.testing.assert_allclose(oscillation_period(theta, dt=0.1), 2.0, rtol=1e-3)
    assert math.isnan(oscillation_period(np.full((1, 50), 0.01), dt=0.1)[0])        # jitter near 0 is no swing
    # a pendulum under 21% more gravity swings 10% faster
    start = np.array([[0.4, 0.0], [-0.8, 0.5]])
    true = simulate(start, np.zeros((2, 120)))
    fast = simulate(start, np.zeros((2, 120)), gravity=9.81 * 1.21)
    error = period_error(render(fast[..., 0], 32)[:, :, None], true, CONFIG)
    np.testing.assert_allclose(error, 1 - 1 / 1.1, atol=0.01)


def test_angle_steps_read_the_motion_across_the_wrap():
    theta = np.radians([[170.0, 178.0, -176.0, -170.0], [0.0, 10.0, 30.0, 60.0]])      # the first clip crosses ±180°
    steps = angle_steps(render(theta, 32)[:, :, None])
    np.testing.assert_allclose(steps, [[8.0, 6.0, 6.0], [10.0, 20.0, 30.0]], atol=1.0)
    with pytest.raises(ValueError, match="at least 2 frames"):
        angle_steps(render(theta[:, :1], 32)[:, :, None])
    with pytest.raises(ValueError, match=r"\(B, T, 1, H, W\)"):
        angle_steps(render(theta, 32))


def test_valid_prediction_time_counts_leading_frames_within_threshold():
    errors = np.array([[1.0, 2.0, 11.0, 3.0], [1.0, 1.0, 1.0, 1.0], [25.0, 0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(valid_prediction_time(errors, 10.0), [2, 4, 0])
    np.testing.assert_array_equal(valid_prediction_time(errors, 20.0), [4, 4, 0])


def test_validity_accepts_true_frames_and_flags_blends_empties_and_two_bobs():
    theta = np.random.default_rng(0).uniform(-math.pi, math.pi, 200)
    for size in (16, 32, 64):
        assert validity_floor(size) > VALIDITY_IOU + 0.15
        true = render(theta, size)[:, None]                                        # (N, 1, H, W)
        assert frame_validity(true)[0].all()
        assert frame_validity(np.round(true * 255).astype(np.uint8))[0].all()
        other = render(theta + math.radians(40), size)[:, None]
        assert not frame_validity(0.5 * (true + other))[0].any()                   # blurred average of two angles
        assert not frame_validity(np.maximum(true, other))[0].any()                # two bobs
        assert not frame_validity(np.zeros_like(true))[0].any()                    # no pendulum
    # documented decision: pixel noise of std 0.05 leaves the geometry, hence a valid frame
    noisy = np.clip(true + 0.05 * np.random.default_rng(1).standard_normal(true.shape), 0, 1)
    valid, iou = frame_validity(noisy)
    assert valid.all() and iou.shape == (200,)
    assert frame_validity(render(theta[:6], 32).reshape(2, 3, 1, 32, 32))[0].shape == (2, 3)


def test_swing_direction_accuracy_scores_the_graded_swing_direction():
    """Lesson 04's graded swing_direction is this module's, and the Markov experiment's accuracy counts its agreement with ω."""
    from dfkit.lessons import teacher_forcing

    reference, path = graded_reference("04_teacher_forcing.swing_direction")
    assert reference is swing_direction is teacher_forcing.swing_direction and path == "dfkit.metrics.pendulum.swing_direction"
    rng = np.random.default_rng(3)
    before, after = (torch.from_numpy(render(rng.uniform(-np.pi, np.pi, 64), 16))[:, None] for _ in range(2))
    direction = swing_direction(before, after)
    assert direction.dtype == torch.long and direction.shape == (64,)
    omega = rng.choice([-2.0, 2.0], size=64)
    score = swing_direction_accuracy(after, before, np.stack([np.zeros(64), omega], 1), CONFIG)
    assert score["included"] == 64 and score["accuracy"] == float((direction.numpy() == np.sign(omega)).mean())


def test_border_inconsistency_is_the_graded_one_and_reads_a_jump_at_its_border():
    """Lesson 05's graded border_inconsistency and its frame_surprise are this module's (the lecture figure's too):
    a straight swing with one jump of 0.5 rad has surprise 0.5 at the jump and at the frame after it, 0 elsewhere."""
    from dfkit.lessons import full_sequence

    reference, path = graded_reference("05_full_sequence.border_inconsistency")
    assert reference is border_inconsistency is full_sequence.border_inconsistency and path == "dfkit.metrics.pendulum.border_inconsistency"
    assert full_sequence.frame_surprise is frame_surprise and full_sequence.wrap is wrap_tensor
    theta = torch.linspace(-3.0, 3.0, 12, dtype=torch.float64)[None].repeat(2, 1)
    theta[:, 6:] += 0.5                                                         # crosses the top: wrapped below
    measured = border_inconsistency(wrap_tensor(theta), [6])
    assert torch.allclose(measured, torch.tensor([[0.5, 0.5 / 9]] * 2, dtype=torch.float64))
    angles = np.linspace(-7.0, 7.0, 101)
    np.testing.assert_allclose(wrap_tensor(torch.from_numpy(angles)).numpy(), wrap_angle(angles), atol=1e-12)


def test_swing_direction_true_random_and_reversed():
    data = generate(PendulumConfig(num_sequences=400, num_frames=6, image_size=32), "test")
    frames, states = data["frames"], data["states"]
    last, true_next, state_next = frames[:, 4], frames[:, 5], states[:, 5]
    truth = swing_direction_accuracy(true_next, last, state_next, CONFIG)
    assert truth["accuracy"] == 1.0 and truth["included"] > 200 and truth["excluded"] > 0
    assert swing_direction_accuracy(frames[:, 5:], last, state_next, CONFIG)["accuracy"] == 1.0

    step = states[:, 5, 0] - states[:, 4, 0]
    reversed_step = render(states[:, 4, 0] - step, 32)[:, None]                 # the true step played backwards
    assert swing_direction_accuracy(reversed_step, last, state_next, CONFIG)["accuracy"] == 0.0

    sign = np.random.default_rng(0).choice([-1.0, 1.0], size=400)
    guess = render(states[:, 4, 0] + sign * np.abs(step), 32)[:, None]
    random = swing_direction_accuracy(guess, last, state_next, CONFIG)
    assert abs(random["accuracy"] - 0.5) < 4 * 0.5 / math.sqrt(random["included"])
    assert random["chance"] == 0.5


def test_bad_shapes_raise_clear_errors(rollout):
    _, states, frames = rollout
    with pytest.raises(ValueError, match=r"frames of shape \(B, T, 1, H, W\)"):
        angle_error(frames[:, :, 0], states)
    with pytest.raises(ValueError, match=r"true_states of shape \(48, 96, 2\)"):
        angle_error(frames, states[:, :10])
    with pytest.raises(ValueError, match="at least 3 frames"):
        energy_drift(frames[:, :2], states[:, :2], CONFIG)
    with pytest.raises(ValueError, match=r"\(\.\.\., 1, H, W\)"):
        frame_validity(np.zeros((4, 3, 32, 32)))
    with pytest.raises(ValueError, match="true_next_state of shape"):
        swing_direction_accuracy(frames[:, 1], frames[:, 0], states[:, 1, :1], CONFIG)
    with pytest.raises(ValueError, match=r"state of shape \(\.\.\., 2\)"):
        continue_physics(np.zeros(3), 4, CONFIG)
    with pytest.raises(ValueError, match="last_context_frame of shape"):
        pendulum_report(frames, states, frames[:, 0, 0], CONFIG)


def test_the_rollout_summary_is_the_reports_main_columns_and_one_function_for_every_table():
    import dfkit.lessons.diffusion_forcing as df_lesson
    from dfkit.metrics.pendulum import last_band_report, pendulum_summary, summary_columns

    states = continue_physics(np.array([[0.8, 0.0], [-0.5, 1.0]]), 12, CONFIG)       # (2, 12, 2)
    frames = torch.from_numpy(render(states.reshape(-1, 2)[:, 0], CONFIG.image_size)).reshape(2, 12, 1, CONFIG.image_size, CONFIG.image_size)
    bands = ((1, 4), (5, 12))
    full, tail = last_band_report(frames.numpy(), states, frames[:, 0], CONFIG, bands, name="truth again")
    assert [row["method"] for row in full] == ["truth again", "copy last frame", "hanging still", "true frames"]
    assert tail[0]["angle err° 1-8"] == pytest.approx(full[0]["angle err° 5-12"])                # the last band alone
    rows = pendulum_summary(frames.numpy(), states, frames[:, 0], CONFIG, bands, name="truth again")
    assert rows == [summary_columns(row, end, bands) for row, end in zip(full, tail)]
    assert list(rows[0]) == ["method", "angle err° 1-4", "angle err° 5-12", "valid 5-12", "energy drift 5-12",
                             "VPT@10° (frames)", "VPT@20° (frames)"]
    assert rows[0]["valid 5-12"] == tail[0]["valid frames"] and rows[0]["angle err° 5-12"] < 2
    assert df_lesson.pendulum_summary is pendulum_summary                     # lesson 06 shows the library's table
