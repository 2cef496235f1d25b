"""How long each sequence model of a profile takes to train, from a short timed run.

    python benchmarks/training_speed.py --profile class --threads 2    # writes benchmarks/training_speed_class.md

A full training of the `class` sequence models takes 3-25 minutes each, and a wall time measured
while other jobs share the two cores says more about those jobs than about the model. This script
builds each model exactly as :func:`dfkit.sequence.recipes.sequence_model` would, trains it for a
few warm-up steps, then times ``--steps`` more with :func:`dfkit.train.train` (same loss, batch and
optimizer), and projects the preset's full training: steps x seconds per step. Nothing is saved.
The one-minute load average before and after each timing shows whether the machine was idle.
Run it when nothing else runs; quote the median of ``--repeats`` timings.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
from pathlib import Path

from dfkit.profiles import get_profile
from dfkit.sequence.recipes import SEQUENCE_MODELS, build, presets, training_config
from dfkit.train import train
from report import benchmark_parser, parse_arguments, write_report

HERE = Path(__file__).resolve().parent
WARMUP_STEPS = 3


def seconds_per_step(name: str, dataset: str, profile, steps: int) -> float:
    """Wall seconds of one training step of ``name`` (after a short warm-up), as the recipe trains it."""
    model, loss_fn, clips, config = build(name, dataset, profile, progress=False)
    quiet = dataclasses.replace(config, progress=False, checkpoint_dir=None, checkpoint_every=0, warmup_steps=0)
    train(model, loss_fn, clips, dataclasses.replace(quiet, steps=WARMUP_STEPS))
    return train(model, loss_fn, clips, dataclasses.replace(quiet, steps=steps)).wall_seconds / steps


def measure(profile, dataset: str, names, steps: int, repeats: int) -> list[dict]:
    rows = []
    gru = presets(dataset, profile).gru_variants
    for name in names:
        if name.endswith("_gru") and not gru:
            continue
        load_before = os.getloadavg()[0]
        timings = [seconds_per_step(name, dataset, profile, steps) for _ in range(repeats)]
        per_step = statistics.median(timings)
        config = training_config(name, dataset, profile)
        rows.append({"dataset": dataset, "model": name, "batch": config.batch_size, "preset steps": config.steps,
                     "s / step (median)": per_step, "range": f"{min(timings):.3f}-{max(timings):.3f}",
                     "projected (min)": per_step * config.steps / 60,
                     "load": f"{load_before:.1f}-{os.getloadavg()[0]:.1f}"})
        print(f"{dataset:13s} {name:24s} {per_step:.3f} s/step -> {rows[-1]['projected (min)']:.1f} min", flush=True)
    return rows


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--datasets", nargs="+", default=["pendulum", "moving_mnist"], choices=("pendulum", "moving_mnist"))
    parser.add_argument("--models", nargs="+", default=list(SEQUENCE_MODELS), choices=SEQUENCE_MODELS)
    parser.add_argument("--steps", type=int, default=20, help="timed steps per repeat")
    parser.add_argument("--repeats", type=int, default=3)
    args = parse_arguments(parser)
    profile = get_profile(args.profile)
    markov_only = ("teacher_forcing_1frame", "teacher_forcing_2frame")          # the Markov experiment is pendulum-only
    rows = []
    for dataset in args.datasets:
        names = [name for name in args.models if dataset == "pendulum" or name not in markov_only]
        rows += measure(profile, dataset, names, args.steps, args.repeats)
    write_report(HERE / f"training_speed_{args.profile}.md", f"Training speed of the sequence models, `{args.profile}` profile",
                 f"Produced by `python benchmarks/training_speed.py --profile {args.profile}"
                 f"{f' --threads {args.threads}' if args.threads else ''}`: each model built as its recipe builds it, "
                 f"{WARMUP_STEPS} warm-up steps, then {args.steps} timed steps, {args.repeats} times; projected: the "
                 f"preset's steps x the median seconds per step. {os.cpu_count()} CPUs. Load: one-minute load average "
                 "before and after a model's timings (above the thread count, other jobs shared the cores).", rows)


if __name__ == "__main__":
    main()
