"""Mounts the scratch tmpfs of each worker a template forks, inside the template's mount namespace.

``python -I -m autograder.mounter PID``, started by the grader beside a template (:mod:`autograder.template`):
it enters the user namespace (if the template has its own) and the mount namespace of process PID once,
then for each line ``SIZE PATH`` on stdin mounts a tmpfs of SIZE bytes at PATH and answers ``ok`` or
``failed`` on stdout. The template itself cannot mount (it has no capabilities), and doing it from the
grader would fork the whole grading process for every worker.
"""

from __future__ import annotations

import ctypes
import os
import sys

from autograder.sandbox import CLONE_NEWNS, CLONE_NEWUSER, _mount_scratch


def enter_namespaces(libc, pid: int) -> bool:
    for kind, flag in (("user", CLONE_NEWUSER), ("mnt", CLONE_NEWNS)):
        if os.readlink(f"/proc/{pid}/ns/{kind}") != os.readlink(f"/proc/self/ns/{kind}"):
            fd = os.open(f"/proc/{pid}/ns/{kind}", os.O_RDONLY)
            try:
                if libc.setns(fd, flag) != 0:
                    return False
            finally:
                os.close(fd)
    return True


def main(argv: list[str]) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    entered = len(argv) == 2 and argv[1].isdigit() and enter_namespaces(libc, int(argv[1]))
    for line in sys.stdin:
        size, _, path = line.rstrip("\n").partition(" ")
        done = entered and size.isdigit() and os.path.isabs(path) and _mount_scratch(libc, path, int(size))
        print("ok" if done else "failed", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
