"""Every solution notebook runs top to bottom in a fresh kernel under the ``quick`` profile.

The kernel starts in a scratch folder with empty dataset and checkpoint caches, as on a fresh
machine, so notebooks that train do train. Wall times are printed (``pytest -s``); budgets are
measured by the benchmarks, not asserted here.
"""

import os
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*/*.ipynb"))


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_solution_notebook_executes_under_quick(path, tmp_path, monkeypatch):
    monkeypatch.setenv("DFKIT_PROFILE", "quick")
    monkeypatch.setenv("DFKIT_CHECKPOINTS", str(tmp_path / "checkpoints"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    start = time.perf_counter()
    client.execute()
    print(f"{path.name}: {time.perf_counter() - start:.1f} s")
    errors = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", []) if output.get("output_type") == "error"]
    assert not errors, errors
