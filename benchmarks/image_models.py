"""Train the course's image models in one profile and measure their samples.

    python benchmarks/image_models.py --profile class            # writes benchmarks/image_models_class.md

For each model: training wall time, then for each sampler: wall time, classifier-FID
against held-out digits with its real-versus-real floor at the same sample size,
mean classifier confidence (real digits beside it), class coverage, and the
memorization check. DDPM with all 1000 ancestral steps is scored on fewer samples
(its floor is computed at that size too).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

from dfkit.diffusion import flow
from dfkit.diffusion.ddpm import ddim_sample, ddpm_sample
from dfkit.metrics.classifier import get_classifier
from dfkit.metrics.images import score_digit_samples
from dfkit.profiles import get_profile
from dfkit.recipes import PARAMETERIZATION, course_schedule, image_model

HERE = Path(__file__).resolve().parent


def samplers(samples: int, ddpm_samples: int):
    """(model, sampler label, model evaluations, number of samples, function(model, n, generator) -> images in [0, 1])."""
    schedule = course_schedule()

    def unet(model):
        return lambda x_k, k: model(x_k, k.float())

    def to_unit(x):
        return ((x + 1) / 2).clamp(0, 1)

    yield "vae", "decoder of z ~ N(0, I)", 1, samples, lambda m, n, g: m.sample(n, generator=g)
    yield "ddpm", "ancestral, 1000 steps", 1000, ddpm_samples, lambda m, n, g: to_unit(ddpm_sample(unet(m), (n, 1, 28, 28), schedule, PARAMETERIZATION, generator=g))
    for steps in (50, 20, 10):
        yield "ddpm", f"DDIM η=0, {steps} steps", steps, samples, (
            lambda m, n, g, s=steps: to_unit(ddim_sample(unet(m), (n, 1, 28, 28), schedule, steps=s, parameterization=PARAMETERIZATION, generator=g)))
    for steps in (50, 20, 10, 5):
        yield "flow", f"Euler, {steps} steps", steps, samples, (
            lambda m, n, g, s=steps: to_unit(flow.sample(m, torch.randn((n, 1, 28, 28), generator=g), s, "euler")))
    yield "flow", "Heun, 10 steps", 20, samples, lambda m, n, g: to_unit(flow.sample(m, torch.randn((n, 1, 28, 28), generator=g), 10, "heun"))


def run(profile_name: str, samples: int, ddpm_samples: int, retrain: bool) -> list[dict]:
    profile = get_profile(profile_name)
    classifier = get_classifier()
    models, train_minutes = {}, {}
    for name in ("vae", "ddpm", "flow"):
        start = time.perf_counter()
        models[name] = image_model(name, profile, retrain=retrain)
        train_minutes[name] = (time.perf_counter() - start) / 60
    rows = []
    for name, label, evaluations, count, sample in samplers(samples, ddpm_samples):
        generator = torch.Generator().manual_seed(0)
        start = time.perf_counter()
        with torch.no_grad():
            images = sample(models[name], count, generator)
        seconds = time.perf_counter() - start
        scores = score_digit_samples(images, classifier)
        rows.append({"model": name, "sampler": label, "evaluations": evaluations, "train_minutes": train_minutes[name],
                     "sample_seconds": seconds, "load_average": os.getloadavg()[0], **scores})
        print(f"{name:5s} {label:28s} FID {scores['fid']:7.2f} (floor {scores['fid_real_floor']:.2f})  "
              f"conf {scores['confidence']:.3f}  coverage {scores['coverage']}/10  {seconds:.1f} s", flush=True)
    return rows


def markdown(rows: list[dict], profile_name: str) -> str:
    lines = [
        f"# Image models, `{profile_name}` profile",
        "",
        f"Machine: {platform.machine()}, {torch.get_num_threads()} torch threads, torch {torch.__version__}. "
        "Training time includes loading a checkpoint when one already existed (then it is near 0: retrain with `--retrain`).",
        "FID: classifier-feature Fréchet distance to the 1,000 held-out test digits; floor: the same for as many real "
        "training digits. Confidence: mean max-softmax of the digit classifier (real digits in brackets). Coverage: "
        "classes with at least 2.5% of the samples. NN ratio: median distance to the nearest training digit, samples "
        "over held-out real digits (well below 1 means copying). Load: the one-minute load average after the row "
        "(above 2, other jobs shared the two cores and the seconds are inflated).",
        "",
        "| model | sampler | evals | train (min) | samples | sampling (s) | load | FID | floor | confidence | coverage | NN ratio | near copies |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['sampler']} | {r['evaluations']} | {r['train_minutes']:.1f} | {r['samples']} | "
            f"{r['sample_seconds']:.1f} | {_load(r)} | {r['fid']:.2f} | {r['fid_real_floor']:.2f} | {r['confidence']:.3f} "
            f"({r['confidence_real']:.3f}) | {r['coverage']}/10 | {r['nn_distance_ratio']:.2f} | {r['near_copies']:.1%} |"
        )
    return "\n".join(lines) + "\n"


def _load(row: dict) -> str:
    return f"{row['load_average']:.1f}" if "load_average" in row else "not recorded"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="class")
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--ddpm-samples", type=int, default=200)
    parser.add_argument("--retrain", action="store_true", help="train even when a checkpoint exists")
    parser.add_argument("--out", default=None, help="markdown file (default benchmarks/image_models_<profile>.md)")
    args = parser.parse_args()
    rows = run(args.profile, args.samples, args.ddpm_samples, args.retrain)
    out = Path(args.out) if args.out else HERE / f"image_models_{args.profile}.md"
    out.write_text(markdown(rows, args.profile))
    out.with_suffix(".json").write_text(json.dumps(rows, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
