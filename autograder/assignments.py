"""Assignments: a folder of pytest files plus a small question table.

``autograder/tests/<assignment>/`` holds

* ``questions.py``: ``QUESTIONS``, a list of dicts ``{"id": "<assignment>.<function>", "references":
  ["dfkit.module.function", ...]}`` (the exercise's own library function first, then every library
  function that computes the same answer; the grader's worker gets a copy of dfkit without them,
  :mod:`autograder.redaction`, and ``check()`` switches them off), optionally ``LIMITS`` (overrides of
  :class:`autograder.sandbox.Limits`) and ``MODULES`` (more modules the worker imports up front);
* ``test_*.py``: graded checks, each marked ``@pytest.mark.question(ID)`` (usually once per file with
  ``pytestmark``), ``@pytest.mark.points(N)`` (default 1) and ``@pytest.mark.visible`` (default: hidden).
  A file holds only visible or only hidden tests, so the student bundle can ship visible files whole;
* ``catalog.py`` (optional): ``WRONG``, plausible wrong implementations per question, each of which
  must fail at least two tests (checked by the course's own test suite).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

from autograder.redaction import module_of
from autograder.sandbox import Limits

DEFAULT_MODULES = ["numpy"]

# Library functions that noise clean data as q(x_k | x_0) = sqrt(ᾱ_k) x_0 + sqrt(1 - ᾱ_k) ε does, each
# given suitable arguments (x0_from_v(x0, k, -noise) is one): an equivalent of every exercise whose
# answer is that noising.
NOISING = [
    "dfkit.diffusion.ddpm.q_sample", "dfkit.diffusion.ddpm.eps_from_v", "dfkit.diffusion.ddpm.x0_from_v",
    "dfkit.diffusion.ddpm.v_from_eps_x0", "dfkit.diffusion.flow.schedule_path", "dfkit.sequence.guidance._raise_coefficients",
    "dfkit.sequence.guidance.raise_level",
]


@dataclass(frozen=True)
class Question:
    id: str
    references: tuple[str, ...] = ()

    @property
    def function(self) -> str:
        return self.id.split(".", 1)[1]


@dataclass
class Assignment:
    name: str
    directory: Path
    questions: dict[str, Question]
    limits: Limits = field(default_factory=Limits)
    modules: list[str] = field(default_factory=list)

    def references(self) -> dict[str, list[str]]:
        return {q.id: list(q.references) for q in self.questions.values()}

    def test_files(self) -> list[Path]:
        return sorted(self.directory.glob("test_*.py"))

    def sha256(self) -> str:
        """One digest over every file of the assignment folder (names and contents)."""
        digest = hashlib.sha256()
        for path in sorted(p for p in self.directory.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            digest.update(path.relative_to(self.directory).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
        return digest.hexdigest()

    def catalog(self) -> dict[str, dict[str, str]]:
        path = self.directory / "catalog.py"
        return getattr(_load_module(path), "WRONG", {}) if path.exists() else {}


def tests_root() -> Path:
    """Where assignments live: ``$DFKIT_AUTOGRADER_TESTS`` or ``autograder/tests`` beside this file."""
    return Path(os.environ.get("DFKIT_AUTOGRADER_TESTS") or Path(__file__).parent / "tests")


def available() -> list[str]:
    root = tests_root()
    return sorted(p.name for p in root.iterdir() if (p / "questions.py").exists()) if root.is_dir() else []


def load_assignment(name: str, root=None) -> Assignment:
    root = Path(root) if root else tests_root()
    directory = root / name
    if not (directory / "questions.py").is_file():
        names = available() if root == tests_root() else sorted(p.name for p in root.glob("*/questions.py"))
        raise ValueError(f"unknown assignment {name!r}: no {directory / 'questions.py'}; available: {names}")
    module = _load_module(directory / "questions.py")
    questions = {}
    for entry in getattr(module, "QUESTIONS", []):
        question = Question(entry["id"], tuple(entry.get("references", ())))
        if not question.id.startswith(name + ".") or not question.function.isidentifier():
            raise ValueError(f"question id {question.id!r} must look like '{name}.<function name>'")
        if question.id in questions:
            raise ValueError(f"question {question.id!r} is listed twice in {directory / 'questions.py'}")
        questions[question.id] = question
    if not questions:
        raise ValueError(f"{directory / 'questions.py'} lists no QUESTIONS")
    limits = Limits().replace(**getattr(module, "LIMITS", {}))
    # and the module of each question's own answer, so that every forked worker starts with it imported
    modules = list(dict.fromkeys(DEFAULT_MODULES + list(getattr(module, "MODULES", []))
                                 + [module_of(q.references[0]) for q in questions.values() if q.references]))
    return Assignment(name, directory, questions, limits, modules)


def visible_checks(hidden_file) -> types.ModuleType:
    """The visible test module of the same question (``test_f.py`` beside ``test_f_hidden.py``): a
    hidden test file reuses its helpers (``check_against_reference``, input builders) rather than
    repeating them. Loaded by path, so it works for any tests root."""
    path = Path(hidden_file).resolve()
    visible = path.with_name(path.name.replace("_hidden.py", ".py"))
    name = "dfkit_visible_" + hashlib.sha256(str(visible).encode()).hexdigest()[:16]
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, visible)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    return module


def question_assignment(question_id: str) -> str:
    if "." not in question_id:
        raise ValueError(f"expected a question id like '00_warmup.bounce_step', got {question_id!r}")
    return question_id.split(".", 1)[0]


def _load_module(path: Path):
    spec = importlib.util.spec_from_file_location(f"_dfkit_assignment_{abs(hash(str(path)))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
