"""Grading throughput: dfkit-grade against nbgrader autograde on the same class of 00_warmup notebooks.

    python benchmarks/grading_throughput.py [--students 50] [--jobs 2] [--out benchmarks/grading_throughput.md]

Builds a course folder in a temporary directory (nbgrader's layout: source/, release/, submitted/),
with honest submissions of four kinds in turn: everything right, one question wrong (a catalogued
wrong answer), two questions wrong, the untouched release. Then it times, once each,

* ``dfkit-grade grade submitted --assignment 00_warmup -j JOBS`` (sandboxed workers, in parallel);
* ``nbgrader autograde 00_warmup`` (executes every notebook in a kernel, one after another);

checks that both give every student the same score, and writes a markdown table.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from autograder import testing
from autograder.assignments import load_assignment
from autograder.grade import versions

ASSIGNMENT = "00_warmup"


def build_course(root: Path, students: int) -> dict[str, str]:
    """Write the course folder; returns student -> kind of submission."""
    shutil.copytree(testing.solution_path(ASSIGNMENT).parent, root / "source" / ASSIGNMENT)
    (root / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(root)!r}\nc.CourseDirectory.course_id = 'dfkit'\n")
    run(root, [sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT, "--force"])
    released = testing.load(root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    solution = testing.load(testing.solution_path(ASSIGNMENT))
    assignment = load_assignment(ASSIGNMENT)
    questions = list(assignment.questions)
    right = testing.with_cells(released, {q: testing.solution_source(solution, q) for q in questions})
    catalog = assignment.catalog()
    kinds = {}
    for number in range(students):
        student = f"student{number:03d}"
        kind = number % 4
        wrong_questions = questions[number % len(questions):][:kind] if kind in (1, 2) else []
        replacements = {q: list(catalog[q].values())[number % len(catalog[q])] for q in wrong_questions}
        notebook = released if kind == 3 else testing.with_cells(right, replacements)
        kinds[student] = ("the untouched release" if kind == 3 else "all right" if not wrong_questions
                          else f"{len(wrong_questions)} question{'s' if len(wrong_questions) > 1 else ''} wrong")
        testing.write(notebook, root / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    return kinds


def run(cwd: Path, command: list[str]) -> float:
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return seconds


def nbgrader_scores(root: Path, students) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gradebook:
        return {s: gradebook.find_submission(ASSIGNMENT, s).score for s in students}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", default=str(Path(__file__).with_name("grading_throughput.md")))
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="dfkit-bench-") as folder:
        root = Path(folder)
        kinds = build_course(root, args.students)
        load_before = os.getloadavg()[0]
        dfkit_seconds = run(root, [sys.executable, "-m", "autograder.cli", "grade", "submitted", "--assignment", ASSIGNMENT,
                                   "--out", "dfkit-results", "-j", str(args.jobs), "--no-progress"])
        dfkit = {row["student"]: float(row["score"]) for row in csv.DictReader(open(root / "dfkit-results" / "grades.csv"))}
        nbgrader_seconds = run(root, [sys.executable, "-m", "nbgrader", "autograde", ASSIGNMENT, "--create", "--force"])
        load_after = os.getloadavg()[0]
        nbgrader = nbgrader_scores(root, kinds)

    disagreements = sorted(s for s in kinds if dfkit[s] != nbgrader[s])
    mix = {kind: sum(1 for k in kinds.values() if k == kind) for kind in sorted(set(kinds.values()))}
    v = versions()
    table = "\n".join([
        "# Grading throughput: dfkit-grade against nbgrader autograde",
        "",
        f"{args.students} honest submissions of `{ASSIGNMENT}` ({', '.join(f'{k}: {n}' for k, n in mix.items())}), graded once by each tool",
        f"on {os.cpu_count()} CPU cores ({platform.machine()}, Linux {platform.release()}); one-minute load average "
        f"{load_before:.1f} before and {load_after:.1f} after (the machine is shared, so timings are indicative).",
        f"python {v['python']}, numpy {v['numpy']}, torch {v['torch']}. Produced by `python benchmarks/grading_throughput.py`.",
        "",
        "| tool | how | wall time (s) | per submission (s) | relative |",
        "|---|---|---:|---:|---:|",
        f"| dfkit-grade | `-j {args.jobs}`, sandboxed worker per submission, graded cells only | {dfkit_seconds:.1f} | "
        f"{dfkit_seconds / args.students:.2f} | 1.00 |",
        f"| nbgrader autograde | every notebook executed in a kernel, sequentially | {nbgrader_seconds:.1f} | "
        f"{nbgrader_seconds / args.students:.2f} | {nbgrader_seconds / dfkit_seconds:.2f} |",
        "",
        f"Scores: {'identical for all ' + str(args.students) + ' students' if not disagreements else 'DIFFERENT for ' + ', '.join(disagreements)}"
        f" (class total {sum(dfkit.values()):g} points).",
        "",
    ])
    Path(args.out).write_text(table, encoding="utf-8")
    print(table)
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
