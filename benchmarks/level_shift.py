"""How far to shift the pendulum's training levels towards high noise: the same recipe at several shifts.

    python benchmarks/level_shift.py --profile class --threads 2         # shifts 3 and 5 (the preset), five recipes
    python benchmarks/level_shift.py --profile class --shifts 2,3,5 --models diffusion_forcing
    python benchmarks/level_shift.py --profile class --shifts 3,5 --models full_sequence --seeds 0
    python benchmarks/level_shift.py --profile class --models full_sequence --seeds 1,2 \
        --out benchmarks/level_shift_class_full_sequence_seeds_1_2.md   # more trainings, their own table

``level_shift = s`` draws τ = k/K from s·u / (1 + (s - 1)·u), u uniform (:func:`dfkit.diffusion.shifted_levels`):
s = 1 is uniform, and a share s / (4 + s) of the levels lands above 0.8 K (the pendulum presets: s = 5, 56%; their
full-sequence model 3, 43%).
Each shift trains every recipe of ``--models`` once per seed with the presets' steps and data (only the training
levels change) and rolls it out as ``training_seeds.py`` does: the same test clips, context and sampling seed,
angle error per band. The presets' own shift reads the presets' checkpoints; every other shift trains into its
own folder, ``<checkpoints>/level_shift_<s>/<profile>/``, so the presets' checkpoints are never touched (about
8 minutes per missing model in ``class`` on 2 threads). Writes ``benchmarks/level_shift_<profile>.md`` for the
default models (teacher forcing with a clean and a noisy history, Diffusion Forcing with the preset and the
clean-history recipe, the bidirectional model); other models add their names, as in ``training_seeds.py``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from pathlib import Path

from dfkit.diffusion.schedules import check_level_shift
from dfkit.profiles import get_profile
from dfkit.checkpoint import checkpoint_root
from dfkit.sequence.recipes import presets, spec
from report import benchmark_parser, models_report_path, parse_arguments, parse_distinct, write_report
from training_seeds import COLUMNS, parse_seeds, seed_rows, spread

HERE = Path(__file__).resolve().parent
DEFAULT_MODELS = ("teacher_forcing", "teacher_forcing_noisy_history", "diffusion_forcing", "diffusion_forcing_clean_history",
                  "diffusion_forcing_bidirectional")
DEFAULT_SHIFTS = "3,5"


def share_above(shift: float, fraction: float = 0.8) -> float:
    """P(τ > fraction) for τ drawn with ``shift``: 1 - fraction / (s - (s - 1)·fraction), the CDF of shifted_levels."""
    return 1.0 - fraction / (shift - (shift - 1.0) * fraction)


@contextlib.contextmanager
def checkpoint_folder(subfolder: str | None):
    """Checkpoints under ``<checkpoints>/<subfolder>`` inside the block (None: the usual folder)."""
    if subfolder is None:
        yield
        return
    before = os.environ.get("DFKIT_CHECKPOINTS")
    os.environ["DFKIT_CHECKPOINTS"] = str(checkpoint_root() / subfolder)
    try:
        yield
    finally:
        if before is None:
            del os.environ["DFKIT_CHECKPOINTS"]
        else:
            os.environ["DFKIT_CHECKPOINTS"] = before


def shift_rows(profile, shifts, names=DEFAULT_MODELS, seeds=(0, 1)) -> list[dict]:
    """One row per (shift, method of a model in ``names``, seed), as :func:`training_seeds.seed_rows` plus the
    shift and the share of training levels above 0.8 K. A shift is "(preset)" for a model when its presets train
    it there (:meth:`SequencePresets.training_level_shift`); only then are the presets' checkpoints read."""
    chosen = presets("pendulum", profile)
    rows = []
    for shift in shifts:
        check_level_shift(shift)
        shifted = dataclasses.replace(profile, pendulum_sequence=dataclasses.replace(
            chosen, level_shift=shift, full_sequence_level_shift=None))     # every objective at this shift
        for name in names:
            preset = shift == chosen.training_level_shift(spec(name).objective)
            label = f"{shift:g} (preset)" if preset else f"{shift:g}"
            with checkpoint_folder(None if preset else f"level_shift_{shift:g}"):
                for row in seed_rows(shifted, (name,), seeds):
                    rows.append({"level shift": label, "levels above 0.8 K": round(share_above(shift), 2), **row})
    return rows


def shift_spread(rows: list[dict]) -> list[dict]:
    """Per shift and method: the number of seeds and "mean (min-max)" of every number column."""
    summary = []
    for label in dict.fromkeys(row["level shift"] for row in rows):
        summary += [{"level shift": label, **entry} for entry in spread([row for row in rows if row["level shift"] == label])]
    return summary


def parse_shifts(text: str) -> tuple[float, ...]:
    """``"2,3,5"`` -> (2.0, 3.0, 5.0); anything but distinct finite numbers > 0 stops the script with a message."""
    return parse_distinct(text, float, lambda shift: 0 < shift < float("inf"), "level shifts > 0")


def report_path(profile_name: str, names: tuple[str, ...]) -> Path:
    """``level_shift_<profile>.md`` for the default models, ``level_shift_<profile>_<names>.md`` for others."""
    return models_report_path(HERE, "level_shift", profile_name, names, DEFAULT_MODELS)


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--shifts", default=DEFAULT_SHIFTS, help="level shifts, comma-separated (1: uniform levels)")
    parser.add_argument("--seeds", default="0,1", help="training seeds, comma-separated")
    parser.add_argument("--models", default=",".join(DEFAULT_MODELS), help="recipe names, comma-separated")
    parser.add_argument("--out", default=None, help="markdown file (default: benchmarks/level_shift_<profile>.md, "
                        "with the model names appended for other models)")
    args = parse_arguments(parser)
    profile = get_profile(args.profile)
    shifts, seeds, names = parse_shifts(args.shifts), parse_seeds(args.seeds), tuple(args.models.split(","))
    for name in names:
        spec(name)                                           # an unknown recipe name stops here, not after a training
    rows = shift_rows(profile, shifts, names, seeds)
    chosen = presets("pendulum", profile)
    description = (f"Each recipe among {', '.join(names)} trained with its training levels drawn at each shift "
                   f"({', '.join(f'{shift:g}' for shift in shifts)}; the presets use {chosen.level_shift:g}, "
                   f"{chosen.training_level_shift('full_sequence'):g} for the full-sequence model), once per "
                   f"seed ({', '.join(map(str, seeds))}), with the presets' steps and data; every model continues the "
                   f"same {chosen.eval_clips} test clips from {chosen.context} ground-truth frames for "
                   f"{chosen.bands[-1][1]} frames with the same sampling seed. Levels above 0.8 K: the share of training "
                   f"levels drawn there (uniform: 0.2). {COLUMNS} Over seeds: mean (min-max) per shift and method.")
    write_report(Path(args.out) if args.out else report_path(args.profile, names), f"Training-level shift, `{args.profile}` profile, pendulum",
                 description, rows, sections=(("Over seeds", shift_spread(rows)),))


if __name__ == "__main__":
    main()
