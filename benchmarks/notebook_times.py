"""Run time of each solution notebook, top to bottom in a fresh kernel, in one profile.

    python benchmarks/notebook_times.py --profile class                  # every lesson
    python benchmarks/notebook_times.py --profile class 01_vae 02_ddpm   # some lessons
    python benchmarks/notebook_times.py --profile class --no-checkpoints # as a self-learner: train first
    python benchmarks/notebook_times.py --profile class 05_full_sequence --executed /tmp/runs  # keep the outputs

Writes ``benchmarks/notebook_times_<profile>.md`` (rows of lessons measured before are kept, so
lessons can be measured one at a time). Each notebook runs ``--repeats`` times; the table gives
the median and the spread. Whether the instructor checkpoints the notebook loads were present is
part of the row: without them the notebook trains its models, which is a different budget
(``--no-checkpoints`` starts every run from an empty checkpoint folder, and labels its rows so).
The one-minute load average before and after each run says whether other jobs shared the cores.
``--executed DIR`` also writes each executed notebook, outputs included, to ``DIR/<lesson>.ipynb``
(the last run's): the numbers a notebook's text quotes are read from there.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import nbformat
import torch
from nbclient import NotebookClient

from dfkit.checkpoint import checkpoint_root

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent


def checkpoints_present(profile: str) -> int:
    folder = checkpoint_root() / profile
    return len(list(folder.glob("*.safetensors"))) if folder.is_dir() else 0


def run_once(path: Path, profile: str, timeout: int, executed: Path | None = None) -> dict:
    os.environ["DFKIT_PROFILE"] = profile
    os.environ.setdefault("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    load_before, checkpoints_before = os.getloadavg()[0], checkpoints_present(profile)
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    if executed is not None:
        executed.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, executed / path.name)
    errors = [output.get("ename", "") for cell in notebook.cells if cell.cell_type == "code"
              for output in cell.get("outputs", []) if output.get("output_type") == "error"]
    return {"seconds": seconds, "load_before": load_before, "load_after": os.getloadavg()[0],
            "checkpoints_before": checkpoints_before, "checkpoints_after": checkpoints_present(profile), "errors": errors}


def measure(lesson: str, profile: str, repeats: int, timeout: int, no_checkpoints: bool = False,
            executed: Path | None = None) -> dict:
    path = ROOT / "solutions" / lesson / f"{lesson}.ipynb"
    if not path.exists():
        raise SystemExit(f"no solution notebook {path}")
    runs = []
    for repeat in range(repeats):
        if no_checkpoints:
            with tempfile.TemporaryDirectory() as empty:
                os.environ["DFKIT_CHECKPOINTS"] = empty
                runs.append(run_once(path, profile, timeout, executed))
                del os.environ["DFKIT_CHECKPOINTS"]
        else:
            runs.append(run_once(path, profile, timeout, executed))
        print(f"{lesson} run {repeat + 1}: {runs[-1]['seconds']:.0f} s, load {runs[-1]['load_before']:.1f} -> "
              f"{runs[-1]['load_after']:.1f}, errors {runs[-1]['errors'] or 'none'}", flush=True)
    seconds = [run["seconds"] for run in runs]
    return {"lesson": lesson, "runs": runs, "median_seconds": statistics.median(seconds),
            "min_seconds": min(seconds), "max_seconds": max(seconds),
            "trained": any(run["checkpoints_after"] > run["checkpoints_before"] for run in runs),
            "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def markdown(rows: dict, profile: str) -> str:
    lines = [
        f"# Notebook run times, `{profile}` profile",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}. Produced by "
        f"`python benchmarks/notebook_times.py --profile {profile}`: each solution notebook top to bottom in a fresh "
        "kernel. `trained`: a run trained a model because its checkpoint was missing (otherwise the instructor "
        "checkpoints under `checkpoints/` were loaded). Load: one-minute load average before and after the runs "
        "(above 2, other jobs shared the two cores and the times are inflated).",
        "",
        "| notebook | runs | median (min) | range (min) | trained | load | errors | measured |",
        "|---|---:|---:|---|---|---|---|---|",
    ]
    for lesson in sorted(rows):
        row = rows[lesson]
        loads = [value for run in row["runs"] for value in (run["load_before"], run["load_after"])]
        errors = sorted({error for run in row["runs"] for error in run["errors"]})
        lines.append(
            f"| {lesson} | {len(row['runs'])} | {row['median_seconds'] / 60:.1f} | "
            f"{row['min_seconds'] / 60:.1f}-{row['max_seconds'] / 60:.1f} | {'yes' if row['trained'] else 'no'} | "
            f"{min(loads):.1f}-{max(loads):.1f} | {', '.join(errors) or 'none'} | {row['measured_at']} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lessons", nargs="*", help="lessons to measure (default: every solution notebook)")
    parser.add_argument("--profile", default="class", choices=("quick", "class", "gpu"))
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    parser.add_argument("--no-checkpoints", action="store_true", help="start each run from an empty checkpoint folder")
    parser.add_argument("--executed", type=Path, default=None, help="folder to write the executed notebooks to")
    args = parser.parse_args()
    lessons = args.lessons or sorted(path.parent.name for path in (ROOT / "solutions").glob("*/*.ipynb"))
    store = HERE / f"notebook_times_{args.profile}.json"
    rows = json.loads(store.read_text()) if store.exists() else {}
    for lesson in lessons:
        label = f"{lesson} (no checkpoints)" if args.no_checkpoints else lesson
        rows[label] = measure(lesson, args.profile, args.repeats, args.timeout, args.no_checkpoints, args.executed)
        store.write_text(json.dumps(rows, indent=1))
        (HERE / f"notebook_times_{args.profile}.md").write_text(markdown(rows, args.profile))
    print(f"wrote {HERE / f'notebook_times_{args.profile}.md'}")


if __name__ == "__main__":
    main()
