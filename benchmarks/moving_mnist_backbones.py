"""Which backbone keeps the Moving-MNIST digit: one row per (backbone, model, training steps).

    python benchmarks/moving_mnist_backbones.py --backbone stacked2 --model teacher_forcing --steps 8000
    python benchmarks/moving_mnist_backbones.py --table          # rewrite the markdown from the data only

Each run trains one model of the profile's Moving-MNIST presets with the named variant and
step count (or loads it from ``checkpoints/benchmarks/moving_mnist_backbones/``), rolls it out past
the context of the presets' test clips, and adds its row to ``moving_mnist_backbones_<profile>.json``
(a row with the same backbone, model, steps and rollout is replaced); the markdown table is
rewritten from all rows. Trainings are long (minutes to tens of minutes), so rows are added one
run at a time.

Columns: identity (the share of generated frames whose digit the classifier reads as the context
digit) and per-frame MSE over bands of generated frames; "x̂_0 at K": the clean estimate of one
call at level K for the first frame after the context (no sampling), whose blur shows how sure the
model is of the next frame before the sampler commits to one.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from pathlib import Path

import torch

from dfkit.checkpoint import CHECKPOINTS_ENV
from dfkit.diffusion.ddpm import to_x0_eps
from dfkit.metrics.classifier import get_classifier
from dfkit.metrics.video import digit_truth, format_markdown_table, identity_consistency, per_frame_mse, video_metrics
from dfkit.profiles import get_profile
from dfkit.recipes import course_schedule
from dfkit.sequence.objectives import to_model_range, to_unit_range
from dfkit.sequence.recipes import dataset_split, presets, rollout, sequence_model, spec, training_record
from report import benchmark_parser, parse_arguments

HERE = Path(__file__).resolve().parent
CHECKPOINTS = HERE.parent / "checkpoints" / "benchmarks" / "moving_mnist_backbones"
MODELS = ("teacher_forcing", "teacher_forcing_noisy_history", "diffusion_forcing", "diffusion_forcing_clean_history", "regressor")
STACKED = dict(stacked_frames=2, neighbor_skips=False)
# variants: overrides of the presets' backbone, and of the other presets
VARIANTS = {
    "presets": ({}, {}),
    "stacked2": (STACKED, {}),
    "stacked2_res1": ({**STACKED, "res_blocks": 1}, {}),
    "stacked2_clean50": (STACKED, {"clean_history_fraction": 0.5}),
    "stacked2_clean50_sorted": (STACKED, {"clean_history_fraction": 0.5, "sorted_levels": True}),
}
KEY = ("backbone", "model", "steps", "rollout")


def variant_profile(profile, backbone: str, model: str, steps: int | None):
    """``profile`` with the variant's Moving-MNIST presets and, for ``model``, ``steps`` training steps."""
    chosen = profile.moving_mnist_sequence
    backbone_overrides, presets_overrides = VARIANTS[backbone]
    chosen = dataclasses.replace(chosen, backbone=dataclasses.replace(chosen.backbone, **backbone_overrides), **presets_overrides)
    if steps is not None:
        field = spec(model).training
        chosen = dataclasses.replace(chosen, **{field: dataclasses.replace(getattr(chosen, field), steps=steps)})
    return dataclasses.replace(profile, moving_mnist_sequence=chosen)


def estimate_at_top_level(model, history: torch.Tensor, parameterization: str) -> torch.Tensor:
    """x̂_0 of the frame after ``history`` (B, c, C, H, W) in [-1, 1] from one call at level K (x_K = 0, its mean)."""
    schedule = course_schedule()
    K, (B, c) = schedule.num_levels, history.shape[:2]
    x_K = torch.zeros_like(history[:, :1])
    levels = torch.cat([torch.zeros(B, c, dtype=torch.long), torch.full((B, 1), K)], dim=1)
    with torch.no_grad():
        prediction = model(torch.cat([history, x_K], dim=1), levels)[:, c:]
    return to_x0_eps(prediction, parameterization, x_K, torch.full((B, 1), K), schedule)[0].clamp(-1, 1)


def measure(profile, backbone: str, model_name: str, steps: int | None, method: str | None, seed: int, classifier,
            progress: bool = True) -> dict:
    """Train (or load) the model of the variant and score its rollout from the test clips' context: the table row."""
    profile = variant_profile(profile, backbone, model_name, steps)
    chosen = presets("moving_mnist", profile)
    model = sequence_model(model_name, "moving_mnist", profile, progress=progress)
    record = training_record(model_name, "moving_mnist", profile)
    frames, c = chosen.rollout_lengths[-1], chosen.context
    test = dataset_split("moving_mnist", profile, "test", progress, num_sequences=chosen.eval_clips, num_frames=c + frames)
    video, (labels, _) = test.frames(), digit_truth(test.truth, start=c)
    start = time.perf_counter()
    generated = rollout(model_name, model, video[:, :c], frames, profile, dataset="moving_mnist", method=method, seed=seed)
    seconds = time.perf_counter() - start
    bands = ((1, 1),) + chosen.bands
    scores = video_metrics(generated.numpy(), video[:, c:].numpy(), video[:, c - 1].numpy(), labels, None,
                           profile.moving_mnist.digit_size, classifier, bands)
    row = {"backbone": backbone, "model": model_name, "steps": record["steps"], "rollout": method or spec(model_name).rollouts[0],
           "parameters": sum(p.numel() for p in model.parameters()), "train (min)": record["train_seconds"] / 60,
           "load": record.get("load_average"), "rollout (s)": seconds}
    row.update({key: value for key, value in scores.items() if key.startswith(("identity", "MSE"))})
    if spec(model_name).objective != "regression":
        estimate = to_unit_range(estimate_at_top_level(model, to_model_range(video[:, :c]), chosen.parameterization))
        row["x̂_0 at K: identity"] = float(identity_consistency(estimate.numpy(), labels, profile.moving_mnist.digit_size,
                                                                 None, classifier).mean())
        row["x̂_0 at K: MSE"] = float(per_frame_mse(estimate.numpy(), video[:, c:c + 1].numpy()).mean())
    return row


def write_table(rows: list[dict], path: Path, profile_name: str) -> None:
    rows = sorted(rows, key=lambda row: (row["model"], row["backbone"], row["steps"], row["rollout"]))
    lines = [f"# Moving-MNIST backbones, `{profile_name}` profile", "", __doc__.split("\n\n", 2)[2].strip(), "",
             "Variants (overrides of the presets' backbone, then of the other presets): "
             + "; ".join(f"`{name}` {backbone or 'as the presets'}, {other or 'as the presets'}"
                         for name, (backbone, other) in VARIANTS.items()) + ".",
             "Train (min): wall time of the training, with the one-minute load average at its end (above 2: other jobs "
             "shared the two cores).", "", format_markdown_table(rows), ""]
    path.write_text("\n".join(lines))


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--backbone", choices=tuple(VARIANTS), default="stacked2")
    parser.add_argument("--model", choices=MODELS, default="teacher_forcing")
    parser.add_argument("--steps", type=int, default=None, help="training steps (default: the presets')")
    parser.add_argument("--method", default=None, help="rollout method (default: the model's first)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--table", action="store_true", help="only rewrite the markdown from the JSON data")
    args = parse_arguments(parser)
    data = HERE / f"moving_mnist_backbones_{args.profile}.json"
    row = None
    if not args.table:
        classifier = get_classifier()                 # the course's classifier, before the checkpoints move
        os.environ[CHECKPOINTS_ENV] = str(CHECKPOINTS / args.profile / f"{args.backbone}_{args.steps or 'presets'}")
        row = measure(get_profile(args.profile), args.backbone, args.model, args.steps, args.method, args.seed, classifier)
        print(json.dumps(row))
    rows = json.loads(data.read_text()) if data.exists() else []      # read now: other runs may have added rows meanwhile
    if row is not None:
        rows = [old for old in rows if tuple(old[k] for k in KEY) != tuple(row[k] for k in KEY)] + [row]
        data.write_text(json.dumps(rows, indent=1) + "\n")
    write_table(rows, data.with_suffix(".md"), args.profile)
    print(f"wrote {data.with_suffix('.md')}")


if __name__ == "__main__":
    main()
