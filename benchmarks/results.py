"""README's results table, generated from the committed benchmark data (never typed by hand).

    python benchmarks/results.py            # rewrite the table in README.md from the benchmark JSON files
    python benchmarks/results.py --check    # exit 1 if README's table differs from what the data gives

One row per reference model of the `class` profile: what it models, its training time and its quality,
with a link to the benchmark table the numbers come from. README holds the table between the markers
``<!-- results-table -->`` and ``<!-- /results-table -->``; ``tests/test_texts.py`` fails when it drifts
from the data, so a retrain that rewrites a benchmark's JSON must also rerun this script.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"
START, END = "<!-- results-table -->", "<!-- /results-table -->"

IMAGE_DATA = "image_models_class.json"
# (label, model, sampler): the sampler whose samples the row scores
IMAGE_ROWS = (("VAE", "vae", "decoder of z ~ N(0, I)"), ("DDPM (v-prediction)", "ddpm", "DDIM η=0, 50 steps"),
              ("flow matching", "flow", "Euler, 50 steps"))
# (label, method prefix in the rollout table): the rollout each row reports
SEQUENCE_ROWS = (("teacher forcing", "teacher forcing, 4 context frames"), ("next-frame regressor (MSE)", "next-frame regressor"),
                 ("full-sequence diffusion", "full sequence, sliding window + reconstruction guidance"),
                 ("Diffusion Forcing, stabilized", "Diffusion Forcing, autoregressive, stabilized"))
SEQUENCE_DATA = {"pendulum": "sequence_rollouts_class_pendulum.json", "moving_mnist": "sequence_rollouts_class_moving_mnist.json"}


def load(name: str):
    return json.loads((HERE / name).read_text())


def link(name: str) -> str:
    markdown = name.replace(".json", ".md")
    return f"[{markdown}](benchmarks/{markdown})"


def bands_text(bands) -> str:
    return " / ".join(f"{a}-{b}" for a, b in bands)


def image_rows() -> list[str]:
    rows = load(IMAGE_DATA)
    lines = []
    for label, model, sampler in IMAGE_ROWS:
        (row,) = [row for row in rows if row["model"] == model and row["sampler"] == sampler]
        lines.append(f"| {label} | digits | {row['train_minutes']:.1f} | FID {row['fid']:.0f} ({sampler}; real digits "
                     f"{row['fid_real_floor']:.0f}), {row['coverage']}/10 classes |")
    return lines


def sequence_rows(dataset: str) -> list[str]:
    data = load(SEQUENCE_DATA[dataset])
    table, bands = data[dataset]["rows"], data[dataset]["bands"]
    lines = []
    for label, prefix in SEQUENCE_ROWS:
        (row,) = [row for row in table if row["method"].startswith(prefix)]
        if dataset == "pendulum":
            quality = "angle error " + " / ".join(f"{row[f'angle err° {a}-{b}']:.1f}°" for a, b in bands)
        else:
            quality = "digit kept in " + " / ".join(f"{row[f'identity {a}-{b}']:.0%}" for a, b in bands)
        minutes = row["train (min)"]
        trained = f"{minutes:.1f}" if isinstance(minutes, float) and math.isfinite(minutes) else "n/a"
        lines.append(f"| {label} | {dataset.replace('_', '-')} | {trained} | {quality} |")
    return lines


def baselines() -> str:
    pendulum = load(SEQUENCE_DATA["pendulum"])["pendulum"]
    mnist = load(SEQUENCE_DATA["moving_mnist"])["moving_mnist"]
    copy_angle = [row for row in pendulum["rows"] if row["method"] == "copy last frame"][0]
    copy_digit = [row for row in mnist["rows"] if row["method"] == "copy last frame"][0]
    black = [row for row in mnist["rows"] if row["method"] == "all black"][0]
    a, b = pendulum["bands"][-1]
    m, n = mnist["bands"][0]
    return (f"For scale, copying the last true frame: {copy_angle[f'angle err° {a}-{b}']:.0f}° over pendulum frames {a}-{b}, "
            f"the digit kept in {copy_digit[f'identity {m}-{n}']:.0%} of frames {m}-{n} (an all-black frame: "
            f"{black[f'identity {m}-{n}']:.0%}).")


def table() -> str:
    """The block README holds between its markers."""
    pendulum, mnist = (load(SEQUENCE_DATA[name])[name]["bands"] for name in ("pendulum", "moving_mnist"))
    lines = [START, "", "| model | data | training (min, 2 cores) | quality |", "|---|---|---:|---|",
             *image_rows(), *sequence_rows("pendulum"), *sequence_rows("moving_mnist"), "",
             f"Image models: classifier-FID against held-out digits ({link(IMAGE_DATA)}). Pendulum: "
             f"angle error over generated frames {bands_text(pendulum)} after 4 true frames "
             f"({link(SEQUENCE_DATA['pendulum'])}); Moving-MNIST: share of frames {bands_text(mnist)} whose digit the "
             f"classifier reads as the context's ({link(SEQUENCE_DATA['moving_mnist'])}). {baselines()}", "", END]
    return "\n".join(lines)


def readme_block(text: str) -> str:
    if START not in text or END not in text:
        raise SystemExit(f"README.md has no {START} ... {END} block")
    return text[text.index(START): text.index(END) + len(END)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if README's table is stale")
    args = parser.parse_args()
    text = README.read_text()
    current, wanted = readme_block(text), table()
    if args.check:
        if current != wanted:
            print("README.md's results table differs from the benchmark data: run python benchmarks/results.py", file=sys.stderr)
            return 1
        print("README.md's results table matches the benchmark data")
        return 0
    README.write_text(text.replace(current, wanted))
    print(f"wrote the results table into {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
