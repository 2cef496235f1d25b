"""How much of a pendulum ranking is the training run: the same recipes trained with several seeds.

    python benchmarks/training_seeds.py --profile class --seeds 0,1      # writes benchmarks/training_seeds_class.md
    python benchmarks/training_seeds.py --profile class --models diffusion_forcing_clean_history
                                        # writes benchmarks/training_seeds_class_diffusion_forcing_clean_history.md

A model of the class profile trains for 5-10 minutes on 2 cores, and two trainings of one
recipe that differ only in their seed (initial weights, batches, noise) can differ by more than
two recipes do. Every ranking claim of ``sequence_rollouts.py`` should therefore be read beside
this table: for each chosen method it loads (or trains, 5-10 minutes each) the recipe model
of every seed (seed 0 is the checkpoint of the central table; seed s > 0 is kept as
``<dataset>_<name>_seed<s>``), rolls it out exactly as the central benchmark does (same test
clips, same context, same sampling seed) and writes one row per seed, then the mean and the
range over seeds of every method.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from dfkit.metrics.pendulum import pendulum_metrics, rollout_start
from dfkit.profiles import get_profile
from dfkit.sequence.recipes import dataset_split, presets, rollout, sequence_model, spec, training_record
from report import benchmark_parser, models_report_path, parse_arguments, parse_distinct, write_report
from sequence_rollouts import methods

HERE = Path(__file__).resolve().parent
DEFAULT_MODELS = ("teacher_forcing", "teacher_forcing_noisy_history", "diffusion_forcing", "diffusion_forcing_bidirectional")
COLUMNS = ("Angle error in degrees against the physics continued from the last context state; energy drift "
           "|Ê - E| / max(E, E_min) over the last band; VPT@20°: median number of leading frames within 20°.")


def seed_rows(profile, names=DEFAULT_MODELS, seeds=(0, 1), sampling_seed: int = 0) -> list[dict]:
    """One row per (method of a model in ``names``, training seed): angle error per band, valid frames, energy
    drift over the last band, VPT@20°, training minutes (as recorded) and rollout seconds."""
    chosen, config = presets("pendulum", profile), profile.pendulum
    test = dataset_split("pendulum", profile, "test", progress=False)
    bands = chosen.bands
    num_frames, last = bands[-1][1], f"{bands[-1][0]}-{bands[-1][1]}"
    context, truth = rollout_start(test, chosen.eval_clips, chosen.context, num_frames, config)   # (B, c, 1, H, W), (B, N, 2)
    rows = []
    for label, name, method in methods("pendulum", profile):
        if name not in names:
            continue
        for seed in seeds:
            model = sequence_model(name, "pendulum", profile, seed=seed)                     # trains when missing
            record = training_record(name, "pendulum", profile, seed=seed) or {}
            start = time.perf_counter()
            frames = rollout(name, model, context, num_frames, profile, dataset="pendulum", method=method, seed=sampling_seed)
            seconds = time.perf_counter() - start
            metrics = pendulum_metrics(frames.numpy(), truth, config, bands=bands)
            rows.append({"method": label, "seed": seed,
                         **{key: value for key, value in metrics.items() if key.startswith("angle err°")},
                         f"energy drift {last}": metrics[f"energy drift {last}"],
                         "VPT@20° (frames)": metrics["VPT@20° (frames)"], "valid frames": metrics["valid frames"],
                         "train (min)": record.get("train_seconds", math.nan) / 60, "rollout (s)": seconds})
            print(f"{label:50s} seed {seed}  " + "  ".join(f"{k} {v:.1f}" for k, v in rows[-1].items()
                                                         if k.startswith("angle")), flush=True)
    return rows


def spread(rows: list[dict]) -> list[dict]:
    """Per method: the number of seeds, then for every number column "mean (min-max)" over its seeds."""
    columns = [key for key in rows[0] if key.startswith(("angle err°", "energy drift", "VPT"))] if rows else []
    summary = []
    for label in dict.fromkeys(row["method"] for row in rows):
        group = [row for row in rows if row["method"] == label]
        entry = {"method": label, "seeds": len(group)}
        for column in columns:
            values = np.array([row[column] for row in group], dtype=float)
            entry[column] = f"{values.mean():.3g} ({values.min():.3g}-{values.max():.3g})"
        summary.append(entry)
    return summary


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"0,1"`` -> (0, 1); anything but distinct integers >= 0 stops the script with a message."""
    return parse_distinct(text, int, lambda seed: seed >= 0, "seeds >= 0")


def report_path(profile_name: str, names: tuple[str, ...]) -> Path:
    """``training_seeds_<profile>.md`` for the default models, ``training_seeds_<profile>_<names>.md`` for others."""
    return models_report_path(HERE, "training_seeds", profile_name, names, DEFAULT_MODELS)


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--seeds", default="0,1", help="training seeds, comma-separated (0: the central table's models)")
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS), help="recipe names, comma-separated")
    args = parse_arguments(parser)
    profile = get_profile(args.profile)
    seeds, names = parse_seeds(args.seeds), tuple(args.models.split(","))
    for name in names:
        spec(name)                                           # an unknown recipe name stops here, not after a training
    rows = seed_rows(profile, names, seeds)
    chosen = presets("pendulum", profile)
    description = (f"Each method of `sequence_rollouts.py` whose model is among {', '.join(names)}, with the model "
                   f"trained once per seed ({', '.join(map(str, seeds))}; same recipe, steps and data), continues the "
                   f"same {chosen.eval_clips} test clips from {chosen.context} ground-truth frames for "
                   f"{chosen.bands[-1][1]} frames with the same sampling seed. {COLUMNS} Over seeds: mean (min-max) of "
                   "every method.")
    write_report(report_path(args.profile, names), f"Training seeds, `{args.profile}` profile, pendulum",
                 description, rows, sections=(("Over seeds", spread(rows)),))


if __name__ == "__main__":
    main()
