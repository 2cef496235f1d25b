"""Run time of each notebook, top to bottom in a fresh kernel, in one profile.

    python benchmarks/notebook_times.py --profile quick --start cold --start warm --released   # the quick table
    python benchmarks/notebook_times.py --profile class                  # with the installed reference models
    python benchmarks/notebook_times.py --profile class 01_vae 02_ddpm   # some lessons
    python benchmarks/notebook_times.py --profile class 05_full_sequence --executed /tmp/runs  # keep the outputs

Writes ``benchmarks/notebook_times_<profile>.md`` and its data ``notebook_times_<profile>.json``
(rows measured before are kept, so lessons can be measured one at a time). Each notebook runs
``--repeats`` times; the table gives the median and the spread. How a run starts is part of its row:

* ``installed`` (default): with the checkpoint folder as it is (``dfkit checkpoints install PACK``
  first: the `class` budget of 5 minutes per notebook is for this start) and the dataset cache as it is;
* ``cold``: every run from an empty dataset cache and an empty checkpoint folder, as on a fresh clone:
  the notebook generates its data and trains its models, the digit classifier included;
* ``warm``: from a cache and checkpoint folder filled by one run of the same notebook before (not counted).

``--released`` also measures the student version of each notebook (``notebooks/``), whose checks
fall back to the library. Beside each row: whether a run trained a model, the one-minute load average
before and after the runs (above the core count, other jobs shared the cores), and the host's speed,
single-precision matrix products in GFLOP/s measured before the row's runs (the same machine has
ranged over 4x from day to day: compare rows of similar speed). ``--executed DIR`` also writes each
executed notebook, outputs included, to ``DIR/<lesson>.ipynb`` (the last run's).
"""

from __future__ import annotations

import argparse
import contextlib
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
STARTS = ("installed", "cold", "warm")


def host_gflops(size: int = 1024, repeats: int = 9) -> float:
    """Median GFLOP/s of a ``size`` x ``size`` float32 matrix product with torch's threads: the host's speed now."""
    a, b = torch.rand(size, size), torch.rand(size, size)
    a @ b                                                        # warm-up
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        timings.append(time.perf_counter() - start)
    return 2 * size ** 3 / statistics.median(timings) / 1e9


def checkpoints_present(profile: str) -> int:
    """Reference models there now: the profile's and the shared ones (the digit classifier)."""
    folders = [checkpoint_root() / profile, checkpoint_root() / "shared"]
    return sum(len(list(folder.glob("*.safetensors"))) for folder in folders if folder.is_dir())


def run_once(path: Path, profile: str, timeout: int, executed: Path | None = None) -> dict:
    os.environ["DFKIT_PROFILE"] = profile
    os.environ.setdefault("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", allow_errors=True,   # errors land in the row
                            resources={"metadata": {"path": str(path.parent)}})
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


@contextlib.contextmanager
def fresh_folders():
    """DFKIT_CACHE and DFKIT_CHECKPOINTS pointed at new empty folders for the duration."""
    saved = {name: os.environ.get(name) for name in ("DFKIT_CACHE", "DFKIT_CHECKPOINTS")}
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as checkpoints:
        os.environ.update(DFKIT_CACHE=cache, DFKIT_CHECKPOINTS=checkpoints)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def notebook_path(lesson: str, version: str) -> Path:
    path = ROOT / ("solutions" if version == "solution" else "notebooks") / lesson / f"{lesson}.ipynb"
    if not path.exists():
        raise SystemExit(f"no {version} notebook {path}")
    return path


def measure(lesson: str, profile: str, repeats: int, timeout: int, start: str = "installed", version: str = "solution",
            executed: Path | None = None) -> dict:
    path = notebook_path(lesson, version)
    speed = host_gflops()
    runs = []
    with fresh_folders() if start == "warm" else contextlib.nullcontext():
        if start == "warm":
            run_once(path, profile, timeout)                     # fills the cache and the checkpoints; not counted
        for repeat in range(repeats):
            with fresh_folders() if start == "cold" else contextlib.nullcontext():
                runs.append(run_once(path, profile, timeout, executed))
            print(f"{lesson} ({version}, {start}) run {repeat + 1}: {runs[-1]['seconds']:.0f} s, load "
                  f"{runs[-1]['load_before']:.1f} -> {runs[-1]['load_after']:.1f}, errors {runs[-1]['errors'] or 'none'}", flush=True)
    seconds = [run["seconds"] for run in runs]
    return {"lesson": lesson, "version": version, "start": start, "runs": runs, "median_seconds": statistics.median(seconds),
            "min_seconds": min(seconds), "max_seconds": max(seconds), "host_gflops": speed, "threads": torch.get_num_threads(),
            "trained": trained(runs),
            "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def trained(runs: list[dict]) -> bool:
    """Whether a run saved a reference model it had to train."""
    return any(run["checkpoints_after"] > run["checkpoints_before"] for run in runs)


def markdown(rows: dict, profile: str) -> str:
    budget = {"quick": "at most 90 s per notebook from a cold start", "class": "at most 5 min per notebook with the "
              "reference models installed"}.get(profile, "no budget set")
    lines = [
        f"# Notebook run times, `{profile}` profile",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}. Produced by "
        f"`python benchmarks/notebook_times.py --profile {profile}` (see its docstring): each notebook top to bottom in a "
        f"fresh kernel. Budget: {budget}. `start`: `installed` with the checkpoints already there (the model pack), "
        "`cold` from an empty dataset cache and checkpoint folder (it trains every model it needs, the digit classifier "
        "included), `warm` after one such run. `trained`: a run trained a model. Load: one-minute load average before "
        "and after the runs (above the core count, other jobs shared the cores). Host: float32 matrix-product speed "
        "measured before the runs, GFLOP/s with the threads shown.",
        "",
        "| notebook | version | start | runs | median (s) | range (s) | trained | load | host GFLOP/s (threads) | errors | measured |",
        "|---|---|---|---:|---:|---|---|---|---|---|---|",
    ]
    for key in sorted(rows):
        row = rows[key]
        loads = [value for run in row["runs"] for value in (run["load_before"], run["load_after"])]
        errors = sorted({error for run in row["runs"] for error in run["errors"]})
        speed = f"{row['host_gflops']:.0f} ({row['threads']})" if "host_gflops" in row else "not measured"
        lines.append(
            f"| {row['lesson']} | {row.get('version', 'solution')} | {row.get('start', 'installed')} | {len(row['runs'])} | "
            f"{row['median_seconds']:.0f} | {row['min_seconds']:.0f}-{row['max_seconds']:.0f} | "
            f"{'yes' if trained(row['runs']) else 'no'} | {min(loads):.1f}-{max(loads):.1f} | {speed} | "
            f"{', '.join(errors) or 'none'} | {row['measured_at']} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lessons", nargs="*", help="lessons to measure (default: every solution notebook)")
    parser.add_argument("--profile", default="class", choices=("quick", "class", "gpu"))
    parser.add_argument("--start", action="append", choices=STARTS, help="how runs start (repeatable; default installed)")
    parser.add_argument("--released", action="store_true", help="also measure the released (student) notebooks")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    parser.add_argument("--executed", type=Path, default=None, help="folder to write the executed notebooks to")
    parser.add_argument("--rewrite", action="store_true", help="measure nothing; rewrite the markdown from the data")
    args = parser.parse_args()
    lessons = args.lessons or sorted(path.parent.name for path in (ROOT / "solutions").glob("*/*.ipynb"))
    store = HERE / f"notebook_times_{args.profile}.json"
    rows = json.loads(store.read_text()) if store.exists() else {}
    rows = {key if " " in key else f"{key} solution installed": row for key, row in rows.items()}   # rows of the older layout
    if args.rewrite:
        (HERE / f"notebook_times_{args.profile}.md").write_text(markdown(rows, args.profile))
        print(f"rewrote {HERE / f'notebook_times_{args.profile}.md'} from its data")
        return
    versions = ("solution", "released") if args.released else ("solution",)
    for lesson in lessons:
        for version in versions:
            for start in args.start or ["installed"]:
                rows[f"{lesson} {version} {start}"] = measure(lesson, args.profile, args.repeats, args.timeout, start, version,
                                                              args.executed)
                store.write_text(json.dumps(rows, indent=1))
                (HERE / f"notebook_times_{args.profile}.md").write_text(markdown(rows, args.profile))
    print(f"wrote {HERE / f'notebook_times_{args.profile}.md'}")


if __name__ == "__main__":
    main()
