"""The scheduling-matrix sampler, checked against an exact model of a Gaussian AR(1) video.

The toy video has one scalar per frame, x_t = a x_{t-1} + sqrt(1 - a²) w_t, started in its
stationary law, so any T consecutive frames are one Gaussian N(0, Σ) with Σ_ij = a^|i-j|.
Its exact denoiser for per-frame levels is the Gaussian posterior mean E[x_0 | all noisy
frames] (``GaussianMixture`` with one component), wrapped as a video model that takes
``(B, T, 1, 1, 1)`` frames and ``(B, T)`` levels and returns ε̂.

Why an exact but *non-causal* denoiser gives correct samples for every matrix: with one
independent forward chain per frame, every row m of a matrix defines a valid joint law
q_m(y) = ∫ p(x_0) ∏_t q(y_t | x_{0,t}, S[m, t]) dx_0 of the noisy window. Moving frame t from
S[m, t] to S[m + 1, t] with the reverse kernel ∫ q(y_t' | y_t, x_{0,t}) p(x_{0,t} | y) dx_{0,t},
where y is the *whole* current window, carries q_m to q_{m+1} exactly, because the forward
noise of frame t is independent of every other frame. DDIM / DDPM steps with E[x_0 | y] are
the usual discretization of that kernel. The posterior must use every frame it is given,
including partly denoised future frames of a pyramid; a causal network ignores those, which
is exact for the autoregressive matrix (frames after the current one are at level K and carry
no information) and an approximation for pyramids. Context frames are just coordinates held
at level 0 (or k_small), so the same argument gives the conditional law.

Discretization. Even with the exact denoiser, DDIM with few steps is biased: for unit-variance
data each deterministic step multiplies the sample by cos(Δθ) (ᾱ = cos² θ), so 10 steps per
frame lose about 10% of the variance. Everything here is linear-Gaussian, so the exact
covariance of the *discretized* sampler follows from an independent matrix recursion
(:func:`sampler_covariance`). Each check is then two-fold: (i) a few thousand samples match
that recursion within sampling error (this catches implementation bugs: wrong rows, wrong
frames moved, wrong noise), (ii) the recursion converges to the true joint / conditional
as the steps grow (the sampler targets the right distribution).
"""

import math

import pytest
import torch

from dfkit.diffusion.ddpm import ddim_sample, ddim_step
from dfkit.diffusion.gaussian import GaussianMixture
from dfkit.diffusion.schedules import make_schedule
from dfkit.models.video import VideoBackbone, VideoBackboneConfig
from dfkit.sequence.sampler import GuidanceInput, sample_with_matrix, shift_prediction, stabilized_history
from dfkit.sequence.scheduling import KINDS, scheduling_matrix
from helpers import graded_reference, seeded

pytestmark = pytest.mark.usefixtures("one_thread")

COSINE = make_schedule("cosine", 1000)
A = 0.8                 # AR(1) coefficient: neighbouring frames correlate 0.8
N = 4000                # samples per statistical check
Z = 4.5                 # allowed deviation in standard errors (≈ 40 statistics per check)
MATRICES = [            # (kind, chunk_size, delay) for every kind, with chunks
    ("full_sequence", 1, 1),
    ("autoregressive", 1, 1),
    ("autoregressive", 2, 1),
    ("pyramid", 1, 1),
    ("pyramid", 2, 3),
    ("trapezoid", 1, 2),
]


def ar1_covariance(num_frames, a=A):
    index = torch.arange(num_frames, dtype=torch.float64)
    return a ** (index[:, None] - index[None, :]).abs()                    # (T, T), Σ_ij = a^|i-j|


class GaussianAR1Model:
    """The exact ε-denoiser of the stationary AR(1) video for any window length, as a video model."""

    max_window = None

    def __init__(self, schedule=COSINE, a=A):
        self.schedule, self.a, self.denoisers, self.calls = schedule, a, {}, []

    def __call__(self, frames, levels):
        B, T = levels.shape
        assert frames.shape == (B, T, 1, 1, 1)
        self.calls.append(levels[0].clone())
        if T not in self.denoisers:
            mixture = GaussianMixture([1.0], torch.zeros(1, T), ar1_covariance(T, self.a)[None])
            self.denoisers[T] = mixture.exact_denoiser(self.schedule, "eps")
        return self.denoisers[T](frames.reshape(B, T), levels).reshape(frames.shape)


def matrix_of(kind, num_frames, steps, chunk=1, delay=1):
    return scheduling_matrix(kind, num_frames, steps, COSINE.num_levels, chunk_size=chunk, delay=delay)


# --------------------------------------------------------------------------- the reference recursion


def sampler_covariance(cov, matrix, num_context=0, stabilization_level=0, add_noise=True, eta=0.0, schedule=COSINE):
    """Exact covariance of (clean context, generated frames) for the sampler with the exact denoiser.

    Written independently of the sampler, in matrix form. The state is u = (x_c, y): the clean
    context and the window the model sees (shown context, then the generated frames). With
    levels k per coordinate, a = sqrt(ᾱ_k), s = sqrt(1 - ᾱ_k), the exact posterior mean is
    x̂_0 = G y, G = Σ A (A Σ A + S²)⁻¹, ε̂ = (y - A x̂_0) / s, and a moving coordinate becomes
    sqrt(ᾱ') x̂_0 + sqrt(1 - ᾱ' - σ²) ε̂ + σ z (DDIM eq. 12), a linear map plus noise.
    """
    c, T = num_context, matrix.shape[1]
    D = c + T
    alpha_bars, noise_vars = schedule.alpha_bars.double(), schedule.one_minus_alpha_bars.double()
    u = torch.zeros(c + D, c + D, dtype=torch.float64)
    context_cov = cov[:c, :c]
    a_s, s_s = (alpha_bars[stabilization_level].sqrt(), noise_vars[stabilization_level].sqrt()) if add_noise else (1.0, 0.0)
    u[:c, :c] = context_cov                                              # x_c
    u[c : 2 * c, :c] = u[:c, c : 2 * c] = a_s * context_cov              # shown context y_c = a_s x_c + s_s ε
    u[c : 2 * c, c : 2 * c] = a_s**2 * context_cov + s_s**2 * torch.eye(c, dtype=torch.float64)
    u[2 * c :, 2 * c :] = torch.eye(T, dtype=torch.float64)              # x_K ~ N(0, I)
    history = torch.full((c,), stabilization_level)
    for m in range(matrix.shape[0] - 1):
        k, k_next = torch.cat([history, matrix[m]]), torch.cat([history, matrix[m + 1]])
        moving = k_next != k
        if not moving.any():
            continue
        a, s = alpha_bars[k].sqrt(), noise_vars[k].sqrt()
        gain = cov * a[None, :] @ torch.linalg.inv(a[:, None] * cov * a[None, :] + torch.diag(s**2))   # G
        a_next, var_next = alpha_bars[k_next].sqrt(), noise_vars[k_next]
        sigma = eta * (var_next / noise_vars[k].clamp(min=1e-30) * (1 - alpha_bars[k] / alpha_bars[k_next])).clamp(min=0).sqrt()
        eps_map = (torch.eye(D, dtype=torch.float64) - a[:, None] * gain) / s.clamp(min=1e-30)[:, None]
        step = a_next[:, None] * gain + (var_next - sigma**2).clamp(min=0).sqrt()[:, None] * eps_map
        step = torch.where(moving[:, None], step, torch.eye(D, dtype=torch.float64))
        full = torch.eye(c + D, dtype=torch.float64)
        full[c:, c:] = step
        added = torch.zeros(c + D, dtype=torch.float64)
        added[c:] = torch.where(moving, sigma**2, torch.zeros_like(sigma))
        u = full @ u @ full.T + torch.diag(added)
    keep = torch.cat([torch.arange(c), torch.arange(2 * c, c + D)])
    return u[keep][:, keep]                                               # Cov of (x_c, generated)


def conditional_truth(cov, num_context, stabilization_level=0, add_noise=True, schedule=COSINE):
    """Cov of (x_c, generated) when the generated frames are drawn from the Gaussian posterior given
    the shown context y_c, believed to be y_c = a x_c + s ε at level k_small (a = 1, s = 0 at level 0)."""
    c = num_context
    a = float(schedule.alpha_bars[stabilization_level].double().sqrt())
    s2 = float(schedule.one_minus_alpha_bars[stabilization_level].double())
    cc, gc, gg = cov[:c, :c], cov[c:, :c], cov[c:, c:]
    believed_y = a**2 * cc + s2 * torch.eye(c, dtype=torch.float64)
    gain = a * gc @ torch.linalg.inv(believed_y)                          # E[g | y] = M y
    residual = gg - a * gain @ gc.T
    a_true, s_true = (a, s2) if add_noise else (1.0, 0.0)
    y_x = a_true * cc                                                     # Cov(y, x_c)
    y_y = a_true**2 * cc + s_true * torch.eye(c, dtype=torch.float64)     # Cov(y)
    out = torch.zeros_like(cov)
    out[:c, :c] = cc
    out[c:, :c] = gain @ y_x
    out[:c, c:] = out[c:, :c].T
    out[c:, c:] = residual + gain @ y_y @ gain.T
    return out


def worst_deviation(samples, reference):
    """Largest |empirical - reference| in standard errors over the means and covariances.

    For Gaussian data a sample covariance has standard error sqrt((R_ii R_jj + R_ij²) / n) and a
    mean sqrt(R_ii / n). With about 40 statistics, 4.5 standard errors make a false alarm
    rarer than 1e-3 per check, while a variance 10% off (about 4.5 standard errors at
    n = 4000 for unit variance) is caught.
    """
    x = samples.double()
    n = x.shape[0]
    variances = reference.diagonal()
    z_means = x.mean(0) / (variances / n).sqrt()
    z_cov = (torch.cov(x.T) - reference) / ((variances[:, None] * variances[None, :] + reference**2) / n).sqrt()
    return max(float(z_means.abs().max()), float(z_cov.abs().max()))


def draw(model, matrix, context=None, seed=0, **options):
    T = matrix.shape[1]
    shape = None if context is not None else (N, T, 1, 1, 1)
    out = sample_with_matrix(model, matrix, COSINE, shape=shape, context=context, generator=seeded(seed), **options)
    assert out.shape == (N, T, 1, 1, 1) and torch.isfinite(out).all()
    return out.reshape(N, T)


def ground_truth_context(num_context, seed=1):
    mixture = GaussianMixture([1.0], torch.zeros(1, num_context), ar1_covariance(num_context)[None])
    return mixture.sample(N, seeded(seed)).reshape(N, num_context, 1, 1, 1)


# --------------------------------------------------------------------------- every matrix


@pytest.mark.parametrize("update,eta", [("ddim", 0.0), ("ddpm", 0.0), ("ddim", 0.5)])
@pytest.mark.parametrize("kind,chunk,delay", MATRICES)
def test_every_matrix_samples_what_the_linear_recursion_predicts(kind, chunk, delay, update, eta):
    T, steps = 5, 10
    matrix = matrix_of(kind, T, steps, chunk, delay)
    samples = draw(GaussianAR1Model(), matrix, update=update, eta=eta, seed=3)
    reference = sampler_covariance(ar1_covariance(T), matrix, eta=1.0 if update == "ddpm" else eta)
    assert worst_deviation(samples, reference) < Z, f"{kind} chunk {chunk}: samples differ from the recursion"


@pytest.mark.parametrize("kind,chunk,delay", MATRICES)
def test_every_matrix_reproduces_the_joint_covariance(kind, chunk, delay):
    T = 5
    truth = ar1_covariance(T)
    # (ii) the exact law of the discretized sampler tends to the joint: DDIM's bias shrinks like 1 / steps
    errors = [float((sampler_covariance(truth, matrix_of(kind, T, steps, chunk, delay)) - truth).abs().max()) for steps in (25, 100, 400)]
    assert errors[0] > errors[1] > errors[2] and errors[2] < 0.01, errors
    # (i) and 4000 samples at 50 steps per frame match the joint within sampling error plus that bias
    matrix = matrix_of(kind, T, 50, chunk, delay)
    samples = draw(GaussianAR1Model(), matrix, seed=4).double()
    standard_error = ((1 + truth**2) / N).sqrt()
    bias = (sampler_covariance(truth, matrix) - truth).abs()
    assert bool(((torch.cov(samples.T) - truth).abs() <= Z * standard_error + bias).all())
    assert bool((samples.mean(0).abs() <= Z / math.sqrt(N)).all())


def test_a_sampler_that_forgets_the_fresh_noise_is_caught(monkeypatch):
    # the classic bug: an ancestral update that leaves out σ z shrinks every variance
    import dfkit.sequence.sampler as sampler

    def without_noise(x, k, k_prev, prediction, schedule, parameterization, eta=0.0, noise=None):
        return ddim_step(x, k, k_prev, prediction, schedule, parameterization, eta=eta, noise=torch.zeros_like(x))

    monkeypatch.setattr(sampler, "ddim_step", without_noise)
    matrix = matrix_of("autoregressive", 4, 10)
    samples = draw(GaussianAR1Model(), matrix, update="ddpm", seed=5)
    assert worst_deviation(samples, sampler_covariance(ar1_covariance(4), matrix, eta=1.0)) > 3 * Z


# --------------------------------------------------------------------------- context and stabilization


@pytest.mark.parametrize("kind,chunk,delay", [("autoregressive", 1, 1), ("pyramid", 1, 2), ("full_sequence", 1, 1)])
def test_context_frames_give_the_gaussian_conditional(kind, chunk, delay):
    c, T = 2, 3
    cov = ar1_covariance(c + T)
    context = ground_truth_context(c)
    matrix = matrix_of(kind, T, 10, chunk, delay)
    generated = draw(GaussianAR1Model(), matrix, context=context, seed=6)
    assert torch.equal(context, ground_truth_context(c)), "the context is never modified"
    samples = torch.cat([context.reshape(N, c), generated], 1)
    assert worst_deviation(samples, sampler_covariance(cov, matrix, num_context=c)) < Z
    # the exact law converges to the conditional: mean Σ_gc Σ_cc⁻¹ x_c, covariance Σ_gg - Σ_gc Σ_cc⁻¹ Σ_cg
    truth = conditional_truth(cov, c)
    assert torch.allclose(truth, cov, atol=1e-12), "with clean context the joint is the AR(1) joint again"
    assert float((sampler_covariance(cov, matrix_of(kind, T, 400, chunk, delay), num_context=c) - truth).abs().max()) < 0.01
    # residuals about the true conditional mean are uncorrelated with the context
    regression = cov[c:, :c] @ torch.linalg.inv(cov[:c, :c])
    residual = generated.double() - context.reshape(N, c).double() @ regression.T
    cross = residual.T @ context.reshape(N, c).double() / N
    assert float(cross.abs().max()) < Z * math.sqrt(1 / N)


@pytest.mark.parametrize("add_noise", [True, False])
def test_stabilized_context_is_treated_as_a_noisy_observation(add_noise):
    c, T, level = 2, 2, 500
    cov = ar1_covariance(c + T)
    context = ground_truth_context(c, seed=7)
    matrix = matrix_of("autoregressive", T, 10)
    generated = draw(GaussianAR1Model(), matrix, context=context, seed=8, stabilization_level=level, add_stabilization_noise=add_noise)
    samples = torch.cat([context.reshape(N, c), generated], 1)
    reference = sampler_covariance(cov, matrix, num_context=c, stabilization_level=level, add_noise=add_noise)
    assert worst_deviation(samples, reference) < Z
    truth = conditional_truth(cov, c, level, add_noise)
    assert float((sampler_covariance(cov, matrix_of("autoregressive", T, 400), c, level, add_noise) - truth).abs().max()) < 0.01
    # the history is trusted less: the next frame correlates less with the last context frame than a = 0.8
    assert float(truth[c, c - 1]) < 0.75
    if add_noise:   # a genuinely noisy observation keeps the marginal of the new frames exact
        assert torch.allclose(truth[c:, c:], cov[c:, c:], atol=1e-9)


# --------------------------------------------------------------------------- exact special cases


TINY = dict(image_size=16, widths=(8, 16), d_model=32, num_layers=2, num_heads=2, max_frames=8)


def tiny_model(temporal="causal", seed=0, neighbor_skips=False, stacked_frames=0):
    torch.manual_seed(seed)
    model = VideoBackbone(VideoBackboneConfig(temporal=temporal, neighbor_skips=neighbor_skips, stacked_frames=stacked_frames, **TINY))
    torch.nn.init.normal_(model.decoder.to_pixels.weight, std=0.1)
    torch.nn.init.normal_(model.decoder.gain.weight, std=0.1)
    for conv in model.neighbors.previous if neighbor_skips else ():     # zero at initialization: make them matter
        torch.nn.init.normal_(conv.weight, std=0.3)
    return model.eval()


@pytest.mark.parametrize("eta", [0.0, 0.5])
def test_full_sequence_matrix_is_plain_ddim_on_the_clip(eta):
    model = tiny_model("bidirectional")
    shape, steps = (2, 5, 1, 16, 16), 6
    matrix = matrix_of("full_sequence", 5, steps)
    ours = sample_with_matrix(model, matrix, COSINE, shape=shape, eta=eta, generator=seeded(9))
    with torch.no_grad():
        theirs = ddim_sample(lambda x, k: model(x, k[:, None].expand(2, 5)), shape, COSINE, steps=steps, eta=eta, generator=seeded(9))
    assert torch.equal(ours, theirs)


def test_the_model_is_called_once_per_row_with_the_matrix_levels_and_still_frames_stay_put():
    model = GaussianAR1Model()
    context = ground_truth_context(2)[:6]
    matrix = matrix_of("pyramid", 4, 5, 1, 2)
    out, trajectory = sample_with_matrix(model, matrix, COSINE, context=context, update="ddpm", generator=seeded(10), return_trajectory=True)
    assert trajectory.shape == (matrix.shape[0], 6, 4, 1, 1, 1) and torch.equal(trajectory[-1], out)
    assert len(model.calls) == matrix.shape[0] - 1
    for m, levels in enumerate(model.calls):
        assert levels.tolist() == [0, 0] + matrix[m].tolist()
        still = matrix[m + 1] == matrix[m]
        assert torch.equal(trajectory[m + 1][:, still], trajectory[m][:, still])
        assert bool((trajectory[m + 1][:, ~still] != trajectory[m][:, ~still]).all())


@pytest.mark.parametrize("spatial", [{}, {"neighbor_skips": True}, {"stacked_frames": 2}])
@pytest.mark.parametrize("temporal", ["causal", "gru"])
@pytest.mark.parametrize("kind, stabilization_level, update", [("autoregressive", 0, "ddpm"), ("pyramid", 50, "ddim")])
def test_the_history_cache_changes_nothing_but_the_work(temporal, kind, stabilization_level, update, spatial):
    # float64: the random model's steps amplify float32 rounding (1e-7) by up to 1e4 on some CPUs
    model = tiny_model(temporal, **spatial).double()
    context = torch.rand(2, 3, 1, 16, 16, dtype=torch.float64) * 2 - 1
    matrix = matrix_of(kind, 3, 4)
    options = dict(context=context, update=update, eta=0.5, stabilization_level=stabilization_level, clip_x0=1.0)
    cached = sample_with_matrix(model, matrix, COSINE, generator=seeded(30), **options)
    uncached = sample_with_matrix(model, matrix, COSINE, generator=seeded(30), cache_history=False, **options)
    assert cached.dtype == torch.float64
    torch.testing.assert_close(cached, uncached, atol=1e-9, rtol=0)        # rounding only; a wrong cache is off by O(1)
    frames_seen = []
    model.register_forward_hook(lambda module, args, out: frames_seen.append(args[0].shape[1]))
    sample_with_matrix(model, matrix, COSINE, generator=seeded(30), **options)
    assert frames_seen == [3] * (matrix.shape[0] - 1), "each row runs the 3 new frames only, never the 3 history frames again"


def test_stabilization_level_zero_is_the_plain_sampler():
    model, context = tiny_model(), torch.rand(2, 3, 1, 16, 16) * 2 - 1
    matrix = matrix_of("autoregressive", 3, 4)
    plain = sample_with_matrix(model, matrix, COSINE, context=context, update="ddpm", generator=seeded(11))
    for add_noise in (True, False):
        stabilized = sample_with_matrix(model, matrix, COSINE, context=context, update="ddpm", stabilization_level=0,
                                        add_stabilization_noise=add_noise, generator=seeded(11))
        assert torch.equal(plain, stabilized)
    noisy = sample_with_matrix(model, matrix, COSINE, context=context, update="ddpm", stabilization_level=50, generator=seeded(11))
    assert not torch.equal(plain, noisy)


class ScaledPull:
    """A guidance hook pulling x̂_0 towards a constant frame, scaled; gradient form optional."""

    def __init__(self, scale, requires_grad=False):
        self.scale, self.requires_grad, self.seen = scale, requires_grad, []

    def __call__(self, g: GuidanceInput):
        self.seen.append((g.x.shape, g.levels.shape, g.num_context, g.row, g.x.requires_grad))
        if self.requires_grad:
            cost = ((g.x0_hat - 0.5) ** 2).sum()
            return -self.scale * torch.autograd.grad(cost, g.x)[0]
        return self.scale * (0.5 - g.x0_hat)


@pytest.mark.parametrize("parameterization", ["eps", "x0", "v"])
@pytest.mark.parametrize("requires_grad", [False, True])
def test_guidance_with_scale_zero_is_unguided_bit_for_bit(parameterization, requires_grad):
    model, context = tiny_model(), torch.rand(2, 2, 1, 16, 16) * 2 - 1
    matrix = matrix_of("pyramid", 3, 4)
    options = dict(context=context, parameterization=parameterization, update="ddpm", generator=None)
    unguided = sample_with_matrix(model, matrix, COSINE, cache_history=False, **{**options, "generator": seeded(12)})
    hook = ScaledPull(0.0, requires_grad)
    guided = sample_with_matrix(model, matrix, COSINE, guidance=hook, **{**options, "generator": seeded(12)})
    assert torch.equal(unguided, guided)
    assert len(hook.seen) == matrix.shape[0] - 1
    assert hook.seen[0] == ((2, 5, 1, 16, 16), (2, 5), 2, 0, requires_grad)
    pulled = sample_with_matrix(model, matrix, COSINE, guidance=ScaledPull(0.5, requires_grad), **{**options, "generator": seeded(12)})
    assert not torch.equal(unguided, pulled)


@pytest.mark.parametrize("parameterization", ["eps", "x0", "v"])
def test_a_full_correction_sets_the_clean_estimate(parameterization):
    # δ = target - x̂_0 makes x̂_0 the target, so deterministic DDIM ends exactly there
    model = tiny_model()
    out = sample_with_matrix(model, matrix_of("autoregressive", 3, 4), COSINE, shape=(2, 3, 1, 16, 16),
                             parameterization=parameterization, guidance=ScaledPull(1.0), generator=seeded(13))
    assert torch.allclose(out, torch.full_like(out, 0.5), atol=1e-4)


def test_shift_prediction_moves_the_clean_estimate_and_keeps_x_k():
    from dfkit.diffusion.ddpm import to_x0_eps
    g = seeded(14)
    x_k, prediction, delta = (torch.randn(3, 4, 2, generator=g, dtype=torch.float64) for _ in range(3))
    k = torch.tensor([[1, 10, 500, 1000]] * 3)
    for parameterization in ("eps", "x0", "v"):
        x0, eps = to_x0_eps(prediction, parameterization, x_k, k, COSINE)
        x0_new, eps_new = to_x0_eps(shift_prediction(prediction, parameterization, delta, k, COSINE), parameterization, x_k, k, COSINE)
        assert torch.allclose(x0_new, x0 + delta, atol=1e-5)
        assert torch.equal(shift_prediction(prediction, parameterization, torch.zeros_like(delta), k, COSINE), prediction)


def test_clip_x0_keeps_the_frames_in_range():
    model = tiny_model()
    with torch.no_grad():
        model.decoder.gain.bias.fill_(-3.0)                               # an untrained model that overshoots
    matrix = matrix_of("autoregressive", 3, 4)
    free = sample_with_matrix(model, matrix, COSINE, shape=(2, 3, 1, 16, 16), parameterization="x0", generator=seeded(15))
    clipped = sample_with_matrix(model, matrix, COSINE, shape=(2, 3, 1, 16, 16), parameterization="x0", clip_x0=1.0, generator=seeded(15))
    assert free.abs().max() > 1.5 and clipped.abs().max() <= 1.0 + 1e-6


# --------------------------------------------------------------------------- validation


def test_bad_inputs_fail_with_clear_messages():
    model = tiny_model()
    matrix = matrix_of("autoregressive", 3, 4)
    context = torch.zeros(2, 2, 1, 16, 16)
    with pytest.raises(ValueError, match=r"shape \(B, T, C, H, W\) or context"):
        sample_with_matrix(model, matrix, COSINE)
    with pytest.raises(ValueError, match=r"T=3"):
        sample_with_matrix(model, matrix, COSINE, shape=(2, 4, 1, 16, 16))
    with pytest.raises(ValueError, match=r"context frames as a float tensor of shape \(B, c, C, H, W\)"):
        sample_with_matrix(model, matrix, COSINE, context=torch.zeros(2, 16, 16))
    with pytest.raises(ValueError, match=r"expected shape \(2, 3, 1, 16, 16\)"):
        sample_with_matrix(model, matrix, COSINE, context=context, shape=(3, 3, 1, 16, 16))
    with pytest.raises(ValueError, match="max_window=8"):
        sample_with_matrix(model, matrix, COSINE, context=torch.zeros(2, 6, 1, 16, 16))
    with pytest.raises(ValueError, match="row 0 to be all 1000"):
        sample_with_matrix(model, matrix_of("autoregressive", 3, 4)[1:], COSINE, context=context)
    with pytest.raises(ValueError, match="update in"):
        sample_with_matrix(model, matrix, COSINE, context=context, update="euler")
    with pytest.raises(ValueError, match=r"stabilization_level to be an int in \[0, 1000\]"):
        sample_with_matrix(model, matrix, COSINE, context=context, stabilization_level=1001)
    with pytest.raises(ValueError, match="num_levels=1000"):
        sample_with_matrix(model, scheduling_matrix("autoregressive", 3, 4, 100), make_schedule("cosine", 100), context=context)
    with pytest.raises(ValueError, match="correction of x0_hat's shape"):
        sample_with_matrix(model, matrix, COSINE, context=context, guidance=lambda g: g.x0_hat[:, 2:])


def test_same_generator_same_samples():
    model = tiny_model()
    matrix = matrix_of("pyramid", 4, 3)
    first, second = (sample_with_matrix(model, matrix, COSINE, shape=(2, 4, 1, 16, 16), update="ddpm", generator=seeded(16)) for _ in range(2))
    assert torch.equal(first, second)
    assert KINDS == ("full_sequence", "autoregressive", "pyramid", "trapezoid")


def test_double_precision_context_gives_double_frames():
    model = tiny_model().double()
    out = sample_with_matrix(model, matrix_of("autoregressive", 2, 3), COSINE, context=torch.zeros(1, 2, 1, 16, 16, dtype=torch.float64), generator=seeded(17))
    assert out.dtype == torch.float64 and out.shape == (1, 2, 1, 16, 16)


def test_the_sampler_shows_its_history_through_the_graded_stabilized_history():
    """Lesson 06's graded stabilized_history is the sampler's own function, and the sampler's window is what it returns."""
    reference, path = graded_reference("06_diffusion_forcing.stabilized_history")
    assert reference is stabilized_history and path == "dfkit.sequence.sampler.stabilized_history"
    from dfkit.lessons import diffusion_forcing

    assert diffusion_forcing.stabilized_history is stabilized_history
    context = torch.rand(2, 3, 1, 4, 4, generator=seeded(30)) * 2 - 1
    matrix = matrix_of("autoregressive", 2, 3)
    for k_small, add_noise in ((0, True), (40, True), (40, False)):
        seen = []

        def model(x, levels):
            seen.append((x[:, :3].clone(), levels[:, :3].clone()))
            return torch.zeros_like(x)

        sample_with_matrix(model, matrix, COSINE, context=context, stabilization_level=k_small,
                           add_stabilization_noise=add_noise, generator=seeded(31))
        noise = torch.randn(context.shape, generator=seeded(31))         # the sampler's first draw
        shown, levels = stabilized_history(context, k_small, COSINE, noise, add_noise)
        assert all(torch.equal(x, shown) and torch.equal(k, levels) for x, k in seen)


def test_the_graded_walk_matrix_is_this_sampler_walking_given_noise():
    """Lesson 06's walk_matrix (an exercise-shaped call of this sampler: noise given, no clamping) gives its frames."""
    walk_matrix, path = graded_reference("06_diffusion_forcing.walk_matrix")
    assert path == "dfkit.lessons.diffusion_forcing.walk_matrix"
    model = tiny_model()
    for kind, parameterization in (("pyramid", "v"), ("autoregressive", "eps"), ("full_sequence", "x0")):
        matrix = matrix_of(kind, 3, 3)
        noise = torch.randn(2, 3, 1, 16, 16, generator=seeded(32))
        expected = sample_with_matrix(model, matrix, COSINE, shape=noise.shape, noise=noise, parameterization=parameterization)
        assert torch.equal(walk_matrix(model, matrix, noise, COSINE, parameterization), expected)
