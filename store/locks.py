"""A queue in front of SQLite's write lock: writers of one store wait in the kernel.

SQLite lets a blocked ``BEGIN IMMEDIATE`` poll: its busy handler sleeps 1, 2, 5, 10,
... 100 ms between tries. An azctx write holds the lock for about a millisecond, so a
waiter that has slept a few rounds finds the lock long free when it wakes: with several
writers the lock sits idle most of the time and their total throughput falls far below
one writer's. An exclusive ``flock`` on a file beside the database hands the turn over
the moment the holder lets go. SQLite's own lock is still taken inside the turn, so a
writer that does not queue here (an older azctx, the sqlite3 shell) stays safe.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: SQLite's polling lock alone
    fcntl = None  # type: ignore[assignment]

from azctx.store.errors import StoreLockedError


def lock_path(database: Path) -> Path:
    """The queue's file: beside the database, as SQLite's ``-wal`` and ``-shm`` are."""
    return database.with_name(database.name + "-lock")


def _open(path: Path) -> int | None:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError:
        return None  # a read-only folder: SQLite's lock still guards the writes


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
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            self._held = True
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
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return fd
    except BlockingIOError:
        return _Waiter(fd).wait(timeout, database)
    except OSError:  # flock is not supported here (some network file systems)
        os.close(fd)
        return None


@contextlib.contextmanager
def turn_if_free(database: Path) -> Iterator[bool]:
    """This process's turn only if no other writer has or awaits it: True then (or when
    the queue cannot be used here), False at once otherwise, never waiting."""
    fd = None if fcntl is None else _open(lock_path(database))
    if fd is None:
        yield True
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        except OSError:
            pass  # flock is not supported here: SQLite's own lock still guards
        yield True
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
