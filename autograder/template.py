"""A confined template process that imports numpy, torch and (the grader's copy of) dfkit once and forks fresh workers.

Starting a worker from scratch costs a second or more (importing torch). Where Landlock scopes
signals (ABI 6+, Linux 6.12+), each grading process keeps one template per configuration: it is
started with exactly the confinement of a worker (:mod:`autograder.sandbox`), never runs student
code, and forks a worker on request in about 10 ms, handing it the three pipes the grader sent
over a Unix socket. Each forked worker takes its own Landlock domain, so it can neither signal nor
trace the template or a sibling. Elsewhere (or with ``DFKIT_GRADE_FORK=0``) :func:`shared_template`
returns None and every worker is a fresh process.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

from autograder import landlock, sandbox


class ForkedWorker:
    """A worker forked by a template: what :class:`WorkerProcess` needs of a ``Popen`` object."""

    def __init__(self, template: "WorkerTemplate", pid: int, request_fd: int, reply_fd: int, output_fd: int):
        self.template, self.pid = template, pid
        self.request_fd, self.reply_fd, self.output_fd = request_fd, reply_fd, output_fd
        self.network_namespace = template.process.network_namespace
        self.spared_pids = {template.process.pid}
        self.returncode = None

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def wait(self, timeout: float):
        if self.returncode is None:
            status = self.template.status(self.pid, timeout)
            if status.get("running"):
                raise subprocess.TimeoutExpired("worker", timeout)
            self.returncode = status.get("returncode")
        return self.returncode


class WorkerTemplate:
    """A confined process that has imported numpy, torch and dfkit once and forks fresh workers.

    Used only where Landlock scopes signals (ABI 6+), so a forked worker can neither signal nor
    trace the template or its siblings; elsewhere every worker is a fresh process.
    """

    def __init__(self, limits: sandbox.Limits, hidden_paths, modules, library: str, readonly_paths=()):
        self.scratch = tempfile.mkdtemp(prefix="dfkit-template-")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self.process = sandbox.spawn_template(theirs.fileno(), self.scratch, limits, hidden_paths, readonly_paths)
        finally:
            theirs.close()
        self.control = ours
        self.control.settimeout(limits.setup_seconds)
        self.mounter = subprocess.Popen([sys.executable, "-I", "-m", "autograder.mounter", str(self.process.pid)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        reply = self._ask({"op": "prepare", "modules": modules, "library": library})
        if not reply.get("ok"):
            self.close()
            raise RuntimeError(f"the worker template could not start: {reply.get('error')}")

    def _ask(self, message: dict, fds=()) -> dict:
        try:
            socket.send_fds(self.control, [json.dumps(message).encode()], list(fds))
            data = self.control.recv(1 << 16)
        except OSError as error:
            self.close()
            raise RuntimeError(f"the worker template stopped answering: {error}") from None
        if not data:
            self.close()
            raise RuntimeError("the worker template exited")
        return json.loads(data)

    def mount_scratch(self, scratch: str, size: int) -> bool:
        """A tmpfs of ``size`` bytes at ``scratch`` in the template's mount namespace (before the fork that uses it)."""
        try:
            self.mounter.stdin.write(f"{int(size)} {scratch}\n")
            self.mounter.stdin.flush()
            return self.mounter.stdout.readline().strip() == "ok"
        except (OSError, ValueError):
            return False

    def fork(self, scratch: str) -> ForkedWorker:
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        output_read, output_write = os.pipe()
        try:
            reply = self._ask({"op": "fork", "scratch": scratch, "env": sandbox.worker_environment(scratch)},
                              (request_read, reply_write, output_write))
        except RuntimeError:
            for fd in (request_write, reply_read, output_read):
                os.close(fd)
            raise
        finally:
            for fd in (request_read, reply_write, output_write):
                os.close(fd)
        if type(reply.get("pid")) is not int or reply["pid"] <= 0:
            raise RuntimeError(f"the worker template could not fork: {reply}")
        return ForkedWorker(self, reply["pid"], request_write, reply_read, output_read)

    def status(self, pid: int, wait: float) -> dict:
        try:
            return self._ask({"op": "status", "pid": pid, "wait": wait})
        except RuntimeError:
            return {"returncode": None}

    @property
    def alive(self) -> bool:
        return self.process.poll() is None and self.control.fileno() >= 0

    def close(self) -> None:
        try:
            self.control.close()
        except OSError:
            pass
        mounter = getattr(self, "mounter", None)
        if mounter is not None:
            mounter.kill()
            mounter.wait()
        sandbox.kill_group(self.process)
        shutil.rmtree(self.scratch, ignore_errors=True)


_templates: dict = {}


def shared_template(limits: sandbox.Limits, hidden_paths, modules, library: str, readonly_paths=()) -> WorkerTemplate | None:
    """The template for this configuration (kept for the life of the grading process), or None where
    forking workers from a template is not safe or not wanted (``DFKIT_GRADE_FORK=0``)."""
    if os.environ.get("DFKIT_GRADE_FORK", "1") == "0" or landlock.abi_version() < 6:
        return None
    key = json.dumps([limits.as_dict(), sorted(map(str, hidden_paths)), modules, library, list(readonly_paths)], sort_keys=True)
    template = _templates.get(key)
    if template is not None and template.alive:
        return template
    for old in _templates.values():
        old.close()
    _templates.clear()
    try:
        template = WorkerTemplate(limits, hidden_paths, modules, library, readonly_paths)
    except (RuntimeError, OSError):
        return None
    _templates[key] = template
    return template


@atexit.register
def _close_templates() -> None:
    for template in _templates.values():
        template.close()
    _templates.clear()
