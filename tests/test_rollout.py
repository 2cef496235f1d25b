"""Rollouts past the training horizon: sliding windows, carried GRU state, the regressor, video extension."""

import math

import pytest
import torch

from dfkit import data
from dfkit.diffusion.schedules import make_schedule, standard_normal
from dfkit.models.video import VideoBackbone, VideoBackboneConfig
from dfkit.sequence.objectives import DiffusionForcing, to_model_range
from dfkit.sequence.rollout import (
    ReconstructionGuidance, RolloutConfig, extend_video, rollout_recurrent, rollout_regressor, rollout_sliding_window,
)
from dfkit.sequence.sampler import sample_with_matrix
from dfkit.sequence.scheduling import autoregressive_matrix
from dfkit.train import TrainConfig, train
from test_sequence_sampler import Z, GaussianAR1Model, ar1_covariance, ground_truth_context, sampler_covariance
from helpers import graded_reference, seeded

pytestmark = pytest.mark.usefixtures("one_thread")

COSINE = make_schedule("cosine", 1000)
TINY = dict(image_size=16, widths=(8, 16), d_model=32, num_layers=2, num_heads=2, max_frames=4)
SHAPE = (1, 16, 16)


class Counting(VideoBackbone):
    """The backbone, remembering how many frames every call saw."""

    def __init__(self, config):
        super().__init__(config)
        self.lengths = []

    def forward(self, frames, levels, state=None, return_state=False, history=None):
        self.lengths.append((history.window_frames if history else 0) + frames.shape[1])   # a cached history is in the window
        return super().forward(frames, levels, state=state, return_state=return_state, history=history)


def tiny_model(temporal="causal", seed=0, **overrides):
    torch.manual_seed(seed)
    model = Counting(VideoBackboneConfig(temporal=temporal, **{**TINY, **overrides}))
    torch.nn.init.normal_(model.decoder.to_pixels.weight, std=0.1)
    torch.nn.init.normal_(model.decoder.gain.weight, std=0.1)
    return model.eval()


def context_frames(B=2, c=2, seed=1):
    return torch.rand(B, c, *SHAPE, generator=seeded(seed)) * 2 - 1


def per_chunk_noise(B, N, seed):
    """x_K as a chunk-by-chunk rollout draws it (one frame at a time, DDIM η = 0: nothing else is drawn)."""
    generator = seeded(seed)
    return torch.cat([standard_normal((B, 1, *SHAPE), generator) for _ in range(N)], dim=1)


# --------------------------------------------------------------------------- GRU: carried state


def test_carried_state_rollout_equals_sampling_the_whole_video_at_once():
    model, context = tiny_model("gru"), context_frames()
    config = RolloutConfig(steps=4, clip_x0=None)
    frames, state = rollout_recurrent(model, context, 5, COSINE, "v", config=config, generator=seeded(2), return_state=True)
    assert frames.shape == (2, 5, *SHAPE)
    # one call with the autoregressive matrix over all frames, history in the window: the GRU is causal
    whole = sample_with_matrix(model, autoregressive_matrix(5, 4), COSINE, context=context, parameterization="v",
                               noise=per_chunk_noise(2, 5, 2))
    assert torch.allclose(frames, whole, atol=1e-5)
    # and the carried state is the state after running the GRU once over the whole clean video
    with torch.no_grad():
        video = torch.cat([context, frames], 1)
        _, expected = model(video, torch.zeros(video.shape[:2], dtype=torch.long), return_state=True)
    assert torch.allclose(state, expected, atol=1e-5)


def test_recurrent_rollout_with_renoising():
    model, context = tiny_model("gru"), context_frames()
    plain = rollout_recurrent(model, context, 4, COSINE, config=RolloutConfig(steps=3), generator=seeded(3))
    for add_noise in (True, False):
        zero = rollout_recurrent(model, context, 4, COSINE, generator=seeded(3),
                                 config=RolloutConfig(steps=3, stabilization_level=0, add_stabilization_noise=add_noise))
        assert torch.equal(zero, plain), "stabilization level 0 is the plain rollout"
    noised = rollout_recurrent(model, context, 4, COSINE, config=RolloutConfig(steps=3, stabilization_level=100), generator=seeded(3))
    labelled = rollout_recurrent(model, context, 4, COSINE, generator=seeded(3),
                                 config=RolloutConfig(steps=3, stabilization_level=100, add_stabilization_noise=False))
    assert not torch.equal(noised, plain) and not torch.equal(labelled, plain) and not torch.equal(noised, labelled)
    assert bool(noised.abs().max() <= 1.0) and torch.isfinite(noised).all()


# --------------------------------------------------------------------------- transformers: sliding window


@pytest.mark.parametrize("kind,chunk", [("autoregressive", 1), ("autoregressive", 2), ("pyramid", 3), ("full_sequence", 2)])
def test_sliding_window_runs_four_horizons_within_max_window(kind, chunk):
    model, context = tiny_model("causal"), context_frames(c=1)
    config = RolloutConfig(steps=3, kind=kind, chunk=chunk, stabilization_level=20)
    frames = rollout_sliding_window(model, context, 16, COSINE, config=config, generator=seeded(4))
    assert frames.shape == (2, 16, *SHAPE) and torch.isfinite(frames).all() and bool(frames.abs().max() <= 1.0)
    assert max(model.lengths) == 4 == model.max_window
    sizes = [min(chunk, 16 - start) for start in range(0, 16, chunk)]
    assert len(model.lengths) == sum(config.matrix(n, 1000).shape[0] - 1 for n in sizes), "one call per matrix row"


@pytest.mark.parametrize("kind,chunk,num_frames", [("autoregressive", 1, 7), ("pyramid", 2, 6), ("autoregressive", 1, 1)])
def test_a_bidirectional_model_always_sees_a_full_window(kind, chunk, num_frames):
    # trained on windows of exactly max_frames frames: after a 1-frame context the first call fills the window
    model, context = tiny_model("bidirectional"), context_frames(c=1)
    config = RolloutConfig(steps=3, kind=kind, chunk=chunk)
    frames = rollout_sliding_window(model, context, num_frames, COSINE, config=config, generator=seeded(4))
    assert frames.shape == (2, num_frames, *SHAPE) and torch.isfinite(frames).all()
    assert set(model.lengths) == {4}, "every call sees history + new frames = the whole window"
    first = config.matrix(3, 1000).shape[0] - 1                       # 1 context frame + 3 new ones
    later = config.matrix(chunk, 1000).shape[0] - 1
    calls = 1 + math.ceil(max(num_frames - 3, 0) / chunk)
    assert len(model.lengths) == first + (calls - 1) * later
    # the causal model still samples only the frames it needs
    causal = tiny_model("causal")
    rollout_sliding_window(causal, context, num_frames, COSINE, config=config, generator=seeded(4))
    assert min(causal.lengths) < 4


def test_sliding_window_with_clean_history_is_the_autoregressive_sampler():
    model, context = tiny_model("causal"), context_frames(c=1)
    frames = rollout_sliding_window(model, context, 3, COSINE, "v", config=RolloutConfig(steps=4, clip_x0=None), generator=seeded(5))
    whole = sample_with_matrix(model, autoregressive_matrix(3, 4), COSINE, context=context, parameterization="v",
                               noise=per_chunk_noise(2, 3, 5))
    assert torch.allclose(frames, whole, atol=1e-5)


def test_sliding_window_stabilization_zero_is_plain():
    model, context = tiny_model("causal"), context_frames()
    plain = rollout_sliding_window(model, context, 5, COSINE, config=RolloutConfig(steps=3, update="ddpm"), generator=seeded(6))
    zero = rollout_sliding_window(model, context, 5, COSINE, generator=seeded(6),
                                  config=RolloutConfig(steps=3, update="ddpm", stabilization_level=0, add_stabilization_noise=True))
    assert torch.equal(plain, zero)


def test_sliding_window_rollout_of_the_exact_markov_model_keeps_the_joint():
    """Four horizons of the AR(1) video from a window of 3 frames: the process is Markov, so two
    history frames are enough and the rollout must keep the stationary joint Σ_ij = a^|i-j|.

    Allowance for DDIM: one new frame's conditional variance comes out multiplied by f < 1
    (computed exactly by the recursion); the rollout's variances then tend to f, and every
    covariance is off by at most 1 - f."""
    n, c, steps, new = 4000, 2, 50, 10
    context = ground_truth_context(c, seed=7)
    config = RolloutConfig(steps=steps, clip_x0=None)
    frames = rollout_sliding_window(GaussianAR1Model(), context, new, COSINE, config=config, window=c + 1, generator=seeded(8))
    video = torch.cat([context, frames], 1).reshape(n, c + new).double()
    truth = ar1_covariance(c + new)
    one_call = sampler_covariance(ar1_covariance(c + 1), autoregressive_matrix(1, steps), num_context=c)
    f = float(one_call[c, c] - one_call[c, :c] @ torch.linalg.solve(one_call[:c, :c], one_call[:c, c])) / (1 - 0.8**2)
    assert 0.9 < f < 1
    standard_error = ((1 + truth**2) / n).sqrt()
    assert bool(((torch.cov(video.T) - truth).abs() <= Z * standard_error + (1 - f)).all())
    assert bool((video.mean(0).abs() <= Z / math.sqrt(n)).all())


# --------------------------------------------------------------------------- the regressor


class Shrink(torch.nn.Module):
    """A causal "regressor" whose next frame is 0.9 times the current one."""

    is_causal, max_window = True, 3

    def __init__(self):
        super().__init__()
        self.lengths = []

    def forward(self, frames, levels):
        assert bool((levels == 0).all())
        self.lengths.append(frames.shape[1])
        return 0.9 * frames


def test_regressor_rollout_feeds_its_own_predictions():
    model, context = Shrink(), context_frames(c=3)
    frames = rollout_regressor(model, context, 12)
    expected = context[:, -1:] * 0.9 ** torch.arange(1, 13).view(1, 12, 1, 1, 1)
    assert torch.allclose(frames, expected) and max(model.lengths) == 3
    with pytest.raises(ValueError, match="at most window - chunk = 3 context frames"):
        rollout_regressor(model, context_frames(c=4), 2)


def test_the_graded_free_running_loop_is_the_regressor_rollout():
    """Lesson 04's graded autoregressive_rollout (a loop over a next-frame sampler) gives rollout_regressor's
    frames when its sampler is the regressor's last output on the window."""
    autoregressive_rollout, _ = graded_reference("04_teacher_forcing.autoregressive_rollout")
    model, context = tiny_model(max_frames=3), context_frames(c=3)

    def sample_next(window):
        with torch.no_grad():
            return model(window, torch.zeros(window.shape[:2], dtype=torch.long))[:, -1]

    assert torch.equal(autoregressive_rollout(sample_next, context, 5, 3), rollout_regressor(model, context, 5, window=3))


def test_gru_regressor_carries_its_state_like_one_pass():
    model, context = tiny_model("gru"), context_frames(c=2)
    frames = rollout_regressor(model, context, 5)
    assert model.lengths == [2, 1, 1, 1, 1], "the context once, then one frame at a time"
    with torch.no_grad():
        video = torch.cat([context, frames[:, :-1]], 1)
        again = model(video, torch.zeros(video.shape[:2], dtype=torch.long))[:, 1:]
    assert torch.allclose(frames, again, atol=1e-5)


# --------------------------------------------------------------------------- full-sequence extension


def test_extend_video_replaces_with_the_graded_replace_known():
    """Lesson 05's graded replace_known is this module's, the replacement step extend_video runs before every model call."""
    from dfkit.lessons import full_sequence
    from dfkit.sequence import rollout

    reference, path = graded_reference("05_full_sequence.replace_known")
    assert reference is rollout.replace_known is full_sequence.replace_known and path == "dfkit.sequence.rollout.replace_known"
    x, known, noise = torch.randn(2, 4, *SHAPE), context_frames(c=3), torch.randn(2, 3, *SHAPE)
    levels = torch.randint(0, 1001, (2, 4))
    replaced = rollout.replace_known(x, levels, known, noise, COSINE)
    assert torch.equal(replaced[:, 3:], x[:, 3:]) and torch.allclose(replaced[:, :3], (
        COSINE.alpha_bar(levels[:, :3], like=known).sqrt() * known + COSINE.one_minus_alpha_bar(levels[:, :3], like=known).sqrt() * noise))


def test_replacement_shows_the_model_noisy_ground_truth_at_the_current_level():
    model, known = tiny_model("bidirectional"), context_frames(c=2)
    seen = []

    def spy(frames, levels):
        seen.append((frames.clone(), levels.clone()))
        return model(frames, levels)

    spy.max_window = 4
    out = extend_video(spy, known, 2, COSINE, config=RolloutConfig(steps=4, chunk=2), generator=seeded(9))
    assert out.shape == (2, 2, *SHAPE) and bool(out.abs().max() <= 1)
    for frames, levels in seen:
        assert bool((levels == levels[:, :1]).all()), "one level for the whole window"
        root = COSINE.alpha_bar(levels[:, :2], like=known).sqrt()
        noise = (frames[:, :2] - root * known) / COSINE.one_minus_alpha_bar(levels[:, :2], like=known).sqrt()
        assert 0.7 < float(noise.std()) < 1.3, "the known frames enter as q_sample of the truth"
    assert len(seen) == 4


def test_replacement_conditions_weakly_and_reconstruction_guidance_helps():
    """The lecture's consistency problem, measured exactly: the AR(1) frame after the known ones
    should correlate 0.8 with the last known frame; the replacement method gets far less."""
    known = ground_truth_context(2, seed=10)

    def correlation(method, weight=1.0):
        out = extend_video(GaussianAR1Model(), known, 3, COSINE, config=RolloutConfig(steps=10, chunk=3, clip_x0=None),
                           window=5, method=method, reconstruction_weight=weight, generator=seeded(11))
        pair = torch.stack([known[:, -1].flatten(), out[:, 0].flatten()]).double()
        return float(torch.cov(pair)[0, 1])

    replaced, guided = correlation("replacement"), correlation("reconstruction", 5.0)
    assert replaced < 0.5 < 0.7 < guided < 0.9


def test_reconstruction_guidance_needs_gradients_and_corrects_only_unknown_frames():
    assert ReconstructionGuidance.requires_grad is True
    model = GaussianAR1Model()
    known = ground_truth_context(2, seed=12)[:5]
    captured = []

    class Spy(ReconstructionGuidance):
        def __call__(self, g):
            correction = super().__call__(g)
            captured.append(correction)
            return correction

    from dfkit.sequence.scheduling import full_sequence_matrix
    sample_with_matrix(model, full_sequence_matrix(4, 3), COSINE, shape=(5, 4, 1, 1, 1), guidance=Spy(known, 2.0), generator=seeded(13))
    assert len(captured) == 3
    assert all(bool((c[:, :2] == 0).all()) and bool((c[:, 2:] != 0).any()) for c in captured)


def test_reconstruction_guidance_steps_with_the_graded_reconstruction_guided_x0():
    """Lesson 05's graded reconstruction_gradient and reconstruction_guided_x0 are this module's: the hook's
    x̂_0 + correction is reconstruction_guided_x0 of the gradient reconstruction_gradient takes, bit for bit
    (the hook takes that gradient through the sampler's own model call, so it does not call the function)."""
    from dfkit.diffusion.ddpm import to_x0_eps
    from dfkit.lessons import full_sequence
    from dfkit.sequence import rollout
    from dfkit.sequence.sampler import GuidanceInput

    for name in ("reconstruction_gradient", "reconstruction_guided_x0"):
        reference, path = graded_reference(f"05_full_sequence.{name}")
        assert reference is getattr(rollout, name) is getattr(full_sequence, name) and path == f"dfkit.sequence.rollout.{name}"
    model, known = tiny_model("bidirectional"), context_frames(c=2)
    x_k, levels = torch.randn(2, 4, *SHAPE, generator=seeded(14)), torch.tensor([[600] * 4, [250] * 4])
    window = x_k.clone().requires_grad_(True)
    prediction = model(window, levels)
    x0_hat = to_x0_eps(prediction, "v", window, levels, COSINE)[0]
    correction = ReconstructionGuidance(known, 1.5)(GuidanceInput(window, levels, levels, prediction, x0_hat, 0, 0, COSINE, "v"))
    gradient = rollout.reconstruction_gradient(lambda x, k: to_x0_eps(model(x, k), "v", x, k, COSINE)[0], x_k, levels, known)
    expected = rollout.reconstruction_guided_x0(x0_hat.detach(), gradient, levels, 1.5, 2, COSINE)
    assert torch.equal(x0_hat.detach() + correction, expected) and bool((correction[:, 2:] != 0).any())


# --------------------------------------------------------------------------- bad inputs


def test_bad_rollout_inputs_fail_clearly():
    causal, gru = tiny_model("causal"), tiny_model("gru")
    with pytest.raises(ValueError, match="at most window - chunk = 3 context frames"):
        rollout_sliding_window(causal, context_frames(c=4), 2, COSINE)
    with pytest.raises(ValueError, match="window <= the model's max_window=4"):
        rollout_sliding_window(causal, context_frames(c=1), 2, COSINE, window=6)
    with pytest.raises(ValueError, match="chunk < window"):
        rollout_sliding_window(causal, context_frames(c=1), 2, COSINE, config=RolloutConfig(chunk=4))
    with pytest.raises(ValueError, match=r"shape \(B, c, C, H, W\) with c >= 1"):
        rollout_sliding_window(causal, torch.zeros(2, 16, 16), 2, COSINE)
    with pytest.raises(ValueError, match=r"shape \(B, c, C, H, W\) with c >= 1"):
        rollout_recurrent(gru, torch.zeros(2, 0, *SHAPE), 2, COSINE)
    with pytest.raises(ValueError, match="num_frames to be an int >= 1"):
        rollout_sliding_window(causal, context_frames(c=1), 0, COSINE)
    with pytest.raises(ValueError, match="expected window="):
        rollout_sliding_window(gru, context_frames(c=1), 2, COSINE)
    with pytest.raises(ValueError, match="recurrent backbone"):
        rollout_recurrent(causal, context_frames(c=1), 2, COSINE)
    with pytest.raises(ValueError, match="kind in"):
        rollout_sliding_window(causal, context_frames(c=1), 2, COSINE, config=RolloutConfig(kind="zigzag"))
    with pytest.raises(ValueError, match="method in"):
        extend_video(causal, context_frames(c=1), 2, COSINE, method="inpaint")
    with pytest.raises(ValueError, match="causal next-frame regressor"):
        rollout_regressor(tiny_model("bidirectional"), context_frames(c=1), 2)
    with pytest.raises(ValueError, match=r"expected frames of shape \(B, T, 1, 16, 16\)"):
        rollout_sliding_window(causal, torch.zeros(2, 1, 1, 8, 8), 2, COSINE)


# --------------------------------------------------------------------------- end to end


def test_tiny_diffusion_forcing_model_rolls_out_three_horizons_on_the_pendulum():
    horizon = 6
    clips = data.load("pendulum", "train", progress=False, num_sequences=64, num_frames=12, image_size=16)
    torch.manual_seed(0)
    model = VideoBackbone(VideoBackboneConfig(temporal="causal", **{**TINY, "max_frames": horizon}))
    loss_fn = DiffusionForcing(COSINE, window=horizon, shared_level_fraction=0.1)
    result = train(model, loss_fn, clips.frames(), TrainConfig(steps=100, batch_size=8, lr=2e-3, progress=False, device="cpu"))
    assert result.losses[-1] < result.losses[0]
    context = to_model_range(clips.frames(range(3))[:, :2])
    for config in (RolloutConfig(steps=4), RolloutConfig(steps=4, chunk=2, kind="pyramid", stabilization_level=50)):
        frames = rollout_sliding_window(result.ema_model, context, 3 * horizon, COSINE, config=config, generator=seeded(14))
        assert frames.shape == (3, 3 * horizon, *SHAPE)
        assert torch.isfinite(frames).all() and bool(frames.abs().max() <= 1.0)
