"""Where the Moving-MNIST digit is lost: the first frames after the ground-truth context.

    python benchmarks/moving_mnist_first_frames.py --profile class    # writes benchmarks/moving_mnist_first_frames_class.md

``sequence_rollouts.py`` finds that no `class` model keeps the digit over 100 frames. That can be
the compounding error of a long rollout, or a model that never carried the digit over in the
first place. This script separates the two: every Moving-MNIST model of the profile generates
only ``chunk`` frames after the same ``context`` ground-truth frames of test clips, and the digit
classifier reads the first frame and the rest. The diffusion models run with several numbers of
DDIM steps (too few steps would blur a digit that the model does know); the deterministic
regressor needs none. The trivial baselines are measured the same way.

A second table asks each causal diffusion model for the first frame in one call: the frame at
level K (pure noise) after the clean context, read as x̂_0. That is the frame drawn from the
history alone, the task the regressor is trained on, and the first thing a sampler commits to;
a model whose x̂_0 at K has lost the digit cannot be rescued by more sampling steps.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from dfkit.diffusion.ddpm import to_x0_eps
from dfkit.metrics.classifier import get_classifier
from dfkit.metrics.video import digit_truth, identity_consistency, per_frame_mse, video_report
from dfkit.profiles import get_profile
from dfkit.recipes import course_schedule
from dfkit.sequence.objectives import to_model_range, to_unit_range
from dfkit.sequence.recipes import dataset_split, presets, rollout, sequence_model, spec
from report import benchmark_parser, parse_arguments, write_report

HERE = Path(__file__).resolve().parent
MODELS = ("teacher_forcing", "teacher_forcing_noisy_history", "full_sequence", "diffusion_forcing", "diffusion_forcing_clean_history",
          "regressor")
STEPS = (10, 50, 200)


def first_frames(profile, models=MODELS, steps=STEPS, clips: int = 128, seed: int = 0, classifier=None) -> list[dict]:
    """One row per model and number of DDIM steps (the regressor: one row), then the baselines."""
    chosen = presets("moving_mnist", profile)
    c, length = chosen.context, chosen.chunk
    test = dataset_split("moving_mnist", profile, "test", progress=False, num_sequences=clips, num_frames=c + length)
    video = test.frames()                                                             # (B, c + n, 1, H, W)
    labels, positions = digit_truth(test.truth, start=c)                              # (B, D), (B, n, D, 2) or None
    classifier = classifier if classifier is not None else get_classifier(progress=False)
    bands = ((1, 1), (2, length))

    def report(frames, name):
        return video_report(frames.numpy(), video[:, c:], video[:, c - 1], labels, positions, profile.moving_mnist.digit_size,
                            classifier, bands, name=name)

    rows, baselines = [], None
    for name in models:
        model = sequence_model(name, "moving_mnist", profile, progress=False)
        for count in ((None,) if name == "regressor" else steps):
            start = time.perf_counter()
            options = {} if count is None else {"steps": count}
            frames = rollout(name, model, video[:, :c], length, profile, dataset="moving_mnist", seed=seed, **options)
            seconds = time.perf_counter() - start
            measured = report(frames, name)
            rows.append({"model": name, "DDIM steps": count if count is not None else "—", **_columns(measured[0]),
                         "rollout (s)": seconds})
            baselines = baselines or measured[1:]
            print(f"{name:18s} {str(count):>4s}  identity {rows[-1]['identity 1-1']:.2f}", flush=True)
    return rows + [{"model": row["method"], "DDIM steps": "—", **_columns(row), "rollout (s)": float("nan")} for row in baselines]


def one_call_at_level_k(profile, models=MODELS, clips: int = 128, seed: int = 0, classifier=None) -> list[dict]:
    """x̂_0 of the first frame after the context from one call at level K, per causal diffusion model.

    The model sees the clean context (level 0) and pure noise at level K in the frame after it; its
    prediction is turned into x̂_0 (:func:`~dfkit.diffusion.ddpm.to_x0_eps`). The regressor's first
    frame is the same quantity for a model trained only on it.
    """
    chosen = presets("moving_mnist", profile)
    c, schedule = chosen.context, course_schedule()
    test = dataset_split("moving_mnist", profile, "test", progress=False, num_sequences=clips, num_frames=c + 1)
    video = test.frames()                                                             # (B, c + 1, 1, H, W)
    labels, positions = digit_truth(test.truth, start=c)
    classifier = classifier if classifier is not None else get_classifier(progress=False)
    K, B = schedule.num_levels, video.shape[0]
    noise = torch.randn(video[:, c:].shape, generator=torch.Generator().manual_seed(seed))   # (B, 1, 1, H, W)
    frames = torch.cat([to_model_range(video[:, :c]), noise], 1)                      # (B, c + 1, 1, H, W)
    levels = torch.cat([torch.zeros(B, c, dtype=torch.long), torch.full((B, 1), K)], 1)
    rows = []
    for name in models:
        model_spec = spec(name)
        if model_spec.temporal != "causal":
            continue                                           # a bidirectional model never saw a clean context beside level K
        model = sequence_model(name, "moving_mnist", profile, progress=False)
        device = next(model.parameters()).device
        if model_spec.objective == "regression":
            with torch.no_grad():
                first = model(to_model_range(video[:, :c]).to(device), torch.zeros(B, c, dtype=torch.long, device=device))[:, -1:]
        else:
            k = levels[:, c:].to(device)
            with torch.no_grad():
                prediction = model(frames.to(device), levels.to(device))[:, c:]
            first = to_x0_eps(prediction, chosen.parameterization, frames[:, c:].to(device), k, schedule.to(device))[0]
        first = to_unit_range(first).cpu().numpy()                                    # (B, 1, 1, H, W)
        identity = identity_consistency(first, labels, profile.moving_mnist.digit_size,
                                        None if positions is None else positions[:, :1], classifier)
        rows.append({"model": name, "MSE": float(per_frame_mse(first, video[:, c:].numpy())[0]), "identity": float(identity[0])})
    return rows


def _columns(row: dict) -> dict:
    return {key: value for key, value in row.items() if key.startswith(("identity", "MSE"))}


def main() -> None:
    parser = benchmark_parser(__doc__)
    parser.add_argument("--clips", type=int, default=128)
    args = parse_arguments(parser)
    profile = get_profile(args.profile)
    chosen = presets("moving_mnist", profile)
    rows = first_frames(profile, clips=args.clips)
    one_call = one_call_at_level_k(profile, clips=args.clips)
    write_report(HERE / f"moving_mnist_first_frames_{args.profile}.md", f"Moving-MNIST: the first generated frames, `{args.profile}` profile",
                 f"{args.clips} test clips; every model generates {chosen.chunk} frames after the same {chosen.context} "
                 f"ground-truth frames (its usual rollout, cut short; teacher_forcing_noisy_history, trained on a history "
                 f"noised to levels 0..{chosen.stabilization_level}, is shown its history at k_small = "
                 f"{chosen.stabilization_level}, noised; diffusion_forcing_clean_history had "
                 f"{chosen.clean_history_fraction:.0%} of its training clips start with clean frames). Identity: share of frames whose digit the digit "
                 "classifier reads as the context digit's class; MSE: squared error summed over a frame's pixels (0-1 "
                 "scale). Columns 1-1: the first generated frame; 2-n: the rest. Backbone: "
                 + ("with neighbor skips (frame t's decoder also adds frame t-1's encoder maps, t+1's if bidirectional)."
                    if chosen.backbone.neighbor_skips else "one token per frame, no neighbor skips.")
                 + (" Training levels of the diffusion models: uniform on 1..K." if chosen.level_shift == 1 else
                    f" Training levels of the diffusion models: shifted towards high noise, s = {chosen.level_shift:g} "
                    f"({1 - 0.8 / (chosen.level_shift - (chosen.level_shift - 1) * 0.8):.0%} of them in the top fifth, "
                    "uniform 20%)."), rows,
                 sections=(("The first frame from one call at level K (x̂_0 of pure noise after the clean context; "
                            "the regressor: its first frame)", one_call),))


if __name__ == "__main__":
    main()
