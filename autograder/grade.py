"""Grading notebooks: one submission into a results file, a whole class into a folder and a CSV.

For each submission :func:`grade_notebook` reads the notebook (never executing it here), starts a
:class:`~autograder.session.Session` and runs the assignment's tests against it. Whatever happens,
it returns a complete result: a malformed notebook or a broken submission is a score of 0 with a
status, never an exception. :func:`write_results` writes, atomically,

* ``results.json``: Gradescope's format (score, max_score, tests[] with name, score, max_score,
  status, output, visibility) plus ``extra_data.dfkit_grade``: versions, seed, limits, the sandbox
  as enforced, sha256 of the tests and of the submission, and constructs in graded cells worth a
  look (:mod:`autograder.flags`; never scored);
* ``feedback.md``: what the student may see: every test's score and status, the output of visible
  tests only (hidden tests show neither their source nor any expected value).

:func:`grade_class` does this for every notebook under a folder (in parallel with ``jobs``) and
writes ``grades.csv``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import platform
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from autograder import redaction
from autograder.assignments import Assignment, load_assignment
from autograder.notebook import MalformedNotebook, read_submission
from autograder.plugin import DEFAULT_SEED, TestResult, collect_tests, run_tests
from autograder.session import Session


class TestsChanged(RuntimeError):
    """The assignment's test files changed during grading: every score of this run is suspect."""


@dataclass
class Graded:
    student: str
    results: dict

    @property
    def score(self) -> float:
        return self.results["score"]


def repo_secret_paths(assignment: Assignment) -> list[Path]:
    """Folders the worker must never see: every assignment's tests, the solutions, the git history."""
    paths = [assignment.directory.parent]
    repo = Path(__file__).resolve().parent.parent
    for name in ("solutions", ".git"):
        if (repo / name).is_dir():
            paths.append(repo / name)
    return paths


def grade_notebook(path, assignment: Assignment, *, seed: int = DEFAULT_SEED, limits=None, extra_secret_paths=(),
                   question: str | None = None, visible_only: bool = False, student: str | None = None,
                   library: str | None = None) -> dict:
    """Grade one notebook file; returns the results dict (see the module docstring). ``library``: the
    redacted copy of dfkit to use (:func:`autograder.redaction.redacted_library`; built when not given)."""
    started = time.monotonic()
    limits = limits or assignment.limits
    tests_digest = assignment.sha256()
    secret = repo_secret_paths(assignment) + [Path(p) for p in extra_secret_paths]
    enforcement = None
    submission_sha = None
    flags: dict = {}
    try:
        submission = read_submission(path, list(assignment.questions))
    except MalformedNotebook as problem:
        infos = [i for i in collect_tests(assignment) if question in (None, i.question) and (i.visible or not visible_only)]
        results = [TestResult(i.name, i.question, i.points, i.visible, "error", 0.0, f"malformed notebook: {problem}") for i in infos]
        summary = f"The notebook could not be graded: {problem}"
    else:
        submission_sha = submission.sha256
        flags = submission.flags
        session = Session(submission, assignment, limits, hidden_paths=secret, library=library)
        try:
            _, results = run_tests(assignment, session, seed, question, visible_only)
        finally:
            session.close()
        enforcement = session.enforcement
        flags = _with_reference_calls(flags, session.reference_calls)
        summary = _summary(results)
    if assignment.sha256() != tests_digest:
        raise TestsChanged(f"the test files of {assignment.name} changed while grading {path}; grading stopped")
    document = _results_document(results, summary, assignment, student or Path(path).stem, seed, limits, enforcement,
                                 tests_digest, submission_sha, time.monotonic() - started)
    document["extra_data"]["dfkit_grade"]["flags"] = flags
    return document


def _with_reference_calls(flags: dict, reference_calls: dict) -> dict:
    """The static flags plus, per question, each removed library answer the submission called."""
    merged = {question: list(noted) for question, noted in flags.items()}
    for question, paths in reference_calls.items():
        merged.setdefault(question, []).extend(
            f"called {path}, dfkit's own answer, which the grader removes (scored as a missing function)" for path in paths)
    return merged


def _summary(results: list[TestResult]) -> str:
    counts: dict[str, int] = {}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))


def _results_document(results, summary, assignment, student, seed, limits, enforcement, tests_sha, submission_sha, seconds) -> dict:
    tests = [
        {
            "name": f"{r.question} :: {r.name}", "score": r.score, "max_score": r.points, "status": r.status,
            "output": r.output, "visibility": "visible" if r.visible else "hidden",
        }
        for r in results
    ]
    sandbox = dict(enforcement or {})      # what the worker had; the limits it enforced go beside the limits
    return {
        "score": sum(t["score"] for t in tests),
        "max_score": sum(t["max_score"] for t in tests),
        "execution_time": round(seconds, 3),
        "output": summary,
        "tests": tests,
        "extra_data": {"dfkit_grade": {
            "assignment": assignment.name, "student": student, "seed": seed,
            "limits": dict(limits.as_dict(), enforced=sandbox.pop("limits", "no student code was run")),
            "sandbox": sandbox or "no student code was run", "tests_sha256": tests_sha,
            "submission_sha256": submission_sha, "versions": versions(),
        }},
    }


def versions() -> dict:
    found = {"python": platform.python_version()}
    for package in ("dfkit", "numpy", "torch", "pytest"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    return found


# ----------------------------------------------------------------------------- files

def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the whole new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def write_results(graded: Graded, directory: Path, gradescope_status: bool = False) -> None:
    results = gradescope_statuses(graded.results) if gradescope_status else graded.results
    write_atomic(directory / "results.json", json.dumps(results, indent=2, allow_nan=False))
    write_atomic(directory / "feedback.md", feedback_markdown(graded))


def gradescope_statuses(results: dict) -> dict:
    """A copy whose test statuses are only ``passed``/``failed`` (all that Gradescope's ``status`` knows);
    the precise status moves to the test's ``extra_data`` and the front of its output."""
    tests = []
    for test in results["tests"]:
        test = dict(test)
        if test["status"] not in ("passed", "failed"):
            test["extra_data"] = {"status": test["status"]}
            test["output"] = f"[{test['status']}] {test['output']}"
            test["status"] = "failed"
        tests.append(test)
    return dict(results, tests=tests)


def feedback_markdown(graded: Graded) -> str:
    """The student's report: visible tests in full; hidden tests by question, status and points only."""
    results = graded.results
    lines = [f"# Feedback: {results['extra_data']['dfkit_grade']['assignment']}", "",
             f"**Score: {results['score']:g} / {results['max_score']:g}**", ""]
    hidden_number = 0
    for test in results["tests"]:
        question, name = test["name"].split(" :: ", 1)
        mark = "✅" if test["status"] == "passed" else "❌"
        if test["visibility"] == "visible":
            lines.append(f"## {mark} {question}: {name} ({test['score']:g}/{test['max_score']:g}, {test['status']})")
            if test["output"]:
                lines += ["", "```", test["output"].replace("```", "'''"), "```"]
        else:
            hidden_number += 1
            lines.append(f"## {mark} {question}: hidden test {hidden_number} ({test['score']:g}/{test['max_score']:g}, {test['status']})")
        lines.append("")
    flags = results["extra_data"]["dfkit_grade"].get("flags") or {}
    if flags:
        lines += ["## Noted for your instructor (not scored)", ""]
        lines += [f"- {question}: {note}" for question, notes in sorted(flags.items()) for note in notes]
        lines.append("")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- a class

def find_submissions(root, assignment: str) -> list[tuple[str, Path]]:
    """``(student, notebook)`` pairs under ``root``.

    Accepted layouts: nbgrader's ``submitted/<student>/<assignment>/<notebook>.ipynb`` (``root`` may be
    the course folder, ``submitted/`` or a single student's folder), ``<root>/<student>/<notebook>.ipynb``
    and a flat ``<root>/<student>.ipynb``. A student with several notebooks is graded on the one named
    after the assignment, else on the first by name.
    """
    root = Path(root)
    if root.is_file():
        return [(root.stem, root)]
    if not root.is_dir():
        raise FileNotFoundError(f"expected a folder of submissions or a notebook, got {root}")
    if (root / "submitted").is_dir():
        root = root / "submitted"
    found: dict[str, list[Path]] = {}
    for path in sorted(root.rglob("*.ipynb")):
        parts = path.relative_to(root).parts
        if any(part.startswith(".") for part in parts):
            continue      # .ipynb_checkpoints and other hidden folders
        if len(parts) == 1:
            student = path.stem
        elif len(parts) >= 3 and parts[-2] == assignment:
            student = parts[-3]
        else:
            student = parts[0]
        found.setdefault(student, []).append(path)
    chosen = []
    for student, paths in sorted(found.items()):
        named = [p for p in paths if p.stem == assignment]
        chosen.append((student, (named or paths)[0]))
    return chosen


def _grade_one(task) -> tuple[str, dict]:
    student, path, assignment_name, tests_root, out, seed, limits, extra_secrets, gradescope_status, library = task
    assignment = load_assignment(assignment_name, tests_root)
    try:
        results = grade_notebook(path, assignment, seed=seed, limits=limits, extra_secret_paths=extra_secrets, student=student,
                                 library=library)
    except TestsChanged:
        raise
    except Exception as error:      # a fault of the grader itself: this student still gets a complete file
        results = _grader_failure(assignment, student, seed, limits, f"{type(error).__name__}: {error}")
    graded = Graded(student, results)
    write_results(graded, Path(out) / _safe_name(student), gradescope_status)
    return student, results


def _grader_failure(assignment: Assignment, student: str, seed: int, limits, reason: str) -> dict:
    infos = collect_tests(assignment)
    results = [TestResult(i.name, i.question, i.points, i.visible, "error", 0.0, f"the grader failed on this submission: {reason}")
               for i in infos]
    return _results_document(results, f"grader failure: {reason}", assignment, student, seed, limits or assignment.limits,
                             None, assignment.sha256(), None, 0.0)


def _safe_name(student: str) -> str:
    name = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in student).lstrip(".") or "student"
    return name + "_" if name.lower() == "grades.csv" else name


def grade_class(submissions, assignment_name: str, out, *, jobs: int = 1, seed: int = DEFAULT_SEED, limits=None,
                progress: bool = True, tests_root=None, gradescope_status: bool = False) -> list[Graded]:
    """Grade every submission under ``submissions`` into ``out``; returns them in student order."""
    assignment = load_assignment(assignment_name, tests_root)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    pairs = find_submissions(submissions, assignment_name)
    extra_secrets = [str(Path(submissions).resolve()), str(out.resolve())]
    library = redaction.redacted_library(assignment.references())      # one copy for the whole class
    tasks = [(student, str(path), assignment_name, tests_root, str(out), seed, limits, extra_secrets, gradescope_status, library)
             for student, path in pairs]
    bar = _progress(len(tasks), progress)
    graded: dict[str, dict] = {}
    if jobs <= 1 or len(tasks) <= 1:
        for task in tasks:
            student, results = _grade_one(task)
            graded[student] = results
            bar.update(1)
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("forkserver")) as pool:
            futures = {pool.submit(_grade_one, task): task for task in tasks}
            for future in as_completed(futures):
                try:
                    student, results = future.result()
                except TestsChanged:
                    raise
                except Exception as error:      # the pool process itself died
                    student = futures[future][0]
                    results = _grader_failure(assignment, student, seed, limits, f"{type(error).__name__}: {error}")
                    write_results(Graded(student, results), out / _safe_name(student), gradescope_status)
                graded[student] = results
                bar.update(1)
    bar.close()
    ordered = [Graded(student, graded[student]) for student, _ in pairs]
    write_atomic(out / "grades.csv", grades_csv(ordered, assignment))
    return ordered


def _progress(total: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="grading", unit="notebook", disable=not enabled or total == 0, file=sys.stderr)


def grades_csv(graded: list[Graded], assignment: Assignment) -> str:
    questions = list(assignment.questions)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "score", "max_score", "percent", *questions, "problems", "flagged"])
    for item in graded:
        per_question = {q: 0.0 for q in questions}
        problems = set()
        for test in item.results["tests"]:
            question = test["name"].split(" :: ", 1)[0]
            per_question[question] = per_question.get(question, 0.0) + test["score"]
            if test["status"] not in ("passed", "failed"):
                problems.add(test["status"])
        total, maximum = item.results["score"], item.results["max_score"]
        percent = round(100.0 * total / maximum, 1) if maximum else 0.0
        flagged = item.results["extra_data"]["dfkit_grade"].get("flags") or {}
        writer.writerow([item.student, f"{total:g}", f"{maximum:g}", percent, *(f"{per_question[q]:g}" for q in questions),
                         " ".join(sorted(problems)), " ".join(sorted(flagged))])
    return buffer.getvalue()
