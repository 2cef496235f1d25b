"""Reading a submitted notebook and keeping only what the grader runs.

A submission is untrusted JSON. :func:`read_submission` never executes anything: it checks the
file's size, parses it, checks that it is a Python notebook, and returns a :class:`Submission`
holding, for each question, the source of the one solution cell whose nbgrader ``grade_id`` is the
question id (written ``00_warmup-bounce_step`` for question ``00_warmup.bounce_step``, since nbgrader
allows no dot in a grade_id; the dotted form is accepted too), plus those top-level ``import``
statements of the other code cells that bind a name the graded cells use (so a graded cell can use
``np`` imported elsewhere, and an unused ``import matplotlib.pyplot`` costs nothing). Every other
statement of every other cell is ignored: a training loop or a ``sleep`` in a free cell costs
nothing at grading time.

Problems that concern the whole file raise :class:`MalformedNotebook`; problems that concern one
question (no cell with its ``grade_id``, two of them, a syntax error) are recorded in
``Submission.problems`` so that only that question's tests score 0.
"""

from __future__ import annotations

import ast
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from autograder.flags import flag_constructs

MAX_NOTEBOOK_BYTES = 16 * 1024 * 1024


class MalformedNotebook(Exception):
    """The file is not a gradable Python notebook (the message says why)."""


@dataclass
class Submission:
    path: Path
    sha256: str
    imports: str = ""                                        # top-level imports of the other code cells
    cells: dict[str, str] = field(default_factory=dict)      # question id -> source of its solution cell
    problems: dict[str, str] = field(default_factory=dict)   # question id -> why it cannot be graded
    flags: dict[str, list[str]] = field(default_factory=dict)  # question id -> notable constructs (not scored)


def read_submission(path, question_ids) -> Submission:
    """Parse the notebook at ``path`` and pick out the cells of ``question_ids``."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as error:
        raise MalformedNotebook(f"cannot read {path.name}: {error.strerror}") from None
    if size > MAX_NOTEBOOK_BYTES:
        raise MalformedNotebook(
            f"the notebook is {size / 2**20:.1f} MiB, more than the {MAX_NOTEBOOK_BYTES // 2**20} MiB limit "
            "(clear large outputs before submitting)"
        )
    raw = path.read_bytes()
    submission = Submission(path=path, sha256=hashlib.sha256(raw).hexdigest())
    notebook = parse_notebook(raw)
    solution_cells: dict[str, list[str]] = {}
    import_lines: list[str] = []
    for cell in notebook["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell_source(cell)
        grade_id = question_of_grade_id(_grade_id(cell))
        if grade_id in question_ids and _is_solution(cell):
            solution_cells.setdefault(grade_id, []).append(source)
        else:
            import_lines.extend(top_level_imports(source))
    used = set().union(*(names_used(source) for sources in solution_cells.values() for source in sources))
    submission.imports = "\n".join(line for line in dict.fromkeys(import_lines) if binds_any(line, used))
    for question in question_ids:
        found = solution_cells.get(question, [])
        if not found:
            submission.problems[question] = f"no solution cell with grade_id {grade_id_of_question(question)!r} (was it deleted or renamed?)"
        elif len(found) > 1:
            submission.problems[question] = f"{len(found)} cells have grade_id {grade_id_of_question(question)!r}; keep exactly one"
        else:
            problem = syntax_problem(found[0])
            if problem:
                submission.problems[question] = problem
            else:
                submission.cells[question] = found[0]
                noted = flag_constructs(found[0])
                if noted:
                    submission.flags[question] = noted
    return submission


def parse_notebook(raw: bytes) -> dict:
    """The notebook's JSON as a dict, after checking the parts the grader relies on."""
    try:
        notebook = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise MalformedNotebook("the file is not UTF-8 text, so it is not a Jupyter notebook") from None
    except (ValueError, RecursionError) as error:
        raise MalformedNotebook(f"the file is not valid JSON ({str(error)[:120]})") from None
    if not isinstance(notebook, dict):
        raise MalformedNotebook("the file is JSON but not a notebook (expected an object at the top level)")
    if notebook.get("nbformat") != 4:
        raise MalformedNotebook(f"expected a notebook in format 4, got nbformat={str(notebook.get('nbformat'))[:20]}")
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        raise MalformedNotebook("the notebook has no list of cells")
    metadata = notebook.get("metadata") if isinstance(notebook.get("metadata"), dict) else {}
    kernel = metadata.get("kernelspec") if isinstance(metadata.get("kernelspec"), dict) else {}
    language = kernel.get("language")
    if language is None:
        info = metadata.get("language_info")
        language = info.get("name") if isinstance(info, dict) else None
    if language is not None and str(language).lower() != "python":
        raise MalformedNotebook(f"the notebook uses the {str(language)[:30]!r} kernel; expected a Python 3 notebook")
    return notebook


def cell_source(cell: dict) -> str:
    source = cell.get("source", "")
    if isinstance(source, list):
        return "".join(part for part in source if isinstance(part, str))
    return source if isinstance(source, str) else ""


def _grade_id(cell: dict):
    meta = cell.get("metadata")
    nbgrader = meta.get("nbgrader") if isinstance(meta, dict) else None
    return nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None


def grade_id_of_question(question: str) -> str:
    """nbgrader allows only letters, digits, ``_`` and ``-`` in a grade_id: ``00_warmup.f`` is stored as ``00_warmup-f``."""
    return question.replace(".", "-", 1)


def question_of_grade_id(grade_id):
    """The question id a grade_id stands for (``00_warmup-f`` and ``00_warmup.f`` both mean ``00_warmup.f``)."""
    if not isinstance(grade_id, str):
        return None
    return grade_id if "." in grade_id else grade_id.replace("-", ".", 1)


def _is_solution(cell: dict) -> bool:
    return cell["metadata"]["nbgrader"].get("solution") is True


def top_level_imports(source: str) -> list[str]:
    """The ``import`` and ``from ... import`` statements at the top level of a cell (not ``from __future__``)."""
    try:
        tree = ast.parse(_without_magics(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    lines = []
    for node in tree.body:
        if isinstance(node, ast.Import) or isinstance(node, ast.ImportFrom) and node.module != "__future__":
            lines.append(ast.unparse(node))
    return lines


def names_used(source: str) -> set[str]:
    """Every plain name a cell reads (``np`` in ``np.clip(...)``), so only the imports it needs are run."""
    try:
        tree = ast.parse(_without_magics(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def binds_any(statement: str, names: set[str]) -> bool:
    """Whether an import statement binds one of ``names`` (a star import might bind anything)."""
    node = ast.parse(statement).body[0]
    for alias in node.names:
        bound = alias.asname or (alias.name if isinstance(node, ast.ImportFrom) else alias.name.split(".")[0])
        if alias.name == "*" or bound in names:
            return True
    return False


def syntax_problem(source: str):
    """A readable message if ``source`` is not valid Python, else None."""
    try:
        ast.parse(_without_magics(source))
    except SyntaxError as error:
        return f"syntax error on line {error.lineno} of the cell: {error.msg}"
    except (ValueError, RecursionError, MemoryError) as error:
        return f"the cell cannot be parsed: {type(error).__name__}"
    return None


def _without_magics(source: str) -> str:
    """IPython magics (``%timeit``, ``!ls``) are not Python: comment them out, keeping line numbers."""
    return "\n".join("# " + line if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def runnable_source(source: str) -> str:
    """The cell as plain Python, the way the worker runs it."""
    return _without_magics(source)
