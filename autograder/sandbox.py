"""Starting the worker process that runs student code, with every confinement this machine allows.

Applied between ``fork`` and ``exec`` (in the child, before any student byte is read):

1. the submission's cgroup (:mod:`autograder.cgroups`), joined first, so that the worker and all
   its descendants count together against ``Limits.processes`` and ``Limits.memory_bytes``, root
   included; and a new session, so that they form one process group that the grader kills with
   SIGKILL (no signal handler can delay that);
2. resource limits per process: address space, CPU seconds, size of any file written, open
   files, no core dumps, and a number of new processes (RLIMIT_NPROC counts all of the user's
   tasks, so the limit is those running now plus ``Limits.processes``; the kernel exempts root
   from it, which is why the cgroup exists);
3. new network and mount namespaces: no network interface but a loopback that is down, the
   secret directories (hidden tests, solutions, other submissions, results, the installed dfkit
   with its answers) covered by empty read-only tmpfs mounts, the grader's copy of dfkit
   (:mod:`autograder.redaction`) mounted read-only, and a tmpfs of ``Limits.disk_bytes`` over the
   scratch folder (all the worker may write). As root this needs nothing; as an ordinary user it
   needs unprivileged user namespaces (most distributions allow them);
4. as root, every capability is dropped for good (securebits locked), so the worker cannot undo
   the mounts, load modules or bypass file permissions.

A worker forked from a template (:mod:`autograder.template`) joins its cgroup from the grader right
after the fork, and its scratch tmpfs is mounted in the template's namespace just before
(:mod:`autograder.mounter`). The worker then restricts itself with Landlock (see :mod:`autograder.landlock`) once its imports
are done. The worker gets a scratch directory as its home and an environment with no variable of
the grader's: neither the environment nor its arguments name a secret path.

:func:`describe_enforcement` inspects the running worker from outside and says which of these
actually took effect; the answer is recorded in every results file.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import subprocess
import sys
from dataclasses import asdict, dataclass

CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWNET = 0x00020000, 0x10000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 32, 4096, 1 << 14, 1 << 18
PR_CAPBSET_DROP, PR_SET_SECUREBITS, PR_SET_NO_NEW_PRIVS = 24, 28, 38
SECURE_BITS = 0xCF   # NOROOT, NO_SETUID_FIXUP, NO_CAP_AMBIENT_RAISE, each with its lock
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Times are wall-clock seconds."""

    call_seconds: float = 10.0          # one call of a student function
    cell_seconds: float = 20.0          # running one graded cell
    setup_seconds: float = 60.0         # starting a worker (imports numpy, torch, dfkit)
    submission_seconds: float = 180.0   # everything for one submission, restarts included
    memory_bytes: int = 4 * 2**30       # address space of each process, and resident memory of the tree together
    output_bytes: int = 1 * 2**20       # stdout + stderr of the worker, all calls together
    file_bytes: int = 16 * 2**20        # largest file the worker may write
    disk_bytes: int = 256 * 2**20       # everything the worker writes to its scratch folder, together
    processes: int = 64                 # processes and threads of the worker's whole tree

    def as_dict(self) -> dict:
        return asdict(self)

    def replace(self, **changes) -> "Limits":
        values = self.as_dict()
        unknown = sorted(set(changes) - set(values))
        if unknown:
            raise ValueError(f"unknown limit(s) {unknown}; expected some of {sorted(values)}")
        values.update(changes)
        return Limits(**values)


def worker_environment(scratch: str) -> dict:
    """The whole environment of a worker: nothing of the grader's, a scratch folder as home."""
    return {
        "PATH": "/usr/bin:/bin", "HOME": scratch, "TMPDIR": scratch, "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
        "DFKIT_CACHE": os.path.join(scratch, "cache"), "MPLBACKEND": "Agg",
    }


def spawn_worker(scratch: str, limits: Limits, hidden_paths, readonly_paths=(), cgroup_files=()) -> subprocess.Popen:
    """Start ``python -m autograder.worker REQUEST_FD REPLY_FD`` confined; requests and replies travel on two pipes."""
    request_read, request_write = os.pipe()
    reply_read, reply_write = os.pipe()
    output_read, output_write = os.pipe()
    try:
        process = _spawn([str(request_read), str(reply_write)], (request_read, reply_write), output_write, scratch, limits, hidden_paths,
                         readonly_paths, cgroup_files)
    finally:
        for fd in (request_read, reply_write, output_write):
            os.close(fd)
    process.request_fd, process.reply_fd, process.output_fd = request_write, reply_read, output_read
    return process


def spawn_template(control_fd: int, scratch: str, limits: Limits, hidden_paths, readonly_paths=()) -> subprocess.Popen:
    """Start ``python -m autograder.worker --template CONTROL_FD`` with the same confinement as a worker."""
    return _spawn(["--template", str(control_fd)], (control_fd,), subprocess.DEVNULL, scratch, limits, hidden_paths, readonly_paths)


def _spawn(arguments, pass_fds, output, scratch: str, limits: Limits, hidden_paths, readonly_paths=(), cgroup_files=()) -> subprocess.Popen:
    for fd in pass_fds:
        os.set_inheritable(fd, True)
    process = subprocess.Popen(
        [sys.executable, "-I", "-X", "faulthandler", "-m", "autograder.worker", *arguments],
        stdin=subprocess.DEVNULL, stdout=output, stderr=output, cwd=scratch, env=worker_environment(scratch),
        pass_fds=pass_fds, start_new_session=True, preexec_fn=_Confinement(limits, [str(p) for p in hidden_paths], [str(p) for p in readonly_paths], scratch,
                                                                  list(cgroup_files)),
    )
    process.network_namespace = _own_network_namespace(process.pid)
    return process


def _own_network_namespace(pid: int):
    """The worker's network namespace if it has one of its own (a tag no descendant can shed), else None."""
    try:
        namespace = os.readlink(f"/proc/{pid}/ns/net")
        return None if namespace == os.readlink("/proc/self/ns/net") else namespace
    except OSError:
        return None


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the worker, its process group and any process that left the group, then reap the worker.

    A process can leave its process group (``setsid``) but not its network namespace (that needs a
    capability the worker no longer has), so every process in the worker's namespace is killed too.
    """
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    namespace = getattr(process, "network_namespace", None)
    spared = getattr(process, "spared_pids", set())      # a template shares the namespace of the workers it forks
    if namespace:
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) not in spared:
                try:
                    if os.readlink(f"/proc/{entry}/ns/net") == namespace:
                        os.kill(int(entry), signal.SIGKILL)
                except (OSError, ValueError):
                    pass
    try:
        process.kill()
    except ProcessLookupError:
        pass
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


class _Confinement:
    """The callable run in the child between fork and exec (only os calls and ctypes, no allocation-heavy work)."""

    def __init__(self, limits: Limits, hidden_paths: list[str], readonly_paths: list[str] = (), scratch: str | None = None,
                 cgroup_files: list[str] = ()):
        self.limits = limits
        self.scratch = scratch
        self.cgroup_files = [path.encode() for path in cgroup_files]
        self.hidden_paths = [p for p in hidden_paths if os.path.isdir(p)]
        self.readonly_paths = [p for p in readonly_paths if os.path.isdir(p)]
        self.is_root = os.geteuid() == 0
        self.uid, self.gid = os.getuid(), os.getgid()
        # RLIMIT_NPROC counts every task of the user, so the worker may add `processes` to those running now
        running = _tasks_of_user(self.uid)
        self.process_limit = None if running is None else running + limits.processes

    def __call__(self) -> None:
        for path in self.cgroup_files:        # first: every process this one starts is counted with it
            fd = os.open(path, os.O_WRONLY)
            try:
                os.write(fd, b"0")
            finally:
                os.close(fd)
        self._limit_resources()
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if self._new_namespaces(libc):
                self._hide(libc)
            if self.is_root:
                _drop_capabilities(libc)
            libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        except AttributeError:       # not Linux (no unshare, prctl): the resource limits and timeouts still apply
            pass

    def _limit_resources(self) -> None:
        limits = self.limits
        cpu = int(limits.submission_seconds) + 5
        wanted = [
            (resource.RLIMIT_AS, limits.memory_bytes),
            (resource.RLIMIT_CPU, cpu),
            (resource.RLIMIT_FSIZE, limits.file_bytes),
            (resource.RLIMIT_CORE, 0),
            (resource.RLIMIT_NOFILE, 256),
        ]
        if self.process_limit is not None:
            wanted.append((resource.RLIMIT_NPROC, self.process_limit))     # not for root: the cgroup is
        for kind, value in wanted:
            try:
                soft, hard = resource.getrlimit(kind)
                value = value if hard == resource.RLIM_INFINITY else min(value, hard)
                resource.setrlimit(kind, (value, value))
            except (ValueError, OSError):
                pass

    def _new_namespaces(self, libc) -> bool:
        if self.is_root:
            return libc.unshare(CLONE_NEWNET | CLONE_NEWNS) == 0
        if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWNS) != 0:
            return False
        try:   # keep our own uid and gid inside the new user namespace
            write_file("/proc/self/setgroups", "deny")
            write_file("/proc/self/uid_map", f"{self.uid} {self.uid} 1")
            write_file("/proc/self/gid_map", f"{self.gid} {self.gid} 1")
        except OSError:
            return False
        return True

    def _hide(self, libc) -> None:
        if libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
            return
        for path in self.hidden_paths:
            libc.mount(b"tmpfs", path.encode(), b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, b"size=4k,mode=0555")
        for path in self.readonly_paths:      # shared by every worker of a template: nobody may change it
            if libc.mount(path.encode(), path.encode(), None, MS_BIND | MS_REC, None) == 0:
                libc.mount(None, path.encode(), None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, None)
        if self.scratch and _mount_scratch(libc, self.scratch, self.limits.disk_bytes):
            os.chdir(self.scratch)            # the cwd was set before this mount: enter the tmpfs


def _mount_scratch(libc, path: str, size: int) -> bool:
    """A tmpfs of ``size`` bytes over the scratch folder: the cap on everything the worker writes."""
    options = f"size={int(size)},mode=0700".encode()
    return libc.mount(b"tmpfs", path.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, options) == 0


def scratch_is_tmpfs(pid: int, path: str) -> bool:
    """Whether the worker ``pid`` sees a tmpfs mounted at its scratch folder ``path``."""
    try:
        with open(f"/proc/{pid}/mountinfo") as handle:
            return any(line.split()[4] == path and line.split(" - ", 1)[1].split()[0] == "tmpfs" for line in handle)
    except (OSError, IndexError):
        return False


def describe_limits(limits: Limits, group, group_reason: str, scratch_tmpfs: bool) -> dict:
    """Which of ``limits`` hold for the worker's whole tree and how; says plainly what is per process only."""
    report = {"time": f"{limits.call_seconds:g} s per call, {limits.cell_seconds:g} s per cell, {limits.submission_seconds:g} s "
                      "per submission (wall clock; SIGKILL of the worker's process group)",
              "file_size": f"{limits.file_bytes // 2**20} MiB per file (RLIMIT_FSIZE)"}
    if group is not None:
        report.update(group.describe())
    else:
        root = os.geteuid() == 0
        report["processes"] = (f"NOT enforced: root is exempt from RLIMIT_NPROC and no cgroup could be made ({group_reason})"
                               if root else f"{limits.processes} more tasks of this user (RLIMIT_NPROC; no cgroup: {group_reason})")
        report["memory"] = (f"{limits.memory_bytes // 2**20} MiB of address space per process only (RLIMIT_AS): not for the "
                            f"worker's processes together (no cgroup: {group_reason})")
    report["disk"] = (f"{limits.disk_bytes // 2**20} MiB in all (a tmpfs over the scratch folder)" if scratch_tmpfs else
                      f"NOT enforced in total: {limits.file_bytes // 2**20} MiB per file only (no mount namespace for a tmpfs)")
    return report


def _tasks_of_user(uid: int):
    """How many tasks (threads included) the user ``uid`` runs now, read from /proc (None without /proc)."""
    count = 0
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    for entry in entries:
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/status") as handle:
                    status = handle.read()
                if int(status.split("Uid:")[1].split()[0]) == uid:
                    count += int(status.split("Threads:")[1].split()[0])
            except (OSError, IndexError, ValueError):
                pass
    return count


def write_file(path: str, text: str) -> None:
    """Write ``text`` into an existing file (a /proc or cgroup control file) with plain os calls."""
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _drop_capabilities(libc) -> None:
    """Root without capabilities: exec will not give them back (securebits NOROOT, locked)."""
    libc.prctl(PR_SET_SECUREBITS, SECURE_BITS, 0, 0, 0)
    for cap in range(64):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            break
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    libc.capset(ctypes.byref(header), data)


def describe_enforcement(pid: int, hidden_paths, landlock_report: dict, installed_library: str | None = None) -> dict:
    """What confinement the running worker ``pid`` actually has, read from /proc (and its own Landlock report)."""
    report = {}

    def same_namespace(kind: str):
        try:
            return os.readlink(f"/proc/{pid}/ns/{kind}") == os.readlink(f"/proc/self/ns/{kind}")
        except OSError:
            return None

    net = same_namespace("net")
    tcp_blocked = landlock_report.get("landlock", 0) >= 4
    if net is False:
        report["network"] = "isolated: own network namespace, no interface up"
    elif tcp_blocked:
        report["network"] = "TCP blocked by Landlock (no network namespace on this machine)"
    else:
        report["network"] = "NOT isolated (neither network namespaces nor Landlock TCP rules on this machine)"
    hidden = [str(p) for p in hidden_paths if os.path.isdir(p)]
    covered = []
    if same_namespace("mnt") is False:
        for path in hidden:
            try:
                if not os.listdir(f"/proc/{pid}/root{path}"):
                    covered.append(path)
            except OSError:
                pass
    ll = landlock_report.get("landlock", 0)
    if covered and len(covered) == len(hidden):
        report["secret_paths"] = "covered by empty tmpfs mounts" + (" and outside the Landlock read list" if ll else "")
    elif ll:
        report["secret_paths"] = "outside the Landlock read list"
    else:
        report["secret_paths"] = "READABLE by path (neither mount namespaces nor Landlock available)"
    if installed_library:
        removed = "the worker imports a copy of dfkit without this assignment's answers; the installed dfkit is "
        if installed_library in covered:
            report["reference_answers"] = removed + "covered by an empty tmpfs mount" + (" and outside the Landlock read list" if ll else "")
        elif ll:
            report["reference_answers"] = removed + "outside the Landlock read list"
        else:
            report["reference_answers"] = ("NOT out of reach: the worker imports a copy of dfkit without this assignment's "
                                           "answers, but the installed dfkit stays readable by path (neither mount "
                                           "namespaces nor Landlock available)")
    report["filesystem"] = (
        f"Landlock ABI {ll}: read-only Python, site-packages and the grader's copy of dfkit; writes only in a scratch directory"
        if ll else f"not restricted ({landlock_report.get('reason', 'Landlock unavailable')})"
    )
    try:
        status = open(f"/proc/{pid}/status").read()
        uid = int(status.split("Uid:")[1].split()[1])
        cap_eff = int(status.split("CapEff:")[1].split()[0], 16)
        report["privileges"] = f"uid {uid}, " + ("no capabilities" if cap_eff == 0 else f"capabilities {cap_eff:#x}")
    except (OSError, IndexError, ValueError):
        report["privileges"] = "unknown"
    return report
