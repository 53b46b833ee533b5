"""The raw row operations a log backend provides, and the rows it stores.

A recorder knows tables and transactions, nothing about hashes or encryption: the chain
and the cryptography live once, in ``azctx.store.log.Log``. Every method raises only
``azctx.store.errors`` types, never a driver exception.

Methods marked "write" are only called inside ``transaction()``; the others may be
called inside or outside it (inside, they see the transaction's own writes).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Protocol

from azctx.events.records import Record
from azctx.store.errors import TamperedError

#: Seconds a command waits for the store (a lock, or the server) before exit 3.
DEFAULT_LOCK_TIMEOUT = 5.0


def wrong_type(what: str) -> TamperedError:
    """A stored value of the wrong type (a text where bytes belong): tampering."""
    return TamperedError(f"{what} holds a value of the wrong type: the store was altered")


def meta_value(name: str, value: object) -> bytes:
    """A ``meta`` value as stored; anything but bytes was put there by hand."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise TamperedError(f"the record meta.{name} is not valid: the store was altered")


class LogRow(Record):
    """One stored log row, as read (a named tuple: a replay makes one per row, and a
    frozen dataclass costs twice as much to build)."""

    seq: int
    time_us: int
    kind: str
    scope: str | None
    session: str | None
    key_id: str
    nonce: bytes
    ciphertext: bytes
    prev_hash: bytes
    hash: bytes


class SnapshotRow(Record):
    seq: int
    version: int
    key_id: str
    nonce: bytes
    ciphertext: bytes


class DataKeyRow(Record):
    key_id: str
    kind: str
    session: str | None
    wrapped: bytes
    created_us: int


class Recorder(Protocol):
    """Storage of the four tables. See the module docstring for the rules."""

    @property
    def description(self) -> str:
        """A human name of the store (a path, or a URL without its password)."""
        ...

    def close(self) -> None: ...

    def transaction(self) -> AbstractContextManager[None]:
        """One serialized write transaction: no other writer runs until it ends;
        commit on success, rollback on an exception."""
        ...

    def scrub(self, shredded: bool) -> None:
        """Called after every committed write transaction; ``shredded``: it deleted or
        rewrapped keys. Pushes the old bytes out of journals (SQLite: a truncating WAL
        checkpoint) without waiting for anyone: when a reader holds them back, the
        scrub stays due and a later write does it."""
        ...

    def schema_revision(self) -> str | None:
        """The stored Alembic revision, None when the store holds no schema at all."""
        ...

    def migrate(self) -> None:
        """Upgrade the schema to the head revision (write)."""
        ...

    def get_meta(self, name: str) -> bytes | None: ...

    def set_meta(self, name: str, value: bytes) -> None:
        """Insert or replace (write)."""
        ...

    def head(self) -> LogRow | None: ...

    def log_row(self, seq: int) -> LogRow | None: ...

    def log_page(self, after: int, upto: int | None, limit: int) -> list[LogRow]:
        """Rows with after < seq <= upto, ascending, at most ``limit``."""
        ...

    def log_page_desc(self, before: int | None, limit: int) -> list[LogRow]:
        """Rows with seq < before, descending, at most ``limit``."""
        ...

    def seq_at(self, time_us: int) -> int:
        """The largest seq whose time <= time_us, 0 if none."""
        ...

    def insert_log(self, row: LogRow) -> None:
        """(write)"""
        ...

    def snapshot_page(self, version: int, upto: int | None, limit: int) -> list[SnapshotRow]:
        """Snapshots of ``version`` with seq <= upto, newest first, at most ``limit``."""
        ...

    def has_snapshot(self, seq: int, version: int) -> bool: ...

    def insert_snapshot(self, row: SnapshotRow, created_us: int) -> None:
        """(write)"""
        ...

    def data_key(self, key_id: str) -> DataKeyRow | None: ...

    def data_keys(self) -> list[DataKeyRow]: ...

    def session_key_ids(self, session: str) -> list[str]: ...

    def insert_data_key(self, row: DataKeyRow) -> None:
        """(write)"""
        ...

    def rewrap_data_key(self, key_id: str, wrapped: bytes) -> None:
        """(write)"""
        ...

    def delete_data_keys(self, key_ids: Iterable[str]) -> None:
        """(write)"""
        ...
