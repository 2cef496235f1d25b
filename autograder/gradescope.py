"""Gradescope: the autograder zip of one assignment, and the grading run inside it.

Gradescope builds an image from the zip (``setup.sh`` runs once, as root, in ``/autograder/source``)
and, for each submission, runs ``/autograder/run_autograder`` with the student's files in
``/autograder/submission/``; it shows ``/autograder/results/results.json``. The root folder is
``$GRADESCOPE_ROOT`` (default ``/autograder``), so a test can lay out a temporary folder the same way
and run the real script.

The zip holds::

    setup.sh, run_autograder      Gradescope's two entry points
    dfkit/                        the course package to install (pyproject.toml, README.md, dfkit/,
                                  autograder/ without any test file)
    tests/<assignment>/           the assignment's tests, hidden ones included (read by the grader only)

``run_autograder`` grades with the same sandboxed path as ``dfkit-grade``: the worker that runs the
student's cells cannot read ``/autograder/source`` (the tests) or the results folder.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
import time
import zipfile
from pathlib import Path

from autograder.assignments import load_assignment, tests_root
from autograder.grade import _grader_failure, gradescope_statuses, grade_notebook, write_atomic
from autograder.plugin import DEFAULT_SEED

REPO = Path(__file__).resolve().parent.parent
DEFAULT_ROOT = "/autograder"
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"     # the CPU build; PyPI's default build is the CUDA one

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, in /autograder/source, to build the grading image.
set -euo pipefail
cd "$(dirname "$0")"
python=${{DFKIT_PYTHON:-python3}}
index=${{DFKIT_TORCH_INDEX-{torch_index}}}
"$python" -m pip install --quiet ${{index:+--index-url "$index"}} "torch=={torch}"
"$python" -m pip install --quiet ./dfkit
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for every submission; it writes $GRADESCOPE_ROOT/results/results.json.
set -uo pipefail
root=${{GRADESCOPE_ROOT:-{root}}}
exec "${{DFKIT_PYTHON:-python3}}" -m autograder.gradescope run --root "$root" --assignment {assignment} \\
    --tests "$root/source/tests"
"""


def torch_version() -> str:
    import torch

    return torch.__version__.split("+")[0]


def build_zip(assignment_name: str, out) -> Path:
    """Write the autograder zip of ``assignment_name`` to ``out``; returns its path."""
    assignment = load_assignment(assignment_name)
    out = Path(out)
    entries: dict[str, bytes] = {
        "setup.sh": SETUP.format(torch=torch_version(), torch_index=TORCH_INDEX).encode(),
        "run_autograder": RUN.format(root=DEFAULT_ROOT, assignment=assignment_name).encode(),
    }
    for name in ("pyproject.toml", "README.md"):
        entries[f"dfkit/{name}"] = (REPO / name).read_bytes()
    for package in ("dfkit", "autograder"):
        for path in sorted((REPO / package).rglob("*")):
            relative = path.relative_to(REPO)
            if path.is_file() and "__pycache__" not in relative.parts and relative.parts[:2] != ("autograder", "tests"):
                entries[f"dfkit/{relative.as_posix()}"] = path.read_bytes()
    entries["tests/pytest.ini"] = (tests_root() / "pytest.ini").read_bytes()
    for path in sorted(assignment.directory.iterdir()):
        if path.is_file() and path.suffix == ".py" and path.name != "catalog.py":
            entries[f"tests/{assignment_name}/{path.name}"] = path.read_bytes()
    solution_mark = b"dfkit-" + b"canary: solution-"      # planted in every solution cell (split: this file must not carry it)
    leaked = [name for name, data in entries.items() if name.endswith(".ipynb") or solution_mark in data]
    if leaked:
        raise RuntimeError(f"the autograder zip would contain solutions: {leaked}")
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(entries.items()):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            executable = name in ("setup.sh", "run_autograder")
            info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return out


def submitted_notebooks(folder: Path) -> list[Path]:
    """Every notebook the student submitted (Jupyter's checkpoint copies left out)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*.ipynb") if p.is_file() and ".ipynb_checkpoints" not in p.parts)


def run(root, assignment_name: str, tests=None) -> dict:
    """Grade the one notebook in ``root/submission`` into ``root/results/results.json``; returns the results."""
    started = time.monotonic()
    root = Path(root)
    results_folder = root / "results"
    results_folder.mkdir(parents=True, exist_ok=True)
    assignment = load_assignment(assignment_name, tests)
    notebooks = submitted_notebooks(root / "submission")
    if len(notebooks) == 1:
        secrets = [root / "source", results_folder]
        try:
            results = grade_notebook(notebooks[0], assignment, extra_secret_paths=secrets, student=notebooks[0].stem)
        except Exception as error:      # a fault of the grader itself: the student still gets a complete file
            results = _grader_failure(assignment, notebooks[0].stem, DEFAULT_SEED, assignment.limits, f"{type(error).__name__}: {error}")
    else:
        found = ", ".join(p.name for p in notebooks)
        reason = (f"no notebook was submitted: upload your {assignment_name}.ipynb" if not notebooks else
                  f"{len(notebooks)} notebooks were submitted ({found}); upload only your {assignment_name}.ipynb")
        results = _grader_failure(assignment, "submission", DEFAULT_SEED, assignment.limits, reason)
        results["output"] = reason
    results = gradescope_statuses(results)
    results["execution_time"] = round(time.monotonic() - started, 3)
    results["stdout_visibility"] = "hidden"
    write_atomic(results_folder / "results.json", json.dumps(results, indent=2, allow_nan=False))
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.gradescope", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="write the autograder zip of an assignment")
    build.add_argument("assignment")
    build.add_argument("out")
    grade = commands.add_parser("run", help="grade root/submission into root/results (what run_autograder does)")
    grade.add_argument("--root", default=os.environ.get("GRADESCOPE_ROOT", DEFAULT_ROOT))
    grade.add_argument("--assignment", required=True)
    grade.add_argument("--tests", default=None, help="the tests root (default: the installed autograder's)")
    args = parser.parse_args(argv)
    if args.command == "build":
        print(build_zip(args.assignment, args.out))
        return 0
    results = run(args.root, args.assignment, args.tests)
    print(f"{results['score']:g} / {results['max_score']:g}: {results['output']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
