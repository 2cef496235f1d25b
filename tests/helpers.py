"""Small helpers shared by the test files (importable because pytest puts tests/ on the path)."""

import importlib.util
import re
import sys
from pathlib import Path

import torch

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def seeded(seed: int) -> torch.Generator:
    """A CPU generator seeded with ``seed``."""
    return torch.Generator().manual_seed(seed)


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
