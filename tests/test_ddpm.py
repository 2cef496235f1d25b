import pytest
import torch

from dfkit.diffusion import ddpm
from dfkit.diffusion.ddpm import (
    ancestral_step,
    ddim_levels,
    ddim_sample,
    ddim_step,
    ddpm_sample,
    diffusion_loss,
    eps_from_v,
    eps_from_x0,
    min_snr_weight,
    posterior_mean_variance,
    q_sample,
    to_x0_eps,
    v_from_eps_x0,
    x0_from_eps,
    x0_from_v,
)
from dfkit.diffusion.schedules import make_schedule
from helpers import seeded

SCHEDULE = make_schedule("cosine", 1000)


def noisy_batch(shape, levels, seed=0, dtype=torch.float64):
    """Clean data, noise and the noisy data at ``levels`` (a prefix-shaped tensor)."""
    g = seeded(seed)
    x0 = torch.randn(shape, generator=g, dtype=dtype)
    eps = torch.randn(shape, generator=g, dtype=dtype)
    return x0, eps, q_sample(x0, levels, eps, SCHEDULE)


# --------------------------------------------------------------------------- forward process


def test_q_sample_moments_match_the_schedule():
    levels = torch.tensor([0, 1, 50, 300, 700, 1000])
    clean = torch.tensor([1.5, -0.7, 2.0, 0.3, -1.2, 0.8])
    n = 40_000
    x0 = clean[:, None].expand(-1, n)                               # (L, n): one clean value per level
    noise = torch.randn(x0.shape, generator=seeded(0))
    x_k = q_sample(x0, levels, noise, SCHEDULE)
    alpha_bar = SCHEDULE.alpha_bars[levels]
    mean, var = x_k.double().mean(1), x_k.double().var(1)
    expected_mean, expected_var = alpha_bar.sqrt() * clean, 1 - alpha_bar
    assert torch.all((mean - expected_mean).abs() <= 5 * (expected_var / n).sqrt() + 1e-6)
    assert torch.all((var - expected_var).abs() <= 5 * (2 / n) ** 0.5 * expected_var + 1e-9)
    assert torch.equal(x_k[0], x0[0])                               # level 0 is the clean data


def test_q_sample_uses_one_level_per_frame():
    x0, eps = torch.randn(2, 4, 1, 3, 3, generator=seeded(1)), torch.randn(2, 4, 1, 3, 3, generator=seeded(2))
    k = torch.tensor([[0, 10, 500, 1000], [999, 3, 3, 0]])
    x_k = q_sample(x0, k, eps, SCHEDULE)
    for b in range(2):
        for t in range(4):
            alone = q_sample(x0[b, t][None], k[b, t][None], eps[b, t][None], SCHEDULE)[0]
            assert torch.allclose(x_k[b, t], alone)


def test_q_sample_rejects_mismatched_shapes():
    x0 = torch.zeros(4, 2)
    with pytest.raises(ValueError, match=r"expected noise of the same shape as x0 \(4, 2\)"):
        q_sample(x0, torch.ones(4, dtype=torch.long), torch.zeros(4, 3), SCHEDULE)
    with pytest.raises(ValueError, match="prefix of the data shape"):
        q_sample(x0, torch.ones(5, dtype=torch.long), torch.zeros(4, 2), SCHEDULE)


@pytest.mark.parametrize("level", [2, 10, 200, 700, 999, 1000])
def test_posterior_equals_bayes_rule_on_a_grid(level):
    # q(x_{k-1} | x_k, x_0) ∝ q(x_{k-1} | x_0) q(x_k | x_{k-1}), evaluated numerically in 1-D
    x0, x_k = torch.tensor([[0.7]]), torch.tensor([[-0.3]])
    mean, variance = posterior_mean_variance(x0, x_k, torch.tensor([level]), SCHEDULE)
    alpha_bar_prev = SCHEDULE.alpha_bars[level - 1].double()
    noise_var_prev = SCHEDULE.one_minus_alpha_bars[level - 1].double()     # 1 - ᾱ_{k-1}
    alpha, beta = SCHEDULE.alphas[level].double(), SCHEDULE.betas[level].double()
    std_guess = float(variance.double().sqrt())
    grid = torch.linspace(float(mean) - 12 * std_guess, float(mean) + 12 * std_guess, 40_001, dtype=torch.float64)
    log_prior = -((grid - alpha_bar_prev.sqrt() * 0.7) ** 2) / (2 * noise_var_prev)
    log_likelihood = -((-0.3 - alpha.sqrt() * grid) ** 2) / (2 * beta)
    weights = torch.softmax(log_prior + log_likelihood, 0)
    grid_mean = (weights * grid).sum()
    grid_var = (weights * (grid - grid_mean) ** 2).sum()
    assert float(mean) == pytest.approx(float(grid_mean), abs=1e-5 * max(1.0, abs(float(grid_mean))))
    assert float(variance) == pytest.approx(float(grid_var), rel=1e-4)


def test_posterior_at_level_one_is_the_clean_data_and_level_zero_is_rejected():
    x0, x_k = torch.randn(3, 2, generator=seeded(0)), torch.randn(3, 2, generator=seeded(1))
    mean, variance = posterior_mean_variance(x0, x_k, torch.tensor([1, 1, 1]), SCHEDULE)
    assert torch.allclose(mean, x0, atol=1e-6) and torch.all(variance == 0)
    with pytest.raises(ValueError, match="expected levels k >= 1"):
        posterior_mean_variance(x0, x_k, torch.tensor([1, 0, 5]), SCHEDULE)


def test_posterior_variance_broadcasts_over_frames():
    x0 = torch.randn(2, 3, 1, 4, 4, generator=seeded(0))
    k = torch.tensor([[1, 2, 3], [500, 600, 1000]])
    mean, variance = posterior_mean_variance(x0, x0, k, SCHEDULE)
    assert mean.shape == x0.shape and variance.shape == (2, 3, 1, 1, 1)
    assert variance[0, 0].item() == 0 and bool((variance.flatten()[1:] > 0).all())


# --------------------------------------------------------------------------- parameterizations


@pytest.mark.parametrize("dtype,tolerance", [(torch.float64, 1e-6), (torch.float32, 2e-3)])
def test_conversions_round_trip_for_every_pair(dtype, tolerance):
    k = torch.tensor([1, 2, 10, 100, 500, 900, 999, 1000])
    x0, eps, x_k = noisy_batch((8, 3, 4), k, dtype=dtype)
    v = v_from_eps_x0(eps, x0, k, SCHEDULE)
    close = lambda a, b: torch.allclose(a, b, atol=tolerance, rtol=tolerance)
    assert close(x0_from_eps(x_k, k, eps, SCHEDULE), x0)
    assert close(eps_from_x0(x_k, k, x0, SCHEDULE), eps)
    assert close(x0_from_v(x_k, k, v, SCHEDULE), x0)
    assert close(eps_from_v(x_k, k, v, SCHEDULE), eps)
    for parameterization, prediction in (("eps", eps), ("x0", x0), ("v", v)):
        x0_hat, eps_hat = to_x0_eps(prediction, parameterization, x_k, k, SCHEDULE)
        assert close(x0_hat, x0) and close(eps_hat, eps), parameterization
        target = ddpm.prediction_target(parameterization, x0_hat, eps_hat, k, SCHEDULE)
        assert close(target, prediction), parameterization


def test_v_is_the_rotation_of_eps_and_x0():
    k = torch.tensor([300])
    x0, eps, x_k = noisy_batch((1, 5), k)
    a = SCHEDULE.alpha_bars[300].double()
    v = v_from_eps_x0(eps, x0, k, SCHEDULE)
    assert torch.allclose(v, a.sqrt() * eps - (1 - a).sqrt() * x0)
    # (x_k, v) is a rotation of (x0, eps): norms are preserved
    assert torch.allclose(x_k**2 + v**2, x0**2 + eps**2)


def test_zero_terminal_snr_conversions_stay_finite():
    schedule = make_schedule("cosine", 100, zero_terminal_snr=True)
    k = torch.tensor([100, 100, 50])
    x0 = torch.randn(3, 4, generator=seeded(0))
    eps = torch.randn(3, 4, generator=seeded(1))
    x_k = q_sample(x0, k, eps, schedule)
    assert torch.equal(x_k[:2], eps[:2])                             # ᾱ_K = 0: pure noise
    x0_hat, eps_hat = to_x0_eps(eps, "eps", x_k, k, schedule)
    assert torch.isfinite(x0_hat).all() and torch.all(x0_hat[:2] == 0)  # ill-posed level: falls back to 0
    v = v_from_eps_x0(eps, x0, k, schedule)
    assert torch.allclose(v[:2], -x0[:2])                            # at ᾱ = 0, v = -x0
    x0_hat, eps_hat = to_x0_eps(v, "v", x_k, k, schedule)
    assert torch.allclose(x0_hat, x0, atol=1e-5) and torch.allclose(eps_hat, eps, atol=1e-5)


def test_eps_from_x0_at_level_zero_is_finite():
    x = torch.randn(2, 3, generator=seeded(0))
    eps = eps_from_x0(x, torch.tensor([0, 0]), x, SCHEDULE)
    assert torch.all(eps == 0)


def test_unknown_parameterization_is_rejected():
    x = torch.zeros(2, 3)
    with pytest.raises(ValueError, match=r"expected parameterization in \('eps', 'x0', 'v'\), got 'score'"):
        to_x0_eps(x, "score", x, torch.tensor([1, 2]), SCHEDULE)


# --------------------------------------------------------------------------- loss


def perfect_denoiser(parameterization, x0, eps):
    """A denoiser that knows the answer: it returns the exact target of the pair (x0, eps)."""
    return lambda x_k, k: ddpm.prediction_target(parameterization, x0, eps, k, SCHEDULE)


@pytest.mark.parametrize("parameterization", ["eps", "x0", "v"])
def test_loss_is_zero_for_a_perfect_denoiser_and_positive_otherwise(parameterization):
    x0 = torch.randn(6, 2, 4, 4, generator=seeded(0))
    eps = torch.randn(6, 2, 4, 4, generator=seeded(1))
    k = torch.tensor([1, 5, 100, 500, 999, 1000])
    perfect = diffusion_loss(perfect_denoiser(parameterization, x0, eps), x0, SCHEDULE, parameterization, k=k, noise=eps)
    assert float(perfect) == 0.0
    for gamma in (1.0, 5.0):
        weighted = diffusion_loss(perfect_denoiser(parameterization, x0, eps), x0, SCHEDULE, parameterization, k=k, noise=eps, min_snr_gamma=gamma)
        assert float(weighted) == 0.0
    zero = diffusion_loss(lambda x_k, k: torch.zeros_like(x_k), x0, SCHEDULE, parameterization, k=k, noise=eps)
    target = ddpm.prediction_target(parameterization, x0, eps, k, SCHEDULE)
    assert float(zero) == pytest.approx(float((target**2).mean()), rel=1e-6) and float(zero) > 0.5


def test_loss_draws_levels_in_one_to_K_per_sample_and_is_reproducible():
    schedule = make_schedule("linear", 3)
    seen = []

    def recording(x_k, k):
        seen.append(k.clone())
        return torch.zeros_like(x_k)

    x0 = torch.randn(400, 2, generator=seeded(0))
    first = diffusion_loss(recording, x0, schedule, generator=seeded(7))
    second = diffusion_loss(recording, x0, schedule, generator=seeded(7))
    assert float(first) == float(second)
    assert seen[0].shape == (400,) and seen[0].dtype == torch.long
    assert torch.equal(seen[0], seen[1])
    assert set(seen[0].tolist()) == {1, 2, 3}                        # never the clean level 0


def test_loss_accepts_one_level_per_frame():
    x0 = torch.randn(2, 5, 1, 4, 4, generator=seeded(0))
    eps = torch.randn(2, 5, 1, 4, 4, generator=seeded(1))
    k = torch.tensor([[0, 10, 200, 700, 1000], [1, 1, 1, 1, 1]])
    seen = []

    def frame_denoiser(x_k, levels):
        seen.append(levels)
        return eps

    assert float(diffusion_loss(frame_denoiser, x0, SCHEDULE, k=k, noise=eps)) == 0.0
    assert torch.equal(seen[0], k)
    # frames are weighted by their own level: only the frame at level 1000 is wrong here
    wrong = eps.clone()
    wrong[0, 4] += 1.0
    loss = diffusion_loss(lambda x_k, levels: wrong, x0, SCHEDULE, k=k, noise=eps, min_snr_gamma=5.0)
    weight = float(min_snr_weight(torch.tensor(1000), SCHEDULE, "eps", 5.0))
    assert float(loss) == pytest.approx(weight * 16 / x0.numel(), rel=1e-6)


def test_min_snr_weights_equal_the_formula():
    k = torch.tensor([1, 10, 100, 300, 500, 800, 1000])
    snr = SCHEDULE.snr(k).double()
    gamma = 5.0
    clipped = torch.minimum(snr, torch.tensor(gamma, dtype=torch.float64))
    expected = {"x0": clipped, "eps": clipped / snr, "v": clipped / (snr + 1)}
    for parameterization, formula in expected.items():
        weight = min_snr_weight(k, SCHEDULE, parameterization, gamma).double()
        assert torch.allclose(weight, formula, rtol=1e-5), parameterization
    # the weights stay finite at SNR = 0 (zero terminal SNR) and SNR = inf (k = 0)
    zero_terminal = make_schedule("cosine", 100, zero_terminal_snr=True)
    ends = torch.tensor([0, 100])
    assert min_snr_weight(ends, zero_terminal, "eps", gamma).tolist() == [0.0, 1.0]
    assert min_snr_weight(ends, zero_terminal, "x0", gamma).tolist() == [gamma, 0.0]
    assert min_snr_weight(ends, zero_terminal, "v", gamma).tolist() == [0.0, 0.0]


def test_min_snr_weighted_losses_agree_across_parameterizations():
    # For the same (imperfect) belief about x0, the min-SNR-weighted loss must not depend on
    # which parameterization expresses it (Hang et al. 2023).
    x0 = torch.randn(8, 3, 2, 2, generator=seeded(0), dtype=torch.float64)
    eps = torch.randn(8, 3, 2, 2, generator=seeded(1), dtype=torch.float64)
    k = torch.tensor([1, 3, 40, 200, 450, 700, 900, 999])

    def eps_model(x_k, levels):
        return 0.8 * x_k + 0.1                                        # an arbitrary, wrong guess

    def x0_model(x_k, levels):
        return x0_from_eps(x_k, levels, eps_model(x_k, levels), SCHEDULE)

    def v_model(x_k, levels):
        return v_from_eps_x0(eps_model(x_k, levels), x0_model(x_k, levels), levels, SCHEDULE)

    losses = {
        name: float(diffusion_loss(model, x0, SCHEDULE, name, k=k, noise=eps, min_snr_gamma=5.0))
        for name, model in (("eps", eps_model), ("x0", x0_model), ("v", v_model))
    }
    assert losses["eps"] > 0
    assert losses["x0"] == pytest.approx(losses["eps"], rel=1e-6)
    assert losses["v"] == pytest.approx(losses["eps"], rel=1e-6)


def test_loss_rejects_a_denoiser_of_the_wrong_shape():
    x0 = torch.zeros(4, 2)
    with pytest.raises(ValueError, match=r"expected denoiser output of the same shape as x0 \(4, 2\), got \(4,\)"):
        diffusion_loss(lambda x_k, k: x_k.sum(-1), x0, SCHEDULE, generator=seeded(0))


# --------------------------------------------------------------------------- ancestral step


def test_ancestral_step_is_algorithm_2_of_ho_et_al():
    k = torch.arange(2, 1001, 37)
    x_k = torch.randn(len(k), 3, generator=seeded(0), dtype=torch.float64)
    eps_hat = torch.randn(len(k), 3, generator=seeded(1), dtype=torch.float64)
    z = torch.randn(len(k), 3, generator=seeded(2), dtype=torch.float64)
    step = ancestral_step(x_k, k, eps_hat, SCHEDULE, "eps", noise=z)
    alpha = SCHEDULE.alphas[k].double()[:, None]
    alpha_bar = SCHEDULE.alpha_bars[k].double()[:, None]
    alpha_bar_prev = SCHEDULE.alpha_bars[k - 1].double()[:, None]
    sigma = ((1 - alpha_bar_prev) / (1 - alpha_bar) * (1 - alpha)).sqrt()
    expected = (x_k - (1 - alpha) / (1 - alpha_bar).sqrt() * eps_hat) / alpha.sqrt() + sigma * z
    assert torch.allclose(step, expected, rtol=1e-5, atol=1e-5)


def test_ancestral_step_adds_no_noise_at_level_one():
    x_k = torch.randn(4, 3, generator=seeded(0))
    prediction = torch.randn(4, 3, generator=seeded(1))
    k = torch.ones(4, dtype=torch.long)
    a = ancestral_step(x_k, k, prediction, SCHEDULE, generator=seeded(5))
    b = ancestral_step(x_k, k, prediction, SCHEDULE, generator=seeded(6))
    assert torch.equal(a, b)
    assert torch.allclose(a, x0_from_eps(x_k, k, prediction, SCHEDULE), atol=1e-5)


def test_ancestral_step_holds_elements_at_level_zero_and_moves_the_others():
    x_k = torch.randn(2, 4, 1, 3, 3, generator=seeded(0))
    prediction = torch.randn(2, 4, 1, 3, 3, generator=seeded(1))
    k = torch.tensor([[0, 0, 5, 1000], [3, 0, 1, 0]])
    out = ancestral_step(x_k, k, prediction, SCHEDULE, generator=seeded(2))
    held = (k == 0)
    assert torch.equal(out[held], x_k[held])
    assert bool((out[~held] != x_k[~held]).flatten(1).all(1).all())
    # each moving frame gets the same update it would get alone
    z = torch.randn(x_k.shape, generator=seeded(3))
    out = ancestral_step(x_k, k, prediction, SCHEDULE, noise=z)
    alone = ancestral_step(x_k[0, 2][None], k[0, 2][None], prediction[0, 2][None], SCHEDULE, noise=z[0, 2][None])
    assert torch.allclose(out[0, 2], alone[0])


@pytest.mark.parametrize("step", ["ancestral", "ddim"])
def test_steps_agree_across_parameterizations(step):
    k = torch.tensor([2, 50, 400, 999, 1000])
    k_prev = torch.tensor([1, 20, 0, 500, 999])
    x0, eps, x_k = noisy_batch((5, 3), k)
    x0_guess = 0.5 * x0 + 0.2                                            # a consistent, imperfect belief
    eps_guess = eps_from_x0(x_k, k, x0_guess, SCHEDULE)
    predictions = {"eps": eps_guess, "x0": x0_guess, "v": v_from_eps_x0(eps_guess, x0_guess, k, SCHEDULE)}
    z = torch.randn(5, 3, generator=seeded(9), dtype=torch.float64)
    if step == "ancestral":
        outs = {p: ancestral_step(x_k, k, pred, SCHEDULE, p, noise=z) for p, pred in predictions.items()}
    else:
        outs = {p: ddim_step(x_k, k, k_prev, pred, SCHEDULE, p, eta=0.5, noise=z) for p, pred in predictions.items()}
    assert torch.allclose(outs["eps"], outs["x0"], atol=1e-6)
    assert torch.allclose(outs["eps"], outs["v"], atol=1e-6)


def test_ancestral_step_clips_the_predicted_clean_data():
    k = torch.tensor([10, 10])
    x_k = torch.randn(2, 3, generator=seeded(0))
    x0_guess = torch.tensor([[3.0, -5.0, 0.5], [0.1, 0.2, -0.3]])
    z = torch.randn(2, 3, generator=seeded(1))
    clipped = ancestral_step(x_k, k, x0_guess, SCHEDULE, "x0", noise=z, clip_x0=1.0)
    reference = ancestral_step(x_k, k, x0_guess.clamp(-1, 1), SCHEDULE, "x0", noise=z)
    assert torch.allclose(clipped, reference)
    assert not torch.allclose(clipped, ancestral_step(x_k, k, x0_guess, SCHEDULE, "x0", noise=z))


# --------------------------------------------------------------------------- DDIM step


def test_ddim_step_is_equation_12_of_song_et_al():
    k, k_prev = torch.tensor([1000, 700, 300, 20]), torch.tensor([900, 350, 0, 19])
    x0, eps, x_k = noisy_batch((4, 3), k)
    eps_hat = eps + 0.3
    z = torch.randn(4, 3, generator=seeded(4), dtype=torch.float64)
    a, a_prev = SCHEDULE.alpha_bars[k].double()[:, None], SCHEDULE.alpha_bars[k_prev].double()[:, None]
    x0_hat = (x_k - (1 - a).sqrt() * eps_hat) / a.sqrt()
    for eta in (0.0, 0.3, 1.0):
        sigma = eta * ((1 - a_prev) / (1 - a) * (1 - a / a_prev)).sqrt()
        expected = a_prev.sqrt() * x0_hat + (1 - a_prev - sigma**2).sqrt() * eps_hat + sigma * z
        out = ddim_step(x_k, k, k_prev, eps_hat, SCHEDULE, "eps", eta=eta, noise=z)
        assert torch.allclose(out, expected, atol=1e-5), eta
    # k_prev = 0 lands on the predicted clean data
    assert torch.allclose(ddim_step(x_k, k, torch.zeros(4, dtype=torch.long), eps_hat, SCHEDULE), x0_hat, atol=1e-5)


def test_ddim_with_eta_one_and_one_level_is_the_ancestral_step():
    k = torch.tensor([2, 30, 500, 999, 1000])
    x0, eps, x_k = noisy_batch((5, 4), k)
    prediction = eps - 0.2
    z = torch.randn(5, 4, generator=seeded(3), dtype=torch.float64)
    ddim = ddim_step(x_k, k, k - 1, prediction, SCHEDULE, eta=1.0, noise=z)
    ancestral = ancestral_step(x_k, k, prediction, SCHEDULE, noise=z)
    assert torch.allclose(ddim, ancestral, atol=1e-6)


def test_ddim_step_holds_elements_whose_level_does_not_change():
    x_k = torch.randn(2, 3, 1, 2, 2, generator=seeded(0))
    prediction = torch.randn(2, 3, 1, 2, 2, generator=seeded(1))
    k = torch.tensor([[0, 500, 1000], [40, 40, 7]])
    k_prev = torch.tensor([[0, 500, 900], [40, 0, 6]])
    out = ddim_step(x_k, k, k_prev, prediction, SCHEDULE, eta=1.0, generator=seeded(2))
    held = k == k_prev
    assert torch.equal(out[held], x_k[held])
    assert bool((out[~held] != x_k[~held]).all())


def test_ddim_step_rejects_bad_arguments():
    x = torch.zeros(2, 3)
    k = torch.tensor([10, 10])
    with pytest.raises(ValueError, match=r"expected eta in \[0, 1\], got 1.5"):
        ddim_step(x, k, k - 1, x, SCHEDULE, eta=1.5)
    with pytest.raises(ValueError, match=r"expected eta in \[0, 1\], got -0.1"):
        ddim_step(x, k, k - 1, x, SCHEDULE, eta=-0.1)
    with pytest.raises(ValueError, match="expected k_prev <= k"):
        ddim_step(x, k, torch.tensor([5, 11]), x, SCHEDULE)
    with pytest.raises(ValueError, match=r"expected levels in \[0, 1000\]"):
        ddim_step(x, torch.tensor([1001, 3]), torch.tensor([0, 0]), x, SCHEDULE)
    with pytest.raises(ValueError, match="expected prediction of the same shape as x_k"):
        ddim_step(x, k, k - 1, torch.zeros(2, 4), SCHEDULE)


# --------------------------------------------------------------------------- DDIM levels and samplers


@pytest.mark.parametrize("num_levels,steps", [(1000, 50), (1000, 1000), (1000, 1), (1000, 3), (1000, 7), (1000, 999), (10, 4), (7, 7), (1, 1), (100, 30)])
def test_ddim_levels_start_at_K_end_at_zero_and_never_repeat(num_levels, steps):
    levels = ddim_levels(num_levels, steps)
    assert len(levels) == steps + 1
    assert levels[0] == num_levels and levels[-1] == 0
    strides = [a - b for a, b in zip(levels[:-1], levels[1:])]
    assert min(strides) >= 1                                            # strictly decreasing
    assert max(strides) - min(strides) <= 1                             # evenly strided
    assert all(isinstance(level, int) for level in levels)


def test_ddim_levels_examples():
    assert ddim_levels(1000, 4) == [1000, 750, 500, 250, 0]
    assert ddim_levels(10, 3) == [10, 6, 3, 0]
    assert ddim_levels(5, 5) == [5, 4, 3, 2, 1, 0]


def test_ddim_levels_rejects_bad_step_counts():
    for steps in (0, -3, 1001):
        with pytest.raises(ValueError, match=r"expected steps to be an int in \[1, 1000\]"):
            ddim_levels(1000, steps)
    with pytest.raises(ValueError, match="expected steps"):
        ddim_levels(1000, 2.5)


class Recorder:
    """A denoiser that records the levels (and inputs) it is called with."""

    def __init__(self, prediction_scale=0.5):
        self.levels, self.inputs = [], []
        self.scale = prediction_scale

    def __call__(self, x_k, k):
        self.levels.append(k.clone())
        self.inputs.append(x_k.clone())
        return self.scale * x_k


@pytest.mark.parametrize("num_levels,steps", [(1000, 10), (1000, 7), (50, 50), (20, 3), (10, 1)])
@pytest.mark.parametrize("eta", [0.0, 1.0])
def test_ddim_sample_visits_exactly_the_ddim_levels(num_levels, steps, eta):
    schedule = make_schedule("cosine", num_levels)
    recorder = Recorder()
    shape = (3, 2, 2)
    out, trajectory = ddim_sample(recorder, shape, schedule, steps=steps, eta=eta, generator=seeded(0), return_trajectory=True)
    expected = ddim_levels(num_levels, steps)
    for k in recorder.levels:
        assert k.shape == (3,) and k.dtype == torch.long and bool((k == k[0]).all())
    assert [int(k[0]) for k in recorder.levels] == expected[:-1]        # K first, each once, no level 0 call
    assert torch.equal(recorder.inputs[0], torch.randn(shape, generator=seeded(0)))   # starts from pure noise
    assert trajectory.shape == (steps + 1,) + shape
    assert torch.equal(trajectory[-1], out) and torch.equal(trajectory[0], recorder.inputs[0])
    # the last update lands at level 0, i.e. on the predicted clean data
    last_k = recorder.levels[-1]
    expected_last = x0_from_eps(recorder.inputs[-1], last_k, 0.5 * recorder.inputs[-1], schedule)
    assert torch.allclose(out, expected_last, atol=1e-5)


def test_ddpm_sample_visits_every_level_once_and_is_reproducible():
    schedule = make_schedule("linear", 30)
    recorder = Recorder()
    out, trajectory = ddpm_sample(recorder, (4, 2), schedule, generator=seeded(1), return_trajectory=True)
    assert [int(k[0]) for k in recorder.levels] == list(range(30, 0, -1))
    assert trajectory.shape == (31, 4, 2) and torch.equal(trajectory[-1], out)
    again = ddpm_sample(Recorder(), (4, 2), schedule, generator=seeded(1))
    other = ddpm_sample(Recorder(), (4, 2), schedule, generator=seeded(2))
    assert torch.equal(out, again) and not torch.equal(out, other)


def test_ddim_sample_with_eta_zero_is_deterministic_given_the_start():
    schedule = make_schedule("cosine", 100)
    a = ddim_sample(Recorder(), (5, 3), schedule, steps=10, generator=seeded(3))
    b = ddim_sample(Recorder(), (5, 3), schedule, steps=10, generator=seeded(3))
    assert torch.equal(a, b)


def test_samplers_use_the_device_of_a_module_denoiser():
    class Zero(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.zeros(()))

        def forward(self, x_k, k):
            return self.weight * x_k

    out = ddim_sample(Zero(), (2, 3), make_schedule("cosine", 10), steps=5, generator=seeded(0))
    assert out.device == torch.device("cpu") and not out.requires_grad


def test_samplers_reject_bad_arguments():
    schedule = make_schedule("cosine", 100)
    with pytest.raises(ValueError, match=r"expected steps to be an int in \[1, 100\]"):
        ddim_sample(Recorder(), (2, 3), schedule, steps=0)
    with pytest.raises(ValueError, match=r"expected steps to be an int in \[1, 100\]"):
        ddim_sample(Recorder(), (2, 3), schedule, steps=101)
    with pytest.raises(ValueError, match=r"expected eta in \[0, 1\]"):
        ddim_sample(Recorder(), (2, 3), schedule, eta=2.0)
    with pytest.raises(ValueError, match="expected parameterization"):
        ddpm_sample(Recorder(), (2, 3), schedule, parameterization="epsilon")
    with pytest.raises(ValueError, match="expected a sample shape"):
        ddpm_sample(Recorder(), (0, 3), schedule)
