"""azctx.store: the encrypted, hash-chained, append-only log and its keys.

Importing this package (and opening a current SQLite store) does not import SQLAlchemy
or Alembic; they load only for database URLs and for migrations.
"""

from __future__ import annotations

from .errors import (
    CorruptStoreError,
    InsecureKeyFileError,
    KeyDestroyedError,
    MalformedKeyError,
    MissingKeyError,
    SchemaTooNewError,
    StoreLockedError,
    StoreUnavailableError,
    TamperedError,
    WrongKeyError,
)
from .keys import MasterKeyInfo
from .log import Entry, Log, Snapshot, VerifyReport, open_log

__all__ = [
    "CorruptStoreError",
    "Entry",
    "InsecureKeyFileError",
    "KeyDestroyedError",
    "Log",
    "MalformedKeyError",
    "MasterKeyInfo",
    "MissingKeyError",
    "SchemaTooNewError",
    "Snapshot",
    "StoreLockedError",
    "StoreUnavailableError",
    "TamperedError",
    "VerifyReport",
    "WrongKeyError",
    "open_log",
]
