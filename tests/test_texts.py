"""Texts teach, benchmarks remember: README's numbers come from the benchmark data, README stays a
guide, and no text of the library carries dates, load averages or host speeds."""

import re
from pathlib import Path

import pytest

from helpers import load_benchmark

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DATED = re.compile(r"20\d\d-\d\d-\d\d|load average|GFLOP|\d s per step|host (ran|speed)")


def test_readme_results_table_is_the_benchmark_data():
    results = load_benchmark("results")
    assert results.readme_block(README.read_text()) == results.table(), "run python benchmarks/results.py"


def test_readme_is_a_guide_of_at_most_1100_words():
    text = README.read_text()
    assert len(re.findall(r"\S+", text)) <= 1100
    headings = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
    assert headings[:4] == ["Two commands", "Getting started", "Course map", "Results"]


def test_no_dates_load_averages_or_host_speeds_in_code_lectures_notebooks_or_readme():
    files = [README, ROOT / "notebooks" / "README.md", *sorted((ROOT / "dfkit").rglob("*.py")),
             *sorted((ROOT / "autograder").rglob("*.py")), *sorted((ROOT / "lectures").glob("*.md")),
             *sorted((ROOT / "solutions").glob("*/*.ipynb"))]
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()[:100]}" for path in files
             for number, line in enumerate(path.read_text().splitlines(), start=1) if DATED.search(line)]
    assert not found, found


@pytest.mark.parametrize("lecture", sorted(path.name for path in (ROOT / "lectures").glob("*.md")))
def test_a_lecture_stays_a_lecture_of_at_most_3000_words(lecture):
    assert len(re.findall(r"\S+", (ROOT / "lectures" / lecture).read_text())) <= 3000


# ----------------------------------------------------------------------------- numbers quoted from benchmarks

BENCHMARKS = ROOT / "benchmarks"
CITATION = re.compile(r"benchmarks/([\w\-]+)\.md|`?([\w\-]+_(?:class|quick|gpu)[\w\-]*)\.md")
QUOTED = re.compile(r"(?<![\w.\-/])(\d+(?:\.\d+)?)\s*(%|°|×(?!\d))|(?<![\w.\-/])(\d+\.\d+)(?![\w.])")
HIDDEN = re.compile(r"\$[^$]*\$|`[^`]*`|\([^()]*\.md[^()]*\)")     # math, code, link targets


def paragraphs(text: str) -> list[str]:
    """Blank-line separated blocks, with each list item a block of its own."""
    blocks = []
    for block in re.split(r"\n\s*\n", text):
        blocks += [item for item in re.split(r"\n(?=\s*[-*] )", block) if item.strip()]
    return blocks


def table_values(name: str) -> list[float]:
    numbers = re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e-?\d+)?", (BENCHMARKS / f"{name}.md").read_text())
    return [float(number) for number in numbers]


def matches(quoted: float, decimals: int, unit: str, values: list[float]) -> bool:
    """Whether some value of the table, rounded as quoted (and as a percentage for %), gives ``quoted``."""
    tolerance = 0.5 * 10 ** -decimals + 1e-9
    for value in values:
        if abs(value - quoted) <= tolerance or (unit == "%" and abs(100 * value - quoted) <= tolerance):
            return True
    return False


def stale_quotes(text: str, source: str) -> list[str]:
    """Numbers (decimals, percentages, degrees) in a paragraph that cites benchmark tables and that none of
    those tables holds."""
    problems = []
    for paragraph in paragraphs(text):
        cited = {a or b for a, b in CITATION.findall(paragraph)}
        cited = {name for name in cited if name != "README" and (BENCHMARKS / f"{name}.md").exists()}
        if not cited:
            continue
        values = [value for name in sorted(cited) for value in table_values(name)]
        for match in QUOTED.finditer(HIDDEN.sub(" ", paragraph)):
            number, unit = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), "")
            decimals = len(number.split(".")[1]) if "." in number else 0
            if not matches(float(number), decimals, unit, values):
                problems.append(f"{source}: {number}{unit} is not in {sorted(cited)}: ...{paragraph[max(0, match.start() - 60):match.end() + 20]!r}")
    return problems


def test_every_number_a_lecture_quotes_from_a_benchmark_is_in_that_benchmark():
    problems = [problem for path in sorted((ROOT / "lectures").glob("*.md")) for problem in stale_quotes(path.read_text(), path.name)]
    assert not problems, "\n".join(problems)


def test_every_number_a_notebook_quotes_from_a_benchmark_is_in_that_benchmark():
    import nbformat

    problems = []
    for path in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "markdown":
                problems += stale_quotes(cell.source, path.name)
    assert not problems, "\n".join(problems)


def test_the_drift_check_catches_a_stale_number():
    table = "benchmarks/sequence_rollouts_class_pendulum.md"
    assert stale_quotes(f"Teacher forcing errs by 0.9° and keeps 92% (`{table}`).\n", "x") == []
    assert stale_quotes(f"Teacher forcing errs by 0.8° over frames 1-16 ({table}).\n", "x") != []


FIGURE = re.compile(r"!\[[^\]]*\]\(figures/([\w\-]+)\.png\)")
CLAIMED_PROFILE = re.compile(r"(?:from|drawn (?:at|with)) the `(quick|class|gpu)`")


def test_a_caption_that_names_a_profile_matches_the_profile_the_figure_records():
    from dfkit.figures import figure_profile

    claims = []
    for path in sorted((ROOT / "lectures").glob("*.md")):
        text = path.read_text()
        for match in FIGURE.finditer(text):
            caption = paragraphs(text[match.end():])[0] if text[match.end():].strip() else ""
            for claimed in CLAIMED_PROFILE.findall(caption):
                recorded = figure_profile(ROOT / "lectures" / "figures" / f"{match.group(1)}.png")
                claims.append((path.name, match.group(1), claimed, recorded))
    assert claims, "no caption names the profile of its figure"
    wrong = [claim for claim in claims if claim[2] != claim[3]]
    assert not wrong, [f"{name}: figures/{figure}.png is captioned as `{claimed}`, drawn at {recorded}" for name, figure, claimed, recorded in wrong]
