"""Every solution notebook, and every released (unsolved) notebook, runs top to bottom in a fresh
kernel under the ``quick`` profile.

Every kernel starts in its own scratch folder. The solutions share one dataset cache and one
checkpoint folder, both empty at first, as on the fresh machine of a student who works through the
lessons in order without the model pack: the first notebook that needs a dataset, the metric digit
classifier or a model builds it (so every notebook that trains does train, unless an earlier lesson
trained the same model), later ones load it.

Each released notebook then runs as a student with the course's model pack would run it: a pack of
the notebook's own reference models (``dfkit.reference_models.LESSONS``, packed from what the
solutions trained) is installed into an empty checkpoint folder and training is switched off
(``DFKIT_TRAINING=never``), so a model the notebook loads but does not declare fails the run. A
student who has written nothing yet must still reach the end: each check says plainly that its
function is not written yet and the notebook falls back to the library. Wall times are printed
(``pytest -s``); budgets are measured by the benchmarks, not asserted here.
"""

import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from dfkit import model_pack
from dfkit.profiles import get_profile
from dfkit.reference_models import lesson_models, train_missing
from helpers import load_benchmark

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*/*.ipynb"))
RELEASED = [ROOT / "notebooks" / path.parent.name / path.name for path in SOLUTIONS]


@pytest.fixture(scope="module")
def student_machine(tmp_path_factory) -> dict[str, str]:
    """The dataset cache and checkpoint folder every notebook of this module shares (empty at first)."""
    return {"DFKIT_CACHE": str(tmp_path_factory.mktemp("student_cache")),
            "DFKIT_CHECKPOINTS": str(tmp_path_factory.mktemp("student_checkpoints"))}


def execute(path: Path, folder: Path, machine: dict[str, str], monkeypatch) -> nbformat.NotebookNode:
    monkeypatch.setenv("DFKIT_PROFILE", "quick")
    for name, value in machine.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}})
    start = time.perf_counter()
    client.execute()
    print(f"{path.parent.parent.name}/{path.name}: {time.perf_counter() - start:.1f} s")
    return notebook


def outputs(notebook, kind: str):
    return [(cell, output) for cell in notebook.cells if cell.cell_type == "code"
            for output in cell.get("outputs", []) if output.get("output_type") == kind]


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_solution_notebook_executes_under_quick(path, tmp_path, monkeypatch, student_machine):
    notebook = execute(path, tmp_path, student_machine, monkeypatch)
    errors = [output for _, output in outputs(notebook, "error")]
    assert not errors, errors
    if lesson_models(path.parent.name):                  # before anything trains, the notebook says what it needs
        printed = "".join(output.get("text", "") for _, output in outputs(notebook, "stream"))
        assert f"Reference models of {path.parent.name}" in printed


def with_the_pack_installed(lesson: str, student_machine: dict[str, str], folder: Path) -> dict[str, str]:
    """A student machine whose checkpoint folder holds only ``lesson``'s reference models, installed from
    a pack of the solutions' models, with training switched off."""
    profile = get_profile("quick")
    pack_file, installed = folder / f"{lesson}-models.tar", folder / "installed_checkpoints"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DFKIT_CHECKPOINTS", student_machine["DFKIT_CHECKPOINTS"])
        patch.setenv("DFKIT_CACHE", student_machine["DFKIT_CACHE"])
        train_missing(profile, [lesson], progress=False, log=lambda line: None)   # when run without the solutions
        if lesson_models(lesson):
            model_pack.pack(profile, pack_file, lessons=[lesson], log=lambda line: None)
            patch.setenv("DFKIT_CHECKPOINTS", str(installed))
            model_pack.install(pack_file, log=lambda line: None)
    return {**student_machine, "DFKIT_CHECKPOINTS": str(installed), "DFKIT_TRAINING": "never"}


@pytest.mark.parametrize("path", RELEASED, ids=[p.stem for p in RELEASED])
def test_released_notebook_reaches_the_end_with_every_exercise_unwritten(path, tmp_path, monkeypatch, student_machine):
    lesson = path.parent.name
    machine = with_the_pack_installed(lesson, student_machine, tmp_path / "pack")
    notebook = execute(path, tmp_path, machine, monkeypatch)
    errors = [output for _, output in outputs(notebook, "error")]
    assert not errors, [f"{error['ename']}: {error['evalue'][:300]}" for error in errors]
    text = lambda cell: "".join(output.get("text", "") for output in cell.get("outputs", []))  # noqa: E731
    printed = "".join(text(cell) for cell in notebook.cells if cell.cell_type == "code")
    if lesson_models(lesson):
        assert "All present: nothing will be trained." in printed and "Training " not in printed
    check_cells = [cell for cell in notebook.cells if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade")]
    assert check_cells, f"{path.name} has no graded check cells"
    for cell in check_cells:
        assert "is not written yet" in text(cell), f"check cell {cell.metadata['nbgrader']['grade_id']} printed: {text(cell)[:300]!r}"


def test_notebook_times_keeps_the_executed_notebook_when_asked(tmp_path, monkeypatch):
    """``benchmarks/notebook_times.py --executed DIR``: the run is timed and its outputs are kept for reading."""
    notebook_times = load_benchmark("notebook_times")
    monkeypatch.setenv("DFKIT_CHECKPOINTS", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("DFKIT_PROFILE", "quick")       # run_once sets both; monkeypatch restores them
    monkeypatch.setenv("MPLBACKEND", "Agg")
    path = tmp_path / "lesson" / "lesson.ipynb"
    path.parent.mkdir()
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")]), path)
    run = notebook_times.run_once(path, "quick", timeout=120)
    assert run["seconds"] > 0 and run["errors"] == [] and not (tmp_path / "out").exists()
    notebook_times.run_once(path, "quick", timeout=120, executed=tmp_path / "out")
    kept = nbformat.read(tmp_path / "out" / "lesson.ipynb", as_version=4)
    assert kept.cells[0].outputs[0]["text"].strip() == "42"
    assert nbformat.read(path, as_version=4).cells[0].outputs == []      # the solution itself is not touched
