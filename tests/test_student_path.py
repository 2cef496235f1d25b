"""The path a student takes, in fresh virtual environments: install exactly as README says, start
JupyterLab, run a released notebook with its check cells, grade it as an instructor would; then the
student bundle, with a model pack inside, installed on its own and run with training switched off.

A green run of the library's tests in the developers' environment (``.[dev]``) says nothing about a
student's install: these tests build their own environments from README's commands. They cost a
few minutes (two environments; pip takes the packages from its cache after the first run).
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dfkit import course, model_pack
from dfkit.profiles import get_profile
from dfkit.reference_models import train_missing
from helpers import FreshEnvironment, readme_command

pytestmark = pytest.mark.student_path

ROOT = Path(__file__).resolve().parents[1]
INSTALL_TIMEOUT = 900


def copy_of_the_course(destination: Path) -> Path:
    """The files a fresh clone would have (tracked and untracked-but-not-ignored), nothing built."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def printed(cell: dict) -> str:
    return "".join(output.get("text", "") + output.get("evalue", "") + "".join(output.get("traceback", []))
                   for output in cell["outputs"])


def assert_reaches_the_end_with_the_checks_own_feedback(cells: list[dict]) -> None:
    errors = [printed(cell)[-500:] for cell in cells if any(o.get("output_type") == "error" for o in cell["outputs"])]
    assert not errors, errors
    checks = [cell for cell in cells if cell["grade"]]
    assert checks
    for cell in checks:
        assert "is not written yet" in printed(cell) and "ModuleNotFoundError" not in printed(cell), (cell["id"], printed(cell)[:500])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def assert_jupyterlab_starts(environment: FreshEnvironment, folder: Path) -> None:
    port, token = free_port(), "dfkit-student-path"
    server = subprocess.Popen([str(environment.bin / "jupyter"), "lab", "--no-browser", "--allow-root", f"--port={port}",
                               f"--ServerApp.token={token}", f"--ServerApp.root_dir={folder}"],
                              env=environment.env, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline, page = time.monotonic() + 120, None
        while time.monotonic() < deadline and page is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}", timeout=5) as response:
                    page = response.read().decode()
            except OSError:
                assert server.poll() is None, server.stderr.read().decode()[-3000:]
                time.sleep(1)
        assert page is not None and "JupyterLab" in page
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/kernelspecs?token={token}", timeout=10) as response:
            assert "python3" in json.loads(response.read())["kernelspecs"]
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_student_installs_as_readme_says_and_runs_a_notebook_with_its_checks(tmp_path):
    clone = copy_of_the_course(tmp_path / "dfkit")
    environment = FreshEnvironment(tmp_path / "venv")
    environment.run(readme_command("student-install"), cwd=clone, timeout=INSTALL_TIMEOUT)

    assert_jupyterlab_starts(environment, clone / "notebooks")
    notebook = clone / "notebooks" / "00_warmup" / "00_warmup.ipynb"
    cells = environment.execute_notebook(notebook, DFKIT_PROFILE="quick", DFKIT_CACHE=str(tmp_path / "cache"))
    assert_reaches_the_end_with_the_checks_own_feedback(cells)

    submissions = tmp_path / "submitted"
    (submissions / "student_a").mkdir(parents=True)
    shutil.copy2(notebook, submissions / "student_a" / "00_warmup.ipynb")
    environment.run(["dfkit-grade", "grade", str(submissions), "--assignment", "00_warmup", "--out", str(tmp_path / "graded"),
                     "--no-progress"], cwd=tmp_path)
    results = json.loads(next((tmp_path / "graded").rglob("results.json")).read_text())
    assert results["score"] == 0 and results["tests"]


def test_the_student_bundle_installs_on_its_own_and_finds_its_model_pack(tmp_path, monkeypatch):
    quick = get_profile("quick")
    monkeypatch.setenv("DFKIT_CHECKPOINTS", str(tmp_path / "instructor_checkpoints"))
    train_missing(quick, ["01_vae"], progress=False, log=lambda line: None)
    pack = model_pack.pack(quick, tmp_path / "dfkit-quick-models.tar", lessons=["01_vae"], log=lambda line: None)
    bundle = tmp_path / "dfkit-student"
    course.student_bundle(bundle, checkpoints=str(pack))

    environment = FreshEnvironment(tmp_path / "venv")
    environment.run(readme_command("student-install", bundle / "README.md"), cwd=bundle, timeout=INSTALL_TIMEOUT)
    settings = {"DFKIT_PROFILE": "quick", "DFKIT_CACHE": str(tmp_path / "cache"), "DFKIT_TRAINING": "never"}
    status = environment.run(["dfkit", "checkpoints", "status", "--only", "01_vae", "--no-estimate"], cwd=bundle, **settings)
    assert "01_vae: complete" in status.stdout and str(bundle / "checkpoints") in status.stdout
    for lesson in ("00_warmup", "01_vae"):
        cells = environment.execute_notebook(bundle / "notebooks" / lesson / f"{lesson}.ipynb", **settings)
        assert_reaches_the_end_with_the_checks_own_feedback(cells)
        if lesson == "01_vae":
            assert "All present: nothing will be trained." in "".join(printed(cell) for cell in cells)


def test_readmes_main_command_leaves_a_fresh_clone_clean(tmp_path):
    """The main job (its part after the install) on a fresh clone: git sees no change, and the command
    says where its figures went."""
    clone = copy_of_the_course(tmp_path / "dfkit")
    git = lambda *args: subprocess.run(["git", *args], cwd=clone, capture_output=True, text=True, check=True).stdout  # noqa: E731
    git("init", "-q")
    git("add", "-A")
    git("-c", "user.name=course", "-c", "user.email=course@example.org", "commit", "-qm", "fresh clone")
    job = readme_command("main-command").split("&&")[-1].strip()
    assert job.startswith("dfkit figures")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "MPLBACKEND": "Agg"}
    done = subprocess.run(job, shell=True, cwd=clone, capture_output=True, text=True, timeout=900, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert git("status", "--porcelain", "--untracked-files=all") == ""
    written = sorted((clone / "outputs" / "figures" / "quick").glob("*.png"))
    assert len(written) == len(list((ROOT / "lectures" / "figures").glob("*.png")))
    assert str((clone / "outputs" / "figures" / "quick").resolve()) in done.stdout
