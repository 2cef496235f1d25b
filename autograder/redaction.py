"""The library as the worker sees it: a copy of dfkit with the assignment's answers taken out.

The worker never imports the installed dfkit. :func:`redacted_library` writes a copy of the
package in which every function that answers an exercise of the assignment (the graded function,
and each library function declared equivalent to it in ``questions.py``) keeps its name,
signature and decorators, but its body is one ``raise`` statement. The worker puts that copy first
on ``sys.path``; the installed package is covered by an empty mount in the worker's mount
namespace, or left out of its Landlock read list (:mod:`autograder.sandbox`,
:func:`autograder.session.default_read_paths`). So the answer is not in the worker at all: no
object holds it, reloading or re-running a module reads the copy, and the original file cannot be
opened. Every other library function works as usual.

A call of a removed function raises ``RuntimeError`` with :data:`REMOVED_MARKER` in its message; the
grader scores the test as failed and flags the question for the instructor.
"""

from __future__ import annotations

import ast
import atexit
import compileall
import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from pathlib import Path

REMOVED_MARKER = "is removed from the grader while"


def installed_package() -> Path:
    """The folder of the installed ``dfkit`` package (the grader's own, complete copy), found without importing it."""
    spec = importlib.util.find_spec("dfkit")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("dfkit is not installed")
    return Path(list(spec.submodule_search_locations)[0]).resolve()


def removed_functions(references: dict[str, list[str]]) -> dict[str, str]:
    """``{dotted path: question}`` of every function to remove (a path listed twice keeps its first question)."""
    removed: dict[str, str] = {}
    for question, paths in references.items():
        for path in paths:
            removed.setdefault(path, question)
    return removed


def removal_message(path: str, question: str) -> str:
    assignment = question.split(".")[0]
    return (f"{path} is dfkit's own answer to exercise {question}, so it {REMOVED_MARKER} {assignment} is graded: "
            f"write the function yourself (you may use numpy and torch)")


def removed_path(message: str) -> str | None:
    """The dotted path named by a :func:`removal_message` (``None`` for any other message)."""
    if REMOVED_MARKER not in message or " is dfkit's own answer" not in message:
        return None
    return message.split(" is dfkit's own answer")[0].split()[-1]


def redact_source(source: str, functions: dict[str, str], filename: str = "<module>") -> str:
    """``source`` with the bodies of ``functions`` (``{"name" or "Class.name": message}``) replaced by a raise.

    Module-level functions and methods of module-level classes can be removed; a name that is not
    defined in ``source`` raises ``ValueError`` (a misspelt reference must not pass silently).
    """
    tree = ast.parse(source, filename)
    found: set[str] = set()

    def strip(node, qualified: str):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and qualified in functions:
            raise_statement = ast.parse(f"raise RuntimeError({functions[qualified]!r})").body[0]
            node.body = [raise_statement]
            found.add(qualified)

    for node in tree.body:
        strip(node, getattr(node, "name", ""))
        if isinstance(node, ast.ClassDef):
            for member in node.body:
                strip(member, f"{node.name}.{getattr(member, 'name', '')}")
    missing = sorted(set(functions) - found)
    if missing:
        raise ValueError(f"{filename}: expected function definitions of {missing} to remove, found none")
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def _module_file(package: Path, dotted: str) -> tuple[Path, str]:
    """``dfkit.a.b.f`` -> (the file of the longest module prefix, the qualified name inside it)."""
    parts = dotted.split(".")
    if parts[0] != "dfkit" or len(parts) < 2:
        raise ValueError(f"expected a dfkit function, got {dotted!r}")
    for split in range(len(parts) - 1, 0, -1):
        folder = package.joinpath(*parts[1:split])
        for candidate in (folder.with_suffix(".py") if split > 1 else None, folder / "__init__.py"):
            if candidate is not None and candidate.is_file():
                return candidate, ".".join(parts[split:])
    raise ValueError(f"no dfkit module holds {dotted!r}")


def split_path(dotted: str) -> tuple[str, str]:
    """``dotted`` as (the module that defines it, the name inside it), read from the installed files
    without importing anything: ``dfkit.a.b.f`` -> (``dfkit.a.b``, ``f``); ``dfkit.a.C.m`` -> (``dfkit.a``, ``C.m``)."""
    package = installed_package()
    path, qualified = _module_file(package, dotted)
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts), qualified


def module_of(dotted: str) -> str:
    """The module that defines ``dotted`` (see :func:`split_path`)."""
    return split_path(dotted)[0]


def write_redacted_copy(references: dict[str, list[str]], root: Path, package: Path | None = None) -> Path:
    """Write ``root/dfkit``: the package without the functions ``references`` lists; returns ``root``."""
    package = package or installed_package()
    target = root / "dfkit"
    shutil.copytree(package, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    by_file: dict[Path, dict[str, str]] = {}
    for dotted, question in removed_functions(references).items():
        path, qualified = _module_file(package, dotted)
        by_file.setdefault(path, {})[qualified] = removal_message(dotted, question)
    for path, functions in by_file.items():
        copy = target / path.relative_to(package)
        copy.write_text(redact_source(path.read_text(), functions, str(path.relative_to(package.parent))))
    compileall.compile_dir(target, quiet=2, workers=1)     # bytecode beside it: the worker cannot write any
    for folder, _, files in os.walk(root):       # read-only for everyone (the worker adds a read-only mount where it can)
        for name in files:
            os.chmod(os.path.join(folder, name), 0o444)
        os.chmod(folder, 0o555)
    return root


_copies: dict[str, Path] = {}


def redacted_library(references: dict[str, list[str]]) -> str:
    """The folder to put first on the worker's ``sys.path`` for these references (built once per process)."""
    key = hashlib.sha256(json.dumps(references, sort_keys=True).encode()).hexdigest()[:16]
    root = _copies.get(key)
    if root is None or not (root / "dfkit").is_dir():
        root = Path(tempfile.mkdtemp(prefix=f"dfkit-library-{key}-"))
        os.chmod(root, 0o755)
        write_redacted_copy(references, root)
        _copies[key] = root
    return str(root)


def _remove(root: Path) -> None:
    for folder, _, _ in os.walk(root):
        os.chmod(folder, 0o755)
    shutil.rmtree(root, ignore_errors=True)


@atexit.register
def _remove_copies() -> None:
    for root in _copies.values():
        _remove(root)
    _copies.clear()
