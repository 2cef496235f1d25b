"""The reconstruction-guidance weight of the full-sequence extension, chosen on training clips.

    python benchmarks/reconstruction_weight.py --profile class     # writes benchmarks/reconstruction_weight_class.md

A full-sequence model extends a pendulum video window by window (``dfkit.sequence.rollout.extend_video``):
replacement alone (weight 0) lets the unknown frames pick their own swing, because the angle is
decided at high noise levels where the replaced known frames are mostly noise; reconstruction
guidance (Ho et al. 2022, eq. 7) pulls them towards frames that explain the known ones. How hard
to pull is the weight w, which the paper leaves to tuning. This script rolls the full-sequence
model of the profile out for two training horizons after the ground-truth context of *training*
clips (the test clips of ``sequence_rollouts.py`` are never used to choose it) for each weight and
writes the angle error per horizon and the share of valid frames. The profile's
``reconstruction_weight`` preset should be the best row.
"""

from __future__ import annotations

import time
from pathlib import Path

from dfkit.metrics.pendulum import pendulum_metrics, rollout_start
from dfkit.profiles import get_profile
from dfkit.sequence.recipes import dataset_split, presets, rollout, sequence_model
from report import benchmark_parser, parse_arguments, write_report

HERE = Path(__file__).resolve().parent
WEIGHTS = (0.0, 1.0, 3.0, 10.0, 30.0, 100.0)


def sweep(profile, weights=WEIGHTS, clips: int = 16, seed: int = 0) -> list[dict]:
    """One row per weight (0: the replacement method): angle error over 1..H and H+1..2H, valid frames, seconds."""
    chosen, config = presets("pendulum", profile), profile.pendulum
    model = sequence_model("full_sequence", "pendulum", profile)
    train = dataset_split("pendulum", profile, "train", progress=False)
    H = chosen.horizon
    context, truth = rollout_start(train, clips, chosen.context, 2 * H, config)       # (B, c, 1, H, W), (B, 2H, 2)
    rows = []
    for weight in weights:
        method = "reconstruction" if weight > 0 else "replacement"
        start = time.perf_counter()
        frames = rollout("full_sequence", model, context, 2 * H, profile, dataset="pendulum", method=method,
                         seed=seed, reconstruction_weight=weight)
        seconds = time.perf_counter() - start
        row = pendulum_metrics(frames.numpy(), truth, config, bands=((1, H), (H + 1, 2 * H)), name=method)
        rows.append({"weight": weight, "method": method, **{k: v for k, v in row.items() if k.startswith("angle err°")},
                     "valid frames": row["valid frames"], "rollout (s)": seconds,
                     "preset": "yes" if weight == chosen.reconstruction_weight else ""})
        print(f"w = {weight:6.1f}  " + "  ".join(f"{k} {v:.1f}" for k, v in rows[-1].items() if k.startswith("angle")), flush=True)
    return rows


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--clips", type=int, default=16)
    args = parse_arguments(parser)
    profile = get_profile(args.profile)
    rows = sweep(profile, clips=args.clips)
    chosen = presets("pendulum", profile)
    write_report(HERE / f"reconstruction_weight_{args.profile}.md", f"Reconstruction-guidance weight, `{args.profile}` profile, pendulum",
                 f"The full-sequence model extends {args.clips} training clips from {chosen.context} ground-truth frames for "
                 f"{2 * chosen.horizon} frames (two training horizons, windows of {chosen.chunk} new frames, "
                 f"{chosen.sampling_steps} DDIM steps), once per weight; weight 0 is the replacement method alone. Angle "
                 "error in degrees against the physics continued from the last context state; valid: share of frames "
                 "showing one pendulum.", rows)


if __name__ == "__main__":
    main()
