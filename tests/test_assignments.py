"""The contract every lesson's assignment keeps, checked once for all of them.

For each assignment with a catalog of wrong answers: every question has visible and hidden tests
and catalogued mistakes; the solution notebook's cells follow the exercise pattern (the solution
cell defines the function, the locked check cell carries the points of its tests, the next cell
picks the student's function or the library's); the released notebook holds no solution; through
the sandbox the solution scores full marks, the released notebook zero with "not written yet",
and a notebook with the first catalogued mistake of every question loses points on each.
Lesson-specific behaviour (practice exercises, widgets, figures) is tested in test_lessons_*.py.
"""

import json

import pytest

from autograder import testing
from autograder.assignments import available, load_assignment
from autograder.grade import grade_notebook
from autograder.plugin import collect_tests

LESSONS = [name for name in available() if load_assignment(name).catalog()]


def cell_source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def nbgrader(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


@pytest.fixture(params=LESSONS)
def assignment(request):
    return load_assignment(request.param)


def test_lessons_with_catalogs_are_found():
    assert {"01_vae", "02_ddpm", "03_flow_matching", "04_teacher_forcing", "05_full_sequence",
            "06_diffusion_forcing", "07_guidance"} <= set(LESSONS)


def test_every_question_has_visible_and_hidden_tests_and_a_catalog(assignment):
    infos = collect_tests(assignment)
    assert {i.question for i in infos} == set(assignment.questions)
    for question in assignment.questions:
        assert any(i.visible for i in infos if i.question == question), question
        assert any(not i.visible for i in infos if i.question == question), question
    catalog = assignment.catalog()
    assert set(catalog) == set(assignment.questions)
    assert all(len(entries) >= 3 for entries in catalog.values()), {q: len(e) for q, e in catalog.items()}


def test_notebook_cells_follow_the_exercise_contract(assignment):
    infos = collect_tests(assignment)
    cells = testing.load(testing.solution_path(assignment.name))["cells"]
    sources = [cell_source(cell) for cell in cells]
    graded = {}
    for number, cell in enumerate(cells):
        meta = nbgrader(cell)
        if not meta.get("grade"):
            continue
        question = meta["grade_id"].replace("-", ".", 1).rsplit("-check", 1)[0]
        name = question.split(".", 1)[1]
        graded[question] = meta["points"]
        assert meta["points"] == sum(i.points for i in infos if i.question == question), question
        assert meta["locked"] and sources[number].startswith(f'check("{question}")'), question
        assert nbgrader(cells[number - 1]).get("solution") and f"def {name}(" in sources[number - 1], question
        assert sources[number + 1].startswith(f'{name} = own_or_library("{question}", {name})'), question
    assert set(graded) == set(assignment.questions)


def test_released_notebook_has_no_solution(assignment):
    solution_cells = sum(1 for cell in testing.load(testing.solution_path(assignment.name))["cells"] if nbgrader(cell).get("solution"))
    text = testing.released_path(assignment.name).read_text()
    assert "dfkit-canary" not in text and "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    assert text.count("raise NotImplementedError()") == solution_cells


def test_solution_scores_everything_release_nothing_and_mistakes_lose_points(assignment, tmp_path):
    total = sum(i.points for i in collect_tests(assignment))
    solution = grade_notebook(testing.solution_path(assignment.name), assignment)
    assert (solution["score"], solution["max_score"]) == (total, total), [t for t in solution["tests"] if t["status"] != "passed"]
    released = grade_notebook(testing.released_path(assignment.name), assignment)
    assert released["score"] == 0 and released["max_score"] == total
    assert all(t["status"] == "error" and "is not written yet" in t["output"] for t in released["tests"])
    first_wrong = {q: next(iter(entries.values())) for q, entries in assignment.catalog().items()}
    wrong = testing.with_cells(testing.load(testing.solution_path(assignment.name)), first_wrong)
    results = grade_notebook(testing.write(wrong, tmp_path / "wrong.ipynb"), assignment)
    for question in assignment.questions:
        mine = [t for t in results["tests"] if t["name"].startswith(question)]
        assert mine and sum(t["score"] for t in mine) < sum(t["max_score"] for t in mine), question
    json.dumps(results)                                # a complete, serializable results file
