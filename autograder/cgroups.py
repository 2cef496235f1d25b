"""Caps on a submission's whole worker tree that hold for root: a cgroup per submission.

Resource limits (``RLIMIT_*``) are per process, and the kernel exempts root from
``RLIMIT_NPROC``; a submission graded as root (Gradescope, most containers) could fork without
end or spread its memory over many children. A cgroup counts every task of the tree together,
root's included, and its limits cannot be lifted from inside (the worker has no capabilities and no
write access to the cgroup files under Landlock):

* ``pids.max``: processes and threads of the worker and all its descendants, together;
* memory (``memory.max`` / ``memory.limit_in_bytes``, swap off): their resident memory together,
  the tmpfs scratch folder included; the kernel kills a task of the group when it is exceeded,
  and the grader reports the test as ``memory``.

cgroup v2 is used where ``/sys/fs/cgroup`` is the unified hierarchy with the ``pids`` and
``memory`` controllers, cgroup v1 where both are mounted as their own hierarchies. Groups are made
under the grader's own cgroup, so the machine's limits on the grader still apply above them.
Where neither can be written (an ordinary user without a delegated cgroup), :func:`open_group`
returns None with the reason, and the results file says which limits are then per process only.
"""

from __future__ import annotations

import itertools
import os
import signal
import time

from autograder.sandbox import write_file

ROOT = "/sys/fs/cgroup"
_counter = itertools.count()


class CgroupUnavailable(Exception):
    """No writable cgroup with the pids and memory controllers (the message says why)."""


def _own_path(hierarchy: str) -> str:
    """The grader's cgroup in ``hierarchy`` ("" for v2, else a v1 controller), from /proc/self/cgroup."""
    with open("/proc/self/cgroup") as handle:
        for line in handle:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if (hierarchy == "" and controllers == "") or hierarchy in controllers.split(","):
                return path
    raise CgroupUnavailable(f"the grader is in no {hierarchy or 'unified'} cgroup")


def _read_counter(path: str, key: str) -> int:
    try:
        with open(path) as handle:
            for line in handle:
                name, _, value = line.partition(" ")
                if name == key:
                    return int(value)
    except OSError:
        pass
    return 0


class SubmissionGroup:
    """The cgroup(s) of one submission's workers: create, add a process, count OOM kills, remove."""

    def __init__(self, processes: int, memory_bytes: int):
        self.processes, self.memory_bytes = processes, memory_bytes
        name = f"dfkit-grade-{os.getpid()}-{next(_counter)}"
        if os.path.exists(os.path.join(ROOT, "cgroup.controllers")):
            self.version = 2
            self.folders = [self._make_v2(name)]
        else:
            self.version = 1
            self.folders = [self._make_v1("pids", name), self._make_v1("memory", name)]
        try:
            self._set_limits()
        except OSError as error:
            self.close()
            raise CgroupUnavailable(f"cannot set the cgroup limits: {error}") from None

    def _make_v2(self, name: str) -> str:
        parent = ROOT + _own_path("")
        available = open(os.path.join(parent, "cgroup.controllers")).read().split()
        if not {"pids", "memory"} <= set(available):
            raise CgroupUnavailable(f"cgroup v2 at {parent} offers {available}, not pids and memory")
        try:
            enabled = open(os.path.join(parent, "cgroup.subtree_control")).read().split()
            missing = [c for c in ("pids", "memory") if c not in enabled]
            if missing:
                write_file(os.path.join(parent, "cgroup.subtree_control"), " ".join("+" + c for c in missing))
            folder = os.path.join(parent, name)
            os.mkdir(folder)
        except OSError as error:      # e.g. EBUSY: the grader's own cgroup holds processes (no internal processes in v2)
            raise CgroupUnavailable(f"cannot make a cgroup v2 group under {parent}: {error}") from None
        return folder

    @staticmethod
    def _make_v1(controller: str, name: str) -> str:
        mount = os.path.join(ROOT, controller)
        if not os.path.exists(os.path.join(mount, "cgroup.procs")):
            raise CgroupUnavailable(f"no cgroup v1 {controller} hierarchy at {mount}")
        folder = mount + _own_path(controller).rstrip("/") + "/" + name
        try:
            os.mkdir(folder)
        except OSError as error:
            raise CgroupUnavailable(f"cannot make the cgroup {folder}: {error}") from None
        return folder

    def _set_limits(self) -> None:
        if self.version == 2:
            folder = self.folders[0]
            write_file(os.path.join(folder, "pids.max"), str(self.processes))
            write_file(os.path.join(folder, "memory.max"), str(self.memory_bytes))
            if os.path.exists(os.path.join(folder, "memory.swap.max")):
                write_file(os.path.join(folder, "memory.swap.max"), "0")
            return
        pids, memory = self.folders
        write_file(os.path.join(pids, "pids.max"), str(self.processes))
        write_file(os.path.join(memory, "memory.limit_in_bytes"), str(self.memory_bytes))
        if os.path.exists(os.path.join(memory, "memory.memsw.limit_in_bytes")):
            write_file(os.path.join(memory, "memory.memsw.limit_in_bytes"), str(self.memory_bytes))

    def procs_files(self) -> list[str]:
        """The files a process writes its pid to (``"0"``: itself) to join the group."""
        return [os.path.join(folder, "cgroup.procs") for folder in self.folders]

    def add(self, pid: int) -> None:
        for path in self.procs_files():
            write_file(path, str(pid))

    def oom_kills(self) -> int:
        """How many tasks of the group the kernel has killed for exceeding the memory limit."""
        if self.version == 2:
            return _read_counter(os.path.join(self.folders[0], "memory.events"), "oom_kill")
        return _read_counter(os.path.join(self.folders[1], "memory.oom_control"), "oom_kill")

    def describe(self) -> dict:
        how = f"cgroup v{self.version}, the whole worker tree together"
        return {
            "processes": f"{self.processes} processes and threads ({how})",
            "memory": f"{self.memory_bytes // 2**20} MiB resident, swap off ({how}); {self.memory_bytes // 2**20} MiB "
                      f"of address space per process (RLIMIT_AS)",
        }

    def tasks(self) -> list[int]:
        found = set()
        for path in self.procs_files():
            try:
                found.update(int(line) for line in open(path).read().split())
            except (OSError, ValueError):
                pass
        return sorted(found)

    def close(self) -> None:
        """SIGKILL whatever is left in the group, then remove it."""
        for folder in reversed(getattr(self, "folders", [])):
            for _ in range(50):
                remaining = self.tasks()
                for pid in remaining:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
                try:
                    os.rmdir(folder)
                    break
                except FileNotFoundError:
                    break
                except OSError:       # busy: its tasks are still exiting
                    time.sleep(0.02)


def open_group(processes: int, memory_bytes: int) -> tuple[SubmissionGroup | None, str]:
    """A new group with these limits, or None and why not."""
    try:
        return SubmissionGroup(processes, memory_bytes), ""
    except CgroupUnavailable as error:
        return None, str(error)
    except OSError as error:
        return None, f"cgroups unavailable: {error}"
