"""The recorder of a store that does not exist yet: it holds nothing and creates nothing.

A ``Log`` reads through it until its first write makes the real store, so a read of a
missing store shows an empty view and leaves no file, folder or table behind.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager

from azctx.store.backends.recorder import DataKeyRow, LogRow, SnapshotRow


def _no_writes() -> RuntimeError:
    return RuntimeError("a store that does not exist yet is written through its real recorder")


class EmptyRecorder:
    """Every read finds nothing; every write is a programming error."""

    def __init__(self, description: str) -> None:
        self._description = description

    @property
    def description(self) -> str:
        return self._description

    def close(self) -> None:
        pass

    def transaction(self) -> AbstractContextManager[None]:
        raise _no_writes()

    def scrub(self, shredded: bool) -> None:
        pass

    def schema_revision(self) -> str | None:
        return None

    def migrate(self) -> None:
        raise _no_writes()

    def get_meta(self, name: str) -> bytes | None:
        return None

    def set_meta(self, name: str, value: bytes) -> None:
        raise _no_writes()

    def head(self) -> LogRow | None:
        return None

    def log_row(self, seq: int) -> LogRow | None:
        return None

    def log_page(self, after: int, upto: int | None, limit: int) -> list[LogRow]:
        return []

    def log_page_desc(self, before: int | None, limit: int) -> list[LogRow]:
        return []

    def seq_at(self, time_us: int) -> int:
        return 0

    def insert_log(self, row: LogRow) -> None:
        raise _no_writes()

    def snapshot_page(self, version: int, upto: int | None, limit: int) -> list[SnapshotRow]:
        return []

    def has_snapshot(self, seq: int, version: int) -> bool:
        return False

    def insert_snapshot(self, row: SnapshotRow, created_us: int) -> None:
        raise _no_writes()

    def data_key(self, key_id: str) -> DataKeyRow | None:
        return None

    def data_keys(self) -> list[DataKeyRow]:
        return []

    def session_key_ids(self, session: str) -> list[str]:
        return []

    def insert_data_key(self, row: DataKeyRow) -> None:
        raise _no_writes()

    def rewrap_data_key(self, key_id: str, wrapped: bytes) -> None:
        raise _no_writes()

    def delete_data_keys(self, key_ids: Iterable[str]) -> None:
        raise _no_writes()
