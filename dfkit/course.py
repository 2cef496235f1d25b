"""Course tooling: notebook helpers for students, release and student bundle for instructors.

In a notebook::

    from dfkit.course import check, own_or_library
    check("00_warmup.bounce_step")                                  # visible tests of one exercise
    bounce_step = own_or_library("00_warmup.bounce_step", bounce_step)

For instructors (also ``dfkit course release`` and ``dfkit course student-bundle DIR``)::

    release()                 # regenerate notebooks/ from solutions/ (nbgrader's preprocessors)
    release_differences()     # notebooks that differ from what release() would write (CI)
    student_bundle(folder)    # what students get: released notebooks, the library, visible checks
"""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = REPO / "solutions"
NOTEBOOKS = REPO / "notebooks"


# ----------------------------------------------------------------------------- in a notebook

def check(question: str, hidden: bool = False):
    """Run the checks of ``question`` on the function just defined in this notebook (see :mod:`autograder.selfcheck`)."""
    from autograder.selfcheck import check as run_check

    return run_check(question, hidden=hidden)


def own_or_library(question: str, function):
    """``function`` if the last ``check(question)`` passed, else dfkit's own version, with a one-line notice."""
    from autograder.assignments import load_assignment, question_assignment
    from autograder.selfcheck import check as run_check
    from autograder.selfcheck import last_result

    result = last_result(question)
    if result is None or result.function is not function:
        name = question.split(".", 1)[1]
        result = run_check(question, namespace={name: function}, verbose=False)
    if result.passed:
        return function
    assignment = load_assignment(question_assignment(question))
    path = assignment.questions[question].references[0]
    module_name, _, name = path.rpartition(".")
    library = getattr(importlib.import_module(module_name), name)
    print(f"Notice: {question} did not pass its checks yet, so the rest of this notebook uses {path} instead of yours.")
    return library


# ----------------------------------------------------------------------------- release

def _release_preprocessors():
    """nbgrader's generate_assignment steps that shape the student notebook (not its database ones)."""
    from nbgrader.preprocessors import (CheckCellMetadata, ClearHiddenTests, ClearMarkScheme, ClearOutput,
                                        ClearSolutions, ComputeChecksums, LockCells)

    return [LockCells(), ClearSolutions(), ClearOutput(), CheckCellMetadata(), ComputeChecksums(),
            ClearHiddenTests(), ClearMarkScheme(), ComputeChecksums(), CheckCellMetadata()]


def released_text(solution: Path) -> str:
    """The student version of one solution notebook, as the exact text ``release()`` writes."""
    import nbformat

    notebook = nbformat.read(str(solution), as_version=4)
    resources = {"nbgrader": {"assignment": solution.parent.name, "notebook": solution.stem}}
    for preprocessor in _release_preprocessors():
        notebook, resources = preprocessor.preprocess(notebook, resources)
    return nbformat.writes(notebook) + "\n"


def solution_notebooks(solutions: Path = SOLUTIONS) -> list[Path]:
    return sorted(p for p in Path(solutions).glob("*/*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def release(solutions: Path = SOLUTIONS, notebooks: Path = NOTEBOOKS) -> list[Path]:
    """Regenerate every student notebook from its solution; returns the files written."""
    written = []
    for solution in solution_notebooks(solutions):
        target = Path(notebooks) / solution.parent.name / solution.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(released_text(solution), encoding="utf-8")
        written.append(target)
    return written


def release_differences(solutions: Path = SOLUTIONS, notebooks: Path = NOTEBOOKS) -> list[str]:
    """Student notebooks that are missing, stale or extra compared with what ``release()`` would write."""
    problems = []
    expected = {}
    for solution in solution_notebooks(solutions):
        relative = Path(solution.parent.name) / solution.name
        expected[relative] = released_text(solution)
    for relative, text in expected.items():
        target = Path(notebooks) / relative
        if not target.exists():
            problems.append(f"notebooks/{relative} is missing")
        elif target.read_text(encoding="utf-8") != text:
            problems.append(f"notebooks/{relative} differs from its regeneration from solutions/{relative}")
    for extra in sorted(Path(notebooks).glob("*/*.ipynb")):
        relative = extra.relative_to(notebooks)
        if relative not in expected and ".ipynb_checkpoints" not in relative.parts:
            problems.append(f"notebooks/{relative} has no solution notebook")
    return problems


# ----------------------------------------------------------------------------- student bundle

BUNDLE_TOP_LEVEL = ["pyproject.toml", "lectures", "datasets/README.md", "dfkit"]
STUDENT_README = NOTEBOOKS / "README.md"      # the bundle's README.md: installing, the notebooks, checks, submitting


def student_bundle(destination, repo: Path = REPO, checkpoints: str | None = None) -> list[Path]:
    """Write what students receive into ``destination`` (which must not exist or be empty).

    Contents: the students' README (``notebooks/README.md``), the released notebooks, the library,
    the autograder package with each assignment's question table and *visible* test files, the
    lectures and the dataset cards. Left out: the
    solutions, hidden tests, wrong-implementation catalogs, git history, caches.
    ``checkpoints``: a model pack (file or URL, :mod:`dfkit.model_pack`), verified and installed into
    the bundle's ``checkpoints/``, where its notebooks find it (the default checkpoint root of a
    checkout). Returns the files written.
    """
    from autograder.assignments import available, load_assignment, tests_root
    from autograder.plugin import collect_tests

    destination = Path(destination)
    if destination.exists() and any(destination.iterdir()):
        raise ValueError(f"expected an empty or new folder for the student bundle, got {destination}")
    problems = release_differences(repo / "solutions", repo / "notebooks")
    if problems:
        raise ValueError("the released notebooks are out of date (run `dfkit course release`): " + "; ".join(problems))
    if checkpoints is not None:                  # first: a pack that fails its checks leaves no bundle behind
        from dfkit.model_pack import install

        try:
            install(checkpoints, root=destination / "checkpoints")
        except (ValueError, FileNotFoundError):
            shutil.rmtree(destination / "checkpoints", ignore_errors=True)
            raise
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "cache")
    for name in BUNDLE_TOP_LEVEL:
        source = repo / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=ignore)
        elif source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    shutil.copytree(repo / "notebooks", destination / "notebooks", ignore=ignore)
    shutil.copy2(repo / STUDENT_README.relative_to(REPO), destination / "README.md")
    package = repo / "autograder"
    for path in package.glob("*.py"):
        (destination / "autograder").mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination / "autograder" / path.name)
    root = tests_root()
    for name in available():
        assignment = load_assignment(name)
        visible_files = {info.file for info in collect_tests(assignment)}
        hidden_files = {info.file for info in collect_tests(assignment) if not info.visible}
        target = destination / "autograder" / "tests" / name
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(assignment.directory / "questions.py", target / "questions.py")
        for file in sorted(visible_files - hidden_files):
            shutil.copy2(assignment.directory / file, target / file)
    if (root / "pytest.ini").exists():
        shutil.copy2(root / "pytest.ini", destination / "autograder" / "tests" / "pytest.ini")
    return sorted(p for p in destination.rglob("*") if p.is_file())
