"""Building submissions for the course's own tests: a solution notebook with some cells changed.

Used by the adversarial corpus, the catalog of wrong implementations and the benchmark.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from autograder.notebook import cell_source, question_of_grade_id

REPO = Path(__file__).resolve().parent.parent


def solution_path(assignment: str) -> Path:
    return REPO / "solutions" / assignment / f"{assignment}.ipynb"


def released_path(assignment: str) -> Path:
    return REPO / "notebooks" / assignment / f"{assignment}.ipynb"


def load(path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def with_cells(notebook: dict, replace: dict | None = None, append: tuple[str, ...] = ()) -> dict:
    """A copy of ``notebook`` whose solution cells for the questions in ``replace`` hold new source,
    with extra free code cells appended."""
    notebook = copy.deepcopy(notebook)
    replace = dict(replace or {})
    for cell in notebook["cells"]:
        grade_id = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")
        question = question_of_grade_id(grade_id)
        if question in replace and cell["metadata"]["nbgrader"].get("solution"):
            cell["source"] = replace.pop(question)
    if replace:
        raise ValueError(f"no solution cell for {sorted(replace)}")
    for source in append:
        notebook["cells"].append({"cell_type": "code", "metadata": {}, "source": source, "outputs": [], "execution_count": None})
    return notebook


def solution_source(notebook: dict, question: str) -> str:
    for cell in notebook["cells"]:
        grade_id = (cell.get("metadata", {}).get("nbgrader") or {}).get("grade_id")
        if question_of_grade_id(grade_id) == question and cell["metadata"]["nbgrader"].get("solution"):
            return cell_source(cell)
    raise ValueError(f"no solution cell for {question}")


def write(notebook: dict, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return path
