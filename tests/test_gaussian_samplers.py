"""Samplers checked against a 2-D Gaussian mixture whose perfect denoiser is known exactly.

No training is involved: with the exact denoiser (or exact velocity) every sampler
must give back the mixture. Samples are split by their most probable component
and the per-component weight, mean and covariance are compared with the same
statistics of a large exact sample (so the small bias of splitting by component
cancels). Tolerances come from the sample size, see ``assert_reproduces_mixture``.
"""

import functools
import math

import pytest
import torch

from dfkit.diffusion import flow
from dfkit.diffusion.ddpm import ancestral_step, ddim_levels, ddim_sample, ddim_step, ddpm_sample, to_x0_eps
from dfkit.diffusion.gaussian import GaussianMixture
from dfkit.diffusion.schedules import make_schedule
from helpers import seeded

pytestmark = pytest.mark.usefixtures("one_thread")

MIXTURE = GaussianMixture(
    weights=[0.5, 0.3, 0.2],
    means=[[-2.5, 0.0], [2.0, 1.0], [0.0, 3.0]],
    covariances=[
        [[0.40, 0.15], [0.15, 0.30]],
        [[0.30, -0.12], [-0.12, 0.50]],
        [[0.25, 0.05], [0.05, 0.15]],
    ],
)
N = 4000                 # samples per sampler check
Z = 4.5                  # allowed deviation in standard errors
COSINE = make_schedule("cosine", 1000)


@functools.lru_cache(maxsize=None)
def reference_statistics():
    """Per-component statistics of 400 000 exact samples (standard errors 10x below those of N = 4000)."""
    return MIXTURE.empirical_components(MIXTURE.sample(400_000, seeded(12345)))


def deviations(samples):
    """Largest |deviation| / standard error for the weights, the means and the covariances.

    Standard errors for n = weight · N points of a component with covariance Σ:
    a proportion sqrt(w (1 - w) / N), a mean sqrt(Σ_ii / n), a sample covariance
    sqrt((Σ_ii Σ_jj + Σ_ij²) / n) (Gaussian data). With about 20 statistics per
    check, 4.5 standard errors leave a false-alarm rate below 1e-4 per check, while
    e.g. a component variance 10% off (about 3.5 standard errors for the smallest
    component, far more for the others) is caught.
    """
    weights, means, covariances = MIXTURE.empirical_components(samples)
    ref_weights, ref_means, ref_covariances = reference_statistics()
    counts = ref_weights * samples.shape[0]
    variances = torch.diagonal(ref_covariances, dim1=-2, dim2=-1)                     # (M, D)
    z_weights = (weights - ref_weights) / (ref_weights * (1 - ref_weights) / samples.shape[0]).sqrt()
    z_means = (means - ref_means) / (variances / counts[:, None]).sqrt()
    covariance_error = ((variances[:, :, None] * variances[:, None, :] + ref_covariances**2) / counts[:, None, None]).sqrt()
    z_covariances = (covariances - ref_covariances) / covariance_error
    worst = lambda z: float(z.abs().nan_to_num(nan=math.inf).max())     # nan: a component got fewer than 2 points
    return {"weights": worst(z_weights), "means": worst(z_means), "covariances": worst(z_covariances)}


def assert_reproduces_mixture(samples, label):
    assert samples.shape == (N, 2) and torch.isfinite(samples).all(), label
    worst = deviations(samples)
    assert max(worst.values()) < Z, f"{label}: deviations in standard errors {worst}"


# --------------------------------------------------------------------------- the exact posterior


def grid_posterior_mean(y, a, s, half_width=8.0, points=701):
    """E[x | y] for y = a ⊙ x + s ⊙ ε by brute-force summation over a 2-D grid of x."""
    axis = torch.linspace(-half_width, half_width, points, dtype=torch.float64)
    grid = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)      # (G, 2)
    log_prior = MIXTURE.log_prob(grid)                                                    # (G,)
    log_likelihood = -0.5 * (((y - a * grid) / s) ** 2).sum(-1)
    weights = torch.softmax(log_prior + log_likelihood, 0)
    return (weights[:, None] * grid).sum(0)


def test_log_prob_is_a_normalized_density():
    axis = torch.linspace(-9, 9, 601, dtype=torch.float64)
    grid = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)
    cell = float(axis[1] - axis[0]) ** 2
    assert float(MIXTURE.log_prob(grid).exp().sum()) * cell == pytest.approx(1.0, abs=1e-6)
    single = GaussianMixture([1.0], [[1.0, -1.0]], [[[2.0, 0.0], [0.0, 0.5]]])
    x = torch.tensor([[0.0, 0.0]], dtype=torch.float64)
    expected = -0.5 * (1 / 2.0 + 1 / 0.5) - math.log(2 * math.pi) - 0.5 * math.log(2.0 * 0.5)
    assert float(single.log_prob(x)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    "y,a,s",
    [
        ([0.3, 1.2], [0.9, 0.9], [0.44, 0.44]),           # ordinary diffusion: one level for both coordinates
        ([-1.0, 0.5], [0.98, 0.2], [0.2, 0.98]),          # per-coordinate levels (Diffusion Forcing)
        ([1.5, 2.5], [0.3, 0.3], [0.7, 0.7]),             # the flow path at t = 0.3
        ([4.0, -3.0], [0.5, 1.0], [0.8, 0.3]),            # an unlikely observation
    ],
)
def test_posterior_mean_matches_numerical_integration(y, a, s):
    y, a, s = (torch.tensor(v, dtype=torch.float64) for v in (y, a, s))
    exact = MIXTURE.posterior_mean(y[None], a, s)[0]
    assert torch.allclose(exact, grid_posterior_mean(y, a, s), atol=2e-5)


def test_posterior_mean_takes_one_channel_per_observation():
    y = torch.tensor([[0.3, 1.2], [-1.0, 0.5], [1.5, 2.5]], dtype=torch.float64)
    a = torch.tensor([[0.9, 0.9], [0.98, 0.2], [0.3, 0.3]], dtype=torch.float64)
    s = torch.tensor([[0.44, 0.44], [0.2, 0.98], [0.7, 0.7]], dtype=torch.float64)
    batched = MIXTURE.posterior_mean(y, a, s)
    for i in range(3):
        assert torch.allclose(batched[i], MIXTURE.posterior_mean(y[i : i + 1], a[i], s[i])[0], atol=1e-12)


def test_exact_denoiser_agrees_across_parameterizations_and_levels():
    x_k = MIXTURE.sample(64, seeded(0), dtype=torch.float64)
    k = torch.randint(0, 1001, (64,), generator=seeded(1))
    k[:4] = torch.tensor([0, 1, 999, 1000])
    beliefs = [to_x0_eps(MIXTURE.exact_denoiser(COSINE, p)(x_k, k), p, x_k, k, COSINE)[0] for p in ("eps", "x0", "v")]
    # at k = 0 the eps form cannot say anything (x_k is the data), so compare from level 1 on
    assert torch.allclose(beliefs[1][1:], beliefs[0][1:], atol=1e-6)
    assert torch.allclose(beliefs[1], beliefs[2], atol=1e-9)
    assert torch.allclose(beliefs[1][0], x_k[0])                      # level 0: the clean data itself


def test_fully_noised_coordinate_is_predicted_from_the_clean_one():
    # "Noise as masking": one coordinate at level 0 and the other at level K gives the
    # conditional mean of the masked coordinate given the visible one.
    schedule = make_schedule("cosine", 1000, zero_terminal_snr=True)
    visible = torch.tensor([-2.0, 0.0, 1.0, 2.5], dtype=torch.float64)
    x_k = torch.stack([visible, torch.randn(4, generator=seeded(0), dtype=torch.float64)], 1)
    k = torch.tensor([[0, 1000]] * 4)
    predicted = MIXTURE.exact_denoiser(schedule, "x0")(x_k, k)
    assert torch.allclose(predicted[:, 0], visible, rtol=0, atol=1e-12)
    means, covariances, weights = MIXTURE.means, MIXTURE.covariances, MIXTURE.weights
    log_w = weights.log() - 0.5 * (visible[:, None] - means[:, 0]) ** 2 / covariances[:, 0, 0] - 0.5 * covariances[:, 0, 0].log()
    conditional = means[:, 1] + covariances[:, 1, 0] / covariances[:, 0, 0] * (visible[:, None] - means[:, 0])
    expected = (torch.softmax(log_w, 1) * conditional).sum(1)
    assert torch.allclose(predicted[:, 1], expected, atol=1e-9)


def test_exact_velocity_is_the_expected_straight_line_velocity():
    velocity = MIXTURE.exact_velocity()
    x_t = torch.tensor([[0.3, 1.2], [-1.0, 0.5], [1.0, 1.0]], dtype=torch.float64)
    t = torch.tensor([0.3, 0.7, 1.0], dtype=torch.float64)
    u = velocity(x_t, t)
    for i in range(2):
        data_mean = grid_posterior_mean(x_t[i], t[i], 1 - t[i])
        assert torch.allclose(u[i], (data_mean - x_t[i]) / (1 - t[i]), atol=1e-4)
    assert torch.equal(u[2], x_t[2])                                  # at t = 1: x_1 - E[x_0] = x_t
    at_zero = velocity(x_t, torch.zeros(3, dtype=torch.float64))
    mixture_mean = (MIXTURE.weights[:, None] * MIXTURE.means).sum(0)
    assert torch.allclose(at_zero, mixture_mean - x_t)                # at t = 0 nothing is known about x_1


def test_mixture_rejects_bad_parameters():
    good = dict(weights=[0.5, 0.5], means=[[0.0, 0.0], [1.0, 1.0]], covariances=[torch.eye(2).tolist()] * 2)
    with pytest.raises(ValueError, match="expected positive weights summing to 1"):
        GaussianMixture(**{**good, "weights": [0.5, 0.6]})
    with pytest.raises(ValueError, match=r"expected means of shape \(2, D\)"):
        GaussianMixture(**{**good, "means": [[0.0, 0.0]]})
    with pytest.raises(ValueError, match=r"expected covariances of shape \(2, 2, 2\)"):
        GaussianMixture(**{**good, "covariances": [torch.eye(3).tolist()] * 2})
    with pytest.raises(ValueError, match="positive definite"):
        GaussianMixture(**{**good, "covariances": [[[1.0, 2.0], [2.0, 1.0]]] * 2})
    mixture = GaussianMixture(**good)
    with pytest.raises(ValueError, match=r"expected observations of shape \(N, 2\)"):
        mixture.posterior_mean(torch.zeros(3, 3), 1.0, 0.5)
    with pytest.raises(ValueError, match=r"expected a of shape"):
        mixture.posterior_mean(torch.zeros(3, 2), torch.ones(4), 0.5)
    with pytest.raises(ValueError, match="a² \\+ s² > 0"):
        mixture.posterior_mean(torch.zeros(3, 2), torch.tensor([1.0, 0.0]), torch.tensor([0.5, 0.0]))


def test_sample_is_reproducible_and_returns_components():
    x, components = MIXTURE.sample(2000, seeded(3), return_components=True)
    assert torch.equal(x, MIXTURE.sample(2000, seeded(3)))
    assert (MIXTURE.assign(x) == components).float().mean() > 0.98
    assert_reproduces_mixture(MIXTURE.sample(N, seeded(4)), "exact samples")


# --------------------------------------------------------------------------- samplers with the exact model


def test_ancestral_sampling_reproduces_the_mixture():
    samples = ddpm_sample(MIXTURE.exact_denoiser(COSINE, "eps"), (N, 2), COSINE, generator=seeded(10))
    assert_reproduces_mixture(samples, "ancestral, 1000 levels")


@pytest.mark.parametrize("steps,parameterization", [(100, "eps"), (250, "x0"), (250, "v")])
def test_deterministic_ddim_reproduces_the_mixture(steps, parameterization):
    denoiser = MIXTURE.exact_denoiser(COSINE, parameterization)
    samples = ddim_sample(denoiser, (N, 2), COSINE, steps=steps, parameterization=parameterization, generator=seeded(11))
    assert_reproduces_mixture(samples, f"DDIM eta=0, {steps} steps, {parameterization}")


def test_few_step_ddim_is_measurably_worse():
    denoiser = MIXTURE.exact_denoiser(COSINE, "eps")
    worst = {steps: max(deviations(ddim_sample(denoiser, (N, 2), COSINE, steps=steps, generator=seeded(11))).values()) for steps in (5, 10)}
    assert worst[5] > 3 * Z and worst[10] > Z and worst[5] > worst[10]


def test_stochastic_ddim_reproduces_the_mixture():
    samples = ddim_sample(MIXTURE.exact_denoiser(COSINE, "eps"), (N, 2), COSINE, steps=200, eta=1.0, generator=seeded(12))
    assert_reproduces_mixture(samples, "DDIM eta=1, 200 steps")


def test_zero_terminal_snr_with_v_prediction_reproduces_the_mixture():
    schedule = make_schedule("cosine", 1000, zero_terminal_snr=True)
    samples = ddim_sample(MIXTURE.exact_denoiser(schedule, "v"), (N, 2), schedule, steps=100, parameterization="v", generator=seeded(13))
    assert_reproduces_mixture(samples, "zero terminal SNR, v, DDIM 100 steps")


def test_the_check_catches_a_sampler_that_forgets_the_noise():
    # eta = 1 sampling with the fresh noise left out collapses the spread of each component
    denoiser = MIXTURE.exact_denoiser(COSINE, "eps")
    levels = ddim_levels(1000, 100)
    x = torch.randn(N, 2, generator=seeded(14))
    for level, level_prev in zip(levels[:-1], levels[1:]):
        k, k_prev = torch.full((N,), level), torch.full((N,), level_prev)
        x = ddim_step(x, k, k_prev, denoiser(x, k), COSINE, eta=1.0, noise=torch.zeros_like(x))
    assert deviations(x)["covariances"] > 3 * Z


@pytest.mark.parametrize("method,steps", [("euler", 200), ("heun", 20), ("midpoint", 20)])
def test_flow_matching_ode_reproduces_the_mixture(method, steps):
    noise = torch.randn(N, 2, generator=seeded(15))
    samples = flow.sample(MIXTURE.exact_velocity(), noise, steps, method)
    assert_reproduces_mixture(samples, f"flow {method}, {steps} steps")


# --------------------------------------------------------------------------- one level per coordinate


def run_scheduling_matrix(levels_per_row, eta, seed):
    """Run DDIM steps row by row of an integer matrix (rows, 2): one level per coordinate."""
    denoiser = MIXTURE.exact_denoiser(COSINE, "eps")
    x = torch.randn(N, 2, generator=seeded(seed))
    generator = seeded(seed + 1)
    for row, next_row in zip(levels_per_row[:-1], levels_per_row[1:]):
        k, k_prev = row.expand(N, 2), next_row.expand(N, 2)              # (N, D) levels
        x = ddim_step(x, k, k_prev, denoiser(x, k), COSINE, eta=eta, generator=generator)
    return x


def lagged_matrix(steps, lag):
    """Coordinate 1 follows coordinate 0 ``lag`` rows later (a two-frame pyramid); lag = steps is fully sequential."""
    base = torch.tensor(ddim_levels(1000, steps))
    rows = torch.arange(steps + lag + 1)
    first = base[rows.clamp(max=steps)]
    second = base[(rows - lag).clamp(min=0, max=steps)]
    return torch.stack([first, second], 1)                               # (steps + lag + 1, 2)


@pytest.mark.parametrize("lag,eta", [(60, 1.0), (200, 1.0), (60, 0.0)])
def test_per_coordinate_levels_reproduce_the_mixture(lag, eta):
    matrix = lagged_matrix(200, lag)
    assert matrix[0].tolist() == [1000, 1000] and matrix[-1].tolist() == [0, 0]
    assert bool((matrix.diff(dim=0) <= 0).all())                         # every column non-increasing
    samples = run_scheduling_matrix(matrix, eta, seed=20 + lag)
    assert_reproduces_mixture(samples, f"lagged levels, lag {lag}, eta {eta}")


def test_ancestral_step_with_per_coordinate_levels_holds_finished_coordinates():
    denoiser = MIXTURE.exact_denoiser(COSINE, "eps")
    x = torch.randn(8, 2, generator=seeded(30))
    k = torch.tensor([[0, 700]] * 4 + [[1, 0]] * 4)
    out = ancestral_step(x, k, denoiser(x, k), COSINE, generator=seeded(31))
    assert torch.equal(out[k == 0], x[k == 0])
    assert bool((out[k > 0] != x[k > 0]).all())
