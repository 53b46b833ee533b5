"""The default recorder, on the standard library's ``sqlite3`` (no SQLAlchemy import).

WAL journal, ``synchronous=FULL`` (a committed operation survives power loss),
``secure_delete=ON`` (deleted keys are overwritten, not just unlinked), ``BEGIN IMMEDIATE``
for every write so writers queue on the lock instead of failing at commit, a busy
timeout plus a bounded retry, then ``StoreLockedError``. Before all that, writers wait
for their turn in ``locks`` (a kernel lock that hands over without polling).
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from azctx.events.errors import StoreError
from azctx.store import locks, schema
from azctx.store.backends import sqlite_file
from azctx.store.backends.recorder import (
    DEFAULT_LOCK_TIMEOUT,
    DataKeyRow,
    LogRow,
    SnapshotRow,
    meta_value,
    wrong_type,
)
from azctx.store.errors import CorruptStoreError, StoreLockedError, StoreUnavailableError

LOCK_ATTEMPTS = 3

# Rows are read positionally, in the tables' column order.
_LOG_COLUMNS = schema.LOG.column_list()
_SNAPSHOT_COLUMNS = schema.SNAPSHOTS.column_list(without=("created",))
_KEY_COLUMNS = schema.DATA_KEYS.column_list()


def _log_row(r: Any) -> LogRow:
    try:
        return LogRow(
            r[0], r[1], r[2], r[3], r[4], r[5], bytes(r[6]), bytes(r[7]), bytes(r[8]), bytes(r[9])
        )
    except TypeError:  # a text where a blob belongs, written behind azctx's back
        raise wrong_type(f"log row {r[0]}") from None


def _key_row(r: Any) -> DataKeyRow:
    try:
        return DataKeyRow(r[0], r[1], r[2], bytes(r[3]), r[4])
    except TypeError:
        raise wrong_type(f"data key {r[0]}") from None


class SqliteRecorder:
    """A store in one SQLite file. Not shared between threads."""

    def __init__(self, path: Path, *, create: bool, lock_timeout: float = DEFAULT_LOCK_TIMEOUT):
        self.path = path
        self.lock_timeout = lock_timeout
        self._in_transaction = False
        blank = sqlite_file.prepare(path, create=create)
        self._conn = self._connect()
        try:
            self._configure(blank)
        except BaseException:
            self._conn.close()
            raise

    @property
    def description(self) -> str:
        return str(self.path)

    def _connect(self) -> sqlite3.Connection:
        try:
            with sqlite_file.private_umask():
                # isolation_level=None: we issue BEGIN ourselves (IMMEDIATE for writes).
                return sqlite3.connect(
                    self.path,
                    timeout=self.lock_timeout,
                    isolation_level=None,
                    check_same_thread=True,
                )
        except sqlite3.Error as exc:
            raise sqlite_file.translate(exc, str(self.path)) from None

    def _configure(self, blank: bool) -> None:
        with self._errors():
            self._conn.execute(f"PRAGMA busy_timeout = {int(self.lock_timeout * 1000)}")
            self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.execute("PRAGMA secure_delete = ON")
            self._conn.execute("PRAGMA foreign_keys = ON")
            if blank:
                # Only a new (empty) database is switched to WAL: on an existing file
                # this would write before we know the file is ours and intact.
                with sqlite_file.private_umask():
                    mode = self._conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise StoreUnavailableError(
                        f"{self.path}: cannot use WAL journal mode ({mode})"
                    )

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            holder = "program" if self._in_transaction else "read"
            raise sqlite_file.translate(exc, str(self.path), holder) from None

    def _all(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        with self._errors():
            return self._conn.execute(sql, params).fetchall()

    def _one(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        with self._errors():
            return self._conn.execute(sql, params).fetchone()

    def _exec(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        self._require_transaction()
        with self._errors():
            self._conn.execute(sql, params)

    def _require_transaction(self) -> None:
        if not self._in_transaction:
            raise RuntimeError("store writes must run inside a write transaction")

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._conn.close()

    # -- transactions ---------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        if self._in_transaction:
            raise RuntimeError("write transactions do not nest")
        with sqlite_file.private_umask(), locks.turn(self.path, self.lock_timeout) as queued:
            # In our turn, whoever still holds SQLite's lock is not queued with us.
            self._begin_immediate("program" if queued else "writer")
            self._in_transaction = True
            try:
                yield
            except BaseException:
                self._in_transaction = False
                with contextlib.suppress(sqlite3.Error):
                    self._conn.rollback()
                raise
            self._in_transaction = False
            self._commit()

    def _begin_immediate(self, holder: str) -> None:
        for attempt in range(LOCK_ATTEMPTS):
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.Error as exc:
                error = sqlite_file.translate(exc, str(self.path), holder)
                if not isinstance(error, StoreLockedError) or attempt == LOCK_ATTEMPTS - 1:
                    raise error from None
            # The busy handler already waited; a short random pause breaks lock-step
            # retries of several waiting processes.
            import random

            time.sleep(random.uniform(0.01, 0.05))
        raise AssertionError("unreachable")

    def _commit(self) -> None:
        try:
            self._conn.commit()
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                self._conn.rollback()
            raise sqlite_file.translate(exc, str(self.path), "program") from None

    def scrub(self, shredded: bool) -> None:
        # Old page images of deleted/rewrapped keys survive in the WAL until it is
        # checkpointed and truncated; see sqlite_file.scrub.
        sqlite_file.scrub(self.path, shredded, self._checkpoint)

    def _checkpoint(self) -> bool:
        cursor = self._conn.cursor()
        try:
            return sqlite_file.checkpoint_now(cursor, int(self.lock_timeout * 1000))
        finally:
            cursor.close()

    # -- schema ---------------------------------------------------------------------

    def schema_revision(self) -> str | None:
        tables = {r[0] for r in self._all("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "alembic_version" not in tables:
            if tables:
                raise _foreign(self.path)
            return None
        row = self._one("SELECT version_num FROM alembic_version")
        if row is None:
            raise _foreign(self.path)
        return str(row[0])

    def migrate(self) -> None:
        self._require_transaction()
        from azctx.store.migrate import run_migrations

        with self._errors():
            run_migrations(self._conn)

    # -- meta -----------------------------------------------------------------------

    def get_meta(self, name: str) -> bytes | None:
        row = self._one("SELECT value FROM meta WHERE name = ?", (name,))
        return None if row is None else meta_value(name, row[0])

    def set_meta(self, name: str, value: bytes) -> None:
        self._exec("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, value))

    # -- log ------------------------------------------------------------------------

    def head(self) -> LogRow | None:
        row = self._one(f"SELECT {_LOG_COLUMNS} FROM log ORDER BY seq DESC LIMIT 1")
        return None if row is None else _log_row(row)

    def log_row(self, seq: int) -> LogRow | None:
        row = self._one(f"SELECT {_LOG_COLUMNS} FROM log WHERE seq = ?", (seq,))
        return None if row is None else _log_row(row)

    def log_page(self, after: int, upto: int | None, limit: int) -> list[LogRow]:
        bound = upto if upto is not None else 2**63 - 1
        rows = self._all(
            f"SELECT {_LOG_COLUMNS} FROM log WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
            (after, bound, limit),
        )
        return [_log_row(r) for r in rows]

    def log_page_desc(self, before: int | None, limit: int) -> list[LogRow]:
        bound = before if before is not None else 2**63 - 1
        rows = self._all(
            f"SELECT {_LOG_COLUMNS} FROM log WHERE seq < ? ORDER BY seq DESC LIMIT ?",
            (bound, limit),
        )
        return [_log_row(r) for r in rows]

    def seq_at(self, time_us: int) -> int:
        row = self._one(
            "SELECT seq FROM log WHERE time <= ? ORDER BY time DESC, seq DESC LIMIT 1", (time_us,)
        )
        return 0 if row is None else int(row[0])

    def insert_log(self, row: LogRow) -> None:
        self._exec(
            f"INSERT INTO log ({_LOG_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                row.seq,
                row.time_us,
                row.kind,
                row.scope,
                row.session,
                row.key_id,
                row.nonce,
                row.ciphertext,
                row.prev_hash,
                row.hash,
            ),
        )

    # -- snapshots ------------------------------------------------------------------

    def snapshot_page(self, version: int, upto: int | None, limit: int) -> list[SnapshotRow]:
        bound = upto if upto is not None else 2**63 - 1
        rows = self._all(
            f"SELECT {_SNAPSHOT_COLUMNS} FROM snapshots WHERE version = ? AND seq <= ?"
            " ORDER BY seq DESC LIMIT ?",
            (version, bound, limit),
        )
        try:
            return [SnapshotRow(r[0], r[1], r[2], bytes(r[3]), bytes(r[4])) for r in rows]
        except TypeError:
            raise wrong_type("a snapshot") from None

    def has_snapshot(self, seq: int, version: int) -> bool:
        row = self._one("SELECT 1 FROM snapshots WHERE version = ? AND seq = ?", (version, seq))
        return row is not None

    def insert_snapshot(self, row: SnapshotRow, created_us: int) -> None:
        self._exec(
            f"INSERT INTO snapshots ({_SNAPSHOT_COLUMNS}, created) VALUES (?, ?, ?, ?, ?, ?)",
            (row.seq, row.version, row.key_id, row.nonce, row.ciphertext, created_us),
        )

    # -- data keys ------------------------------------------------------------------

    def data_key(self, key_id: str) -> DataKeyRow | None:
        row = self._one(f"SELECT {_KEY_COLUMNS} FROM data_keys WHERE key_id = ?", (key_id,))
        return None if row is None else _key_row(row)

    def data_keys(self) -> list[DataKeyRow]:
        return [_key_row(r) for r in self._all(f"SELECT {_KEY_COLUMNS} FROM data_keys")]

    def session_key_ids(self, session: str) -> list[str]:
        rows = self._all(
            "SELECT key_id FROM data_keys WHERE session = ? ORDER BY key_id", (session,)
        )
        return [str(r[0]) for r in rows]

    def insert_data_key(self, row: DataKeyRow) -> None:
        self._exec(
            f"INSERT INTO data_keys ({_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?)",
            (row.key_id, row.kind, row.session, row.wrapped, row.created_us),
        )

    def rewrap_data_key(self, key_id: str, wrapped: bytes) -> None:
        self._exec("UPDATE data_keys SET wrapped = ? WHERE key_id = ?", (wrapped, key_id))

    def delete_data_keys(self, key_ids: Iterable[str]) -> None:
        for key_id in key_ids:
            self._exec("DELETE FROM data_keys WHERE key_id = ?", (key_id,))


def _foreign(path: Path) -> StoreError:
    return CorruptStoreError(f"{path} is a SQLite database but not an azctx store")
