"""azctx.store: the encrypted, hash-chained, append-only log and its keys.

``log`` gathers the log's names: ``operation_log.Log`` over a ``recorder.Recorder``
(``sqlite_recorder``, ``sqlalchemy_recorder``; ``empty_recorder`` for a store not created
yet), the row format (``rows``), the chain checks (``chain``), the key records and data
keys (``keyring``), opening (``opening``), the master key and its file (``keys``,
``key_recovery``), AES-GCM (``crypto``). ``context_store`` is the library API on top.

Importing this package (and opening a current SQLite store) does not import SQLAlchemy
or Alembic; they load only for database URLs and for migrations.
"""

from __future__ import annotations

from azctx.store.errors import (
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
from azctx.store.keys.master import MasterKeyInfo
from azctx.store.log import Log
from azctx.store.opening import open_log
from azctx.store.rows import Entry, Snapshot, VerifyReport

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
