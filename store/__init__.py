"""azctx.store: the imperative shell around the pure core.

``context_store.ContextStore`` is the library API: every write takes the write lock,
loads the state (``loader``: snapshot and tail), decides, appends (``writing``) and
commits. Under it: the encrypted, hash-chained log (``log``, its row format ``rows`` and
chain checks ``chain``) over one backend of ``backends/``, opened by ``opening``, its
tables defined once in ``schema`` and created by the Alembic migrations (``migrate``);
the keys (``keys/``); the Azure CLI folders (``azcli/``); the files azctx reads and
writes, with the one atomic write (``files``); the one lock (``locks``); process marks
(``processes``); directory pins (``pins``); default locations (``paths``); who is calling
(``caller``); reads of the past (``past``); times users type (``when``); what the API
returns (``results``); handing a context on (``handoff``).

Importing this package (and opening a current SQLite store) does not import SQLAlchemy
or Alembic; they load only for database URLs and for migrations."""

from __future__ import annotations

from azctx.store.context_store import ContextStore
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
    "ContextStore",
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
