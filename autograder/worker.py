"""The worker: the only process that runs student code.

Started by :func:`autograder.sandbox.spawn_worker` as ``python -m autograder.worker REQUEST_FD REPLY_FD``.
It answers one request at a time, each a message of :mod:`autograder.protocol`:

``setup``    put the grader's copy of dfkit without this assignment's answers first on ``sys.path``
             (:mod:`autograder.redaction`), import numpy and the modules the tests need, then
             restrict itself with Landlock;
``imports``  run the submission's import statements, one at a time, ignoring failures;
``cell``     run the source of one graded cell in the shared namespace;
``call``     call one function defined by the cells on the given arguments and send back what it
             returned as plain data.

Replies are ``{"ok": value}`` or ``{"error": {"type", "message", "traceback"}}``, each with the ``id``
of its request. Nothing here needs to be trusted once student code has run: the grader checks every
byte it gets back.

``python -m autograder.worker --template CONTROL_FD`` starts a *template* instead: it never runs
student code; it imports numpy, torch and the (redacted) dfkit modules once, and then forks a fresh
worker for each ``fork`` request that arrives on its Unix socket with the worker's three pipes
attached. Each forked worker applies its own Landlock domain, so two of them
cannot signal each other or the template.
"""

from __future__ import annotations

import builtins
import importlib
import json
import linecache
import os
import signal
import socket
import sys
import traceback

from autograder import landlock, protocol

class Worker:
    def __init__(self, request_fd: int, reply_fd: int, prepared: bool = False):
        self.request_fd, self.reply_fd = request_fd, reply_fd
        self.reader = protocol.FrameReader(max_bytes=1 << 30)
        self.pending: list = []
        self.namespace = {"__name__": "__main__", "__builtins__": builtins}
        self.prepared = prepared      # imports already done when forked from a template

    # ------------------------------------------------------------------ transport
    def receive(self):
        while not self.pending:
            data = os.read(self.request_fd, 1 << 20)
            if not data:
                return None
            self.pending.extend(self.reader.feed(data))
        return self.pending.pop(0)

    def reply(self, message: dict) -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:
                pass
        try:
            data = protocol.frame(message)
        except protocol.ProtocolError as error:       # a result too large to send
            data = protocol.frame(dict(_error_value(ValueError(f"the result is too large to grade: {error}")), id=message.get("id")))
        while data:
            written = os.write(self.reply_fd, data)
            data = data[written:]

    def serve(self) -> None:
        while True:
            request = self.receive()
            if request is None:
                return
            handler = getattr(self, "do_" + str(request.get("op")), None)
            try:
                if handler is None:
                    raise ValueError(f"unknown request {request.get('op')!r}")
                value = handler(request)
            except BaseException as error:     # student code may raise anything, SystemExit included
                result = _error_value(error)
            else:
                try:
                    result = {"ok": protocol.encode(value)}
                except BaseException as error:
                    result = _error_value(TypeError(f"the function returned something that cannot be graded: {error}"))
            result["id"] = request.get("id")
            self.reply(result)

    # ------------------------------------------------------------------ requests
    def do_setup(self, request):
        if not self.prepared:
            prepare(request.get("modules", []), request["library"])
            self.prepared = True
        report = {"landlock": 0, "reason": "not requested"}
        if request.get("landlock"):
            report = landlock.restrict(request.get("read_paths", []), request.get("write_paths", []))
        return report

    def do_imports(self, request):
        failed = []
        for statement in request.get("statements", []):
            try:
                exec(compile(statement, "<imports>", "exec"), self.namespace)
            except BaseException as error:
                failed.append(f"{statement}: {type(error).__name__}: {error}")
        return failed

    def do_cell(self, request):
        code = compile(request["source"], f"<cell {request.get('label', '')}>", "exec")
        exec(code, self.namespace)
        return None

    def do_call(self, request):
        name = request["function"]
        function = self.namespace.get(name)
        if function is None:
            raise NameError(f"your notebook does not define a function called {name}")
        if not callable(function):
            raise TypeError(f"{name} is a {type(function).__name__}, not a function")
        args = _to_worker_values(protocol.decode(request.get("args", [])))
        kwargs = _to_worker_values(protocol.decode(request.get("kwargs", {"$": "dict", "items": []})))
        return call_checked(function, name, args, kwargs, no_grad=bool(request.get("no_grad")))


INPUTS_MODIFIED = "changed its input"


class InputsModified(Exception):
    """The student's function wrote into one of its arguments (a test failure, not a crash)."""


def call_checked(function, name: str, args, kwargs, no_grad: bool = False):
    """``function(*args, **kwargs)``, under ``torch.no_grad()`` if asked (as the library calls some
    exercises); raises :class:`InputsModified` if it changed an array or tensor it was given."""
    inputs = list(_arrays(args, kwargs, function))
    before = [_copy(value) for _, value in inputs]
    if no_grad:
        import torch
        with torch.no_grad():
            result = function(*args, **kwargs)
    else:
        result = function(*args, **kwargs)
    changed = [label for (label, value), copy in zip(inputs, before) if not _same(value, copy)]
    if changed:
        raise InputsModified(f"{name}() {INPUTS_MODIFIED} {', '.join(changed)} in place: the caller's data must stay as it was "
                             f"(work on a copy, e.g. x = x.clone(), or build a new tensor)")
    return result


def _arrays(args, kwargs, function):
    """(label, array or tensor) for every argument, looking inside lists, tuples and dicts."""
    import numpy as np
    try:
        import inspect
        names = list(inspect.signature(function).bind(*args, **kwargs).arguments)
    except (TypeError, ValueError):
        names = []
    labelled = [(names[i] if i < len(names) else f"argument {i + 1}", value) for i, value in enumerate(args)]
    labelled += list(kwargs.items())
    torch = sys.modules.get("torch")
    stack = list(labelled)
    while stack:
        label, value = stack.pop(0)
        if isinstance(value, np.ndarray) or (torch is not None and isinstance(value, torch.Tensor)):
            yield f"`{label}`", value
        elif isinstance(value, (list, tuple)):
            stack += [(f"{label}[{i}]", item) for i, item in enumerate(value)]
        elif isinstance(value, dict):
            stack += [(f"{label}[{key!r}]", item) for key, item in value.items()]


def _copy(value):
    return value.detach().clone() if hasattr(value, "detach") else value.copy()


def _same(value, copy) -> bool:
    """Same shape, dtype and values (NaN equal to NaN); what cannot be compared counts as unchanged."""
    import numpy as np
    try:
        if hasattr(value, "detach"):
            value, copy = value.detach().cpu().numpy(), copy.cpu().numpy()
        return value.shape == copy.shape and value.dtype == copy.dtype and np.array_equal(value, copy, equal_nan=value.dtype.kind in "fc")
    except (TypeError, ValueError, RuntimeError):
        return True


def prepare(modules, library: str) -> None:
    """Import what every worker needs (before any restriction), dfkit from the grader's redacted copy."""
    if any(name == "dfkit" or name.startswith("dfkit.") for name in sys.modules):
        raise RuntimeError("dfkit was imported before the worker chose its copy of the library")
    sys.path.insert(0, library)
    importlib.invalidate_caches()
    import numpy  # noqa: F401
    for name in modules:
        importlib.import_module(name)
    dfkit = sys.modules.get("dfkit")
    if dfkit is not None and not os.path.realpath(dfkit.__file__).startswith(os.path.realpath(library) + os.sep):
        raise RuntimeError(f"dfkit was imported from {dfkit.__file__}, not from the grader's copy {library}")
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    linecache.clearcache()


class Template:
    """Imports once, then forks one fresh worker per request (it never runs student code itself)."""

    def __init__(self, control_fd: int):
        self.control = socket.socket(fileno=control_fd)
        self.prepared = False
        self.finished: dict[int, dict] = {}

    def answer(self, message: dict) -> None:
        self.control.send(json.dumps(message).encode())

    def serve(self) -> None:
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(self.control, 1 << 16, 3)
            except OSError:
                return
            if not data:                      # the grader is gone (it may not have had the chance to clean up)
                home = os.environ.get("HOME", "")
                if os.path.basename(home).startswith("dfkit-template-"):
                    import shutil
                    shutil.rmtree(home, ignore_errors=True)
                return
            self._reap()
            message = json.loads(data)
            op = message.get("op")
            if op == "prepare":
                try:
                    prepare(message.get("modules", []), message["library"])
                    self.prepared = True
                    self.answer({"ok": True})
                except BaseException as error:
                    self.answer({"error": f"{type(error).__name__}: {error}"})
            elif op == "fork" and self.prepared and len(fds) == 3:
                pid = os.fork()
                if pid == 0:
                    self._become_worker(fds, message)
                for fd in fds:
                    os.close(fd)
                self.answer({"pid": pid})
            elif op == "status":
                self.answer(self._status(int(message.get("pid", 0)), float(message.get("wait", 0))))
            else:
                for fd in fds:
                    os.close(fd)
                self.answer({"error": f"unexpected request {op!r}"})

    def _become_worker(self, fds, message) -> None:
        try:
            self.control.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            os.setsid()
            request_fd, reply_fd, output_fd = fds
            os.dup2(output_fd, 1)
            os.dup2(output_fd, 2)
            os.close(output_fd)
            os.chdir(message["scratch"])
            os.environ.update(message.get("env", {}))
            Worker(request_fd, reply_fd, prepared=True).serve()
        finally:
            os._exit(0)

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.finished[pid] = _describe_status(status)

    def _status(self, pid: int, wait: float) -> dict:
        import time
        deadline = time.monotonic() + wait
        while True:
            self._reap()
            if pid in self.finished:
                return self.finished.pop(pid)
            if time.monotonic() >= deadline:
                return {"running": True}
            time.sleep(0.01)


def _describe_status(status: int) -> dict:
    if os.WIFSIGNALED(status):
        return {"returncode": -os.WTERMSIG(status)}
    return {"returncode": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None}


def _to_worker_values(value):
    """Arrays the grader marked as tensors become torch tensors; containers and stand-ins are rebuilt."""
    if isinstance(value, dict) and protocol.STANDIN_KEY in value:
        # imported here, not at the top: it imports dfkit, which the worker may import only once prepare()
        # chose the grader's copy; an assignment that sends stand-ins imports it up front (its MODULES)
        from autograder import standins
        return standins.rebuild({k: _to_worker_values(v) for k, v in value.items()})
    if protocol.is_tensor(value):
        import torch
        return torch.from_numpy(protocol.as_array(value).copy())
    if isinstance(value, list):
        return [_to_worker_values(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_to_worker_values(v) for v in value)
    if isinstance(value, dict):
        return {k: _to_worker_values(v) for k, v in value.items()}
    return value


def _error_value(error: BaseException) -> dict:
    try:
        message = str(error)
    except BaseException:
        message = "(the exception's message could not be printed)"
    try:
        tb = error.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
            tb = tb.tb_next       # start at the student's frames
        text = "".join(traceback.format_exception(type(error), error, tb))
    except BaseException:
        text = ""
    return {"error": {"type": str(type(error).__name__)[:100], "message": message[:4000], "traceback": text[-6000:]}}


def main(argv: list[str]) -> None:
    if len(argv) == 3 and argv[1] == "--template":
        Template(int(argv[2])).serve()
    elif len(argv) == 3:
        Worker(int(argv[1]), int(argv[2])).serve()
    else:
        raise SystemExit("usage: python -m autograder.worker REQUEST_FD REPLY_FD | --template CONTROL_FD")


if __name__ == "__main__":
    main(sys.argv)
