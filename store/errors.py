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


class StoreLockedError(StoreError):
    """Another writer held the store's write lock past the timeout."""

    @classmethod
    def at(cls, where: object) -> StoreLockedError:
        """The one wording of it, whichever lock (queue, SQLite, PostgreSQL) timed out."""
        return cls(
            f"the store {where} is locked by another writer",
            hint="another azctx command is writing; try again",
        )


class CorruptStoreError(StoreError):
    """The file is not an intact azctx store (garbage, truncated, foreign database)."""


class KeyDestroyedError(Refused):
    """The data key of a sealed secret was destroyed (disconnect, clear, session end)."""
