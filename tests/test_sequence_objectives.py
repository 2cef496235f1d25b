"""The four sequence objectives: what the model is shown, at which levels, and what it is graded on."""

import math

import pytest
import torch

from dfkit.diffusion.schedules import make_schedule, standard_normal
from dfkit.models.video import VideoBackbone, VideoBackboneConfig
from dfkit.sequence.objectives import (
    DiffusionForcing, FullSequenceDiffusion, NextFrameRegression, TeacherForcing, batch_frames, full_sequence_noise, noisy_clips,
    random_windows, teacher_forcing_input, to_model_range, to_unit_range,
)
from dfkit.train import TrainConfig, train
from helpers import graded_reference, seeded

pytestmark = pytest.mark.usefixtures("one_thread")

COSINE = make_schedule("cosine", 1000)
Z = 4.5
TINY = dict(image_size=16, widths=(8, 16), d_model=32, num_layers=2, num_heads=2, max_frames=8)


def clips(B=4, T=6, seed=0):
    return torch.rand(B, T, 1, 16, 16, generator=seeded(seed))             # [0, 1], like dfkit.data


class Recorder(torch.nn.Module):
    """A video "model" that remembers its inputs and predicts a fixed multiple of them."""

    def __init__(self, is_causal=True):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.tensor(0.5))
        self.is_causal, self.calls = is_causal, []

    def forward(self, frames, levels):
        assert frames.dim() == 5 and levels.shape == frames.shape[:2]
        self.calls.append((frames.detach().clone(), levels.clone()))
        return self.scale * frames


# --------------------------------------------------------------------------- teacher forcing


@pytest.mark.parametrize("context", [1, 3])
def test_teacher_forcing_shows_the_model_the_graded_teacher_forcing_input(context):
    """Lesson 04's graded teacher_forcing_input is this module's, and TeacherForcing with ``context=c``
    shows the model exactly the window it builds from the objective's own draws."""
    reference, path = graded_reference("04_teacher_forcing.teacher_forcing_input")
    assert reference is teacher_forcing_input and path == "dfkit.sequence.objectives.teacher_forcing_input"
    from dfkit.lessons import teacher_forcing

    assert teacher_forcing.teacher_forcing_input is teacher_forcing_input
    frames, model = clips(B=5, T=6, seed=14) * 2 - 1, Recorder()
    TeacherForcing(COSINE, "v", context=context, rescale=False)(model, frames, seeded(15))
    generator = seeded(15)                                  # the objective's draws: window starts, levels, noise
    window = random_windows(frames, context + 1, generator)
    k = torch.randint(1, 1001, (5, 1), generator=generator)[:, 0]
    noise = torch.randn(5, 1, 1, 16, 16, generator=generator)[:, 0]
    inputs, levels = teacher_forcing_input(window[:, :context], window[:, context], k, COSINE, noise)
    assert torch.equal(model.calls[0][0], inputs) and torch.equal(model.calls[0][1], levels)


@pytest.mark.parametrize("context", [1, 2])
def test_teacher_forcing_never_shows_the_clean_target(context):
    """Two batches that differ only in the target frame, same generator: the model inputs differ
    only at the target position, by sqrt(ᾱ_k) times the change: it sees the target through noise only."""
    loss_fn = TeacherForcing(COSINE, context=context)
    first = clips(B=8, T=context + 1)
    second = first.clone()
    second[:, -1] = torch.rand(8, 1, 16, 16, generator=seeded(1))            # a different clean target
    model = Recorder()
    loss_fn(model, first, seeded(2))
    loss_fn(model, second, seeded(2))
    (inputs_a, levels_a), (inputs_b, levels_b) = model.calls
    assert inputs_a.shape == (8, context + 1, 1, 16, 16), "the model sees context + 1 frames"
    assert torch.equal(levels_a, levels_b)
    assert bool((levels_a[:, :context] == 0).all()) and bool((levels_a[:, context] >= 1).all())
    assert torch.equal(inputs_a[:, :context], to_model_range(first[:, :context])), "clean history at level 0"
    change = to_model_range(second[:, -1]) - to_model_range(first[:, -1])
    root = COSINE.alpha_bar(levels_a[:, context], like=change).sqrt()
    assert torch.allclose(inputs_b[:, context] - inputs_a[:, context], root * change, atol=1e-5)
    noise_part = inputs_a[:, context] - root * to_model_range(first[:, -1])
    assert float(noise_part.std()) > 0.1, "the target is noised"


def test_full_history_teacher_forcing_masks_the_future_with_pure_noise():
    loss_fn = TeacherForcing(COSINE, context=None)
    batch = clips(B=64, T=6)
    later = batch.clone()
    model = Recorder()
    loss_fn(model, batch, seeded(4))
    frames, levels = model.calls[0]
    K = COSINE.num_levels
    first_noisy = (levels != 0).int().argmax(1)                             # the target: first non-clean frame
    for b in range(64):
        t = int(first_noisy[b])
        assert bool((levels[b, :t] == 0).all()) and bool((levels[b, t + 1 :] == K).all())
        assert torch.equal(frames[b, :t], to_model_range(batch[b, :t]))
    assert set(first_noisy.tolist()) == set(range(6)), "every position is a target sometime, including p(x_1)"
    # the future carries nothing of the clip: change it, the inputs stay the same
    for b in range(64):
        later[b, int(first_noisy[b]) + 1 :] = 0.0
    loss_fn(model, later, seeded(4))
    assert torch.equal(model.calls[1][0], frames)


def test_teacher_forcing_chunks_share_one_level():
    model = Recorder()
    TeacherForcing(COSINE, context=2, num_targets=3)(model, clips(B=16, T=8), seeded(5))
    frames, levels = model.calls[0]
    assert frames.shape[1] == 5 and bool((levels[:, :2] == 0).all())
    assert bool((levels[:, 2:] == levels[:, 2:3]).all()) and bool((levels[:, 2:] >= 1).all())


def test_history_noise_augments_the_history_with_one_level_per_clip():
    """history_noise=m: every clip's history frames share one level k_h ~ U{0..m} and are q_sample of the
    clean history at k_h (fresh noise per frame); the target is still noised (level >= 1)."""
    m, B, c = 4, 400, 2
    batch = clips(B=B, T=c + 1)
    model = Recorder()
    TeacherForcing(COSINE, context=c, history_noise=m)(model, batch, seeded(6))
    frames, levels = model.calls[0]
    history_levels = levels[:, :c]
    assert bool((history_levels == history_levels[:, :1]).all()), "one level per clip for all its history frames"
    counts = torch.bincount(history_levels[:, 0], minlength=m + 1)
    assert counts.numel() == m + 1 and bool((counts > 0).all()), "every level in {0..m} is drawn, 0 included"
    expected = B / (m + 1)
    assert float((counts.float() - expected).abs().max()) < Z * math.sqrt(expected)
    assert bool((levels[:, c] >= 1).all())
    clean = to_model_range(batch[:, :c])
    noises = []
    for b in range(B):
        k = int(history_levels[b, 0])
        if k == 0:
            assert torch.equal(frames[b, :c], clean[b]), "level 0: the clean history"
            continue
        root, spread = math.sqrt(float(COSINE.alpha_bars[k])), math.sqrt(float(COSINE.one_minus_alpha_bars[k]))
        noises.append((frames[b, :c] - root * clean[b]) / spread)           # ε of x_k = sqrt(ᾱ) x_0 + sqrt(1 - ᾱ) ε
    noise = torch.stack(noises).flatten(2)                                 # (clips, c, pixels)
    n = noise.numel()
    assert abs(float(noise.mean())) < Z / math.sqrt(n) and abs(float(noise.std()) - 1) < Z * math.sqrt(0.5 / n)
    correlation = float((noise[:, 0] * noise[:, 1]).mean())
    assert abs(correlation) < Z / math.sqrt(n / c), "fresh noise for every history frame"
    # plain teacher forcing is history_noise=0, with the same random draws
    plain, zero = Recorder(), Recorder()
    TeacherForcing(COSINE, context=c)(plain, batch, seeded(6))
    TeacherForcing(COSINE, context=c, history_noise=0)(zero, batch, seeded(6))
    assert all(torch.equal(a, b) for a, b in zip(plain.calls[0], zero.calls[0]))
    assert bool((plain.calls[0][1][:, :c] == 0).all())


# --------------------------------------------------------------------------- regression


def test_next_frame_regression_predicts_frame_t_plus_one_from_clean_frames():
    model = Recorder()
    batch = clips(B=3, T=5)
    loss = NextFrameRegression()(model, batch, seeded(6))
    frames, levels = model.calls[0]
    x = to_model_range(batch)
    assert torch.equal(frames, x[:, :-1]) and bool((levels == 0).all())
    assert torch.allclose(loss, ((0.5 * x[:, :-1] - x[:, 1:]) ** 2).mean())
    with pytest.raises(ValueError, match="causal"):
        NextFrameRegression()(Recorder(is_causal=False), batch, seeded(6))
    with pytest.raises(ValueError, match="window >= 2"):
        NextFrameRegression(window=1)


# --------------------------------------------------------------------------- level draws


def test_full_sequence_uses_one_level_per_clip():
    model = Recorder(is_causal=False)
    FullSequenceDiffusion(COSINE, window=4)(model, clips(B=256, T=6), seeded(7))
    frames, levels = model.calls[0]
    assert frames.shape[1] == 4
    assert bool((levels == levels[:, :1]).all()) and bool((levels >= 1).all())
    assert len(set(levels[:, 0].tolist())) > 150, "levels differ between clips"


def frame_correlations(levels):
    centred = levels.double() - levels.double().mean(0)
    covariance = centred.T @ centred / levels.shape[0]
    scale = covariance.diagonal().sqrt()
    return covariance / scale[:, None] / scale[None, :]


def test_diffusion_forcing_levels_are_independent_and_uniform_including_zero():
    schedule = make_schedule("cosine", 10)                                 # K = 10: level 0 is common enough to count
    n, T = 20_000, 6
    levels = DiffusionForcing(schedule).draw_levels(n, T, seeded(8))
    correlation = frame_correlations(levels)
    off_diagonal = correlation - torch.eye(T, dtype=torch.float64)
    assert float(off_diagonal.abs().max()) < Z / math.sqrt(n), "frames must get independent levels"
    counts = torch.bincount(levels.flatten(), minlength=11).double()
    expected = n * T / 11
    assert float(((counts - expected) / math.sqrt(expected)).abs().max()) < Z, "levels must be uniform on 0..K"
    assert bool((DiffusionForcing(schedule, min_level=1).draw_levels(1000, T, seeded(9)) >= 1).all())


@pytest.mark.parametrize("fraction", [0.0, 0.3, 1.0])
def test_shared_level_fraction(fraction):
    n, T = 4000, 6
    levels = DiffusionForcing(COSINE, shared_level_fraction=fraction).draw_levels(n, T, seeded(10))
    shared = (levels == levels[:, :1]).all(1)
    # independent rows coincide with probability ~ 1001^-5: every all-equal row is a shared one
    observed = float(shared.double().mean())
    assert abs(observed - fraction) <= Z * math.sqrt(fraction * (1 - fraction) / n) + 1e-12
    independent = levels[~shared]
    if independent.shape[0] > 100:
        off_diagonal = frame_correlations(independent) - torch.eye(T, dtype=torch.float64)
        assert float(off_diagonal.abs().max()) < Z / math.sqrt(independent.shape[0])


def test_level_shift_moves_every_objectives_training_levels_up():
    """level_shift = 1 leaves the draws as they were (checkpoints stay reproducible); s = 3 trains the
    top fifth of the levels in about 43% of the draws (uniform: 20%), the teacher-forced target included."""
    n, T, top = 4000, 6, 800
    for make in (lambda **kw: DiffusionForcing(COSINE, **kw), lambda **kw: FullSequenceDiffusion(COSINE, **kw)):
        assert torch.equal(make().draw_levels(n, T, seeded(4)), make(level_shift=1.0).draw_levels(n, T, seeded(4)))
        shares = [float((make(level_shift=s).draw_levels(n, T, seeded(4)) > top).double().mean()) for s in (1.0, 3.0)]
        assert abs(shares[0] - 0.2) < 0.03 and abs(shares[1] - 3 / 7) < 0.03, shares
    target_levels = []
    for shift in (1.0, 3.0):
        model = Recorder()
        for seed in range(20):
            TeacherForcing(COSINE, context=2, level_shift=shift)(model, clips(B=64, T=3), seeded(seed))
        target_levels.append(torch.cat([levels[:, -1] for _, levels in model.calls]))  # (1280,)
        assert bool((torch.cat([levels[:, :-1] for _, levels in model.calls]) == 0).all()), "the history stays clean"
    shares = [float((levels > top).double().mean()) for levels in target_levels]
    assert abs(shares[0] - 0.2) < 0.04 and abs(shares[1] - 3 / 7) < 0.04, shares


def test_clean_history_fraction_starts_a_share_of_clips_with_clean_frames():
    n, T, fraction = 4000, 6, 0.3
    loss_fn = DiffusionForcing(COSINE, clean_history_fraction=fraction)
    levels, history = loss_fn.draw_levels_and_history(n, T, seeded(15))
    assert torch.equal(levels, loss_fn.draw_levels(n, T, seeded(15)))
    assert bool((levels[history] == 0).all())
    lengths = history.sum(1)                                                    # (B,) j, 0 for the other clips
    assert torch.equal(history, torch.arange(T)[None] < lengths[:, None]), "the history is a prefix"
    chosen = lengths > 0
    assert abs(float(chosen.double().mean()) - fraction) <= Z * math.sqrt(fraction * (1 - fraction) / n)
    counts = torch.bincount(lengths[chosen], minlength=T).double()[1:]          # j uniform on 1..T-1
    expected = float(chosen.sum()) / (T - 1)
    assert float(((counts - expected) / math.sqrt(expected)).abs().max()) < Z
    assert float((levels[~history] == 0).double().mean()) < 0.01, "the other frames keep their independent levels"
    assert not DiffusionForcing(COSINE).draw_levels_and_history(50, T, seeded(16))[1].any()


def test_sorted_levels_order_each_clips_own_levels_along_time():
    n, T = 2000, 6
    independent = DiffusionForcing(COSINE, level_shift=3.0).draw_levels(n, T, seeded(17))
    ordered = DiffusionForcing(COSINE, level_shift=3.0, sorted_levels=True).draw_levels(n, T, seeded(17))
    assert torch.equal(ordered, independent.sort(dim=1).values), "the same draws, each clip's sorted"
    assert bool((ordered[:, 1:] >= ordered[:, :-1]).all()) and not bool((independent[:, 1:] >= independent[:, :-1]).all())
    levels, history = DiffusionForcing(COSINE, sorted_levels=True, clean_history_fraction=0.5).draw_levels_and_history(n, T, seeded(18))
    assert history.any() and bool((levels[:, 1:] >= levels[:, :-1]).all()), "a clean history keeps the order"


class CleanFrameSaboteur(torch.nn.Module):
    """Predicts 0, except a huge value at frames shown clean: any loss on them would explode."""

    def __init__(self):
        super().__init__()
        self.bias = torch.nn.Parameter(torch.zeros(()))

    def forward(self, frames, levels):
        return torch.where((levels == 0)[..., None, None, None], 1e6, self.bias.expand_as(frames))


def test_clean_history_frames_carry_no_loss():
    batch = clips(B=64, T=6)
    loss = DiffusionForcing(COSINE, parameterization="v", clean_history_fraction=1.0)(CleanFrameSaboteur(), batch, seeded(17))
    assert 0.1 < loss.item() < 10, "a v target has unit scale; a clean frame in the loss would add ~1e12"
    from dfkit.diffusion.ddpm import diffusion_loss

    x0, k = torch.randn(2, 3, 1, 2, 2), torch.tensor([[0, 5, 9], [3, 0, 7]])
    mask = torch.tensor([[False, True, True], [True, False, True]])
    noise = torch.randn(x0.shape, generator=seeded(18))
    masked = diffusion_loss(lambda x, levels: torch.zeros_like(x), x0, make_schedule("cosine", 10), k=k, noise=noise, loss_mask=mask)
    assert torch.allclose(masked, (noise[mask] ** 2).mean())
    with pytest.raises(ValueError, match="loss_mask as a bool tensor"):
        diffusion_loss(lambda x, levels: x, x0, make_schedule("cosine", 10), k=k, loss_mask=mask.float())


def test_diffusion_forcing_loss_sees_the_per_frame_levels():
    model = Recorder()
    loss_fn = DiffusionForcing(COSINE, window=5)
    loss_fn(model, {"frames": clips(B=32, T=6)}, seeded(11))
    frames, levels = model.calls[0]
    assert frames.shape == (32, 5, 1, 16, 16)
    assert float((levels != levels[:, :1]).any(1).double().mean()) == 1.0
    assert torch.equal(levels, loss_fn.draw_levels(32, 5, _after_window(seeded(11), 32, 6, 5)))


@pytest.mark.parametrize("min_level", [0, 3])
def test_diffusion_forcing_feeds_the_model_the_graded_noisy_clips(min_level):
    """Lesson 06's graded noisy_clips is this module's, and Diffusion Forcing's default objective
    shows the model exactly its noisy clips at its levels (same generator, same draws)."""
    reference, path = graded_reference("06_diffusion_forcing.noisy_clips")
    assert reference is noisy_clips and path == "dfkit.sequence.objectives.noisy_clips"
    from dfkit.lessons import diffusion_forcing

    assert diffusion_forcing.noisy_clips is noisy_clips
    frames = clips(B=5, T=4, seed=12) * 2 - 1
    model = Recorder()
    DiffusionForcing(COSINE, min_level=min_level, rescale=False)(model, frames, seeded(13))
    noisy, levels, _ = noisy_clips(frames, COSINE, min_level, seeded(13))
    assert torch.equal(model.calls[0][0], noisy) and torch.equal(model.calls[0][1], levels)


@pytest.mark.parametrize("options", [{}, {"level_shift": 3.0}, {"window": 4, "parameterization": "v"}])
def test_full_sequence_diffusion_feeds_the_model_the_graded_full_sequence_noise(options):
    """Lesson 05's graded full_sequence_noise is this module's, and FullSequenceDiffusion shows the model
    exactly its noisy clips at its levels: k per clip, then ε from the same generator (the objective's
    noising happens inside diffusion_loss, lesson 02's graded loss, so it is not called there)."""
    reference, path = graded_reference("05_full_sequence.full_sequence_noise")
    assert reference is full_sequence_noise and path == "dfkit.sequence.objectives.full_sequence_noise"
    from dfkit.lessons import full_sequence

    assert full_sequence.full_sequence_noise is full_sequence_noise
    frames, model = clips(B=5, T=6, seed=14) * 2 - 1, Recorder(is_causal=False)
    loss_fn = FullSequenceDiffusion(COSINE, rescale=False, **options)
    loss_fn(model, frames, seeded(15))
    generator = seeded(15)
    window = random_windows(frames, options.get("window", 6), generator)
    k = loss_fn.draw_levels(5, window.shape[1], generator)[:, 0]                           # (B,)
    noise = standard_normal(window.shape, generator, window.device, window.dtype)
    noisy, levels = full_sequence_noise(window, k, noise, COSINE)
    assert torch.equal(model.calls[0][0], noisy) and torch.equal(model.calls[0][1], levels)


def _after_window(generator, B, T, window):
    """The generator state after the window draw: levels are drawn right after it."""
    torch.randint(0, T - window + 1, (B,), generator=generator)
    return generator


# --------------------------------------------------------------------------- with the training loop


@pytest.mark.parametrize(
    "temporal,loss_fn",
    [
        ("causal", TeacherForcing(COSINE, context=2)),
        ("causal", TeacherForcing(COSINE, context=None, parameterization="v", min_snr_gamma=5.0)),
        ("gru", NextFrameRegression(window=4)),
        ("bidirectional", FullSequenceDiffusion(COSINE, parameterization="x0", window=4)),
        ("gru", DiffusionForcing(COSINE, window=4, shared_level_fraction=0.25)),
        ("causal", DiffusionForcing(COSINE, parameterization="v", window=4, clean_history_fraction=0.5)),
    ],
)
def test_objectives_train_with_the_course_loop(temporal, loss_fn):
    torch.manual_seed(0)
    model = VideoBackbone(VideoBackboneConfig(temporal=temporal, **TINY))
    data = {"frames": clips(B=16, T=6)}
    result = train(model, loss_fn, data, TrainConfig(steps=3, batch_size=4, progress=False, ema_decay=None, device="cpu"))
    assert len(result.losses) == 3 and all(math.isfinite(v) for v in result.losses)


def test_same_generator_same_loss_and_every_batch_format():
    torch.manual_seed(0)
    model = VideoBackbone(VideoBackboneConfig(temporal="causal", **TINY))
    batch = clips(B=4, T=6)
    loss_fn = DiffusionForcing(COSINE, window=4)
    values = [loss_fn(model, b, seeded(12)) for b in (batch, {"frames": batch}, (batch, torch.zeros(4)))]
    assert values[0] == values[1] == values[2]
    assert loss_fn(model, batch, seeded(13)) != values[0]


def test_ranges_and_windows():
    x = clips(B=2, T=4)
    assert torch.allclose(to_unit_range(to_model_range(x)), x)
    assert torch.equal(batch_frames(x, rescale=False), x)
    window = random_windows(torch.arange(10.0).view(1, 10, 1, 1, 1).expand(50, 10, 1, 1, 1), 3, seeded(14))
    starts = window[:, 0, 0, 0, 0]
    assert torch.equal(window[:, :, 0, 0, 0], starts[:, None] + torch.arange(3.0)), "consecutive frames"
    assert set(starts.long().tolist()) == set(range(8))


def test_bad_configurations_and_batches_fail_clearly():
    with pytest.raises(ValueError, match="parameterization"):
        TeacherForcing(COSINE, parameterization="score")
    with pytest.raises(ValueError, match="context to be None or an int >= 0"):
        TeacherForcing(COSINE, context=-1)
    with pytest.raises(ValueError, match="window=None with an int context"):
        TeacherForcing(COSINE, context=1, window=4)
    for level in (-1, 1001, True, 2.5):
        with pytest.raises(ValueError, match=r"history_noise to be an int level in \[0, K=1000\]"):
            TeacherForcing(COSINE, history_noise=level)
    with pytest.raises(ValueError, match=r"shared_level_fraction in \[0, 1\]"):
        DiffusionForcing(COSINE, shared_level_fraction=1.5)
    with pytest.raises(ValueError, match=r"clean_history_fraction in \[0, 1\]"):
        DiffusionForcing(COSINE, clean_history_fraction=-0.1)
    with pytest.raises(ValueError, match="min_level"):
        DiffusionForcing(COSINE, min_level=1001)
    with pytest.raises(ValueError, match="min_snr_gamma > 0"):
        FullSequenceDiffusion(COSINE, min_snr_gamma=0.0)
    for make in (TeacherForcing, FullSequenceDiffusion, DiffusionForcing):
        with pytest.raises(ValueError, match="finite level_shift > 0"):
            make(COSINE, level_shift=0.0)
    with pytest.raises(ValueError, match=r"shape \(B, T, C, H, W\), got \(4, 16, 16\)"):
        DiffusionForcing(COSINE)(Recorder(), torch.zeros(4, 16, 16), seeded(0))
    with pytest.raises(ValueError, match="key 'frames'"):
        DiffusionForcing(COSINE)(Recorder(), {"clips": clips()}, seeded(0))
    with pytest.raises(ValueError, match="window of 1 to T=6"):
        TeacherForcing(COSINE, context=6)(Recorder(), clips(T=6), seeded(0))
