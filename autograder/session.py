"""The grader's side of a worker: sending requests, waiting with deadlines, restarting after failures.

:class:`WorkerProcess` is one confined worker process. :class:`Session` grades one submission with
as many worker processes as it takes: it loads the graded cells, answers ``call`` requests from the
tests, and when a worker crashes, hangs or floods its output it kills the worker's whole process
group, remembers what went wrong, and starts a fresh worker for the next test. A cell that killed
a worker while loading is left out of the next one, so the other questions still get graded.

Every failure reaches the tests as a :class:`SubmissionFailure` whose ``status`` is one of
``error``, ``timeout``, ``crashed`` or ``memory``.
"""

from __future__ import annotations

import os
import selectors
import shutil
import signal
import tempfile
import time

from autograder import cgroups, protocol, redaction, sandbox
from autograder.notebook import runnable_source
from autograder.template import WorkerTemplate, shared_template

STATUSES = ("passed", "failed", "error", "timeout", "crashed", "memory")
NOT_WRITTEN = "{what} is not written yet: it still raises NotImplementedError (replace that line with your code)"


class SubmissionFailure(Exception):
    """The submission's code could not produce an answer; ``status`` says why."""

    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class WorkerProcess:
    """One running worker, spoken to one request at a time."""

    def __init__(self, limits: sandbox.Limits, hidden_paths, scratch_root=None, template: "WorkerTemplate | None" = None,
                 readonly_paths=(), group=None):
        self.limits, self.group = limits, group
        self.scratch = tempfile.mkdtemp(prefix="dfkit-worker-", dir=scratch_root)   # mode 0700: the worker keeps our uid
        self.oom_kills = group.oom_kills() if group else 0
        if template is not None:
            template.mount_scratch(self.scratch, limits.disk_bytes)
            self.process = template.fork(self.scratch)
            if group is not None:
                try:
                    group.add(self.process.pid)      # before it is sent anything: it runs no student code yet
                except OSError:
                    self.process.kill()
                    raise RuntimeError("could not put the forked worker in the submission's cgroup") from None
        else:
            self.process = sandbox.spawn_worker(self.scratch, limits, hidden_paths, readonly_paths,
                                                group.procs_files() if group else ())
        os.set_blocking(self.process.request_fd, False)
        self.reader = protocol.FrameReader()
        self.output = bytearray()
        self.output_seen = 0
        self.alive = True
        self.sequence = 0
        self.output_closed = False

    def request(self, message: dict, timeout: float, what: str):
        """Send ``message``; return the decoded ``ok`` value or raise :class:`SubmissionFailure`."""
        try:
            return self._request(message, timeout, what)
        except SubmissionFailure as failure:
            if self.group is None or self.group.oom_kills() <= self.oom_kills:
                raise
            self.oom_kills = self.group.oom_kills()
            self.kill()      # a fresh worker for what follows
            raise SubmissionFailure("memory", f"{what}: the submission's processes together used more than the "
                                              f"{self.limits.memory_bytes // 2**20} MiB memory limit, and the kernel "
                                              f"stopped one of them ({failure.message.splitlines()[0]})") from None

    def _request(self, message: dict, timeout: float, what: str):
        if not self.alive:
            raise SubmissionFailure("crashed", f"the worker had already stopped before {what}")
        self.sequence += 1
        expected_id = self.sequence
        outgoing = protocol.frame(dict(message, id=expected_id))
        deadline = time.monotonic() + max(timeout, 0.0)
        selector = selectors.DefaultSelector()
        selector.register(self.process.reply_fd, selectors.EVENT_READ, "reply")
        if not self.output_closed:
            selector.register(self.process.output_fd, selectors.EVENT_READ, "output")
        if outgoing:
            selector.register(self.process.request_fd, selectors.EVENT_WRITE, "request")
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.kill()
                    raise SubmissionFailure("timeout", f"{what} did not finish within {timeout:.0f} s")
                for key, _ in selector.select(remaining):
                    if key.data == "request":
                        try:
                            written = os.write(self.process.request_fd, outgoing)
                        except BrokenPipeError:
                            written, outgoing = 0, b""
                        outgoing = outgoing[written:]
                        if not outgoing:
                            selector.unregister(self.process.request_fd)
                    elif key.data == "output":
                        if not self._read_output():      # the worker closed its stdout and stderr
                            self.output_closed = True
                            selector.unregister(self.process.output_fd)
                    else:
                        data = os.read(self.process.reply_fd, 1 << 20)
                        if not data:
                            raise self._death(what)
                        try:
                            replies = self.reader.feed(data)
                        except protocol.ProtocolError as error:
                            self.kill()
                            raise SubmissionFailure("error", f"the worker sent a malformed reply during {what}: {error}") from None
                        # a reply to an earlier request (from a forked copy of the worker, say) is stale: skip it
                        current = [r for r in replies if type(r) is dict and r.get("id") == expected_id]
                        if current:
                            self._drain_output()
                            return self._unpack(current[0], what)
        finally:
            selector.close()

    def _read_output(self) -> bool:
        """Read what the worker printed; False at end of file."""
        try:
            data = os.read(self.process.output_fd, 1 << 16)
        except BlockingIOError:
            return True
        if not data:
            return False
        if len(self.output) + len(data) > self.limits.output_bytes:
            self.kill()
            raise SubmissionFailure("error", f"the code printed more than {self.limits.output_bytes // 1024} KiB of output; the worker was stopped")
        self.output.extend(data)
        return True

    def _drain_output(self) -> None:
        os.set_blocking(self.process.output_fd, False)
        try:
            while True:
                try:
                    data = os.read(self.process.output_fd, 1 << 16)
                except BlockingIOError:
                    return
                if not data:
                    return
                if len(self.output) + len(data) > self.limits.output_bytes:
                    self.kill()
                    raise SubmissionFailure("error", f"the code printed more than {self.limits.output_bytes // 1024} KiB of output; the worker was stopped")
                self.output.extend(data)
        finally:
            if self.alive:
                os.set_blocking(self.process.output_fd, True)

    def take_output(self) -> str:
        """Output printed since the last call to this method."""
        text = bytes(self.output[self.output_seen:]).decode("utf-8", errors="replace")
        self.output_seen = len(self.output)
        return text

    def _unpack(self, reply, what: str):
        if type(reply) is dict and "ok" in reply:
            try:
                return protocol.decode(reply["ok"])
            except protocol.ProtocolError as error:
                raise SubmissionFailure("error", f"the value returned by {what} cannot be graded: {error}") from None
        error = reply.get("error") if type(reply) is dict else None
        if type(error) is not dict:
            self.kill()
            raise SubmissionFailure("error", f"the worker sent a malformed reply during {what}")
        kind, message, trace = (_text(error.get(key)) for key in ("type", "message", "traceback"))
        if kind == "MemoryError" or "can't allocate memory" in message or "DefaultCPUAllocator" in message:
            self.kill()     # a fresh worker for what follows
            raise SubmissionFailure("memory", f"{what} ran out of memory (limit {self.limits.memory_bytes // 2**20} MiB): {kind}: {message}")
        if redaction.REMOVED_MARKER in message:
            raise SubmissionFailure("error", message)
        if kind == "InputsModified":
            raise SubmissionFailure("failed", message)
        if kind == "NotImplementedError" and not message:
            raise SubmissionFailure("error", NOT_WRITTEN.format(what=what))
        raise SubmissionFailure("error", f"{what} raised {kind}: {message}\n{trace}".rstrip())

    def _death(self, what: str) -> SubmissionFailure:
        try:
            self._drain_output()
        except SubmissionFailure:
            pass
        try:
            code = self.process.wait(timeout=5)
        except Exception:
            code = None
        self.kill()
        if code is not None and code < 0:
            number = -code
            name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else f"signal {number}"
            if number == signal.SIGXCPU:
                return SubmissionFailure("timeout", f"{what} used up the CPU time limit ({name})")
            return SubmissionFailure("crashed", f"the worker was killed by {name} during {what}")
        return SubmissionFailure("crashed", f"the worker exited (code {code}) during {what}")

    def kill(self) -> None:
        self.alive = False
        sandbox.kill_group(self.process)
        for fd in (self.process.request_fd, self.process.reply_fd, self.process.output_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        self.process.request_fd = self.process.reply_fd = self.process.output_fd = -1
        shutil.rmtree(self.scratch, ignore_errors=True)

    def close(self) -> None:
        if self.process.request_fd >= 0 or self.alive:
            self.kill()


def _text(value, limit: int = 8000) -> str:
    return value[:limit] if type(value) is str else ""


class Session:
    """Everything the tests of one submission need: ``call(question, function, args, kwargs)``."""

    def __init__(self, submission, assignment, limits: sandbox.Limits, hidden_paths=(), scratch_root=None, read_paths=None,
                 library: str | None = None):
        self.submission, self.assignment, self.limits = submission, assignment, limits
        self.library = library or redaction.redacted_library(assignment.references())
        self.installed_library = str(redaction.installed_package())
        self.hidden_paths, self.scratch_root = list(hidden_paths), scratch_root
        self.read_paths = read_paths if read_paths is not None else default_read_paths(self.hidden_paths, self.library)
        # never cover a folder the worker needs (a submissions folder that holds the venv, say)
        self.hidden_paths = [p for p in self.hidden_paths if not _contains_any(p, self.read_paths)]
        self.hidden_paths.append(self.installed_library)        # the answers live there
        self.hidden_paths = _outermost(self.hidden_paths)       # a folder inside a covered one is covered with it
        self.reference_calls: dict[str, list[str]] = {}         # question -> the removed answers it called
        self.group, self.group_reason = cgroups.open_group(limits.processes, limits.memory_bytes)   # the whole tree's caps
        self.question_failures = {q: SubmissionFailure("error", text) for q, text in submission.problems.items()}
        self.skip_cells: set[str] = set()
        self.skip_imports = False
        self.worker: WorkerProcess | None = None
        self.broken: SubmissionFailure | None = None
        self.enforcement: dict | None = None
        self.workers_started = 0
        self.deadline = time.monotonic() + limits.submission_seconds

    # ------------------------------------------------------------------ lifecycle
    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def _budget(self, limit: float) -> float:
        if self.remaining() <= 0:
            raise SubmissionFailure("timeout", f"the submission used its whole {self.limits.submission_seconds:.0f} s time budget")
        return min(limit, self.remaining())

    def ensure_worker(self) -> WorkerProcess:
        while self.worker is None or not self.worker.alive:
            if self.broken:
                raise self.broken
            self._start_worker()
        return self.worker

    def _start_worker(self) -> None:
        template = shared_template(self.limits, self.hidden_paths, self.assignment.modules, self.library, [self.library])
        try:
            worker = WorkerProcess(self.limits, self.hidden_paths, self.scratch_root, template, [self.library], self.group)
        except RuntimeError:      # the template died: a fresh process this time
            worker = WorkerProcess(self.limits, self.hidden_paths, self.scratch_root, readonly_paths=[self.library], group=self.group)
        self.workers_started += 1
        self.worker = worker
        setup = {
            "op": "setup", "modules": self.assignment.modules, "library": self.library,
            "landlock": True, "read_paths": self.read_paths, "write_paths": [worker.scratch, "/dev/null"],
        }
        try:
            report = worker.request(setup, self._budget(self.limits.setup_seconds), "starting the worker")
        except SubmissionFailure as failure:
            worker.kill()
            self.broken = SubmissionFailure(failure.status if failure.status == "timeout" else "error",
                                            f"the grader could not start a worker: {failure.message}")
            raise self.broken from None
        if self.enforcement is None:
            self.enforcement = sandbox.describe_enforcement(worker.process.pid, self.hidden_paths, report if type(report) is dict else {},
                                                            self.installed_library)
            self.enforcement["limits"] = sandbox.describe_limits(self.limits, self.group, self.group_reason,
                                                                 sandbox.scratch_is_tmpfs(worker.process.pid, worker.scratch))
        worker.take_output()
        if not self.skip_imports and self.submission.imports:
            statements = [line for line in self.submission.imports.splitlines() if line.strip()]
            try:
                worker.request({"op": "imports", "statements": statements}, self._budget(self.limits.cell_seconds), "the notebook's imports")
            except SubmissionFailure:
                self.skip_imports = True
                worker.kill()
                return
        for question, source in self.submission.cells.items():
            if question in self.skip_cells:
                continue
            what = f"the cell {question}"
            try:
                worker.request({"op": "cell", "source": runnable_source(source), "label": question},
                               self._budget(self.limits.cell_seconds), what)
            except SubmissionFailure as failure:
                self.question_failures.setdefault(question, SubmissionFailure(failure.status, f"running {failure.message}" if failure.status == "error" else failure.message))
                if not worker.alive:
                    self.skip_cells.add(question)
                    return          # the loop in ensure_worker starts a fresh worker without this cell
        worker.take_output()

    def call(self, question: str, function: str, args=(), kwargs=None, no_grad: bool = False):
        """Call the student's ``function`` on plain data (under ``torch.no_grad()`` with ``no_grad``);
        returns what it returned, decoded."""
        while True:     # start workers until one holds this question's cell, or the cell is known to fail
            if question in self.question_failures:
                raise self.question_failures[question]
            if self.worker is not None and self.worker.alive:
                break
            if self.broken:
                raise self.broken
            self._start_worker()
        worker = self.worker
        message = {
            "op": "call", "question": question, "function": function,
            "args": protocol.encode(tuple(args)), "kwargs": protocol.encode(dict(kwargs or {})), "no_grad": bool(no_grad),
        }
        try:
            return worker.request(message, self._budget(self.limits.call_seconds), f"{function}()")
        except SubmissionFailure as failure:
            called = redaction.removed_path(failure.message)
            if called and called not in self.reference_calls.setdefault(question, []):
                self.reference_calls[question].append(called)
            if failure.status == "timeout" and "time budget" not in failure.message:
                self.question_failures[question] = SubmissionFailure("timeout", f"{failure.message} (in an earlier test; not run again)")
            raise

    def take_output(self) -> str:
        return self.worker.take_output() if self.worker else ""

    def close(self) -> None:
        if self.worker:
            self.worker.close()
        if self.group is not None:
            self.group.close()          # kills anything of the submission still running, then removes the group
            self.group = None


def default_read_paths(hidden_paths, library: str | None = None) -> list[str]:
    """What the worker may read under Landlock: Python, its packages, the grader's copy of dfkit
    (``library``), system libraries; never a secret folder, never the installed dfkit."""
    import site
    import sys

    candidates = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
                  "/usr", "/lib", "/lib64", "/etc/ld.so.cache", "/etc/localtime", "/dev/null", "/dev/urandom", "/dev/zero"}
    candidates.update(site.getsitepackages())
    if library:
        candidates.add(library)
    allowed = [path for path in sorted(candidates) if not any(_within(secret, path) for secret in hidden_paths)]
    return _all_but(allowed, str(redaction.installed_package()))      # never a secret folder, never the answers


def _within(path, folder) -> bool:
    """Whether ``path`` is ``folder`` or lies inside it (symbolic links resolved)."""
    path, folder = os.path.realpath(path), os.path.realpath(folder).rstrip("/")
    return path == folder or path.startswith(folder + "/")


def _all_but(paths: list[str], excluded: str) -> list[str]:
    """``paths`` with ``excluded`` left out: a folder that holds it is replaced by its other entries, recursively."""
    result = []
    for path in paths:
        if not _within(excluded, path):
            result.append(path)
        elif os.path.realpath(path) != os.path.realpath(excluded):
            try:
                entries = sorted(os.listdir(path))
            except OSError:
                continue
            result += _all_but([os.path.join(os.path.realpath(path), entry) for entry in entries], excluded)
    return result


def _outermost(paths) -> list:
    """``paths`` without those that lie inside another of them (or repeat one)."""
    kept = []
    for path in paths:
        if not any(_within(path, other) for other in kept):
            kept = [other for other in kept if not _within(other, path)] + [path]
    return kept


def _contains_any(folder, paths) -> bool:
    return any(_within(path, folder) for path in paths)
