"""Cost guidance, history guidance and pendulum planning, checked on exact Gaussian models.

Two exact facts carry the statistical tests:

* Cost guidance with the "classifier" weighting moves the clean estimate by
  δ = -w (1 - ᾱ_k) / sqrt(ᾱ_k) ∇_{x_k} c(x̂_0). For Gaussian data N(μ, Σ) and a linear cost
  c(x_0) = bᵀ x_0 this is δ = -w Cov[x_0 | x_k] b, which is exactly how the posterior mean of
  the tilted law p(x_0) exp(-w bᵀ x_0) ∝ N(μ - w Σ b, Σ) differs from the untilted one, at every
  per-frame level. So guided sampling of N(μ, Σ) equals plain sampling of N(μ - w Σ b, Σ) with
  the same noise, for every scheduling matrix, with and without context.
* History guidance is a weighted sum of the exact denoiser under different views of the
  history. For the Markov AR(1) video the last history frame carries everything, so the
  sample's regression slope on it measures how strongly the history is used: 0 for the
  unconditional model, a = 0.8 for the conditional, more with guidance w > 1.
"""

import math

import numpy as np
import pytest
import torch

from dfkit import data
from dfkit.data.pendulum import PendulumConfig, estimate_angle, render, simulate
from dfkit.diffusion.ddpm import to_x0_eps
from dfkit.diffusion.gaussian import GaussianMixture
from dfkit.diffusion.schedules import make_schedule
from dfkit.models.video import VideoBackbone, VideoBackboneConfig
from dfkit.sequence.guidance import (
    UNCONDITIONAL, CombinedGuidance, CostGuidance, HistoryGuidance, HistoryGuidanceHook, HistoryView, history_guided_prediction, show_history,
)
from dfkit.sequence.objectives import DiffusionForcing, FullSequenceDiffusion, to_model_range, to_unit_range
from dfkit.sequence.planning import AngleCost, pendulum_angle, physics_fit, planning_report
from dfkit.sequence.sampler import GuidanceInput, sample_with_matrix
from dfkit.sequence.scheduling import scheduling_matrix
from dfkit.train import TrainConfig, train
from test_sequence_sampler import A, GaussianAR1Model, ar1_covariance, ground_truth_context
from helpers import graded_reference, seeded

pytestmark = pytest.mark.usefixtures("one_thread")

COSINE = make_schedule("cosine", 1000)
K = COSINE.num_levels
N = 4000
TINY = dict(image_size=16, widths=(8, 16), d_model=32, num_layers=2, num_heads=2, max_frames=8)


def matrix_of(kind, num_frames, steps=8, chunk=1, delay=1):
    return scheduling_matrix(kind, num_frames, steps, K, chunk_size=chunk, delay=delay)


class GaussianVideo:
    """The exact denoiser of one Gaussian N(μ, Σ) over the T scalar frames of a window, in any parameterization."""

    max_window = None

    def __init__(self, mean, cov, parameterization="eps"):
        self.denoiser = GaussianMixture([1.0], mean[None], cov[None]).exact_denoiser(COSINE, parameterization)

    def __call__(self, frames, levels):
        B, T = levels.shape
        return self.denoiser(frames.reshape(B, T), levels).reshape(frames.shape)


def tiny_model(temporal="causal", seed=0):
    torch.manual_seed(seed)
    model = VideoBackbone(VideoBackboneConfig(temporal=temporal, **TINY))
    torch.nn.init.normal_(model.decoder.to_pixels.weight, std=0.1)
    torch.nn.init.normal_(model.decoder.gain.weight, std=0.1)
    return model.eval()


def slope_on_last_history_frame(generated, context):
    """Least-squares slope of the first generated frame on the last history frame (zero-mean data)."""
    g, h = generated.reshape(N, -1)[:, 0].double(), context.reshape(N, -1)[:, -1].double()
    return float((g * h).mean() / (h * h).mean())


# --------------------------------------------------------------------------- cost guidance: exact


@pytest.mark.parametrize("parameterization", ["eps", "x0", "v"])
@pytest.mark.parametrize("kind", ["full_sequence", "autoregressive", "pyramid"])
@pytest.mark.parametrize("num_context", [0, 2])
def test_linear_cost_guidance_samples_the_tilted_gaussian_exactly(kind, parameterization, num_context):
    c, T, w = num_context, 4, 0.7
    cov, mean = ar1_covariance(c + T), torch.zeros(c + T, dtype=torch.float64)
    b = torch.zeros(c + T, dtype=torch.float64)
    b[c + 2], b[c + 3] = 1.0, -0.5                                           # the cost looks at two generated frames
    g = seeded(0)
    context = ground_truth_context(c, seed=1)[:64].double() if c else None
    noise = torch.randn(64, T, 1, 1, 1, generator=g, dtype=torch.float64)   # float64: x̂_0 from ε at ᾱ_K ≈ 2e-9

    def run(model, guidance=None):
        return sample_with_matrix(model, matrix_of(kind, T), COSINE, shape=(64, T, 1, 1, 1), context=context, noise=noise,
                                  parameterization=parameterization, guidance=guidance)

    linear_cost = lambda x0: (x0.reshape(64, T) * b[c:]).sum()
    guided = run(GaussianVideo(mean, cov, parameterization), CostGuidance(linear_cost, w))
    tilted = run(GaussianVideo(mean - w * cov @ b, cov, parameterization))
    plain = run(GaussianVideo(mean, cov, parameterization))
    assert torch.allclose(guided, tilted, atol=1e-7, rtol=0)
    assert float((plain - tilted).abs().max()) > 0.1


@pytest.mark.parametrize("weighting", ["classifier", "reconstruction"])
def test_cost_guidance_with_scale_zero_is_unguided_bit_for_bit(weighting):
    model, context = tiny_model(), torch.rand(2, 2, 1, 16, 16, generator=seeded(2)) * 2 - 1
    matrix = matrix_of("pyramid", 4, 4)
    cost = AngleCost(target_angle=1.0, frame=3)
    options = dict(context=context, update="ddpm", clip_x0=1.0)
    unguided = sample_with_matrix(model, matrix, COSINE, generator=seeded(3), cache_history=False, **options)  # hooks never cache
    zero = sample_with_matrix(model, matrix, COSINE, guidance=CostGuidance(cost, 0.0, weighting), generator=seeded(3), **options)
    guided = sample_with_matrix(model, matrix, COSINE, guidance=CostGuidance(cost, 5.0, weighting), generator=seeded(3), **options)
    assert torch.equal(unguided, zero)
    assert not torch.equal(unguided, guided) and torch.isfinite(guided).all()


@pytest.mark.parametrize("weighting", ["classifier", "reconstruction"])
def test_cost_guidance_steps_with_the_graded_cost_guided_x0(weighting):
    """Lesson 07's graded cost_guided_x0 is this module's: x̂_0 + CostGuidance's correction is cost_guided_x0
    of the cost's gradient through the model, bit for bit (level K has λ_k = 0 in the classifier weighting)."""
    from dfkit.lessons import guidance as lesson
    from dfkit.sequence import guidance

    reference, path = graded_reference("07_guidance.cost_guided_x0")
    assert reference is guidance.cost_guided_x0 is lesson.cost_guided_x0 and path == "dfkit.sequence.guidance.cost_guided_x0"
    model, cost = tiny_model(), AngleCost(target_angle=0.7, frame=1)
    window = torch.randn(2, 4, 1, 16, 16, generator=seeded(40)).requires_grad_(True)
    levels = torch.tensor([[0, 0, 700, K], [0, 0, 300, 300]])
    prediction = model(window, levels)
    x0_hat = to_x0_eps(prediction, "v", window, levels, COSINE)[0]
    correction = CostGuidance(cost, 20.0, weighting)(GuidanceInput(window, levels, levels, prediction, x0_hat, 0, 2, COSINE, "v"))
    (gradient,) = torch.autograd.grad(cost(x0_hat[:, 2:]), window)
    expected = guidance.cost_guided_x0(x0_hat.detach(), gradient, levels, 2, 20.0, weighting, COSINE)
    assert torch.equal(x0_hat.detach() + correction, expected) and bool((correction[:, 2:] != 0).any())


def test_quadratic_cost_pulls_the_samples_towards_its_minimum():
    # cost = Σ (x̂_0[t*] - 2)² on an AR(1) clip of 3 frames, t* = 2; 4000 seeded samples per scale
    T, t_star, goal = 3, 2, 2.0
    scales = (0.0, 0.25, 0.5, 1.0, 2.0, 4.0)
    cost = lambda x0: ((x0[:, t_star] - goal) ** 2).sum()
    means, costs = [], []
    for scale in scales:
        out = sample_with_matrix(GaussianAR1Model(), matrix_of("full_sequence", T, 10), COSINE, shape=(N, T, 1, 1, 1),
                                 guidance=CostGuidance(cost, scale), generator=seeded(4)).reshape(N, T).double()
        means.append(float(out[:, t_star].mean()))
        costs.append(float(((out[:, t_star] - goal) ** 2).mean()))
    assert abs(means[0]) < 4.5 / math.sqrt(N)                                 # unguided: the data mean 0
    distance = [abs(goal - m) for m in means[:4]]
    assert all(a > b + 0.2 for a, b in zip(distance, distance[1:])), means   # up to w = 1 the mean walks to the goal
    assert all(a > b for a, b in zip(costs, costs[1:])), costs                # the cost falls with every scale
    assert costs[-1] < 0.05 * costs[0]


def test_cost_guidance_moves_only_generated_frames_through_the_model():
    # a cost on the last generated frame also moves earlier frames (the model ties them), never the history
    seen = {}

    def cost(x0):
        seen["shape"] = tuple(x0.shape)
        return x0[:, -1].sum()

    class Spy(CostGuidance):
        def __call__(self, g):
            correction = super().__call__(g)
            seen["correction"] = correction
            return correction

    context = ground_truth_context(2)[:8]
    sample_with_matrix(GaussianAR1Model(), matrix_of("full_sequence", 3, 2), COSINE, context=context,
                       guidance=Spy(cost, 1.0), generator=seeded(5))
    correction = seen["correction"]
    assert seen["shape"] == (8, 3, 1, 1, 1)
    assert torch.equal(correction[:, :2], torch.zeros_like(correction[:, :2]))
    assert bool((correction[:, 2:] != 0).all())


def test_combined_hooks_add_their_corrections():
    # two linear costs guided together are one cost with the summed direction (exact for Gaussians)
    T, cov, mean = 3, ar1_covariance(3), torch.zeros(3, dtype=torch.float64)
    noise = torch.randn(64, T, 1, 1, 1, generator=seeded(20), dtype=torch.float64)
    b1, b2 = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64), torch.tensor([0.0, 0.0, -2.0], dtype=torch.float64)
    linear = lambda b: (lambda x0: (x0.reshape(64, T) * b).sum())

    def run(guidance):
        return sample_with_matrix(GaussianVideo(mean, cov), matrix_of("pyramid", T), COSINE, shape=(64, T, 1, 1, 1), noise=noise,
                                  guidance=guidance)

    together = run(CombinedGuidance(CostGuidance(linear(b1), 0.5), CostGuidance(linear(b2), 0.5)))
    assert torch.allclose(together, run(CostGuidance(linear(b1 + b2), 0.5)), atol=1e-7, rtol=0)
    # hooks that do nothing keep sampling bit for bit, also when one of them asks for gradients
    model, context = tiny_model(), torch.rand(2, 2, 1, 16, 16, generator=seeded(21)) * 2 - 1
    idle = CombinedGuidance(HistoryGuidanceHook(model, HistoryGuidance.vanilla(1.0)), CostGuidance(AngleCost(1.0, 0), 0.0))
    assert idle.requires_grad
    options = dict(context=context, update="ddpm", clip_x0=1.0)
    plain = sample_with_matrix(model, matrix_of("autoregressive", 2, 3), COSINE, generator=seeded(22), cache_history=False, **options)
    assert torch.equal(sample_with_matrix(model, matrix_of("autoregressive", 2, 3), COSINE, guidance=idle, generator=seeded(22), **options), plain)
    with pytest.raises(ValueError, match="one or more guidance hooks"):
        CombinedGuidance()


# --------------------------------------------------------------------------- the differentiable angle


def test_angle_estimate_matches_the_numpy_reader_and_has_a_useful_gradient():
    theta = np.linspace(-3.0, 3.0, 41)
    for size in (16, 32):
        frames = render(theta, size)[:, None]                                   # (41, 1, H, W)
        ours = pendulum_angle(torch.from_numpy(frames).double()).numpy()
        assert np.abs(ours - estimate_angle(frames)).max() < 1e-5
        ours32 = pendulum_angle(torch.from_numpy(frames)).numpy()
        assert np.abs(np.angle(np.exp(1j * (ours32 - estimate_angle(frames))))).max() < 1e-5
    frame = torch.from_numpy(render(0.5, 16)).requires_grad_(True)
    (gradient,) = torch.autograd.grad(pendulum_angle(frame), frame)
    assert torch.isfinite(gradient).all() and float(gradient.abs().max()) > 0
    # brightening a pixel right of the pivot below it turns the pendulum towards positive θ (to the right)
    assert float(gradient[12, 10]) > 0 and float(gradient[12, 5]) < 0


def test_angle_cost_is_one_minus_cosine_of_the_miss():
    theta = torch.tensor([0.3, -1.2, 2.0], dtype=torch.float64)
    clips = to_model_range(torch.from_numpy(render(theta.numpy(), 16))[:, None, None].double())   # (3, 1, 1, 16, 16)
    clips = clips.expand(3, 4, 1, 16, 16)
    exact = AngleCost(target_angle=theta, frame=-1)(clips)
    assert float(exact) < 1e-4
    opposite = AngleCost(target_angle=theta + math.pi, frame=2)(clips)
    assert abs(float(opposite) - 6.0) < 1e-3
    miss = AngleCost(target_angle=0.3 + 0.5, frame=0)(clips[:1])
    assert abs(float(miss) - (1 - math.cos(0.5))) < 2e-3


# --------------------------------------------------------------------------- history guidance: views


class Recorder:
    """A model that records what it was shown and predicts zeros."""

    max_window = None

    def __init__(self):
        self.calls = []

    def __call__(self, frames, levels):
        self.calls.append((frames.clone(), levels.clone()))
        return torch.zeros_like(frames)


def test_views_mask_the_old_frames_and_raise_levels_by_the_forward_transition():
    x = torch.randn(3, 5, 1, 4, 4, generator=seeded(6))
    levels = torch.tensor([[0, 0, 0, 700, 1000]] * 3)
    # keep the last frame only: frames 0, 1 go to K, frame 2 and the generated frames stay exactly as they were
    frames, shown = show_history(HistoryView(keep=1), x, levels, 3, COSINE, seeded(7))
    assert shown[0].tolist() == [K, K, 0, 700, 1000]
    assert torch.equal(frames[:, 2:], x[:, 2:])
    noise = torch.randn(3, 3, 1, 4, 4, generator=seeded(7))
    expected = COSINE.alpha_bars[K].sqrt() * x[:, :2] + COSINE.one_minus_alpha_bars[K].sqrt() * noise[:, :2]
    assert torch.allclose(frames[:, :2], expected, atol=1e-6)
    # from a stabilized level 100 to 400: x_400 = sqrt(ᾱ_400 / ᾱ_100) x_100 + sqrt((ᾱ_100 - ᾱ_400) / ᾱ_100) ε
    stabilized = levels.clone()
    stabilized[:, :3] = 100
    frames, shown = show_history(HistoryView(level=400), x, stabilized, 3, COSINE, seeded(7))
    ratio = COSINE.alpha_bars[400] / COSINE.alpha_bars[100]
    assert shown[0].tolist() == [400, 400, 400, 700, 1000]
    assert torch.allclose(frames[:, :3], ratio.sqrt() * x[:, :3] + (1 - ratio).sqrt() * noise, atol=1e-5)
    # a view that changes nothing hands the window back untouched
    assert show_history(HistoryView(keep=3), x, levels, 3, COSINE)[0] is x


@pytest.mark.parametrize("keep, level", [(None, None), (0, None), (2, None), (None, 300), (1, 700), (3, 50)])
def test_views_show_the_graded_view_levels_and_raise_level(keep, level):
    """Lesson 07's graded view_levels and raise_level are this module's: show_history's levels are view_levels
    exactly; its frames are raise_level's with the same noise up to float32 rounding (show_history computes
    the coefficients in float64 without cancellation, see the next test, so it does not call raise_level)."""
    from dfkit.lessons import guidance as lesson
    from dfkit.sequence import guidance

    for name in ("view_levels", "raise_level"):
        reference, path = graded_reference(f"07_guidance.{name}")
        assert reference is getattr(guidance, name) is getattr(lesson, name) and path == f"dfkit.sequence.guidance.{name}"
    x = torch.randn(2, 5, 1, 4, 4, generator=seeded(41))
    levels = torch.cat([torch.full((2, 3), 50), torch.randint(0, K + 1, (2, 2), generator=seeded(42))], dim=1)
    frames, shown = show_history(HistoryView(keep, level), x, levels, 3, COSINE, seeded(43))
    target = guidance.view_levels(levels, 3, keep, level, K)
    noise = torch.cat([torch.randn(2, 3, 1, 4, 4, generator=seeded(43)), torch.zeros(2, 2, 1, 4, 4)], dim=1)
    assert torch.equal(shown, target)
    assert torch.allclose(guidance.raise_level(x, levels, target, noise, COSINE), frames, rtol=1e-6, atol=1e-6)


def test_raising_history_near_the_top_level_adds_the_exact_noise_in_float32():
    # from 999 to K: (ᾱ_999 - ᾱ_K) / ᾱ_999 as a difference of two float32 (1 - ᾱ)s close to 1 is 0.7% off
    x = torch.zeros(4, 1, 1, 2, 2)
    levels = torch.full((4, 1), K - 1)
    frames, shown = show_history(HistoryView(level=K), x, levels, 1, COSINE, seeded(8))
    expected = 1 - COSINE.alpha_bars[K].double() / COSINE.alpha_bars[K - 1].double()
    noise = torch.randn(4, 1, 1, 2, 2, generator=seeded(8))
    assert shown.unique().tolist() == [K]
    torch.testing.assert_close(frames, (expected.sqrt() * noise.double()).float(), rtol=1e-6, atol=1e-7)


def test_history_guidance_constructors_are_the_graded_history_guidance_terms():
    """Lesson 07's graded history_guidance_terms is this module's: vanilla, fractional and temporal guidance
    are its terms as views, with the weights of the module doc."""
    from dfkit.lessons import guidance as lesson
    from dfkit.sequence import guidance

    reference, path = graded_reference("07_guidance.history_guidance_terms")
    assert reference is guidance.history_guidance_terms is lesson.history_guidance_terms
    assert path == "dfkit.sequence.guidance.history_guidance_terms"
    conditional = HistoryView()
    assert HistoryGuidance.vanilla(2.0) == HistoryGuidance((conditional, UNCONDITIONAL), (2.0, -1.0))
    assert HistoryGuidance.fractional(1.5, 200) == HistoryGuidance((conditional, HistoryView(level=200), UNCONDITIONAL), (1.0, 1.5, -1.5))
    temporal = HistoryGuidance((UNCONDITIONAL, HistoryView(keep=1), HistoryView(keep=3)), (-0.5, 1.0, 0.5))
    assert HistoryGuidance.temporal((1, 3), (1.0, 0.5)) == temporal
    assert HistoryGuidance.from_terms(guidance.history_guidance_terms("temporal", [1.0, 0.5], windows=[1, 3])) == temporal


def test_every_guidance_calls_the_model_on_the_views_it_needs():
    # history of 2 frames at level 0, then generated frames at 500 and K; the conditional prediction is known
    x, levels = torch.randn(2, 4, 1, 4, 4, generator=seeded(8)), torch.tensor([[0, 0, 500, 1000]] * 2)
    prediction = torch.ones_like(x)
    masked, frac, last_only = [K, K, 500, 1000], [300, 300, 500, 1000], [K, 0, 500, 1000]
    cases = [
        (HistoryGuidance.vanilla(1.0), []),
        (HistoryGuidance.vanilla(0.0), [masked]),
        (HistoryGuidance.vanilla(2.5), [masked]),
        (HistoryGuidance.fractional(0.0, 300), []),
        (HistoryGuidance.fractional(1.5, 300), [frac, masked]),
        (HistoryGuidance.temporal([1, 2], [1.0, 0.5]), [masked, last_only]),
    ]
    for guidance, expected in cases:
        model = Recorder()
        history_guided_prediction(model, x, levels, 2, guidance, COSINE, prediction=prediction)
        assert [call[1][0].tolist() for call in model.calls] == expected, guidance
    # without the conditional prediction at hand it is computed too, on the window as it is
    model = Recorder()
    history_guided_prediction(model, x, levels, 2, HistoryGuidance.vanilla(2.5), COSINE)
    assert torch.equal(model.calls[0][0], x) and model.calls[0][1].tolist() == levels.tolist()
    # the weights: vanilla w = 2.5 is 2.5 · conditional - 1.5 · unconditional (here 0); w = 1 hands back the prediction
    combined = history_guided_prediction(Recorder(), x, levels, 2, HistoryGuidance.vanilla(2.5), COSINE, prediction=prediction)
    assert torch.equal(combined, 2.5 * prediction)
    assert history_guided_prediction(Recorder(), x, levels, 2, HistoryGuidance.vanilla(1.0), COSINE, prediction=prediction) is prediction


# --------------------------------------------------------------------------- history guidance: sampling


def history_sample(model, guidance=None, context=None, matrix=None, seed=9, hook_seed=10, **options):
    context = ground_truth_context(2) if context is None else context
    matrix = matrix_of("autoregressive", 2, 10) if matrix is None else matrix
    hook = None if guidance is None else HistoryGuidanceHook(model, guidance, seeded(hook_seed))
    return sample_with_matrix(model, matrix, COSINE, context=context, guidance=hook, generator=seeded(seed), **options)


@pytest.mark.parametrize("stabilization_level", [0, 50])
def test_guidance_that_reduces_to_the_conditional_is_unguided_bit_for_bit(stabilization_level):
    model, context = tiny_model(), torch.rand(2, 3, 1, 16, 16, generator=seeded(11)) * 2 - 1
    matrix = matrix_of("pyramid", 3, 4)
    options = dict(context=context, matrix=matrix, update="ddpm", stabilization_level=stabilization_level)
    plain = history_sample(model, None, cache_history=False, **options)      # hooks see the whole window: never cached
    for guidance in (HistoryGuidance.vanilla(1.0), HistoryGuidance.fractional(0.0, 500), HistoryGuidance.temporal([3], [1.0])):
        assert torch.equal(history_sample(model, guidance, **options), plain), guidance
    assert not torch.equal(history_sample(model, HistoryGuidance.vanilla(2.0), **options), plain)


@pytest.mark.parametrize("parameterization", ["eps", "v"])
def test_vanilla_scale_zero_samples_with_the_unconditional_branch(parameterization):
    model, context = tiny_model(), torch.rand(2, 2, 1, 16, 16, generator=seeded(12)) * 2 - 1
    masking = seeded(10)

    def unconditional(frames, levels):                         # the history masked at K exactly as the hook masks it
        return model(*show_history(UNCONDITIONAL, frames, levels, 2, COSINE, masking))

    options = dict(context=context, matrix=matrix_of("autoregressive", 3, 4), parameterization=parameterization, clip_x0=1.0)
    guided = history_sample(model, HistoryGuidance.vanilla(0.0), **options)
    reference = history_sample(unconditional, None, **options)
    assert torch.allclose(guided, reference, atol=1e-4)
    assert not torch.allclose(guided, history_sample(model, None, **options), atol=1e-2)


def test_vanilla_guidance_amplifies_the_history_and_fractional_sits_between():
    context = ground_truth_context(2)
    slope = {}
    for name, guidance in {
        "unconditional": HistoryGuidance.vanilla(0.0),
        "conditional": HistoryGuidance.vanilla(1.0),
        "vanilla 2": HistoryGuidance.vanilla(2.0),
        "vanilla 3": HistoryGuidance.vanilla(3.0),
        "fractional 2 at 500": HistoryGuidance.fractional(2.0, 500),
    }.items():
        slope[name] = slope_on_last_history_frame(history_sample(GaussianAR1Model(), guidance, context), context)
    standard_error = 4.5 / math.sqrt(N)
    assert abs(slope["unconditional"]) < 2 * standard_error                   # no history: uncorrelated
    assert abs(slope["conditional"] - A) < 0.03                               # the AR(1) conditional, a = 0.8
    assert slope["vanilla 3"] > slope["vanilla 2"] + 0.1 > slope["conditional"] + 0.2
    # fractional: ε(h) + w [ε(h at k_f) - ε(∅)] lies between the conditional (k_f = K) and vanilla 1 + w (k_f = 0)
    assert slope["conditional"] + 0.2 < slope["fractional 2 at 500"] < slope["vanilla 3"] - 0.05


def test_fractional_guidance_at_its_two_ends():
    context = ground_truth_context(2)[:500]
    model = GaussianAR1Model()
    at_zero = history_sample(model, HistoryGuidance.fractional(2.0, 0), context)
    assert torch.allclose(at_zero, history_sample(model, HistoryGuidance.vanilla(3.0), context), atol=1e-5)
    at_k = history_sample(model, HistoryGuidance.fractional(2.0, K), context)
    assert torch.allclose(at_k, history_sample(model, None, context), atol=1e-3)   # ᾱ_K ≈ 2e-9: the two masks agree


def test_temporal_guidance_on_a_markov_video_only_needs_the_last_frame():
    # for AR(1) the last frame carries the whole history: the window of 1 frame is the conditional again
    context = ground_truth_context(2)[:500]
    model = GaussianAR1Model()
    recent = history_sample(model, HistoryGuidance.temporal([1], [1.0]), context)
    assert torch.allclose(recent, history_sample(model, None, context), atol=1e-3)
    both = history_sample(model, HistoryGuidance.temporal([1, 2], [1.0, 1.0]), context)
    assert torch.allclose(both, history_sample(model, HistoryGuidance.vanilla(2.0), context), atol=1e-3)


# --------------------------------------------------------------------------- validation


def test_bad_guidance_inputs_fail_with_clear_messages():
    with pytest.raises(ValueError, match="guidance scale to be a finite number >= 0"):
        CostGuidance(lambda x: x.sum(), -1.0)
    with pytest.raises(ValueError, match="weighting in"):
        CostGuidance(lambda x: x.sum(), 1.0, "dps")
    with pytest.raises(ValueError, match="cost to be callable"):
        CostGuidance(3.0)
    with pytest.raises(ValueError, match="history guidance scale to be a finite number >= 0"):
        HistoryGuidance.vanilla(-0.5)
    with pytest.raises(ValueError, match="history guidance scale"):
        HistoryGuidance.fractional(float("nan"), 100)
    with pytest.raises(ValueError, match=r"fractional level k_f to be an int in \[0, K\]"):
        HistoryGuidance.fractional(1.0, -1)
    with pytest.raises(ValueError, match="every window to be an int >= 1"):
        HistoryGuidance.temporal([0], [1.0])
    with pytest.raises(ValueError, match="every temporal weight"):
        HistoryGuidance.temporal([1, 2], [1.0, -1.0])
    with pytest.raises(ValueError, match="weights summing to 1"):
        HistoryGuidance((UNCONDITIONAL,), (2.0,))
    with pytest.raises(ValueError, match="target frame t\\* to be an int"):
        AngleCost(0.3, 1.5)

    model, context = GaussianAR1Model(), ground_truth_context(2)[:4]
    matrix = matrix_of("autoregressive", 2, 3)

    def run(guidance, **options):
        options = {"context": context, **options}
        return sample_with_matrix(model, matrix, COSINE, guidance=guidance, generator=seeded(13), **options)

    with pytest.raises(ValueError, match="scalar tensor"):
        run(CostGuidance(lambda x0: (x0 ** 2).sum(dim=(1, 2, 3, 4)), 1.0))
    with pytest.raises(ValueError, match="differentiabl"):
        run(CostGuidance(lambda x0: torch.tensor(1.0), 1.0))
    with pytest.raises(ValueError, match=r"history level in \[0, K=1000\], got 1200"):
        run(HistoryGuidanceHook(model, HistoryGuidance.fractional(1.0, 1200)))
    with pytest.raises(ValueError, match="noise can be added to the history, not removed"):
        run(HistoryGuidanceHook(model, HistoryGuidance.fractional(1.0, 20)), stabilization_level=100)
    with pytest.raises(ValueError, match="history window of at most the 2 context frames, got keep=3"):
        run(HistoryGuidanceHook(model, HistoryGuidance.temporal([1, 3], [0.5, 0.5])))
    with pytest.raises(ValueError, match="history guidance to have history"):
        run(HistoryGuidanceHook(model, HistoryGuidance.vanilla(2.0)), context=None, shape=(4, 2, 1, 1, 1))
    with pytest.raises(ValueError, match="HistoryGuidance"):
        HistoryGuidanceHook(model, 2.0)


# --------------------------------------------------------------------------- planning on the pendulum


def test_planning_report_tells_real_plans_from_drawn_ones():
    config = PendulumConfig(num_sequences=32, num_frames=8, image_size=16)
    clips = data.load("pendulum", "test", progress=False, **vars(config))
    frames, states = clips.frames(), clips.truth["states"].numpy()
    context, future = frames[:, :2], frames[:, 2:]
    t_star = 4
    truth_at_target = states[:, 2 + t_star, 0]
    # the true continuation, asked for the angle it really has at t*: every plan succeeds
    honest = planning_report(future, context, truth_at_target, t_star, config, true_states=states[:, 1])
    assert honest["rates"] == {"hit": 1.0, "valid": 1.0, "physical": 1.0, "success": 1.0, "reachable": 1.0}
    # a target 90° away from where the swing goes: the true frames miss it, and so does the ceiling
    away = truth_at_target + math.pi / 2
    missed = planning_report(future, context, away, t_star, config, true_states=states[:, 1])
    assert missed["rates"]["hit"] == 0.0 and missed["rates"]["reachable"] == 0.0 and missed["rates"]["physical"] == 1.0
    # a "plan" that simply draws the pendulum at the target at t*: hits, valid frames, but no swing explains it
    drawn = future.clone()
    drawn[:, t_star, 0] = torch.from_numpy(render(away, 16))
    cheat = planning_report(drawn, context, away, t_star, config, true_states=states[:, 1])
    assert cheat["rates"]["hit"] == 1.0 and cheat["rates"]["valid"] == 1.0
    assert cheat["rates"]["physical"] == 0.0 and cheat["rates"]["success"] == 0.0
    assert cheat["per_clip"]["physics_error"].min() > 20


def test_one_context_frame_allows_either_direction_two_do_not():
    # generated frames that swing back the other way from the last context frame: a real swing from
    # one frame (the velocity is unknown), but not from two (they fix it: the Markov experiment)
    config = PendulumConfig(image_size=16)
    start = np.array([[0.3, 2.0], [-0.8, -1.5], [1.0, -2.5]])                       # fast at t = 1: |ω| > 1.5 rad/s
    forward = simulate(start, np.zeros((3, 2)), dt=config.dt)                        # context frames t = 0, 1
    reversed_start = forward[:, 1] * np.array([1.0, -1.0])                            # same angle at t = 1, opposite ω
    backward = simulate(reversed_start, np.zeros((3, 6)), dt=config.dt)[:, 1:, 0]   # generated frames t = 2 … 6
    context = torch.from_numpy(render(forward[..., 0], 16))[:, :, None]
    generated = torch.from_numpy(render(backward, 16))[:, :, None]
    target = backward[:, -1]
    one = planning_report(generated, context[:, 1:], target, -1, config)
    two = planning_report(generated, context, target, -1, config)
    assert one["rates"] == {"hit": 1.0, "valid": 1.0, "physical": 1.0, "success": 1.0}
    assert two["rates"]["hit"] == 1.0 and two["rates"]["physical"] == 0.0 and two["rates"]["success"] == 0.0


def test_physics_fit_recovers_a_free_swing():
    config = PendulumConfig(image_size=16)
    start = np.array([[0.4, -1.3], [-1.2, 0.0], [0.1, 2.5]])
    theta = simulate(start, np.zeros((3, 7)), dt=config.dt)[..., 0]
    error, states = physics_fit(theta, config)
    assert float(error.max()) < math.radians(0.5)
    assert np.abs(states[:, 0, 1] - start[:, 1]).max() < 0.05


def tiny_trained(temporal, loss_fn, clips, horizon):
    torch.manual_seed(0)
    model = VideoBackbone(VideoBackboneConfig(temporal=temporal, **{**TINY, "max_frames": horizon}))
    result = train(model, loss_fn, clips.frames(), TrainConfig(steps=100, batch_size=8, lr=2e-3, progress=False, device="cpu"))
    assert result.losses[-1] < result.losses[0]
    return result.ema_model


def test_planning_with_cost_guidance_on_tiny_diffusion_forcing_and_full_sequence_models():
    horizon, c, T, t_star = 6, 2, 4, 3
    config = PendulumConfig(num_sequences=64, num_frames=horizon, image_size=16)
    clips = data.load("pendulum", "train", progress=False, **vars(config))
    forcing = tiny_trained("causal", DiffusionForcing(COSINE, window=horizon, shared_level_fraction=0.1), clips, horizon)
    full = tiny_trained("bidirectional", FullSequenceDiffusion(COSINE, window=horizon), clips, horizon)
    context = to_model_range(clips.frames(range(4))[:, :c])
    target = torch.full((4,), 1.0)
    runs = [(forcing, matrix_of("autoregressive", T, 4), context), (forcing, matrix_of("pyramid", T, 4), context),
            (full, matrix_of("full_sequence", c + T, 4), None)]          # full-sequence: plan the whole clip, t* counts from its start
    for model, matrix, history in runs:
        for weighting in ("classifier", "reconstruction"):
            guidance = CostGuidance(AngleCost(target, t_star if history is not None else c + t_star), scale=2.0, weighting=weighting)
            frames = sample_with_matrix(model, matrix, COSINE, shape=(4, matrix.shape[1], 1, 16, 16), context=history,
                                        guidance=guidance, clip_x0=1.0, generator=seeded(14))
            assert frames.shape == (4, matrix.shape[1], 1, 16, 16) and torch.isfinite(frames).all()
    both = CombinedGuidance(HistoryGuidanceHook(forcing, HistoryGuidance.vanilla(1.5), seeded(15)),
                            CostGuidance(AngleCost(target, t_star), scale=2.0, weighting="reconstruction"))
    frames = sample_with_matrix(forcing, matrix_of("autoregressive", T, 4), COSINE, context=context, guidance=both, clip_x0=1.0,
                                generator=seeded(16))
    report = planning_report(to_unit_range(frames), to_unit_range(context), target, t_star, config,
                             true_states=clips.truth["states"][:4, c - 1].numpy())
    assert set(report["rates"]) == {"hit", "valid", "physical", "success", "reachable"}
    assert all(0.0 <= rate <= 1.0 for rate in report["rates"].values())
