"""The course's central benchmark: sequence models rolled out far past their training horizon.

    python benchmarks/sequence_rollouts.py --profile quick       # writes benchmarks/sequence_rollouts_quick.md
    python benchmarks/sequence_rollouts.py --profile class --datasets pendulum --threads 2
                                                    # writes benchmarks/sequence_rollouts_class_pendulum.md
    python benchmarks/sequence_rollouts.py --from-json benchmarks/sequence_rollouts_class_pendulum.json
                                                    # the same report again from the saved results
                                                    # (a "notes" list in the JSON is written under the header)

Every model comes from :func:`dfkit.sequence.recipes.sequence_model` (a checkpoint when one exists,
else trained now and saved). On the pendulum, each method starts from the same ground-truth
context of test clips and generates 10 H frames (H: the training horizon of the profile); its
first 4 H frames are the 4x rollout, so the horizon bands 1..H, H+1..4H and 4H+1..10H report the
two rollout lengths. The truth is the physics continued from the last context state
(:func:`dfkit.metrics.pendulum.continue_physics`); the metrics and the baselines (copy last frame,
hanging still, true frames rendered) are :func:`dfkit.metrics.pendulum.pendulum_report`'s.

Three tables and their details:

1. pendulum rollouts: angle error per band, valid frames in the last band, energy drift, valid
   prediction time, training and rollout wall time;
2. the Markov experiment: swing-direction accuracy of the next frame sampled from teacher-forced
   models with 1, 2 and c frames of context (chance 50%; the true next frame as the ceiling); then
   every Diffusion Forcing rollout, the training times and the Markov models read against the
   course's targets (:data:`TARGET_ANGLE_ERRORS`, :data:`TARGET_TRAIN_MINUTES`): met, or how far off;
3. Moving-MNIST rollouts (the test split generated long enough for 10 H frames): MSE, SSIM,
   digit identity and |intensity drift| per band, beside copy last frame, all black and ground
   truth (:func:`dfkit.metrics.video.video_report`).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from dfkit.metrics.pendulum import last_band_report, rollout_start, summary_columns
from dfkit.metrics.video import digit_truth, format_markdown_table, video_metrics, video_report
from dfkit.profiles import get_profile
from dfkit.sequence.recipes import (
    dataset_split, frame_codec, presets, rollout, sequence_model, training_config, training_record,
)

HERE = Path(__file__).resolve().parent

# (label in the tables, recipe name, rollout method)
METHODS = (
    ("teacher forcing", "teacher_forcing", "autoregressive"),
    ("teacher forcing on a noisy history, stabilized", "teacher_forcing_noisy_history", "stabilized"),
    ("next-frame regressor", "regressor", "regressor"),
    ("full sequence, sliding window + reconstruction guidance", "full_sequence", "reconstruction"),
    ("Diffusion Forcing, autoregressive", "diffusion_forcing", "autoregressive"),
    ("Diffusion Forcing, autoregressive, stabilized", "diffusion_forcing", "stabilized"),
    ("Diffusion Forcing, pyramid, stabilized", "diffusion_forcing", "pyramid"),
)
PENDULUM_METHODS = (
    # the full-sequence model's backbone trained with independent levels (lecture 06, section 7)
    ("Diffusion Forcing, bidirectional, stabilized", "diffusion_forcing_bidirectional", "stabilized"),
    # a quarter of the training clips start clean (lecture 06, section 5)
    ("Diffusion Forcing with clean-history clips, stabilized", "diffusion_forcing_clean_history", "stabilized"),
    ("Diffusion Forcing with clean-history clips, pyramid, stabilized", "diffusion_forcing_clean_history", "pyramid"),
)
GRU_METHODS = (
    ("GRU regressor", "regressor_gru", "regressor"),
    ("GRU Diffusion Forcing, autoregressive", "diffusion_forcing_gru", "autoregressive"),
    ("GRU Diffusion Forcing, autoregressive, stabilized", "diffusion_forcing_gru", "stabilized"),
)

LATENT_METHODS = (   # the same objectives on the latents of a per-frame VAE (dfkit.sequence.latent)
    ("teacher forcing in a frame VAE's latent space", "latent_teacher_forcing", "autoregressive"),
    ("Diffusion Forcing in a frame VAE's latent space, stabilized", "latent_diffusion_forcing", "stabilized"),
)


def methods(dataset: str, profile) -> tuple[tuple[str, str, str], ...]:
    """(label, recipe name, rollout method) of every rollout on ``dataset``; GRU variants when the presets ask,
    latent models when they have a frame VAE."""
    chosen = presets(dataset, profile)
    labels = {"teacher_forcing": f"teacher forcing, {chosen.context} context frames",
              "regressor": f"next-frame regressor, window {chosen.horizon}"}
    listed = METHODS + (PENDULUM_METHODS if dataset == "pendulum" else ()) + (GRU_METHODS if chosen.gru_variants else ()) \
        + (LATENT_METHODS if chosen.frame_vae is not None else ())
    return tuple((labels.get(name, label), name, method) for label, name, method in listed)


class Models:
    """Each recipe model loaded (or trained) once, with what its training recorded."""

    def __init__(self, dataset: str, profile, retrain: bool = False, progress: bool = False):
        self.dataset, self.profile, self.retrain, self.progress = dataset, profile, retrain, progress
        self.models, self.rows = {}, {}

    def __getitem__(self, name: str):
        if name not in self.models:
            start = time.perf_counter()
            self.models[name] = sequence_model(name, self.dataset, self.profile, retrain=self.retrain, progress=self.progress)
            record = training_record(name, self.dataset, self.profile) or {}
            config = training_config(name, self.dataset, self.profile)
            backbone = self.models[name].config
            self.rows[name] = {
                "model": name, "backbone": f"{backbone.temporal}, widths {list(backbone.widths)}, d {backbone.d_model}, "
                                           f"{backbone.num_layers} layers, window {backbone.max_frames}"
                                           + (", neighbor skips" if backbone.neighbor_skips else "")
                                           + (f", on {backbone.channels}-number latents" if not backbone.widths else ""),
                "parameters": self.models[name].num_parameters(), "steps": record.get("steps", config.steps),
                "batch": config.batch_size, "train (min)": record.get("train_seconds", math.nan) / 60,
                "train (CPU min)": record.get("train_cpu_seconds", math.nan) / 60, "load": record.get("load_average"),
                "threads": record.get("torch_threads"), "final loss": record.get("final_loss"),
                "ready in (s)": time.perf_counter() - start,           # loading, or training now
            }
        return self.models[name]

    def train_minutes(self, name: str) -> float:
        self[name]
        return self.rows[name]["train (min)"]


def sampling(dataset: str, profile) -> str:
    """How the presets sample on ``dataset``, in one sentence of the report."""
    chosen = presets(dataset, profile)
    return (f"Sampling: DDIM with {chosen.sampling_steps} steps per frame; stabilized and pyramid rollouts show the history "
            f"at k_small = {chosen.stabilization_level}, noised; the pyramid and the full-sequence extension add "
            f"{chosen.chunk} frames per window; teacher forcing on a noisy history was trained with its history noised "
            f"to one level in 0..{chosen.stabilization_level} per clip.")


def _timed_rollout(models: Models, name: str, method: str, context, num_frames: int, profile, seed: int):
    model = models[name]                                      # trained or loaded before the clock starts
    start = time.perf_counter()
    frames = rollout(name, model, context, num_frames, profile, dataset=models.dataset, method=method, seed=seed)
    return frames, time.perf_counter() - start


# --------------------------------------------------------------------------- pendulum


def _timed(summary: dict, train_minutes=math.nan, rollout_seconds=math.nan) -> dict:
    """A row of :func:`dfkit.metrics.pendulum.summary_columns` with the training minutes and rollout seconds after its name."""
    return {"method": summary["method"], "train (min)": train_minutes, "rollout (s)": rollout_seconds,
            **{key: value for key, value in summary.items() if key != "method"}}


def pendulum_rollouts(profile, models: Models, seed: int = 0, progress: bool = False) -> dict:
    """Roll every pendulum method out for 10 H frames; returns {"rows", "details", "bands", "clips"}."""
    chosen = presets("pendulum", profile)
    config = profile.pendulum
    clips = dataset_split("pendulum", profile, "test", progress)
    bands = chosen.bands
    num_frames = bands[-1][1]
    context, truth = rollout_start(clips, chosen.eval_clips, chosen.context, num_frames, config)   # (B, c, 1, H, W), (B, N, 2)
    last = context[:, -1]
    rows, details, baselines = [], [], None
    for label, name, method in methods("pendulum", profile):
        frames, seconds = _timed_rollout(models, name, method, context, num_frames, profile, seed)
        full, tail = last_band_report(frames.numpy(), truth, last, config, bands, name=label)
        rows.append(_timed(summary_columns(full[0], tail[0], bands), models.train_minutes(name), seconds))
        details.append(full[0])
        if baselines is None:
            baselines = [(_timed(summary_columns(f, t, bands)), f) for f, t in zip(full[1:], tail[1:])]
        print(f"pendulum  {label:55s} angle err° {rows[-1][f'angle err° {bands[-1][0]}-{bands[-1][1]}']:6.1f}  "
              f"{seconds:6.1f} s", flush=True)
    rows += [summary for summary, _ in baselines]
    details += [row for _, row in baselines]
    return {"rows": rows, "details": details, "bands": bands, "clips": len(context), "sampling": sampling("pendulum", profile)}


def markov_experiment(profile, models: Models, seed: int = 0, progress: bool = False) -> dict:
    """Swing direction of the next frame sampled with 1, 2 and c context frames, beside two references.

    The experiment of lesson 04 (:func:`dfkit.sequence.evaluate.markov_experiment`): every clip
    predicts one frame at a random time t_i (uniform over the frames every model can reach, seeded),
    since clips start near a turning point and a fixed early t would make "swinging towards the
    bottom" right most of the time. References: that prior as a predictor (each frame redrawn at
    half its angle) and the true next frame (the ceiling of the angle reader).
    """
    from dfkit.sequence.evaluate import markov_experiment as experiment

    result = experiment(models, profile, seed=seed, progress=progress)
    return {key: result[key] for key in ("rows", "clips", "target frames")}


# --------------------------------------------------------------------------- the course's targets

# Diffusion Forcing at 32x32 should reach at most these angle errors (degrees) over the bands 1..H, H+1..4H and
# 4H+1..10H, with every frame of the last band valid; each model should train within TARGET_TRAIN_MINUTES in
# `class`; the 1-frame Markov model should be near chance on the swing direction and the 2-frame one not.
TARGET_ANGLE_ERRORS = (3.0, 6.0, 12.0)
TARGET_TRAIN_MINUTES = 10.0


def _against(value: float, limit: float) -> str:
    """"2.84 met" when ``value <= limit``, else "3.07, 1.02x" (how far over, as a ratio)."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.3g} met" if value <= limit else f"{value:.3g}, {value / limit:.2f}x"


def target_rows(pendulum: dict) -> list[dict]:
    """Every Diffusion Forcing rollout against :data:`TARGET_ANGLE_ERRORS` and a valid last band."""
    bands = pendulum["bands"]
    last = f"{bands[-1][0]}-{bands[-1][1]}"
    rows = []
    for row in pendulum["rows"]:
        if not row["method"].startswith("Diffusion Forcing"):
            continue
        verdict = {"method": row["method"]}
        for (a, b), limit in zip(bands, TARGET_ANGLE_ERRORS):
            verdict[f"angle err° {a}-{b} (≤ {limit:g})"] = _against(row[f"angle err° {a}-{b}"], limit)
        valid = row[f"valid {last}"]
        verdict[f"valid {last} (all)"] = "met" if valid == 1 else f"{valid:.3g}"
        rows.append(verdict)
    return rows


def target_summary(results: dict) -> str:
    """The training-time and Markov targets in two sentences, from the model and Markov tables."""
    minutes = {row["model"]: row["train (min)"] for row in results["pendulum_models"]}
    over = [f"{name} {value:.1f}" for name, value in minutes.items() if math.isfinite(value) and value > TARGET_TRAIN_MINUTES]
    unknown = [name for name, value in minutes.items() if not math.isfinite(value)]
    text = (f"Training within {TARGET_TRAIN_MINUTES:g} minutes: {len(minutes) - len(over) - len(unknown)} of {len(minutes)} "
            f"models" + (f" (over: {', '.join(over)})" if over else "") + (f" (no record: {', '.join(unknown)})" if unknown else "")
            + ". ")
    by_context = {row["context frames"]: row for row in results["markov"]["rows"] if row["method"].startswith("teacher forcing")}
    targets = ((1, "near chance, within 2 standard errors"), (2, "above chance by more than 2 standard errors"))
    for frames, wanted in targets:
        row = by_context.get(frames)
        if row is None:
            continue
        z = (row["accuracy"] - 0.5) / row["stderr"] if row["stderr"] else math.inf
        met = abs(z) <= 2 if frames == 1 else z > 2
        text += (f"Swing direction with {frames} context frame{'s' if frames > 1 else ''}: {row['accuracy']:.3g} ± "
                 f"{row['stderr']:.2g}, {z:+.1f} standard errors from chance (target {wanted}: "
                 f"{'met' if met else 'missed'}). ")
    return text.strip()


# --------------------------------------------------------------------------- Moving-MNIST


def moving_mnist_rollouts(profile, models: Models, classifier=None, seed: int = 0, progress: bool = False) -> dict:
    """Roll every method out for 10 H frames on long test clips; rows of video_report plus wall times."""
    from dfkit.metrics.classifier import get_classifier

    chosen = presets("moving_mnist", profile)
    c, bands = chosen.context, chosen.bands
    num_frames = bands[-1][1]
    clips = dataset_split("moving_mnist", profile, "test", progress, num_sequences=chosen.eval_clips, num_frames=c + num_frames)
    video = clips.frames()                                                                # (B, c + N, 1, H, W)
    context, target, last = video[:, :c], video[:, c:], video[:, c - 1]
    labels, positions = digit_truth(clips.truth, start=c)                                 # (B, D), (B, N, D, 2) or None
    classifier = classifier if classifier is not None else get_classifier(progress)
    digit_size = profile.moving_mnist.digit_size

    rows, baselines = [], None
    for label, name, method in methods("moving_mnist", profile):
        frames, seconds = _timed_rollout(models, name, method, context, num_frames, profile, seed)
        report = video_report(frames.numpy(), target, last, labels, positions, digit_size, classifier, bands, name=label)
        rows.append({"method": label, "train (min)": models.train_minutes(name), "rollout (s)": seconds,
                     **{key: value for key, value in report[0].items() if key != "method"}})
        baselines = baselines or report[1:]
        print(f"mnist     {label:55s} MSE {rows[-1][f'MSE {bands[-1][0]}-{bands[-1][1]}']:8.2f}  {seconds:6.1f} s", flush=True)
    if chosen.frame_vae is not None:          # the ceiling of the latent models: the frame VAE's reconstructions of the truth
        codec = frame_codec("moving_mnist", profile, progress=progress)
        reconstructed = codec.decode(codec.encode(target)).numpy()
        baselines = [video_metrics(reconstructed, target, last, labels, positions, digit_size, classifier, bands,
                                   "frame VAE reconstruction of the truth")] + list(baselines)
    rows += [{"method": row["method"], "train (min)": math.nan, "rollout (s)": math.nan,
              **{key: value for key, value in row.items() if key != "method"}} for row in baselines]
    return {"rows": rows, "bands": bands, "clips": len(clips), "sampling": sampling("moving_mnist", profile)}


# --------------------------------------------------------------------------- the whole run and its report


def run(profile, datasets=("pendulum", "moving_mnist"), retrain: bool = False, seed: int = 0, progress: bool = True,
        classifier=None) -> dict:
    """Train or load every model, roll them out and measure; the dict that :func:`markdown` writes up."""
    results = {"profile": profile.name, "seed": seed, "started": time.strftime("%Y-%m-%d %H:%M:%S"),
               "load_average_start": _load_average(), "machine": machine(), "torch_threads": torch.get_num_threads()}
    start = time.perf_counter()
    if "pendulum" in datasets:
        models = Models("pendulum", profile, retrain, progress)
        results["pendulum"] = pendulum_rollouts(profile, models, seed, progress)
        results["markov"] = markov_experiment(profile, models, seed, progress)
        results["pendulum_models"] = list(models.rows.values())
    if "moving_mnist" in datasets:
        models = Models("moving_mnist", profile, retrain, progress)
        results["moving_mnist"] = moving_mnist_rollouts(profile, models, classifier, seed, progress)
        results["moving_mnist_models"] = list(models.rows.values())
    results["wall_minutes"] = (time.perf_counter() - start) / 60
    results["load_average_end"] = _load_average()
    return results


def machine() -> str:
    return f"{platform.machine()} {platform.processor() or ''}".strip() + f", {os.cpu_count()} CPUs, {platform.system()} {platform.release()}"


def _load_average() -> str:
    try:
        return " ".join(f"{value:.1f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def markdown(results: dict) -> str:
    profile = results["profile"]
    lines = [
        f"# Sequence rollouts, `{profile}` profile",
        "",
        f"Machine: {results['machine']}; torch {torch.__version__} with {results['torch_threads']} threads; "
        f"load average (1, 5, 15 min) {results['load_average_start']} at the start, {results['load_average_end']} at the end; "
        f"started {results['started']}, {results['wall_minutes']:.1f} min in all (training included when a model was trained now). "
        f"Seed {results['seed']}.",
        "",
    ]
    lines += [line for note in results.get("notes", ()) for line in (f"Note: {note}", "")]   # provenance added to the JSON
    if profile == "quick":
        lines += ["**Quick profile: tiny models trained for seconds. These numbers test that the pipeline runs end to end; "
                  "they say nothing about the quality of any method.**", ""]
    lines += [
        "Train (min): wall time recorded when the checkpoint was trained (threads in the model table). Rollout (s): wall "
        "time of generating every clip's frames. All rollouts start from the same ground-truth context frames of test clips.",
        "",
    ]
    if "pendulum" in results:
        pendulum = results["pendulum"]
        bands = pendulum["bands"]
        lines += [
            "## Pendulum",
            "",
            f"{pendulum['clips']} test clips, each rolled out for {bands[-1][1]} frames (10x the training horizon of "
            f"{bands[0][1]}); bands are 1-based generated frames, the first {bands[1][1] if len(bands) > 1 else bands[0][1]} "
            "frames are the 4x rollout. Angle error: |θ̂ - θ| in degrees, θ̂ read from pixels, θ the physics continued from "
            "the last context state. Valid: share of frames showing one pendulum (IoU >= 0.7 with the pendulum re-rendered at "
            "its angle). Energy drift: |Ê - E| / max(E, E_min). VPT: median number of leading frames within 10° / 20°. "
            + pendulum.get("sampling", ""),
            "",
            format_markdown_table(pendulum["rows"]),
            "",
            "### Markov experiment: which way does the pendulum swing?",
            "",
            f"{results['markov']['clips']} test clips; in each, every model samples the same frame, drawn at random among frames "
            f"{results['markov']['target frames'][0]}-{results['markov']['target frames'][1]} (0-based), from the frames just "
            "before it. Accuracy: share of predictions whose angle change has the sign of the true angular velocity (clips "
            "near a turning point excluded). Chance: 0.5.",
            "",
            format_markdown_table(results["markov"]["rows"]),
            "",
            "### Against the course's targets",
            "",
            f"Diffusion Forcing at most {' / '.join(f'{t:g}' for t in TARGET_ANGLE_ERRORS)}° over the three bands, every "
            "frame of the last band valid: each cell reads \"met\" or how many times over the target the error is.",
            "",
            format_markdown_table(target_rows(pendulum)),
            "",
            target_summary(results),
            "",
            "### Pendulum models",
            "",
            "Steps, batch, threads and final loss (mean of the last 50 steps) as recorded at training; ready in (s): what this "
            "run spent loading the checkpoint, or training the model when there was none.",
            "",
            format_markdown_table(results["pendulum_models"]),
            "",
            "### Pendulum: every metric",
            "",
            format_markdown_table(pendulum["details"]),
            "",
        ]
    if "moving_mnist" in results:
        mnist = results["moving_mnist"]
        bands = mnist["bands"]
        lines += [
            "## Moving-MNIST",
            "",
            f"{mnist['clips']} test clips generated {bands[-1][1]} frames past the context (10x the training horizon of "
            f"{bands[0][1]}). MSE: squared error summed over a frame's pixels (0-1 scale). Identity: share of frames whose digit "
            "the digit classifier reads as the context digit's class (cropped around the intensity centroid with one digit, "
            "at the true positions with several). Abs intensity drift: |Σ pixels / Σ pixels of the last context frame - 1|. "
            + mnist.get("sampling", ""),
            "",
            format_markdown_table(mnist["rows"]),
            "",
            "### Moving-MNIST models",
            "",
            format_markdown_table(results["moving_mnist_models"]),
            "",
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", default="class", choices=("quick", "class", "gpu"))
    parser.add_argument("--datasets", nargs="+", default=["pendulum", "moving_mnist"], choices=("pendulum", "moving_mnist"))
    parser.add_argument("--retrain", action="store_true", help="train even when a checkpoint exists")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--from-json", default=None, help="write the markdown again from a JSON file this script wrote, "
                        "without training or rolling out anything")
    parser.add_argument("--out", default=None, help="markdown file (default benchmarks/sequence_rollouts_<profile>.md, "
                        "or sequence_rollouts_<profile>_<dataset>.md for one dataset)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.from_json:
        results = json.loads(Path(args.from_json).read_text())
        out = Path(args.out) if args.out else Path(args.from_json).with_suffix(".md")
    else:
        results = run(get_profile(args.profile), tuple(args.datasets), args.retrain, args.seed)
        suffix = f"_{args.datasets[0]}" if len(set(args.datasets)) == 1 else ""
        out = Path(args.out) if args.out else HERE / f"sequence_rollouts_{args.profile}{suffix}.md"
        out.with_suffix(".json").write_text(json.dumps(results, indent=1, default=_json_value))   # first: --from-json can rewrite
    out.write_text(markdown(results))
    print(f"wrote {out}")


def _json_value(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


if __name__ == "__main__":
    main()
