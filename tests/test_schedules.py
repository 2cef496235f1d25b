import math

import pytest
import torch

from dfkit.diffusion.schedules import (
    KINDS,
    NoiseSchedule,
    check_levels,
    expand_like,
    make_schedule,
    shifted_levels,
    standard_normal,
    uniform_levels,
)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("num_levels", [1000, 250, 37])
def test_schedule_tensors_are_consistent(kind, num_levels):
    schedule = make_schedule(kind, num_levels)
    K = num_levels
    assert schedule.num_levels == K
    for name in ("betas", "alphas", "alpha_bars"):
        values = getattr(schedule, name)
        assert values.shape == (K + 1,) and values.dtype == torch.float32, name
    assert schedule.betas[0] == 0 and schedule.alpha_bars[0] == 1
    assert bool(((schedule.betas[1:] > 0) & (schedule.betas[1:] < 1)).all())
    assert torch.allclose(schedule.alphas, 1 - schedule.betas, rtol=0, atol=1e-7)
    # ᾱ is the cumulative product of α and strictly decreasing: every level adds noise
    cumulative = torch.cumprod(schedule.alphas.double(), 0)
    assert torch.allclose(schedule.alpha_bars.double(), cumulative, rtol=1e-5, atol=1e-9)
    assert bool((schedule.alpha_bars[1:] < schedule.alpha_bars[:-1]).all())
    # the last level is (almost) pure noise
    assert float(schedule.alpha_bars[-1]) < 5e-3


def test_cosine_matches_its_closed_form():
    K, s = 1000, 0.008
    schedule = make_schedule("cosine", K)
    k = torch.arange(K, dtype=torch.float64)            # every level but the last, whose β is clipped
    f = torch.cos((k / K + s) / (1 + s) * math.pi / 2) ** 2
    expected = f / f[0]
    assert torch.allclose(schedule.alpha_bars[:K].double(), expected, rtol=1e-5, atol=1e-8)
    assert float(schedule.betas[K]) == pytest.approx(0.999)  # Nichol & Dhariwal clip the singular last step


def test_linear_matches_ho_et_al_and_scales_with_the_number_of_levels():
    schedule = make_schedule("linear", 1000)
    assert float(schedule.betas[1]) == pytest.approx(1e-4)
    assert float(schedule.betas[1000]) == pytest.approx(0.02)
    assert float(schedule.betas[2] - schedule.betas[1]) == pytest.approx((0.02 - 1e-4) / 999, rel=1e-3)
    # Ho et al.'s ᾱ_T ≈ 4e-5 (their Table/Sec. 4: L_T ≈ 1e-5 bits); a 500-level version ends close to it
    assert float(schedule.alpha_bars[-1]) == pytest.approx(4.04e-5, rel=0.01)
    half = make_schedule("linear", 500)
    assert float(half.betas[1]) == pytest.approx(2e-4) and float(half.betas[500]) == pytest.approx(0.04)
    assert float(half.alpha_bars[-1]) == pytest.approx(float(schedule.alpha_bars[-1]), rel=0.2)


def test_sigmoid_matches_chen_2023():
    K = 1000
    schedule = make_schedule("sigmoid", K)
    tau = torch.arange(K, dtype=torch.float64) / K
    sigmoid = lambda z: 1 / (1 + torch.exp(-torch.as_tensor(z, dtype=torch.float64)))
    expected = (sigmoid(3.0) - sigmoid(6 * tau - 3)) / (sigmoid(3.0) - sigmoid(-3.0))
    assert torch.allclose(schedule.alpha_bars[:K].double(), expected, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("kind", KINDS)
def test_zero_terminal_snr_reaches_zero_and_keeps_the_first_level(kind):
    plain = make_schedule(kind, 1000)
    rescaled = make_schedule(kind, 1000, zero_terminal_snr=True)
    assert float(rescaled.alpha_bars[-1]) == 0.0
    assert float(rescaled.snr(1000)) == 0.0
    assert float(rescaled.betas[-1]) == 1.0
    assert float(rescaled.alpha_bars[1]) == pytest.approx(float(plain.alpha_bars[1]), rel=1e-6)
    assert bool((rescaled.alpha_bars[1:] < rescaled.alpha_bars[:-1]).all())
    # sqrt(ᾱ) is an affine function of the original sqrt(ᾱ) (Lin et al. 2024, Algorithm 1)
    before, after = plain.alpha_bars[1:].double().sqrt(), rescaled.alpha_bars[1:].double().sqrt()
    slope = (after[0] - after[-1]) / (before[0] - before[-1])
    assert torch.allclose(after, after[-1] + slope * (before - before[-1]), atol=1e-6)


def test_one_minus_alpha_bar_keeps_its_digits_near_clean_data():
    K, s = 1000, 0.008
    schedule = make_schedule("cosine", K)
    assert torch.allclose(schedule.one_minus_alpha_bars, 1 - schedule.alpha_bars, rtol=0, atol=1e-7)
    k = torch.arange(1, 6, dtype=torch.float64)
    f = lambda k: torch.cos((k / K + s) / (1 + s) * math.pi / 2) ** 2
    exact = 1 - f(k) / f(torch.zeros(1, dtype=torch.float64))          # ≈ 4e-5 … 1e-3
    assert torch.allclose(schedule.one_minus_alpha_bars[1:6].double(), exact, rtol=1e-6)
    # 1 - ᾱ computed from the float32 ᾱ would be off in the fourth digit
    assert not torch.allclose(1 - schedule.alpha_bars[1:6].double(), exact, rtol=1e-4)


def test_snr_is_signal_over_noise():
    schedule = make_schedule("cosine", 100)
    k = torch.tensor([1, 10, 50, 99])
    alpha_bar = schedule.alpha_bars[k]
    assert torch.allclose(schedule.snr(k), alpha_bar / schedule.one_minus_alpha_bars[k])
    assert torch.allclose(schedule.snr(k), alpha_bar / (1 - alpha_bar), rtol=1e-3)
    assert math.isinf(float(schedule.snr(0)))
    assert bool((schedule.snr(torch.arange(1, 101)).diff() < 0).all())


def test_make_schedule_rejects_bad_arguments():
    with pytest.raises(ValueError, match="expected kind in"):
        make_schedule("quadratic")
    with pytest.raises(ValueError, match="num_levels"):
        make_schedule("cosine", 0)
    with pytest.raises(ValueError, match="num_levels"):
        make_schedule("cosine", 10.0)
    with pytest.raises(ValueError, match="zero_terminal_snr"):
        make_schedule("cosine", 1, zero_terminal_snr=True)


def test_check_levels_rejects_bad_levels_with_clear_messages():
    data = torch.zeros(4, 3, 8, 8)
    with pytest.raises(ValueError, match=r"expected levels in \[0, 1000\], got max 1200"):
        check_levels(torch.tensor([0, 5, 1200, 3]), 1000, data)
    with pytest.raises(ValueError, match=r"expected levels in \[0, 1000\], got min -1"):
        check_levels(torch.tensor([0, -1, 2, 3]), 1000, data)
    with pytest.raises(ValueError, match="expected integer levels"):
        check_levels(torch.tensor([0.0, 1.0, 2.0, 3.0]), 1000, data)
    with pytest.raises(ValueError, match="expected integer levels"):
        check_levels(torch.tensor([True, False, True, True]), 1000, data)
    with pytest.raises(ValueError, match="expected levels as an integer tensor"):
        check_levels(3.0, 1000, data)
    with pytest.raises(ValueError, match=r"prefix of the data shape \(4, 3, 8, 8\).*got \(3,\)"):
        check_levels(torch.tensor([1, 2, 3]), 1000, data)
    with pytest.raises(ValueError, match="prefix of the data shape"):
        check_levels(torch.ones(4, 8, dtype=torch.long), 1000, data)   # (B, W) is not a prefix
    # valid levels come back as torch.long, unchanged
    k = check_levels(torch.tensor([0, 1, 999, 1000], dtype=torch.int32), 1000, data)
    assert k.dtype == torch.long and k.tolist() == [0, 1, 999, 1000]
    assert check_levels(7, 1000, data).shape == ()


def test_alpha_bar_broadcasts_per_sample_and_per_frame():
    schedule = make_schedule("cosine", 1000)
    images = torch.ones(4, 3, 8, 8)
    k = torch.tensor([0, 10, 500, 1000])
    gathered = schedule.alpha_bar(k, like=images)
    assert gathered.shape == (4, 1, 1, 1)
    assert torch.equal(gathered.flatten(), schedule.alpha_bars[k])
    assert torch.equal((gathered * images)[2], torch.full((3, 8, 8), float(schedule.alpha_bars[500])))

    videos = torch.ones(2, 5, 1, 4, 4)
    k = torch.tensor([[0, 1, 2, 3, 4], [1000, 900, 800, 700, 600]])
    gathered = schedule.alpha_bar(k, like=videos)
    assert gathered.shape == (2, 5, 1, 1, 1)
    scaled = gathered * videos
    for b in range(2):
        for t in range(5):
            assert torch.equal(scaled[b, t], torch.full((1, 4, 4), float(schedule.alpha_bars[k[b, t]])))
    # without `like` the gathered values keep the level shape
    assert schedule.alpha_bar(k).shape == (2, 5)
    # values follow the data's floating dtype
    assert schedule.alpha_bar(k, like=videos.double()).dtype == torch.float64


def test_expand_like_keeps_boolean_masks_boolean():
    mask = expand_like(torch.tensor([True, False]), torch.zeros(2, 3, 4))
    assert mask.dtype == torch.bool and mask.shape == (2, 1, 1)


def test_to_returns_an_equal_schedule_on_the_device():
    schedule = make_schedule("linear", 50)
    moved = schedule.to(torch.device("cpu"))
    assert isinstance(moved, NoiseSchedule) and moved is not schedule
    assert torch.equal(moved.alpha_bars, schedule.alpha_bars) and moved.num_levels == 50
    assert moved.alpha_bars.device.type == "cpu"


def test_a_custom_schedule_can_be_built_from_its_tensors():
    betas = torch.tensor([0.0, 0.1, 0.5, 0.9])
    alpha_bars = torch.cumprod(1 - betas, 0)
    schedule = NoiseSchedule(betas, 1 - betas, alpha_bars, num_levels=3)
    assert torch.allclose(schedule.one_minus_alpha_bars, 1 - alpha_bars)
    assert float(schedule.snr(2)) == pytest.approx(0.45 / 0.55)
    with pytest.raises(ValueError, match=r"expected alpha_bars of shape \(4,\), got \(3,\)"):
        NoiseSchedule(betas, 1 - betas, alpha_bars[:3], num_levels=3)


@pytest.mark.parametrize("shift, low", [(3.0, 1), (0.5, 1), (3.0, 0), (6.0, 200)])
def test_shifted_levels_follow_the_shifted_distribution(shift, low):
    """P(k < low + x·(K - low + 1)) = x / (s - (s - 1)·x): a binned chi-square-like check on 200k draws."""
    K, n = 1000, 200_000
    levels = shifted_levels((n,), K, shift, generator=torch.Generator().manual_seed(1), low=low)
    assert levels.dtype == torch.long and int(levels.min()) >= low and int(levels.max()) <= K
    edges = torch.linspace(0, 1, 11, dtype=torch.float64)
    cdf = edges / (shift - (shift - 1) * edges)                                     # (11,)
    expected = n * cdf.diff()                                                       # (10,) per tenth of the levels
    tau = (levels - low).double() / (K - low + 1)
    observed = torch.histc(tau, bins=10, min=0, max=1).double()
    assert float(((observed - expected) / expected.sqrt()).abs().max()) < 5
    if shift > 1:
        assert float((tau >= 0.8).double().mean()) > 0.2, "a shift > 1 must train high levels more than uniform draws do"


def test_shift_one_is_uniform_levels_draw_for_draw():
    for low in (0, 1):
        uniform = uniform_levels((4, 7), 1000, torch.Generator().manual_seed(3), low=low)
        assert torch.equal(shifted_levels((4, 7), 1000, 1.0, torch.Generator().manual_seed(3), low=low), uniform)
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="finite level shift > 0"):
            shifted_levels((3,), 1000, bad)


def test_random_draws_are_reproducible_and_in_range():
    a = standard_normal((3, 4), generator=torch.Generator().manual_seed(0))
    b = standard_normal((3, 4), generator=torch.Generator().manual_seed(0))
    assert torch.equal(a, b)
    levels = uniform_levels((5000,), 3, generator=torch.Generator().manual_seed(0))
    assert set(levels.tolist()) == {1, 2, 3}
