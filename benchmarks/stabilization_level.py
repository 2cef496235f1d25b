"""The stabilization level k_small of Diffusion Forcing rollouts, chosen on training clips.

    python benchmarks/stabilization_level.py --profile class     # writes benchmarks/stabilization_level_class.md
    python benchmarks/stabilization_level.py --profile class --models diffusion_forcing diffusion_forcing_clean_history
    python benchmarks/stabilization_level.py --profile class --dataset moving_mnist
                                                        # writes benchmarks/stabilization_level_class_moving_mnist.md

A Diffusion Forcing rollout can show its history frames, ground truth and generated alike, as
slightly noisy: level k_small, noised once when a frame enters the history (the paper's App. B.2,
"0 < k_small << K"). k_small = 0 is the plain autoregressive rollout: the model trusts its own
frames as if they were clean. Too high a level hides the history the model needs. This script
rolls the profile's causal Diffusion Forcing model out for ``--multiple`` training horizons after
the ground-truth context of *training* clips (the test clips of ``sequence_rollouts.py`` are
never used to choose it), with the autoregressive and the pyramid matrix, for each level, and
writes angle error per horizon band, energy drift, valid prediction time and valid frames (on
Moving-MNIST: digit identity, MSE and intensity drift per band), then the trivial continuations of
the same clips measured the same way (copy last frame, hanging still or all black, the true
frames). The profile's ``stabilization_level`` preset should be among the best rows.

``--models`` adds other causal Diffusion Forcing recipes, e.g. ``diffusion_forcing_clean_history``
(trained with a share of clips that start clean; trained now when missing, about 5 minutes on 2 threads): how
the training levels change which history the model predicts best from.
"""

from __future__ import annotations

import time
from pathlib import Path

from dfkit.metrics.classifier import get_classifier
from dfkit.metrics.pendulum import pendulum_metrics, pendulum_report, rollout_start
from dfkit.metrics.video import digit_truth, video_metrics, video_report
from dfkit.profiles import get_profile
from dfkit.recipes import course_schedule
from dfkit.sequence.recipes import dataset_split, presets, rollout, sequence_model
from report import benchmark_parser, parse_arguments, write_report

HERE = Path(__file__).resolve().parent
LEVELS = (0, 20, 50, 100, 200, 300, 500, 700)
METHODS = ("stabilized", "pyramid")          # autoregressive matrix, pyramid matrix; both take k_small
MODELS = ("diffusion_forcing", "diffusion_forcing_clean_history")   # the causal Diffusion Forcing recipes


def noise_std(level: int) -> float:
    """sqrt(1 - ᾱ_k) of the course's schedule: the std of the noise a history frame gets at level k."""
    return float(course_schedule().one_minus_alpha_bars[level] ** 0.5)


def sweep(profile, levels=LEVELS, methods=METHODS, clips: int = 32, multiple: int = 4, seed: int = 0,
          models=("diffusion_forcing",), dataset: str = "pendulum", classifier=None) -> list[dict]:
    """One row per (model, method, level): the dataset's metrics per band (see :func:`pendulum_task`,
    :func:`moving_mnist_task`) and the seconds of the rollout; then one row per baseline of the same clips."""
    unknown = sorted(set(models) - set(MODELS))
    if unknown:
        raise ValueError(f"unknown model(s) {unknown}; expected some of {MODELS}")
    chosen = presets(dataset, profile)
    H = chosen.horizon
    N = multiple * H
    bands = ((1, H), (H + 1, N)) if multiple > 1 else ((1, H),)
    if dataset == "pendulum":
        context, measure, baselines = pendulum_task(profile, clips, N, bands)
    else:
        context, measure, baselines = moving_mnist_task(profile, clips, N, bands, classifier)
    rows = []
    for name in models:
        model = sequence_model(name, dataset, profile)
        for method in methods:
            for level in levels:
                start = time.perf_counter()
                frames = rollout(name, model, context, N, profile, dataset=dataset, method=method,
                                 seed=seed, stabilization_level=level)
                seconds = time.perf_counter() - start
                rows.append({"model": name, "matrix": "autoregressive" if method == "stabilized" else method,
                             "k_small": level, "noise std": noise_std(level), **measure(frames),
                             "rollout (s)": seconds, "preset": "yes" if level == chosen.stabilization_level else ""})
                print(f"{name} {method:10s} k_small {level:4d}  " + "  ".join(
                    f"{k} {v:.2f}" for k, v in rows[-1].items() if k.startswith(("angle", "identity"))), flush=True)
    return rows + [{"model": name, "matrix": "", "k_small": None, "noise std": None, **row, "rollout (s)": None, "preset": ""}
                   for name, row in baselines.items()]


def pendulum_task(profile, clips: int, num_frames: int, bands):
    """Context frames of training clips (B, c, 1, H, W), the metrics of a rollout from them (angle
    error per band against the physics continued from the last context state, energy drift and VPT
    over the last band, valid frames), and those metrics for each baseline, by name."""
    config = profile.pendulum
    train = dataset_split("pendulum", profile, "train", progress=False)
    context, truth = rollout_start(train, clips, presets("pendulum", profile).context, num_frames, config)  # (B, N, 2) truth
    last = f"{bands[-1][0]}-{bands[-1][1]}"

    def kept(metrics: dict) -> dict:
        return {**{key: value for key, value in metrics.items() if key.startswith("angle err°")},
                f"energy drift {last}": metrics[f"energy drift {last}"],
                "VPT@20° (frames)": metrics["VPT@20° (frames)"], "valid frames": metrics["valid frames"]}

    still = context[:, -1:].expand(-1, num_frames, -1, -1, -1).numpy()            # (B, N, 1, H, W), a stand-in model
    baselines = pendulum_report(still, truth, context[:, -1], config, bands)[1:]
    return (context, lambda frames: kept(pendulum_metrics(frames.numpy(), truth, config, bands=bands)),
            {row["method"]: kept(row) for row in baselines})


def moving_mnist_task(profile, clips: int, num_frames: int, bands, classifier=None):
    """Context frames of clips made from training digits (B, c, 1, H, W), the metrics of a rollout from
    them (digit identity, MSE and |intensity drift| per band, :func:`dfkit.metrics.video.video_report`),
    and those metrics for each baseline, by name."""
    c = presets("moving_mnist", profile).context
    train = dataset_split("moving_mnist", profile, "train", progress=False, num_sequences=clips, num_frames=c + num_frames)
    video = train.frames()                                                         # (B, c + N, 1, H, W)
    labels, positions = digit_truth(train.truth, start=c)                          # (B, D), (B, N, D, 2) or None
    classifier = classifier if classifier is not None else get_classifier(progress=False)

    target, last = video[:, c:].numpy(), video[:, c - 1].numpy()                # (B, N, 1, H, W), (B, 1, H, W)
    measured = (labels, positions, profile.moving_mnist.digit_size, classifier, bands)

    def kept(metrics: dict) -> dict:
        return {key: value for key, value in metrics.items() if key.startswith(("identity", "MSE", "abs intensity drift"))}

    baselines = video_report(target, target, last, *measured)[1:]                # the truth as a stand-in model
    return (video[:, :c], lambda frames: kept(video_metrics(frames.numpy(), target, last, *measured)),
            {row["method"]: kept(row) for row in baselines})


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--clips", type=int, default=32)
    parser.add_argument("--multiple", type=int, default=4, help="rollout length in training horizons")
    parser.add_argument("--models", nargs="+", default=["diffusion_forcing"], choices=MODELS)
    parser.add_argument("--dataset", default="pendulum", choices=("pendulum", "moving_mnist"))
    args = parse_arguments(parser)
    profile = get_profile(args.profile)
    rows = sweep(profile, clips=args.clips, multiple=args.multiple, models=tuple(args.models), dataset=args.dataset)
    chosen = presets(args.dataset, profile)
    if args.dataset == "pendulum":
        path, metrics = HERE / f"stabilization_level_{args.profile}.md", (
            "Angle error in degrees against the physics continued from the last context state; energy drift "
            "|Ê - E| / max(E, E_min) over the last band; VPT@20°: median number of leading frames within 20°; "
            "valid: share of frames showing one pendulum.")
    else:
        path, metrics = HERE / f"stabilization_level_{args.profile}_moving_mnist.md", (
            "Clips made from training digits. Identity: share of frames whose digit the digit classifier reads as "
            "the context digit's class; MSE: squared error summed over a frame's pixels (0-1 scale); abs intensity drift: "
            "|Σ pixels / Σ pixels of the last context frame - 1|.")
    write_report(path, f"Stabilization level, `{args.profile}` profile, {args.dataset.replace('_', '-')}",
                 f"Each causal Diffusion Forcing model ({', '.join(args.models)}) continues {args.clips} training clips "
                 f"from {chosen.context} ground-truth frames for {args.multiple * chosen.horizon} frames ({args.multiple} training horizons, "
                 f"{chosen.sampling_steps} DDIM steps per frame, one new frame per call with the autoregressive matrix, "
                 f"{chosen.chunk} with the pyramid), once per level k_small of the history; k_small = 0 with the "
                 "autoregressive matrix is the plain rollout. Noise std: sqrt(1 - ᾱ_k) on the [-1, 1] frame scale. "
                 "The last rows are the trivial continuations of the same clips, measured the same way. " + metrics, rows)


if __name__ == "__main__":
    main()
