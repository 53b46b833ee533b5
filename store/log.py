"""The encrypted, hash-chained, append-only operation log: the names callers use.

``Log`` lives in ``operation_log``, the row format in ``rows``, the chain checks in
``chain``, the key records and data keys in ``keyring``, opening in ``opening``; this
module gathers them so that ``from azctx.store.log import Log, Entry, open_log`` works.
"""

from __future__ import annotations

from .keyring import SECRET_KINDS
from .opening import LOCK_TIMEOUT_ENV, MAX_LOCK_TIMEOUT, open_log
from .operation_log import Log
from .rows import (
    ZERO_HASH,
    Entry,
    Snapshot,
    VerifyReport,
    from_us,
    row_hash,
    row_metadata,
    secret_aad,
    to_us,
)

#: The name tests of the stored format used before the split.
_secret_aad = secret_aad

__all__ = [
    "LOCK_TIMEOUT_ENV",
    "MAX_LOCK_TIMEOUT",
    "SECRET_KINDS",
    "ZERO_HASH",
    "Entry",
    "Log",
    "Snapshot",
    "VerifyReport",
    "from_us",
    "open_log",
    "row_hash",
    "row_metadata",
    "secret_aad",
    "to_us",
]
