"""Checks and preparation of a SQLite database file, before SQLite itself touches it.

SQLite opens almost anything and may write to it (journal mode, recovery), so a file
that is not an intact SQLite database is refused here, by reading its header, and left
byte-for-byte as it was. Shared by both recorders (the SQLAlchemy one for
``sqlite:///`` URLs).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from azctx.events.errors import StoreError
from azctx.store import locks, paths
from azctx.store.errors import (
    CorruptStoreError,
    StoreAbsentError,
    StoreLockedError,
    StoreUnavailableError,
)

_MAGIC = b"SQLite format 3\x00"
_HEADER_BYTES = 100

# Primary SQLite result codes (the low byte of the extended code).
_BUSY_CODES = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED
_CORRUPT_CODES = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB


def prepare(path: Path, *, create: bool) -> bool:
    """Make sure ``path`` can hold a store; True when the file is new or empty.

    Creates missing parent folders (0700) and the file itself (0600) when ``create``;
    else a missing or empty file is ``StoreAbsentError`` and nothing is created.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if not create:
            raise StoreAbsentError(str(path)) from None
        _create(path)
        return True
    except OSError as exc:
        raise _unavailable(path, exc) from None
    if stat.S_ISDIR(st.st_mode):
        raise StoreUnavailableError(
            f"store path {path} is a directory", hint="give the path of a file, e.g. DIR/store.db"
        )
    _check_access(path)
    if st.st_size == 0:
        _check_not_emptied(path)
        if not create:
            raise StoreAbsentError(str(path))
        return True
    _check_header(path, st.st_size)
    return False


def _check_not_emptied(path: Path) -> None:
    """An empty file is a store not created yet, unless a write has been here: SQLite
    fills a new file (switching it to WAL) before any write queues on its lock file, and
    an empty main file beside a WAL that holds pages was cut off. Then it is a store
    emptied behind azctx's back, not an empty store."""
    if os.path.lexists(locks.lock_path(path)) or _has_wal(path):
        raise CorruptStoreError(
            f"{path} is empty, but a store was written there (it was truncated)",
            hint="restore the store file from a backup",
        )


def _create(path: Path) -> None:
    try:
        paths.ensure_private_dir(path.parent)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return  # another process created it a moment ago; it decides nothing
    except OSError as exc:
        raise _unavailable(path, exc) from None
    os.close(fd)


def _check_access(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError as exc:
        raise _unavailable(path, exc) from None
    os.close(fd)


def _check_header(path: Path, size: int) -> None:
    bad = f"{path} is not an intact azctx store"
    with open(path, "rb") as handle:
        header = handle.read(_HEADER_BYTES)
    if len(header) < _HEADER_BYTES or not header.startswith(_MAGIC):
        raise CorruptStoreError(f"{bad} (not a SQLite database)")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        raise CorruptStoreError(f"{bad} (bad page size)")
    if size % page_size:
        raise CorruptStoreError(f"{bad} (truncated)")
    pages = int.from_bytes(header[28:32], "big")
    size_is_valid = header[24:28] == header[92:96]
    # With a non-empty WAL the main file may legitimately lag (crash mid-checkpoint);
    # SQLite's recovery sorts that out, so only judge the size when there is no WAL.
    if size_is_valid and pages * page_size > size and not _has_wal(path):
        raise CorruptStoreError(f"{bad} (truncated)")


def _has_wal(path: Path) -> bool:
    try:
        return os.stat(f"{path}-wal").st_size > 0
    except OSError:
        return False


def _unavailable(path: Path, exc: OSError) -> StoreUnavailableError:
    return StoreUnavailableError(
        f"cannot use store path {path}: {exc.strerror or exc}",
        hint="check the path and its permissions",
    )


@contextlib.contextmanager
def private_umask() -> Iterator[None]:
    """New files (the WAL and SHM next to the database) get no group/other bits."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def translate(exc: sqlite3.Error, where: str, holder: str = "read") -> StoreError:
    """The store error for a sqlite3 exception; ``holder``: who a lock that timed out
    is known to be held by (see ``StoreLockedError.at``)."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc)
    if primary in _BUSY_CODES or "locked" in text:
        return StoreLockedError.at(where, holder)
    if primary in _CORRUPT_CODES or "malformed" in text or "not a database" in text:
        return CorruptStoreError(f"{where} is not an intact azctx store ({text})")
    if isinstance(exc, sqlite3.IntegrityError) or "no such" in text:
        return CorruptStoreError(f"{where}: unexpected database content ({text})")
    return StoreUnavailableError(f"cannot use the store {where}: {text}")


def scrub_marker(path: Path) -> Path:
    """Present while a scrub of shredded keys is due (beside the database)."""
    return path.with_name(path.name + "-scrub")


def scrub(path: Path, shredded: bool, checkpoint: Callable[[], bool]) -> None:
    """After a committed write: when keys were shredded now or a scrub is still due,
    one truncating checkpoint, if no other writer is queued and no reader holds the
    WAL (``checkpoint`` never waits and says whether it finished). Until one finishes,
    the marker file keeps the scrub due for the next write."""
    marker = scrub_marker(path)
    if shredded:
        with private_umask(), contextlib.suppress(OSError):
            os.close(os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600))
    elif not os.path.exists(marker):
        return
    with locks.turn_if_free(path) as free:
        # A queued writer will do it when its own write ends: the marker is there.
        if free and checkpoint():
            with contextlib.suppress(OSError):
                os.unlink(marker)


def checkpoint_now(cursor: Any, busy_ms: int) -> bool:
    """A truncating WAL checkpoint with SQLite's busy handler off, so a reader or
    writer in the way makes it give up at once (True when it finished)."""
    try:
        cursor.execute("PRAGMA busy_timeout = 0")
        row = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    except sqlite3.Error:
        return False
    finally:
        with contextlib.suppress(sqlite3.Error):
            cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
    return row is not None and not row[0]
