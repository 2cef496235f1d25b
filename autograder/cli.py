"""The ``dfkit-grade`` command.

    dfkit-grade grade SUBMISSIONS --assignment NAME --out DIR [-j N] [--seed S] [--no-progress] [--gradescope-status]
    dfkit-grade check NOTEBOOK [--question ID] [--assignment NAME]
    dfkit-grade list

``grade`` writes ``DIR/<student>/results.json`` and ``feedback.md`` for every notebook under
SUBMISSIONS and ``DIR/grades.csv``; it exits 0 whenever it could grade, since a failing submission
is a score, not an error. ``check`` runs the visible tests of a notebook in the sandbox and prints
them for the student.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.plugin import DEFAULT_SEED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dfkit-grade", description="Sandboxed grading of dfkit course notebooks.")
    commands = parser.add_subparsers(title="commands", dest="command")

    grade = commands.add_parser("grade", help="grade every submission in a folder")
    grade.add_argument("submissions", help="folder of notebooks (nbgrader's submitted/<student>/<assignment>/ or flat), or one notebook")
    grade.add_argument("--assignment", required=True, help="assignment name, e.g. 00_warmup")
    grade.add_argument("--out", required=True, help="output folder for results.json, feedback.md and grades.csv")
    grade.add_argument("-j", "--jobs", type=int, default=1, help="submissions graded in parallel (default 1)")
    grade.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"seed of the test inputs (default {DEFAULT_SEED})")
    grade.add_argument("--no-progress", action="store_true", help="no progress bar")
    grade.add_argument("--gradescope-status", action="store_true",
                       help="write only passed/failed as a test's status (Gradescope's values); the precise status goes to extra_data")
    grade.set_defaults(handler=run_grade)

    check = commands.add_parser("check", help="run the visible tests of one notebook, as a student would")
    check.add_argument("notebook")
    check.add_argument("--question", help="only this question, e.g. 00_warmup.bounce_step")
    check.add_argument("--assignment", help="assignment name (default: from --question, else the notebook's file name)")
    check.set_defaults(handler=run_check)

    listing = commands.add_parser("list", help="assignments and their tests")
    listing.set_defaults(handler=run_list)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        return args.handler(args) or 0
    except (ValueError, FileNotFoundError) as error:
        print(f"dfkit-grade: error: {error}", file=sys.stderr)
        return 2


def run_grade(args) -> int:
    from autograder.grade import grade_class

    if args.jobs < 1:
        raise ValueError(f"expected -j/--jobs >= 1, got {args.jobs}")
    graded = grade_class(args.submissions, args.assignment, args.out, jobs=args.jobs, seed=args.seed,
                         progress=not args.no_progress, gradescope_status=args.gradescope_status)
    if not graded:
        print(f"no notebooks found under {args.submissions}", file=sys.stderr)
    for item in graded:
        results = item.results
        print(f"{item.student}: {results['score']:g}/{results['max_score']:g}  ({results['output']})")
    print(f"wrote {len(graded)} results and {Path(args.out) / 'grades.csv'}")
    return 0


def run_check(args) -> int:
    from autograder.assignments import load_assignment, question_assignment
    from autograder.grade import grade_notebook

    name = args.assignment or (question_assignment(args.question) if args.question else Path(args.notebook).stem)
    assignment = load_assignment(name)
    if args.question and args.question not in assignment.questions:
        raise ValueError(f"unknown question {args.question!r}; expected one of {sorted(assignment.questions)}")
    if not Path(args.notebook).is_file():
        raise FileNotFoundError(f"no notebook at {args.notebook}")
    results = grade_notebook(args.notebook, assignment, question=args.question, visible_only=True)
    for test in results["tests"]:
        mark = "PASS" if test["status"] == "passed" else test["status"].upper()
        print(f"[{mark}] {test['name']} ({test['score']:g}/{test['max_score']:g})")
        if test["status"] != "passed" and test["output"]:
            print("\n".join("    " + line for line in test["output"].splitlines()[:20]))
    print(f"visible tests: {results['score']:g}/{results['max_score']:g} points (hidden tests are added at grading time)")
    return 0


def run_list(args) -> int:
    from autograder.assignments import available, load_assignment
    from autograder.plugin import collect_tests

    for name in available():
        assignment = load_assignment(name)
        infos = collect_tests(assignment)
        print(f"{name}: {len(assignment.questions)} questions, {len(infos)} tests, {sum(i.points for i in infos):g} points")
        for question in assignment.questions:
            mine = [i for i in infos if i.question == question]
            visible = sum(i.points for i in mine if i.visible)
            print(f"  {question}: {len(mine)} tests, {sum(i.points for i in mine):g} points ({visible:g} visible)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
