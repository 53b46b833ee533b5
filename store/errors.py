"""Typed store errors.

Everything here is exit 3 (``StoreError``: the store cannot be trusted or opened) except
``KeyDestroyedError``, which is an ordinary refusal: a secret that was shredded on purpose
is an expected state of a healthy store, not damage.

No driver exception (sqlite3, SQLAlchemy, psycopg, cryptography) leaves a public method
of this package; the recorders and ``Log`` translate them into these.
"""

from __future__ import annotations

from azctx.events.errors import Refused, StoreError


class WrongKeyError(StoreError):
    """The master key does not open this store."""


class MissingKeyError(StoreError):
    """The store exists but no master key is available (or an operation needs the key
    and the store was opened without one)."""


class MalformedKeyError(StoreError):
    """``AZCTX_KEY`` or the key file does not hold the base64 of exactly 32 bytes."""


class InsecureKeyFileError(MalformedKeyError):
    """The key file can be read or written by the group or others."""


class TamperedError(StoreError):
    """A log row, the key check or a sealed value fails its integrity check.

    ``seq`` names the first bad log row, or is None when the damage is not in a log row.
    """

    def __init__(self, message: str, seq: int | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.seq = seq


class SchemaTooNewError(StoreError):
    """The store was written by a newer azctx whose schema this program does not know."""


class StoreUnavailableError(StoreError):
    """The store path or URL cannot be used: a directory, unreadable, read-only,
    missing (when not creating) or an unreachable database."""


class StoreAbsentError(StoreUnavailableError):
    """There is no store at ``where`` yet (opened without creating it)."""

    def __init__(self, where: str) -> None:
        super().__init__(f"no azctx store at {where}")
        self.where = where


#: What is known about who held a lock that timed out: (message, hint) per case.
_LOCK_HOLDERS = {
    # our own write queue or advisory lock: another azctx command is writing
    "writer": ("is locked by another writer", "another azctx command is writing; try again"),
    # SQLite's write lock taken by someone not in azctx's write queue
    "program": (
        "is locked by another program",
        "a program outside azctx's write queue (the sqlite3 shell, another tool) holds its"
        " write lock; try again when it is done",
    ),
    # a table lock of someone else's database session (e.g. LOCK TABLE from psql)
    "session": (
        "is locked by another database session",
        "a session that is not an azctx command holds a lock on its tables (see pg_locks);"
        " try again when it ends",
    ),
    "read": (
        "could not be read: a lock held by another program or session did not go in time",
        "try again; AZCTX_LOCK_TIMEOUT sets how many seconds to wait",
    ),
}


class StoreLockedError(StoreError):
    """A wait for the store (a lock, or the server) lasted past the lock timeout."""

    @classmethod
    def at(cls, where: object, holder: str = "writer") -> StoreLockedError:
        """The wording of it, saying what is known: ``holder`` is ``writer`` (azctx's
        own write queue or lock: another azctx command), ``program`` (SQLite's lock,
        held outside the queue), ``session`` (a database session's table lock),
        or ``read`` (a read waited for a lock)."""
        message, hint = _LOCK_HOLDERS[holder]
        return cls(f"the store {where} {message}", hint=hint)


class CorruptStoreError(StoreError):
    """The file is not an intact azctx store (garbage, truncated, foreign database)."""


class KeyDestroyedError(Refused):
    """The data key of a sealed secret was destroyed (disconnect, clear, session end)."""
