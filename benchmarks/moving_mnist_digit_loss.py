"""Where a Moving-MNIST sequence model loses its digit, and three ways of keeping it.

    python benchmarks/moving_mnist_digit_loss.py --profile class    # writes benchmarks/moving_mnist_digit_loss_class.md

``moving_mnist_first_frames.py`` found that the clean estimate x̂_0 of one call at level K keeps
the digit far more often than the frame the sampler ends with. This script follows the sampler:

1. **Along the ladder.** For teacher forcing and Diffusion Forcing, the first frame after the
   clean context is sampled with the presets' DDIM rungs, and the digit classifier reads x̂_0 at
   every rung. Beside it, the same model is given the *true* frame noised to that level
   (x_k = sqrt(ᾱ_k) x_0 + sqrt(1 - ᾱ_k) ε): if that x̂_0 keeps the digit while the sampled one
   loses it, the denoiser is fine on real data and the loss comes from the sampler's own
   trajectory, i.e. from how much the model trusts x_k against the history at mid levels.
2. **History guidance** (lesson 07): Diffusion Forcing sampled with vanilla history guidance,
   ε(∅) + w [ε(h) - ε(∅)], for several w: a larger w leans the frame on its history.
3. **Latent models**: teacher forcing and Diffusion Forcing on the latents of a per-frame VAE
   (:mod:`dfkit.sequence.latent`), beside the pixel models, with the VAE's own reconstructions
   (the ceiling of a latent model) and the trivial baselines.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from dfkit.diffusion.ddpm import to_x0_eps
from dfkit.metrics.classifier import get_classifier
from dfkit.metrics.video import digit_truth, identity_consistency, per_frame_mse, video_metrics
from dfkit.profiles import get_profile
from dfkit.recipes import course_schedule
from dfkit.sequence.guidance import HistoryGuidance, HistoryGuidanceHook
from dfkit.sequence.objectives import to_model_range, to_unit_range
from dfkit.sequence.recipes import dataset_split, frame_codec, presets, rollout, rollout_config, sequence_model, window_length
from dfkit.sequence.rollout import rollout_sliding_window
from dfkit.sequence.sampler import sample_with_matrix
from dfkit.viz import save_strip
from report import benchmark_parser, parse_arguments, write_report

HERE = Path(__file__).resolve().parent
LADDER_MODELS = ("teacher_forcing", "diffusion_forcing")
GUIDANCE_SCALES = (1.0, 2.0, 4.0)
PICTURE_CLIPS, PICTURE_FRAMES = 4, 20
LATENT_ROWS = (("teacher_forcing", "autoregressive"), ("latent_teacher_forcing", "autoregressive"),
               ("latent_teacher_forcing", "stabilized"), ("diffusion_forcing", "stabilized"),
               ("latent_diffusion_forcing", "autoregressive"), ("latent_diffusion_forcing", "stabilized"))


class _Recorder:
    """A guidance hook that changes nothing and keeps x̂_0 of the generated frames at every row."""

    requires_grad = False

    def __init__(self):
        self.levels, self.estimates = [], []

    def __call__(self, g):
        self.levels.append(int(g.levels[0, g.num_context]))
        self.estimates.append(g.x0_hat[:, g.num_context:].detach().clone())
        return None


def _identity(frames, labels, profile, classifier) -> float:
    return float(identity_consistency(frames, labels, profile.moving_mnist.digit_size, None, classifier).mean())


def along_the_ladder(profile, clips: int, seed: int, classifier) -> list[dict]:
    """x̂_0 of the first frame at every DDIM rung, sampled and from the noised truth, per model."""
    chosen, schedule = presets("moving_mnist", profile), course_schedule()
    c = chosen.context
    test = dataset_split("moving_mnist", profile, "test", progress=False, num_sequences=clips, num_frames=c + 1)
    video, (labels, _) = test.frames(), digit_truth(test.truth, start=c)
    history, truth = to_model_range(video[:, :c]), to_model_range(video[:, c:])          # (B, c, 1, H, W), (B, 1, 1, H, W)
    rows = []
    for name in LADDER_MODELS:
        model = sequence_model(name, "moving_mnist", profile, progress=False)
        config = rollout_config(name, "autoregressive", "moving_mnist", profile)
        recorder = _Recorder()
        sample_with_matrix(model, config.matrix(1, schedule.num_levels), schedule, context=history, parameterization=chosen.parameterization,
                           guidance=recorder, clip_x0=config.clip_x0, generator=torch.Generator().manual_seed(seed))
        noise = torch.randn(truth.shape, generator=torch.Generator().manual_seed(seed + 1))
        for k, sampled in zip(recorder.levels, recorder.estimates):
            a = schedule.alpha_bars[k]
            noisy = a.sqrt() * truth + (1 - a).sqrt() * noise
            levels = torch.cat([torch.zeros(clips, c, dtype=torch.long), torch.full((clips, 1), k)], 1)
            with torch.no_grad():
                prediction = model(torch.cat([history, noisy], 1), levels)[:, c:]
            from_truth = to_x0_eps(prediction, chosen.parameterization, noisy, levels[:, c:], schedule)[0]
            if config.clip_x0 is not None:                                              # as the sampler clips its estimate
                from_truth = from_truth.clamp(-config.clip_x0, config.clip_x0)
            sampled_unit, truth_unit = to_unit_range(sampled).numpy(), to_unit_range(from_truth).numpy()
            rows.append({"model": name, "level k": k,
                         "identity of sampled x̂_0": _identity(sampled_unit, labels, profile, classifier),
                         "identity of x̂_0 from the noised truth": _identity(truth_unit, labels, profile, classifier),
                         "MSE sampled": float(per_frame_mse(sampled_unit, video[:, c:].numpy()).mean()),
                         "MSE from the noised truth": float(per_frame_mse(truth_unit, video[:, c:].numpy()).mean())})
    return rows


def _test_clips(profile, clips: int, frames: int):
    chosen = presets("moving_mnist", profile)
    test = dataset_split("moving_mnist", profile, "test", progress=False, num_sequences=clips, num_frames=chosen.context + frames)
    return test.frames(), digit_truth(test.truth, start=chosen.context)[0]


def _row(frames, video, labels, profile, classifier, bands, **names) -> dict:
    c = presets("moving_mnist", profile).context
    row = video_metrics(frames, video[:, c:].numpy(), video[:, c - 1].numpy(), labels, None, profile.moving_mnist.digit_size,
                        classifier, bands)
    row.pop("method")
    return {**names, **{key: value for key, value in row.items() if not key.startswith("SSIM")}}


def with_history_guidance(profile, clips: int, frames: int, seed: int, classifier, bands) -> list[dict]:
    """Stabilized Diffusion Forcing rollouts with vanilla history guidance of each scale."""
    chosen, schedule = presets("moving_mnist", profile), course_schedule()
    video, labels = _test_clips(profile, clips, frames)
    model = sequence_model("diffusion_forcing", "moving_mnist", profile, progress=False)
    config = rollout_config("diffusion_forcing", "stabilized", "moving_mnist", profile)
    window = window_length("diffusion_forcing", "moving_mnist", profile)
    rows = []
    for scale in GUIDANCE_SCALES:
        generator = torch.Generator().manual_seed(seed)
        hook = HistoryGuidanceHook(model, HistoryGuidance.vanilla(scale), generator)
        start = time.perf_counter()
        generated = rollout_sliding_window(model, to_model_range(video[:, :chosen.context])[:, -(window - 1):], frames, schedule,
                                           chosen.parameterization, config, window=window, guidance=hook, generator=generator)
        seconds = time.perf_counter() - start
        rows.append({**_row(to_unit_range(generated).numpy(), video, labels, profile, classifier, bands,
                            **{"history guidance w": scale}), "rollout (s)": seconds})
        print(f"guidance {scale}: identity {rows[-1][f'identity {bands[0][0]}-{bands[0][1]}']:.2f}", flush=True)
    return rows


def latent_against_pixels(profile, clips: int, frames: int, seed: int, classifier, bands) -> tuple[list[dict], torch.Tensor]:
    """Rollouts of the pixel and latent models from the same context, the VAE's reconstructions, the baselines;
    and a picture: the first ``PICTURE_CLIPS`` clips, each as its true frames then one row per rollout."""
    chosen = presets("moving_mnist", profile)
    video, labels = _test_clips(profile, clips, frames)
    rows, shown = [], [video[:PICTURE_CLIPS, chosen.context:]]
    for name, method in LATENT_ROWS:
        model = sequence_model(name, "moving_mnist", profile, progress=False)
        start = time.perf_counter()
        generated = rollout(name, model, video[:, :chosen.context], frames, profile, dataset="moving_mnist", method=method, seed=seed)
        seconds = time.perf_counter() - start
        rows.append({**_row(generated.numpy(), video, labels, profile, classifier, bands, model=name, rollout=method),
                     "rollout (s)": seconds})
        shown.append(generated[:PICTURE_CLIPS])
        print(f"{name} {method}: identity {rows[-1][f'identity {bands[0][0]}-{bands[0][1]}']:.2f}", flush=True)
    codec = frame_codec("moving_mnist", profile, progress=False)
    reconstructions = codec.decode(codec.encode(video[:, chosen.context:]))
    c = chosen.context
    baselines = {"frame VAE reconstruction of the truth": reconstructions.numpy(), "ground truth": video[:, c:].numpy(),
                 "copy last frame": video[:, c - 1:c].expand(-1, frames, -1, -1, -1).numpy(),
                 "all black": torch.zeros_like(video[:, c:]).numpy()}
    for what, frames_of in baselines.items():
        rows.append({**_row(frames_of, video, labels, profile, classifier, bands, model=what, rollout="—"), "rollout (s)": float("nan")})
    picture = torch.stack(shown, dim=1).flatten(0, 1)[:, :PICTURE_FRAMES]           # (clips x (1 + rollouts), frames, 1, H, W)
    return rows, picture


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--clips", type=int, default=64)
    parser.add_argument("--frames", type=int, default=40, help="frames generated past the context")
    parser.add_argument("--seed", type=int, default=0)
    args = parse_arguments(parser)
    profile = get_profile(args.profile)
    chosen = presets("moving_mnist", profile)
    classifier = get_classifier(progress=False)
    bands = ((1, 1), (1, 10), (11, args.frames)) if args.frames > 10 else ((1, 1), (1, args.frames))
    start = time.perf_counter()
    latent, picture = latent_against_pixels(profile, args.clips, args.frames, args.seed, classifier, bands)  # trains what is missing first
    save_strip(picture, HERE / f"moving_mnist_digit_loss_{args.profile}.png", scale=2)
    ladder = along_the_ladder(profile, args.clips, args.seed, classifier)
    guided = with_history_guidance(profile, args.clips, args.frames, args.seed, classifier, bands)
    vae = chosen.frame_vae
    write_report(
        HERE / f"moving_mnist_digit_loss_{args.profile}.md", f"Moving-MNIST: where the digit is lost, `{args.profile}` profile",
        f"{args.clips} test clips, {chosen.context} ground-truth context frames, seed {args.seed}; "
        f"{time.perf_counter() - start:.0f} s in all (training included when a model was trained now). Identity: share of "
        "frames whose digit the digit classifier reads as the context digit's class; MSE: squared error summed over a "
        "frame's pixels (0-1 scale). First table: the first frame after the context, x̂_0 at every rung of "
        f"{chosen.sampling_steps}-step DDIM (the sampler's own, and the model's x̂_0 when given the true frame noised to that "
        f"level; the last rung's x̂_0 is the sampled frame). Then {args.frames}-frame rollouts: Diffusion Forcing with vanilla history guidance, and the latent models "
        f"(frame VAE: latent_dim {vae.latent_dim}, beta {vae.beta:g}, {chosen.frame_vae_training.steps} steps; latent "
        f"backbone d_model {chosen.latent_backbone.d_model}, {chosen.latent_backbone.num_layers} layers, "
        f"{chosen.latent.steps} steps of {chosen.latent.batch_size} clips) beside the pixel models. The picture "
        f"`moving_mnist_digit_loss_{args.profile}.png` shows the first {PICTURE_FRAMES} generated frames of "
        f"{PICTURE_CLIPS} clips: for each clip the truth, then one row per rollout of the last table, in its order.",
        ladder, sections=(("Diffusion Forcing, stabilized, with vanilla history guidance", guided),
                          ("Latent models beside the pixel models", latent)))


if __name__ == "__main__":
    main()
