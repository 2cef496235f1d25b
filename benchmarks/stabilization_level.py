"""The stabilization level k_small of Diffusion Forcing rollouts, chosen on training clips.

    python benchmarks/stabilization_level.py --profile class     # writes benchmarks/stabilization_level_class.md
    python benchmarks/stabilization_level.py --profile class --models diffusion_forcing diffusion_forcing_clean_history

A Diffusion Forcing rollout can show its history frames, ground truth and generated alike, as
slightly noisy: level k_small, noised once when a frame enters the history (the paper's App. B.2,
"0 < k_small << K"). k_small = 0 is the plain autoregressive rollout: the model trusts its own
frames as if they were clean. Too high a level hides the history the model needs. This script
rolls the profile's causal Diffusion Forcing model out for ``--multiple`` training horizons after
the ground-truth context of *training* clips (the test clips of ``sequence_rollouts.py`` are
never used to choose it), with the autoregressive and the pyramid matrix, for each level, and
writes angle error per horizon band, energy drift, valid prediction time and valid frames. The
profile's ``stabilization_level`` preset should be among the best rows.

``--models`` adds other causal Diffusion Forcing recipes, e.g. ``diffusion_forcing_clean_history``
(trained with a share of clips that start clean; trained now when missing, 13 minutes on 2 threads): how
the training levels change which history the model predicts best from.
"""

from __future__ import annotations

import time
from pathlib import Path

from dfkit.metrics.pendulum import pendulum_metrics, rollout_start
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
          models=("diffusion_forcing",)) -> list[dict]:
    """One row per (model, method, level): angle error per band, energy drift and VPT over the last band, valid
    frames, seconds."""
    unknown = sorted(set(models) - set(MODELS))
    if unknown:
        raise ValueError(f"unknown model(s) {unknown}; expected some of {MODELS}")
    chosen, config = presets("pendulum", profile), profile.pendulum
    train = dataset_split("pendulum", profile, "train", progress=False)
    H = chosen.horizon
    N = multiple * H
    bands = ((1, H), (H + 1, N)) if multiple > 1 else ((1, H),)
    context, truth = rollout_start(train, clips, chosen.context, N, config)      # (B, c, 1, H, W) in [0, 1], (B, N, 2)
    last = f"{bands[-1][0]}-{bands[-1][1]}"
    rows = []
    for name in models:
        model = sequence_model(name, "pendulum", profile)
        for method in methods:
            for level in levels:
                start = time.perf_counter()
                frames = rollout(name, model, context, N, profile, dataset="pendulum", method=method,
                                 seed=seed, stabilization_level=level)
                seconds = time.perf_counter() - start
                metrics = pendulum_metrics(frames.numpy(), truth, config, bands=bands)
                rows.append({"model": name, "matrix": "autoregressive" if method == "stabilized" else method,
                             "k_small": level, "noise std": noise_std(level),
                             **{key: value for key, value in metrics.items() if key.startswith("angle err°")},
                             f"energy drift {last}": metrics[f"energy drift {last}"],
                             "VPT@20° (frames)": metrics["VPT@20° (frames)"], "valid frames": metrics["valid frames"],
                             "rollout (s)": seconds, "preset": "yes" if level == chosen.stabilization_level else ""})
                print(f"{name} {method:10s} k_small {level:4d}  " + "  ".join(f"{k} {v:.1f}" for k, v in rows[-1].items()
                                                                        if k.startswith("angle")), flush=True)
    return rows


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--clips", type=int, default=32)
    parser.add_argument("--multiple", type=int, default=4, help="rollout length in training horizons")
    parser.add_argument("--models", nargs="+", default=["diffusion_forcing"], choices=MODELS)
    args = parse_arguments(parser)
    profile = get_profile(args.profile)
    rows = sweep(profile, clips=args.clips, multiple=args.multiple, models=tuple(args.models))
    chosen = presets("pendulum", profile)
    write_report(HERE / f"stabilization_level_{args.profile}.md", f"Stabilization level, `{args.profile}` profile, pendulum",
                 f"Each causal Diffusion Forcing model ({', '.join(args.models)}) continues {args.clips} training clips "
                 f"from {chosen.context} ground-truth frames for {args.multiple * chosen.horizon} frames ({args.multiple} training horizons, "
                 f"{chosen.sampling_steps} DDIM steps per frame, one new frame per call with the autoregressive matrix, "
                 f"{chosen.chunk} with the pyramid), once per level k_small of the history; k_small = 0 with the "
                 "autoregressive matrix is the plain rollout. Noise std: sqrt(1 - ᾱ_k) on the [-1, 1] frame scale. "
                 "Angle error in degrees against the physics continued from the last context state; energy drift "
                 "|Ê - E| / max(E, E_min) over the last band; VPT@20°: median number of leading frames within 20°; "
                 "valid: share of frames showing one pendulum.", rows)


if __name__ == "__main__":
    main()
