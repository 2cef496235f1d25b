"""nbgrader, dfkit-grade and the Gradescope zip give an honest submission the same points (right,
partly wrong, untouched)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from autograder import testing
from autograder.assignments import load_assignment
from autograder.grade import grade_notebook
from autograder.gradescope import build_zip
from helpers import gradescope_layout, run_autograder

ASSIGNMENT = "00_warmup"
HALF_BOUNCE = """
def bounce_step(position, velocity, limit):
    moved = position + velocity
    hit_low, hit_high = moved < 0, moved > limit
    return np.clip(moved, 0.0, limit), np.where(hit_low, -velocity, velocity), hit_low, hit_high
"""


def nbgrader(course: Path, *args: str) -> None:
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and "ERROR" not in done.stderr, done.stderr[-3000:]


@pytest.mark.slow
def test_nbgrader_autograde_dfkit_grade_and_gradescope_agree(tmp_path):
    course = tmp_path / "course"
    shutil.copytree(testing.solution_path(ASSIGNMENT).parent, course / "source" / ASSIGNMENT)
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\nc.CourseDirectory.course_id = 'dfkit'\n"
        "c.ExecutePreprocessor.timeout = 300\n")
    nbgrader(course, "generate_assignment", ASSIGNMENT, "--force")
    released = course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    assert released.read_text() == testing.released_path(ASSIGNMENT).read_text(), "notebooks/ differs from nbgrader's own release"

    solution = testing.load(testing.solution_path(ASSIGNMENT))
    student_copy = testing.load(released)
    everything_right = testing.with_cells(student_copy, {q: testing.solution_source(solution, q) for q in load_assignment(ASSIGNMENT).questions})
    submissions = {
        "right": everything_right,
        "partly_wrong": testing.with_cells(everything_right, {"00_warmup.bounce_step": HALF_BOUNCE}),
        "untouched": student_copy,
    }
    for student, notebook in submissions.items():
        testing.write(notebook, course / "submitted" / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    nbgrader(course, "autograde", ASSIGNMENT, "--create", "--force")

    from nbgrader.api import Gradebook

    warmup = load_assignment(ASSIGNMENT)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        nbgrader_scores = {s: gradebook.find_submission(ASSIGNMENT, s).score for s in submissions}
    dfkit_scores = {s: grade_notebook(course / "submitted" / s / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", warmup)["score"] for s in submissions}
    zip_path = build_zip(ASSIGNMENT, tmp_path / "ag.zip")
    gradescope_scores = {s: run_autograder(gradescope_layout(zip_path, tmp_path / "gradescope" / s, {f"{ASSIGNMENT}.ipynb": notebook}))["score"]
                         for s, notebook in submissions.items()}
    assert dfkit_scores == {"right": 12, "partly_wrong": 9, "untouched": 0}
    assert nbgrader_scores == dfkit_scores == gradescope_scores
