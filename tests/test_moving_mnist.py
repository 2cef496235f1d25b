import numpy as np
import pytest

from dfkit.data import moving_mnist
from dfkit.data.digits import load_digits
from dfkit.data.moving_mnist import MovingMNISTConfig, generate, render

SMALL = MovingMNISTConfig(num_sequences=64, num_frames=30)


@pytest.fixture(scope="module")
def clips():
    return generate(SMALL, "train")


def test_layout(clips):
    assert clips["frames"].shape == (64, 30, 1, 64, 64) and clips["frames"].dtype == np.float32
    assert clips["positions"].shape == (64, 30, 2, 2)
    assert clips["labels"].shape == (64, 2)
    assert 0.0 <= clips["frames"].min() and clips["frames"].max() <= 1.0


def test_digits_never_leave_the_canvas(clips):
    offsets = np.floor(clips["positions"])
    assert offsets.min() >= 0 and offsets.max() <= 64 - 28
    # no ink is ever cut: every frame holds the full ink of its digits (max-combined, so at least the brightest)
    assert (clips["frames"].reshape(64, 30, -1).max(-1) > 0.9).all()


def test_speed_is_constant_between_bounces(clips):
    step = np.diff(clips["positions"].astype(np.float64), axis=1)          # (N, T-1, D, 2)
    free = ~clips["bounced"][:, 1:].any(-1)                                # (N, T-1, D)
    speed = np.linalg.norm(step, axis=-1)[free]
    np.testing.assert_allclose(speed, 3.6, atol=1e-4)
    assert free.mean() > 0.5 and (~free).any(), "the sample should contain both free flight and bounces"


def test_a_bounce_flips_exactly_the_component_that_hit_the_wall(clips):
    velocity, bounced = clips["velocities"], clips["bounced"]
    before, after, hit = velocity[:, :-1], velocity[:, 1:], bounced[:, 1:]
    np.testing.assert_allclose(after[hit], -before[hit], atol=1e-6)
    np.testing.assert_allclose(after[~hit], before[~hit], atol=1e-6)
    # the wall that was hit is the one the digit sits on
    position = clips["positions"][:, 1:]
    on_wall = (position == 0) | (position == 64 - 28)
    assert on_wall[hit].all()


def test_overlapping_digits_combine_with_max():
    digits = np.zeros((1, 2, 4, 4), dtype=np.uint8)
    digits[0, 0] = 100
    digits[0, 1, :2] = 200
    positions = np.zeros((1, 1, 2, 2))
    positions[0, 0, 1] = [1.7, 1.2]                                        # pasted at (1, 1)
    canvas = render(digits, positions, canvas_size=6)[0, 0, 0]
    assert canvas[0, 0] == 100 and canvas[1, 1] == 200 and canvas[3, 3] == 100 and canvas[4, 4] == 0
    assert canvas[1:3, 1:5].min() == 200


def test_same_seed_same_array_other_seed_other_array():
    config = MovingMNISTConfig(num_sequences=4, num_frames=5)
    a, b = generate(config), generate(config)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    c = generate(MovingMNISTConfig(num_sequences=4, num_frames=5, seed=1))
    assert not np.array_equal(a["frames"], c["frames"])


def test_train_and_test_sequences_use_disjoint_digits():
    train_images, _ = load_digits("train")
    test_images, _ = load_digits("test")
    train_set = {image.tobytes() for image in train_images}
    assert not any(image.tobytes() in train_set for image in test_images)
    config = MovingMNISTConfig(num_sequences=8, num_frames=1, num_digits=1, canvas_size=28)
    for split, pool in (("train", train_set), ("test", {image.tobytes() for image in test_images})):
        frames = generate(config, split)["frames"][:, 0, 0]
        for frame in frames:
            assert np.round(frame * 255).astype(np.uint8).tobytes() in pool


def test_stochastic_variant_differs_only_at_bounces():
    plain = generate(MovingMNISTConfig(num_sequences=32, num_frames=40), "train")
    noisy = generate(MovingMNISTConfig(num_sequences=32, num_frames=40, stochastic=True), "train")
    np.testing.assert_array_equal(plain["labels"], noisy["labels"])
    for i in range(32):
        for j in range(2):
            first = np.flatnonzero(plain["bounced"][i, :, j].any(-1))
            upto = first[0] + 1 if len(first) else 40
            np.testing.assert_array_equal(plain["positions"][i, :upto, j], noisy["positions"][i, :upto, j])
    # in the stochastic variant, the velocity changes only at bounce frames, and speed is kept
    velocity, bounced = noisy["velocities"].astype(np.float64), noisy["bounced"][:, 1:].any(-1)
    changed = np.abs(np.diff(velocity, axis=1)).max(-1) > 1e-6
    assert not (changed & ~bounced).any()
    np.testing.assert_allclose(np.linalg.norm(velocity, axis=-1), 3.6, atol=1e-4)
    # after a bounce, the new direction points away from the wall
    position = noisy["positions"][:, 1:]
    at_low = bounced[..., None] & (position == 0)
    assert (velocity[:, 1:][at_low] > 0).all()
    # and it is not the deterministic reflection
    assert not np.allclose(plain["velocities"], noisy["velocities"])


def test_small_canvas_profile_shape():
    config = MovingMNISTConfig(num_sequences=3, num_frames=6, canvas_size=32, num_digits=1, digit_size=16, speed=1.6)
    frames = generate(config)["frames"]
    assert frames.shape == (3, 6, 1, 32, 32)
    assert frames.max() > 0.9


@pytest.mark.parametrize(
    "params,message",
    [
        ({"digit_size": 80}, "digit_size <= canvas_size"),
        ({"num_frames": 0}, "num_frames >= 1"),
        ({"num_digits": 0}, "num_digits >= 1"),
        ({"speed": -1.0}, "speed >= 0"),
    ],
)
def test_impossible_parameters_are_rejected(params, message):
    with pytest.raises(ValueError, match=message):
        generate(MovingMNISTConfig(num_sequences=2, **params))


def test_unknown_split_is_rejected():
    with pytest.raises(ValueError, match="expected split"):
        generate(MovingMNISTConfig(num_sequences=2), "validation")


def test_standard_test_file_loader(tmp_path):
    raw = np.random.default_rng(0).integers(0, 256, size=(20, 3, 64, 64), dtype=np.uint8)
    path = tmp_path / "mnist_test_seq.npy"
    np.save(path, raw)
    frames = moving_mnist.load_standard_test_file(path)["frames"]
    assert frames.shape == (3, 20, 1, 64, 64)
    np.testing.assert_array_equal(np.round(frames[1, 7, 0] * 255), raw[7, 1])
    with pytest.raises(FileNotFoundError, match="mnist_test_seq.npy"):
        moving_mnist.load_standard_test_file(tmp_path / "missing.npy")
    np.save(tmp_path / "bad.npy", raw[0])
    with pytest.raises(ValueError, match=r"\(T, N, H, W\)"):
        moving_mnist.load_standard_test_file(tmp_path / "bad.npy")
