"""``check()``: the self-check a student runs in the notebook, right after writing a function.

It runs the visible tests of one question against the function just defined in the notebook's own
namespace, with the same tests, seed and comparisons as the grader, and prints what passed and what
did not (expected against got on a small example). Student code runs in the notebook's kernel here:
this is a convenience for the student, not the trusted route (that is ``dfkit-grade``).

As in grading, the library function that plays the role of the exercise is switched off while the
student's function runs, so a solution that only calls it fails and is told why.

The returned :class:`CheckResult` shows as a one-line summary in Jupyter; its plain-text form is
the number of points earned, which is what nbgrader reads as partial credit in an autograded cell.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import sys
import traceback
import types
from dataclasses import dataclass, field

from autograder import protocol
from autograder.assignments import load_assignment, question_assignment
from autograder.plugin import DEFAULT_SEED, TestResult, run_tests
from autograder.redaction import split_path
from autograder.session import NOT_WRITTEN, SubmissionFailure

_last_results: dict[str, "CheckResult"] = {}

BLOCKED_MARKER = "is switched off while"


class ReferenceSwitch:
    """Turns dfkit's reference implementations of the exercises off and on, per question, in the
    student's own kernel (the grader's worker never has them: :mod:`autograder.redaction`).

    A plain function is switched off by swapping its code object, so every existing reference to
    it (``from dfkit... import f``, an alias, a call made by another library function) is caught.
    Anything else (a class, an object) is replaced by a raising stub in its module.
    """

    def __init__(self, references: dict):
        self.entries = []   # (question, apply_blocked, apply_original)
        for question, paths in references.items():
            for path in paths:
                self.entries.append((question, *self._switches(question, path)))

    @staticmethod
    def _switches(question: str, path: str):
        module, attribute = _owner(path)
        original = vars(module)[attribute] if isinstance(module, type) else getattr(module, attribute)
        message = (
            f"{path} is dfkit's own answer to exercise {question}, so it {BLOCKED_MARKER} "
            f"{question} is graded: write the function yourself (you may use numpy and torch)."
        )
        namespace: dict = {}
        exec(f"def blocked(*args, **kwargs):\n    raise RuntimeError({message!r})\n", namespace)
        blocked = namespace["blocked"]
        function = original.__func__ if isinstance(original, (classmethod, staticmethod)) else original
        if isinstance(function, types.FunctionType) and not function.__code__.co_freevars:
            code = function.__code__
            return (lambda: setattr(function, "__code__", blocked.__code__)), (lambda: setattr(function, "__code__", code))
        return (lambda: setattr(module, attribute, blocked)), (lambda: setattr(module, attribute, original))

    def block_all(self) -> None:
        for _, block, _ in self.entries:
            block()

    def restore_all(self) -> None:
        for _, _, restore in self.entries:
            restore()

    def block_only(self, question: str) -> None:
        """Only ``question``'s functions off (a function two questions list stays off)."""
        for owner, _, restore in self.entries:
            if owner != question:
                restore()
        for owner, block, _ in self.entries:
            if owner == question:
                block()


def _owner(path: str):
    """``dfkit.a.b.f`` -> (module dfkit.a.b, "f"); ``dfkit.a.C.m`` -> (class C, "m")."""
    module, qualified = split_path(path)
    *classes, attribute = qualified.split(".")
    owner = importlib.import_module(module)
    for name in classes:
        owner = getattr(owner, name)
    return owner, attribute


@dataclass
class CheckResult:
    question: str
    results: list[TestResult] = field(default_factory=list)
    note: str = ""
    function: object = None        # the function object that was checked

    @property
    def score(self) -> float:
        return float(sum(r.score for r in self.results))

    @property
    def max_score(self) -> float:
        return float(sum(r.points for r in self.results))

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.status == "passed" for r in self.results)

    def report(self) -> str:
        lines = []
        for number, r in enumerate(self.results, 1):
            mark = "PASS" if r.status == "passed" else r.status.upper()
            label = r.name if r.visible else f"hidden test {number}"
            lines.append(f"[{mark}] {label} ({r.score:g}/{r.points:g})")
            if r.status != "passed" and r.visible and r.output:
                lines += ["    " + line for line in r.output.splitlines()[:12]]
        verdict = "all checks passed" if self.passed else "some checks did not pass"
        lines.append(f"{self.question}: {verdict}, {self.score:g}/{self.max_score:g} points")
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return repr(self.score)

    def _repr_html_(self) -> str:
        color = "#1a7f37" if self.passed else "#cf222e"
        return f'<b style="color:{color}">{self.question}: {self.score:g} / {self.max_score:g} points</b>'


class LocalBackend:
    """Calls functions from a namespace in this process, with the grader's data round trip."""

    def __init__(self, namespace: dict, assignment):
        self.namespace = namespace
        self.switch = ReferenceSwitch(assignment.references())
        self.printed = io.StringIO()

    def call(self, question: str, function: str, args, kwargs, no_grad: bool = False):
        target = self.namespace.get(function)
        if target is None:
            raise SubmissionFailure("error", f"the notebook does not define {function} yet: run the cell that defines it")
        if not callable(target):
            raise SubmissionFailure("error", f"{function} is a {type(target).__name__}, not a function")
        from autograder.worker import InputsModified, _to_worker_values, call_checked
        args = _to_worker_values(protocol.decode(protocol.encode(tuple(args))))
        kwargs = _to_worker_values(protocol.decode(protocol.encode(dict(kwargs or {}))))
        self.switch.block_only(question)
        try:
            with contextlib.redirect_stdout(self.printed), contextlib.redirect_stderr(self.printed):
                value = call_checked(target, function, args, kwargs, no_grad=no_grad)
        except InputsModified as error:
            raise SubmissionFailure("failed", str(error)) from None
        except MemoryError as error:
            raise SubmissionFailure("memory", f"{function}() ran out of memory: {error}") from None
        except BaseException as error:          # KeyboardInterrupt too: a check must never stop the notebook
            if isinstance(error, KeyboardInterrupt):
                raise
            message = str(error)
            if BLOCKED_MARKER in message:
                raise SubmissionFailure("error", message) from None
            if isinstance(error, NotImplementedError) and not message:
                raise SubmissionFailure("error", NOT_WRITTEN.format(what=f"{function}()")) from None
            trace = "".join(traceback.format_exception(type(error), error, error.__traceback__.tb_next))
            raise SubmissionFailure("error", f"{function}() raised {type(error).__name__}: {message}\n{trace}".rstrip()) from None
        finally:
            self.switch.restore_all()
        try:
            return protocol.decode(protocol.encode(value))
        except (TypeError, protocol.ProtocolError) as error:
            raise SubmissionFailure("error", f"{function}() returned something that cannot be graded: {error}") from None

    def take_output(self) -> str:
        text = self.printed.getvalue()
        self.printed = io.StringIO()
        return text


def _notebook_namespace() -> dict:
    try:
        from IPython import get_ipython
        shell = get_ipython()
        if shell is not None:
            return shell.user_ns
    except ImportError:
        pass
    return sys.modules["__main__"].__dict__


def check(question: str, hidden: bool = False, namespace: dict | None = None, verbose: bool = True) -> CheckResult:
    """Run the checks of ``question`` (e.g. ``"00_warmup.bounce_step"``) on the function just defined.

    ``hidden=True`` adds the hidden tests where they exist (the instructor's copy, nbgrader autograde).
    """
    assignment = load_assignment(question_assignment(question))
    if question not in assignment.questions:
        raise ValueError(f"unknown question {question!r}; expected one of {sorted(assignment.questions)}")
    namespace = namespace if namespace is not None else _notebook_namespace()
    backend = LocalBackend(namespace, assignment)
    _, results = run_tests(assignment, backend, DEFAULT_SEED, question=question, visible_only=not hidden, capture="no")
    result = CheckResult(question, results, function=namespace.get(assignment.questions[question].function))
    if any(BLOCKED_MARKER in r.output for r in results):
        result.note = (f"Note: the library's own {assignment.questions[question].function} is switched off during this check "
                       "(and during grading); your function has to compute the answer itself.")
    _last_results[question] = result
    if verbose:
        print(result.report())
    return result


def last_result(question: str) -> CheckResult | None:
    return _last_results.get(question)
