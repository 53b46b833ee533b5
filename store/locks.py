"""A queue in front of SQLite's write lock: writers of one store wait in the kernel.

SQLite lets a blocked ``BEGIN IMMEDIATE`` poll: its busy handler sleeps 1, 2, 5, 10,
... 100 ms between tries. An azctx write holds the lock for about a millisecond, so a
waiter that has slept a few rounds finds the lock long free when it wakes: with several
writers the lock sits idle most of the time and their total throughput falls far below
one writer's. An exclusive ``flock`` on a file beside the database hands the turn over
the moment the holder lets go. SQLite's own lock is still taken inside the turn, so a
writer that does not queue here (an older azctx, the sqlite3 shell) stays safe.

This module is also azctx's one lock mechanism (``open_lock_file`` and ``hold``): the
key rotation locks its new key file with it. A lock file is opened without following a
symbolic link and without blocking, created 0600, and refused unless it is a regular
file of this user: in a folder another user can write, a planted link would otherwise
make azctx create or open a file of the attacker's choosing.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: SQLite's polling lock alone
    fcntl = None  # type: ignore[assignment]

from azctx.store.errors import StoreLockedError, StoreUnavailableError

_FLAGS = os.O_RDWR | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
#: The errors of a folder azctx may not write (its store is then read without the queue).
_READ_ONLY = {errno.EROFS, errno.EACCES}


class UnsafeLockFile(OSError):
    """The lock file is not a regular file of this user."""


def open_lock_file(path: Path, *, create: bool = True, new: bool = False) -> int:
    """A descriptor of the lock file ``path``, opened read-write without following a
    symbolic link (``ELOOP``) or blocking on a FIFO; created 0600 (``new``: it must not
    exist yet). ``UnsafeLockFile`` unless it is a regular file owned by this user."""
    flags = _FLAGS | (os.O_CREAT if create or new else 0) | (os.O_EXCL if new else 0)
    fd = os.open(path, flags, 0o600)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
            raise UnsafeLockFile(errno.EPERM, "not a regular file of this user", str(path))
    except BaseException:
        os.close(fd)
        raise
    return fd


def hold(fd: int, *, shared: bool = False, wait: bool = True) -> bool:
    """``flock`` on ``fd``: True once held, False when another holds it and ``wait`` is
    False. OSError where flock is not supported (some network file systems)."""
    if fcntl is None:  # pragma: no cover - Windows
        raise OSError(errno.ENOSYS, "no flock here")
    try:
        mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
        fcntl.flock(fd, mode if wait else mode | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def lock_path(database: Path) -> Path:
    """The queue's file: beside the database, as SQLite's ``-wal`` and ``-shm`` are."""
    return database.with_name(database.name + "-lock")


def _open(path: Path) -> int | None:
    try:
        return open_lock_file(path)
    except OSError as exc:
        if exc.errno in _READ_ONLY and not isinstance(exc, UnsafeLockFile):
            return None  # a read-only folder: SQLite's lock still guards the writes
        raise StoreUnavailableError(
            f"refusing the lock file {path}: {exc.strerror or exc} (a symbolic link,"
            " not a regular file, or another user's)",
            hint=f"remove it, and check who else can write {path.parent}",
        ) from None


class _Waiter:
    """A blocking ``flock`` in a thread, so that the caller can stop waiting after a
    timeout (``flock`` itself has none). The thread owns the descriptor until the caller
    takes the turn; a wait given up leaves the thread to take the lock and let go of it
    at once."""

    def __init__(self, fd: int) -> None:
        import threading  # only when there is a wait: not on an uncontended write

        self._fd = fd
        self._done = threading.Event()
        self._guard = threading.Lock()
        self._abandoned = False
        self._held = False
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        with contextlib.suppress(OSError):  # not held: the caller goes on without it
            self._held = hold(self._fd)
        with self._guard:
            if self._abandoned or not self._held:
                os.close(self._fd)
            self._done.set()

    def wait(self, timeout: float, database: Path) -> int | None:
        """The descriptor once the lock is held; None when the queue cannot be used.
        ``StoreLockedError`` after ``timeout`` seconds."""
        try:
            self._done.wait(timeout)
        finally:
            # Also when the wait is interrupted (Ctrl-C): a library caller may go on,
            # and a lock nobody will release would stop every other writer.
            with self._guard:
                given_up = self._abandoned = not self._done.is_set()
        if given_up:
            raise StoreLockedError.at(database)
        return self._fd if self._held else None


def _take(fd: int, timeout: float, database: Path) -> int | None:
    """``fd`` with the lock held, or None (and ``fd`` closed) when flock is unusable."""
    try:
        if hold(fd, wait=False):
            return fd
    except OSError:  # flock is not supported here (some network file systems)
        os.close(fd)
        return None
    return _Waiter(fd).wait(timeout, database)


@contextlib.contextmanager
def turn_if_free(database: Path) -> Iterator[bool]:
    """This process's turn only if no other writer has or awaits it: True then (or when
    the queue cannot be used here), False at once otherwise, never waiting."""
    try:
        fd = None if fcntl is None else _open(lock_path(database))
    except StoreUnavailableError:
        yield False  # after a commit: an unsafe lock file is reported by the next write
        return
    if fd is None:
        yield True
        return
    try:
        try:
            free = hold(fd, wait=False)
        except OSError:
            free = True  # flock is not supported here: SQLite's own lock still guards
        yield free
    finally:
        os.close(fd)


@contextlib.contextmanager
def turn(database: Path, timeout: float) -> Iterator[bool]:
    """Wait (at most ``timeout`` seconds) for this process's turn to write; True when
    the queue holds the turn, False when it cannot be used here."""
    fd = None if fcntl is None else _open(lock_path(database))
    held = None if fd is None else _take(fd, timeout, database)
    try:
        yield held is not None
    finally:
        if held is not None:
            os.close(held)  # closing the only descriptor releases the lock
