"""Texts teach, benchmarks remember: README's numbers come from the benchmark data, README stays a
guide, and no text of the library carries dates, load averages or host speeds."""

import re
from pathlib import Path

from helpers import load_benchmark

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DATED = re.compile(r"20\d\d-\d\d-\d\d|load average|GFLOP|s per step|host (ran|speed)")


def test_readme_results_table_is_the_benchmark_data():
    results = load_benchmark("results")
    assert results.readme_block(README.read_text()) == results.table(), "run python benchmarks/results.py"


def test_readme_is_a_guide_of_at_most_1100_words():
    text = README.read_text()
    assert len(re.findall(r"\S+", text)) <= 1100
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert headings[:4] == ["Two commands", "Getting started", "Course map", "Results"]


def test_no_dates_load_averages_or_host_speeds_in_code_or_readme():
    files = [README, ROOT / "notebooks" / "README.md", *sorted((ROOT / "dfkit").rglob("*.py")),
             *sorted((ROOT / "autograder").rglob("*.py"))]
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}" for path in files
             for number, line in enumerate(path.read_text().splitlines(), start=1) if DATED.search(line)]
    assert not found, found
