"""Small helpers shared by the test files (importable because pytest puts tests/ on the path)."""

import importlib.util
import json
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import torch

from autograder import testing

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def seeded(seed: int) -> torch.Generator:
    """A CPU generator seeded with ``seed``."""
    return torch.Generator().manual_seed(seed)


def graded_reference(question: str):
    """The graded reference of ``question`` (the first path its questions.py names), imported as
    ``own_or_library`` imports it, and that path."""
    import importlib

    from autograder.assignments import load_assignment, question_assignment

    path = load_assignment(question_assignment(question)).questions[question].references[0]
    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name), path


def load_benchmark(name: str):
    """The script ``benchmarks/<name>.py`` as a module (benchmarks are scripts, not a package; their
    shared ``report`` module is imported from their folder, as when a script runs)."""
    if str(BENCHMARKS) not in sys.path:
        sys.path.append(str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def readme_command(marker: str, readme: Path = BENCHMARKS.parent / "README.md") -> str:
    """The first line of the code block after ``<!-- marker -->`` in a README (as ``.ci/run`` reads the test command)."""
    match = re.search(rf"<!-- {marker} -->\s*```bash\n(.+?)\n", readme.read_text())
    assert match, f"{readme} has no command block after <!-- {marker} -->"
    return match.group(1)


class FreshEnvironment:
    """A new virtual environment; commands run with it first on PATH and no dfkit setting inherited."""

    def __init__(self, folder: Path):
        self.folder = folder
        subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, timeout=300)
        self.bin = folder / "bin"
        inherited = {key: value for key, value in os.environ.items()
                     if not key.startswith(("DFKIT_", "PYTHON", "VIRTUAL_ENV", "JUPYTER", "MPLBACKEND"))}
        self.env = {**inherited, "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}", "VIRTUAL_ENV": str(folder),
                    "PIP_DISABLE_PIP_VERSION_CHECK": "1", "MPLBACKEND": "Agg"}

    def run(self, command, cwd: Path, timeout: float = 600, check: bool = True, **env) -> subprocess.CompletedProcess:
        done = subprocess.run(command, cwd=cwd, shell=isinstance(command, str), capture_output=True, text=True,
                              timeout=timeout, env={**self.env, **env})
        if check:
            assert done.returncode == 0, f"{command!r} failed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done

    def execute_notebook(self, path: Path, **env) -> list[dict]:
        """Run ``path`` top to bottom in a kernel of this environment; return its code cells with outputs."""
        script = (
            "import json, sys, nbformat\n"
            "from nbclient import NotebookClient\n"
            "notebook = nbformat.read(sys.argv[1], as_version=4)\n"
            "NotebookClient(notebook, timeout=600, kernel_name='python3', allow_errors=True,\n"
            "               resources={'metadata': {'path': sys.argv[2]}}).execute()\n"
            "cells = [{'grade': c.metadata.get('nbgrader', {}).get('grade', False), 'id': c.metadata.get('nbgrader', {}).get('grade_id'),\n"
            "          'outputs': c.get('outputs', [])} for c in notebook.cells if c.cell_type == 'code']\n"
            "print(json.dumps(cells))\n"
        )
        done = self.run([str(self.bin / "python"), "-c", script, str(path), str(path.parent)], cwd=path.parent, **env)
        return json.loads(done.stdout.strip().splitlines()[-1])


def gradescope_layout(zip_path: Path, root: Path, notebooks: dict[str, dict] | None = None) -> Path:
    """``root/source`` = the unpacked zip (with its files' modes), ``root/submission`` = ``notebooks``."""
    (root / "results").mkdir(parents=True)
    (root / "submission").mkdir()
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
        for info in archive.infolist():
            os.chmod(root / "source" / info.filename, (info.external_attr >> 16) & 0o777)
    for name, notebook in (notebooks or {}).items():
        testing.write(notebook, root / "submission" / name)
    return root


def run_autograder(root: Path, python: str = sys.executable) -> dict:
    """Run ``source/run_autograder`` as Gradescope would (it copies it to the root first); the results."""
    (root / "run_autograder").write_bytes((root / "source" / "run_autograder").read_bytes())
    os.chmod(root / "run_autograder", 0o755)
    env = {**os.environ, "GRADESCOPE_ROOT": str(root), "DFKIT_PYTHON": python}
    done = subprocess.run([str(root / "run_autograder")], cwd=root, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return json.loads((root / "results" / "results.json").read_text())
