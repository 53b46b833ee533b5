"""Which process owns a folder or a session, told by more than its pid.

A pid alone is reused: a run folder or a session marked with pid 4242 would be taken for
alive by any later process that got 4242, and a process in another pid namespace (a
container sharing ``/dev/shm``) sees other pids altogether. A ``ProcessMark`` is the pid
together with the process's start time (in clock ticks since boot, from
``/proc/PID/stat``), the boot it started in (``/proc/sys/kernel/random/boot_id``) and the
pid namespace it lives in; a mark is alive only when all of them still match.

Where ``/proc`` is not there (macOS), the start time and namespace are empty and the mark
falls back to the pid, which is the best that platform offers.

``forbid_core_dumps`` keeps this process out of core files, for the command line.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys

from azctx.events.records import Record

#: prctl(2)'s option that makes a process (not) dumpable, from <linux/prctl.h>.
_PR_SET_DUMPABLE = 4
_MARK = re.compile(r"^(\d{1,10})\.(\d{0,20})\.([0-9a-f]{0,32})\.(\d{0,20})$")


class ProcessMark(Record):
    """A process, told apart from any later process that reuses its pid."""

    pid: int
    start: str  # clock ticks after boot, or "" where unknown
    boot: str  # the boot id without dashes, or ""
    namespace: str  # the pid namespace's inode, or ""

    def text(self) -> str:
        """The mark as one word of ``[0-9a-f.]`` (fit for a file name)."""
        return f"{self.pid}.{self.start}.{self.boot}.{self.namespace}"


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as file:
            return file.read()
    except OSError:
        return ""


def _boot() -> str:
    return _read("/proc/sys/kernel/random/boot_id").strip().replace("-", "")[:32]


def _namespace() -> str:
    try:
        return str(os.stat("/proc/self/ns/pid").st_ino)
    except OSError:
        return ""


def _start_time(pid: int) -> str | None:
    """Field 22 of ``/proc/PID/stat``; None when no such process is visible here, ""
    where this system has no ``/proc``."""
    if not os.path.isdir("/proc/self"):
        return ""
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return None
    # The command name (field 2) is in parentheses and may hold spaces or ')'.
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def mark_of(pid: int) -> ProcessMark | None:
    """The mark of the process ``pid`` as this process sees it, or None if none runs."""
    start = _start_time(pid)
    if start is None or not _pid_exists(pid):
        return None
    return ProcessMark(pid, start, _boot(), _namespace())


def shell_of(pid: int) -> int:
    """The shell whose command ``pid`` runs: ``pid`` itself, or, while ``pid`` is a
    forked copy of its parent (a subshell running a command substitution, which a shell
    with traps set does not replace by the command), that parent. A nested interactive
    shell leads its own process group, so it is never taken for its parent."""
    while True:
        parent = _parent(pid)
        if parent is None or parent <= 1 or _leads_group(pid):
            return pid
        if _identity(pid) is None or _identity(pid) != _identity(parent):
            return pid
        pid = parent


def _parent(pid: int) -> int | None:
    stat = _read(f"/proc/{pid}/stat")
    fields = stat[stat.rfind(")") + 2 :].split()
    return int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else None


def _leads_group(pid: int) -> bool:
    try:
        return os.getpgid(pid) == pid
    except OSError:
        return True


def _identity(pid: int) -> tuple[str, bytes] | None:
    """The program and command line of ``pid``."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as file:
            return os.readlink(f"/proc/{pid}/exe"), file.read()
    except OSError:
        return None


def current() -> ProcessMark:
    """This process's own mark."""
    mark = mark_of(os.getpid())
    assert mark is not None  # this process runs
    return mark


def parse(text: str) -> ProcessMark | None:
    """A mark written by ``ProcessMark.text``, or None for anything else."""
    found = _MARK.match(text)
    if found is None:
        return None
    pid, start, boot, namespace = found.groups()
    return ProcessMark(int(pid), start, boot, namespace)


def alive(mark: ProcessMark) -> bool:
    """Whether the process the mark names still runs. A mark from another boot is dead;
    one from another pid namespace cannot be checked from here and counts as alive, so a
    folder another namespace owns is never taken from it."""
    if mark.boot and mark.boot != _boot():
        return False
    if mark.namespace and mark.namespace != _namespace():
        return True
    now = mark_of(mark.pid)
    return now is not None and (not mark.start or now.start == mark.start)


def forbid_core_dumps() -> None:
    """No core dump of this process, which holds the master key and the secrets it
    unseals: the soft core size limit is 0 (a child may raise it again, as it would
    from a shell's ``ulimit -c 0``) and, on Linux, the process is not dumpable, which
    also stops a core helper behind a pipe and other users' tools attaching to it. A
    child is dumpable again after it execs."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not POSIX
        return
    with contextlib.suppress(ValueError, OSError):
        _, hard = resource.getrlimit(resource.RLIMIT_CORE)
        resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


def _pid_exists(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it runs, as another user
    return True
