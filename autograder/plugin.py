"""Running an assignment's pytest files against one submission, and collecting scored results.

:func:`run_tests` calls ``pytest.main`` in this (trusted) process with :class:`GradingPlugin`, which

* registers the markers ``question(ID)``, ``points(N)`` and ``visible``;
* checks every test's markers against the question table and keeps only the selected tests
  (one question, visible only, ...);
* provides the fixtures ``submission`` (calls the student's functions through a backend: a
  :class:`autograder.session.Session` when grading, the notebook's own namespace in ``check()``),
  ``seed`` and ``rng`` (a numpy generator seeded from the grading seed and the test's id);
* turns each test's outcome into a :class:`TestResult` with a status: ``passed``, ``failed`` (an
  assertion), or the status of the :class:`~autograder.session.SubmissionFailure` that stopped it.
"""

from __future__ import annotations

import zlib
from dataclasses import asdict, dataclass

import numpy as np
import pytest

from autograder.session import SubmissionFailure

DEFAULT_SEED = 20_251_101
MAX_TEST_OUTPUT = 4000


@dataclass
class TestInfo:
    nodeid: str
    name: str
    file: str
    question: str
    points: float
    visible: bool


@dataclass
class TestResult:
    name: str
    question: str
    points: float
    visible: bool
    status: str
    score: float
    output: str

    def as_dict(self) -> dict:
        return asdict(self)


class GradingSetupError(Exception):
    """The assignment's tests themselves are broken (a bug for the course staff, not the student)."""


class SubmissionProxy:
    """``submission.bounce_step(...)`` calls the student's ``bounce_step`` through the backend;
    ``submission.no_grad.f(...)`` calls it under ``torch.no_grad()``, as the library calls some exercises.

    Every call fails the test if the function changed an array or tensor it was given."""

    def __init__(self, backend, question: str, no_grad: bool = False):
        self._backend, self._question, self._no_grad = backend, question, no_grad

    @property
    def no_grad(self) -> "SubmissionProxy":
        return SubmissionProxy(self._backend, self._question, no_grad=True)

    def call(self, function: str, *args, **kwargs):
        if self._no_grad:
            return self._backend.call(self._question, function, args, kwargs, no_grad=True)
        return self._backend.call(self._question, function, args, kwargs)

    def __getattr__(self, function: str):
        if function.startswith("_"):
            raise AttributeError(function)
        return lambda *args, **kwargs: self.call(function, *args, **kwargs)


class GradingPlugin:
    def __init__(self, assignment, backend=None, seed: int = DEFAULT_SEED, question: str | None = None, visible_only: bool = False):
        self.assignment, self.backend, self.base_seed = assignment, backend, seed
        self.question, self.visible_only = question, visible_only
        self.selected: list[TestInfo] = []
        self.results: dict[str, TestResult] = {}
        self.problems: list[str] = []

    # ------------------------------------------------------------------ collection
    def pytest_configure(self, config):
        config.addinivalue_line("markers", "question(id): the question a graded test belongs to")
        config.addinivalue_line("markers", "points(n): points the test is worth (default 1)")
        config.addinivalue_line("markers", "visible: students can run this test from the notebook (default hidden)")

    def pytest_collectreport(self, report):
        if report.failed:
            self.problems.append(f"cannot collect {report.nodeid}: {report.longreprtext[-2000:]}")

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, session, config, items):
        visibility_of_file: dict[str, bool] = {}
        keep, drop = [], []
        for item in items:
            info = self._info(item)
            if info is None:
                continue
            if visibility_of_file.setdefault(info.file, info.visible) != info.visible:
                self.problems.append(f"{info.file} mixes visible and hidden tests; put hidden tests in their own file")
            wanted = (self.question in (None, info.question)) and (info.visible or not self.visible_only)
            (keep if wanted else drop).append(item)
            if wanted:
                self.selected.append(info)
        if drop:
            config.hook.pytest_deselected(items=drop)
        items[:] = keep

    def _info(self, item) -> TestInfo | None:
        question_marks = list(item.iter_markers("question"))
        if len(question_marks) != 1 or len(question_marks[0].args) != 1:
            self.problems.append(f"{item.nodeid}: expected exactly one @pytest.mark.question(ID)")
            return None
        question = question_marks[0].args[0]
        if question not in self.assignment.questions:
            self.problems.append(f"{item.nodeid}: question {question!r} is not in questions.py")
            return None
        points_mark = item.get_closest_marker("points")
        points = points_mark.args[0] if points_mark and points_mark.args else 1
        if type(points) not in (int, float) or not points > 0:
            self.problems.append(f"{item.nodeid}: points must be a positive number, got {points!r}")
            return None
        file = item.nodeid.split("::", 1)[0]
        return TestInfo(item.nodeid, item.name, file, question, float(points), item.get_closest_marker("visible") is not None)

    # ------------------------------------------------------------------ fixtures
    @pytest.fixture
    def submission(self, request):
        if self.backend is None:
            raise GradingSetupError("no submission to test (collection only)")
        question = request.node.get_closest_marker("question").args[0]
        return SubmissionProxy(self.backend, question)

    @pytest.fixture
    def seed(self, request):
        return [self.base_seed, zlib.crc32(request.node.nodeid.encode())]

    @pytest.fixture
    def rng(self, seed):
        return np.random.default_rng(seed)

    # ------------------------------------------------------------------ outcomes
    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        if report.when == "setup" and report.passed or report.when == "teardown":
            return
        info = next((i for i in self.selected if i.nodeid == item.nodeid), None)
        if info is None or item.nodeid in self.results:
            return
        status, output = self._status(report, call)
        printed = self.backend.take_output() if self.backend is not None and hasattr(self.backend, "take_output") else ""
        if printed.strip() and status != "passed":
            output += "\n\nYour code printed:\n" + printed[-1500:]
        self.results[item.nodeid] = TestResult(
            name=info.name, question=info.question, points=info.points, visible=info.visible, status=status,
            score=info.points if status == "passed" else 0.0, output=_clean(output),
        )

    @staticmethod
    def _status(report, call) -> tuple[str, str]:
        if report.passed:
            return "passed", ""
        error = call.excinfo.value if call.excinfo is not None else None
        if isinstance(error, SubmissionFailure):
            return error.status, error.message
        if isinstance(error, AssertionError):
            return "failed", str(error) or "assertion failed"
        if isinstance(error, GradingSetupError):
            raise error
        return "error", f"the test could not check this submission: {type(error).__name__}: {error}"


def _clean(text: str) -> str:
    """Printable text only (no terminal escape sequences), bounded in length."""
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else "?" for ch in text)
    return text if len(text) <= MAX_TEST_OUTPUT else text[:MAX_TEST_OUTPUT] + "\n[... truncated]"


def pytest_args(assignment, quiet_capture: str = "fd", targets=None) -> list[str]:
    # unraisableexception runs two full garbage collections per session (half of a small submission's grading time)
    return [
        *(str(t) for t in (targets or [assignment.directory])), "-p", "no:cacheprovider", "-p", "no:terminal", "-p", "no:legacypath",
        "-p", "no:unraisableexception",
        "--import-mode=importlib", f"--rootdir={assignment.directory}", f"--capture={quiet_capture}",
        "-W", "ignore::pytest.PytestAssertRewriteWarning",
    ]


def run_tests(assignment, backend, seed: int = DEFAULT_SEED, question=None, visible_only=False, capture="fd") -> tuple[list[TestInfo], list[TestResult]]:
    """Run the selected tests of ``assignment`` against ``backend``; one result per selected test."""
    plugin = GradingPlugin(assignment, backend, seed, question, visible_only)
    # only the files that hold selected tests: a check() of one question does not import the others
    files = sorted({i.file for i in collect_tests(assignment)
                    if question in (None, i.question) and (i.visible or not visible_only)})
    targets = [assignment.directory / f for f in files] or None
    code = pytest.main(pytest_args(assignment, capture, targets), plugins=[plugin])
    if plugin.problems:
        raise GradingSetupError("; ".join(plugin.problems))
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.NO_TESTS_COLLECTED):
        raise GradingSetupError(f"pytest stopped with exit code {int(code)}")
    results = []
    for info in plugin.selected:
        result = plugin.results.get(info.nodeid) or TestResult(
            info.name, info.question, info.points, info.visible, "error", 0.0, "the test did not run")
        results.append(result)
    return plugin.selected, results


_collected: dict = {}


def collect_tests(assignment) -> list[TestInfo]:
    """Every test of the assignment, with its question, points and visibility (nothing is run).

    Remembered per folder and content digest, so a changed test file is collected again.
    """
    key = (str(assignment.directory), assignment.sha256())
    if key not in _collected:
        plugin = GradingPlugin(assignment)
        pytest.main(pytest_args(assignment) + ["--collect-only"], plugins=[plugin])
        if plugin.problems:
            raise GradingSetupError("; ".join(plugin.problems))
        _collected[key] = plugin.selected
    return list(_collected[key])
