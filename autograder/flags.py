"""Constructs in a graded cell that an instructor may want to look at; nothing is scored on them.

The sandbox already makes these harmless to the grader. They are listed because an exercise
answer rarely needs them, and a cell that digs through the interpreter (``gc``, ``__code__``,
``importlib.reload``) is how someone would try to get the library's switched-off reference back.
"""

from __future__ import annotations

import ast

MODULES = {
    "gc": "inspects the interpreter's objects (gc)",
    "ctypes": "calls C code directly (ctypes)",
    "subprocess": "starts programs (subprocess)",
    "signal": "changes signal handling (signal)",
    "importlib": "imports or reloads modules by hand (importlib)",
    "inspect": "reads source code or frames (inspect)",
    "socket": "opens network sockets (socket)",
    "builtins": "changes builtins",
}
ATTRIBUTES = {
    "__code__": "reads or replaces a function's code object",
    "__globals__": "reaches into a function's globals",
    "__closure__": "reaches into a function's closure",
    "__subclasses__": "walks the class hierarchy",
    "fork": "forks the process",
    "_exit": "ends the interpreter",
    "kill": "sends signals",
    "modules": "edits sys.modules",
}


def flag_constructs(source: str) -> list[str]:
    """Readable descriptions of the notable constructs in ``source`` (sorted, each once)."""
    try:
        tree = ast.parse("\n".join("# " + line if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module.split(".")[0]]
        else:
            names = []
        found.update(MODULES[name] for name in names if name in MODULES)
        if isinstance(node, ast.Attribute) and node.attr in ATTRIBUTES:
            found.add(ATTRIBUTES[node.attr])
        if isinstance(node, ast.Name) and node.id in ("__builtins__", "exec", "eval", "compile"):
            found.add(f"uses {node.id}")
    return sorted(found)
