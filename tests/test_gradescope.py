"""The Gradescope autograder zip, run as Gradescope runs it, in a temporary folder laid out as
``/autograder`` is: ``source/`` (the unpacked zip), ``submission/``, ``results/``."""

import zipfile
from pathlib import Path

import pytest

from autograder import testing
from autograder.assignments import load_assignment
from autograder.gradescope import build_zip
from autograder.plugin import collect_tests
from helpers import FreshEnvironment, gradescope_layout, run_autograder

VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
CRASH_AT_IMPORT = "import os\nos._exit(1)\n"


def schema_problems(results: dict) -> list[str]:
    """What does not follow Gradescope's results.json schema."""
    problems = []
    number = (int, float)
    for key, kinds in (("score", number), ("execution_time", number), ("output", str), ("tests", list)):
        if not isinstance(results.get(key), kinds) or isinstance(results.get(key), bool):
            problems.append(f"{key}: {results.get(key)!r}")
    if results.get("stdout_visibility") not in VISIBILITIES:
        problems.append(f"stdout_visibility: {results.get('stdout_visibility')!r}")
    for test in results.get("tests", []):
        for key, kinds in (("name", str), ("score", number), ("max_score", number), ("output", str)):
            if not isinstance(test.get(key), kinds):
                problems.append(f"test {test.get('name')!r}: {key} {test.get(key)!r}")
        if test.get("visibility") not in VISIBILITIES or test.get("status") not in ("passed", "failed"):
            problems.append(f"test {test.get('name')!r}: visibility {test.get('visibility')!r}, status {test.get('status')!r}")
    return problems


@pytest.fixture(scope="module")
def ddpm_zip(tmp_path_factory):
    return build_zip("02_ddpm", tmp_path_factory.mktemp("zip") / "ag.zip")


def test_the_zip_holds_the_entry_points_the_package_and_the_tests_but_no_solution(ddpm_zip):
    with zipfile.ZipFile(ddpm_zip) as archive:
        names = archive.namelist()
        modes = {info.filename: (info.external_attr >> 16) & 0o777 for info in archive.infolist()}
        text = b"".join(archive.read(name) for name in names)
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    assert "dfkit/pyproject.toml" in names and "dfkit/dfkit/diffusion/ddpm.py" in names and "dfkit/autograder/gradescope.py" in names
    assert "tests/02_ddpm/test_q_sample_hidden.py" in names and "tests/02_ddpm/questions.py" in names
    assert not [n for n in names if n.endswith(".ipynb") or "catalog" in n or n.startswith("dfkit/autograder/tests")]
    assert b"dfkit-canary: solution-" not in text       # planted in every solution cell


def test_gradescope_grades_the_solution_fully_and_the_release_not_at_all(ddpm_zip, tmp_path):
    total = sum(info.points for info in collect_tests(load_assignment("02_ddpm")))
    right = run_autograder(gradescope_layout(ddpm_zip, tmp_path / "right", {"ddpm.ipynb": testing.load(testing.solution_path("02_ddpm"))}))
    released = run_autograder(gradescope_layout(ddpm_zip, tmp_path / "release", {"02_ddpm.ipynb": testing.load(testing.released_path("02_ddpm"))}))
    assert (right["score"], sum(t["max_score"] for t in right["tests"])) == (total, total) == (22, 22)
    assert released["score"] == 0 and {t["status"] for t in released["tests"]} == {"failed"}
    for results in (right, released):
        assert schema_problems(results) == [], schema_problems(results)
        assert {t["visibility"] for t in results["tests"]} == {"visible", "hidden"}
    sandbox = right["extra_data"]["dfkit_grade"]["sandbox"]
    assert "READABLE" not in sandbox["secret_paths"], sandbox


def test_a_crashing_a_missing_or_a_doubled_submission_gets_a_complete_results_file(ddpm_zip, tmp_path):
    solution = testing.load(testing.solution_path("02_ddpm"))
    crashing = testing.with_cells(solution, {"02_ddpm.q_sample": CRASH_AT_IMPORT})
    cases = {
        "crash": ({"02_ddpm.ipynb": crashing}, None),
        "empty": ({}, "no notebook was submitted"),
        "two": ({"a.ipynb": solution, "b.ipynb": solution}, "2 notebooks were submitted (a.ipynb, b.ipynb)"),
    }
    for name, (notebooks, message) in cases.items():
        results = run_autograder(gradescope_layout(ddpm_zip, tmp_path / name, notebooks))
        assert schema_problems(results) == [], (name, schema_problems(results))
        assert len(results["tests"]) == len(collect_tests(load_assignment("02_ddpm"))), name
        if message:
            assert results["score"] == 0 and message in results["output"], results["output"]
        else:      # the crashing cell costs its own question only
            crashed = [t for t in results["tests"] if t["name"].startswith("02_ddpm.q_sample")]
            assert {t["score"] for t in crashed} == {0} and results["score"] == 22 - sum(t["max_score"] for t in crashed)
            assert all(t["extra_data"]["status"] == "crashed" for t in crashed), crashed


@pytest.mark.student_path
def test_setup_installs_into_a_fresh_environment_and_grades_there(tmp_path):
    """setup.sh as Gradescope runs it (into a fresh virtual environment here; torch from the default
    index, which on this machine holds the CPU build), then run_autograder with that Python only."""
    zip_path = build_zip("00_warmup", tmp_path / "ag.zip")
    root = gradescope_layout(zip_path, tmp_path / "autograder", {"00_warmup.ipynb": testing.load(testing.solution_path("00_warmup"))})
    environment = FreshEnvironment(tmp_path / "venv")
    python = str(environment.bin / "python")
    environment.run(["bash", str(root / "source" / "setup.sh")], cwd=root / "source", timeout=900,
                    DFKIT_PYTHON=python, DFKIT_TORCH_INDEX="")
    results = run_autograder(root, python)
    assert (results["score"], schema_problems(results)) == (12, []), results["output"]
    located = environment.run([python, "-c", "import dfkit, autograder; print(dfkit.__file__, autograder.__file__)"], cwd=tmp_path).stdout
    assert all(path.startswith(str(tmp_path / "venv")) for path in located.split()), located      # the zip's copy, installed


def test_zip_build_refuses_a_solution(monkeypatch, tmp_path):
    import autograder.gradescope as gradescope

    original = Path.read_bytes
    planted = b"# dfkit-canary: " + b"solution-planted\n"
    monkeypatch.setattr(Path, "read_bytes", lambda self: original(self) + (planted if self.name == "questions.py" else b""))
    with pytest.raises(RuntimeError, match="would contain solutions"):
        gradescope.build_zip("00_warmup", tmp_path / "ag.zip")
    assert not (tmp_path / "ag.zip").exists()
