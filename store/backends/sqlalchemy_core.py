"""A recorder on SQLAlchemy Core, for any database URL (``sqlite:///…``,
``postgresql+psycopg://…``).

Writes are serialized like the sqlite3 recorder's: on SQLite every write transaction
starts with ``BEGIN IMMEDIATE``; on PostgreSQL it takes a transaction-scoped advisory
lock first (``pg_advisory_xact_lock``), bounded by ``lock_timeout``. The advisory lock is
named after the schema the tables live in (``current_schema()``), so stores in different
schemas of one database do not wait for each other. Reads outside a write transaction
each use a short transaction of their own.

Server databases: give azctx a database (or a schema, through ``search_path``) of its
own; the tables have plain names. On PostgreSQL a destroyed key's row stays in the
table's dead tuples until the database vacuums it (and in the server's WAL and backups).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from azctx.events.errors import StoreError
from azctx.events.urls import masked_text, masked_url, password_has_raw_at
from azctx.store import schema
from azctx.store.backends import sqlite_file
from azctx.store.backends.recorder import (
    DEFAULT_LOCK_TIMEOUT,
    DataKeyRow,
    LogRow,
    SnapshotRow,
    meta_value,
    wrong_type,
)
from azctx.store.errors import (
    CorruptStoreError,
    StoreAbsentError,
    StoreLockedError,
    StoreUnavailableError,
)
from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    delete,
    event,
    exists,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

_WRITE_OPTION = "azctx_write"
# An arbitrary constant naming azctx's write locks among PostgreSQL advisory locks (the
# first key of the two-key form; the second is the hash of the store's schema).
PG_LOCK_NAMESPACE = 0x617A6374  # "azct"
# The write lock of the store in the session's current schema; coalesce because a strict
# function given NULL (no schema on the search_path) would silently take no lock at all.
PG_LOCK_SQL = "SELECT pg_advisory_xact_lock(:namespace, hashtext(coalesce(current_schema(), '')))"
# Every wait for the server ends within the lock timeout: a lock (ours, or a table lock
# of another session) or any statement. A lower limit of the URL's own (``options=-c
# lock_timeout=…``) or the role's settings is kept; 0 there means none. Locks get a
# tenth less than statements, so a lock wait ends as a lock error (who holds it can be
# told), not as a statement timeout.
PG_TIMEOUTS_SQL = (
    "SELECT set_config(name, limit_ms || 'ms', false)"
    " FROM pg_settings JOIN (VALUES ('lock_timeout', :lock_ms), ('statement_timeout', :ms))"
    " AS wanted(wanted_name, limit_ms) ON name = wanted_name"
    " WHERE setting::bigint = 0 OR setting::bigint > limit_ms"
)
_MAX_SEQ = 2**63 - 1

# libpq's words for a login the server refused (no SQLSTATE reaches the client then).
_LOGIN_REFUSED = (
    "authentication failed",
    "no password supplied",
    "no pg_hba.conf entry",
    "not permitted to log in",
    'role "',
)

_log = schema.sqlalchemy_table(schema.LOG.name)
_keys = schema.sqlalchemy_table(schema.DATA_KEYS.name)
_snapshots = schema.sqlalchemy_table(schema.SNAPSHOTS.name)
_meta = schema.sqlalchemy_table(schema.META.name)


def _log_row(r: Any) -> LogRow:
    try:
        return LogRow(
            r.seq, r.time, r.kind, r.scope, r.session, r.key_id, bytes(r.nonce),
            bytes(r.ciphertext), bytes(r.prev_hash), bytes(r.hash),
        )  # fmt: skip
    except TypeError:  # a text where a blob belongs, written behind azctx's back
        raise wrong_type(f"log row {r.seq}") from None


def _key_row(r: Any) -> DataKeyRow:
    try:
        return DataKeyRow(r.key_id, r.kind, r.session, bytes(r.wrapped), r.created)
    except TypeError:
        raise wrong_type(f"data key {r.key_id}") from None


class SqlAlchemyRecorder:
    """A store in any database SQLAlchemy reaches. Not shared between threads."""

    def __init__(self, url: str, *, create: bool, lock_timeout: float = DEFAULT_LOCK_TIMEOUT):
        self.lock_timeout = lock_timeout
        self._write_conn: Connection | None = None
        self._description = masked_url(url)
        if password_has_raw_at(url):
            raise StoreUnavailableError(
                f"the password in the store URL {self._description} holds a raw '@'",
                hint="percent-encode it in the URL ('@' is %40)",
            )
        try:
            parsed = make_url(url)
            parsed.port  # noqa: B018 - a port that is not a number fails here, not later
        except (ArgumentError, ValueError):
            raise StoreUnavailableError(
                f"not a database URL: {self._description}",
                hint="a URL reads dialect+driver://user@host:port/database (port: a number)",
            ) from None
        self._dialect = parsed.get_backend_name()
        blank = True
        if self._dialect == "sqlite" and parsed.database not in (None, "", ":memory:"):
            try:
                blank = sqlite_file.prepare(Path(parsed.database).expanduser(), create=create)
            except StoreAbsentError:
                raise StoreAbsentError(self._description) from None
        self._engine = self._make_engine(url, blank)

    @property
    def description(self) -> str:
        return self._description

    def _make_engine(self, url: str, blank: bool) -> Engine:
        try:
            if self._dialect == "postgresql":
                engine = create_engine(
                    url, connect_args={"connect_timeout": max(1, int(self.lock_timeout))}
                )
                self._configure_postgresql(engine)
            else:
                engine = create_engine(url)
        except (ArgumentError, NoSuchModuleError, ImportError, ValueError, TypeError) as exc:
            raise StoreUnavailableError(
                f"cannot use the database {self._description}: {masked_text(str(exc))}",
                hint="check the URL and that its driver is installed",
            ) from None
        if self._dialect == "sqlite":
            self._configure_sqlite(engine, blank)
        return engine

    def _configure_postgresql(self, engine: Engine) -> None:
        timeout_ms = max(1, int(self.lock_timeout * 1000))

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # Once per connection, at session level: reads and writes alike.
            cursor = dbapi_connection.cursor()
            lock_ms = max(1, timeout_ms * 9 // 10)
            sql = PG_TIMEOUTS_SQL.replace(":lock_ms", str(lock_ms)).replace(":ms", str(timeout_ms))
            cursor.execute(sql)
            cursor.close()
            dbapi_connection.commit()

    def _configure_sqlite(self, engine: Engine, blank: bool) -> None:
        pragmas = [f"busy_timeout = {int(self.lock_timeout * 1000)}", "synchronous = FULL"]
        pragmas.append("secure_delete = ON")
        if blank:
            # As in the sqlite3 recorder: never switch an existing file's journal mode.
            pragmas.append("journal_mode = WAL")

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            # We emit BEGIN ourselves, so that writes can take the lock up front.
            dbapi_connection.isolation_level = None
            with sqlite_file.private_umask():
                cursor = dbapi_connection.cursor()
                for pragma in pragmas:
                    cursor.execute(f"PRAGMA {pragma}")
                cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            write = conn.get_execution_options().get(_WRITE_OPTION, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    # -- errors -----------------------------------------------------------------------

    def _translate(self, exc: SQLAlchemyError) -> StoreError:
        orig = getattr(exc, "orig", None)
        if self._dialect == "sqlite":
            import sqlite3

            if isinstance(orig, sqlite3.Error):
                return sqlite_file.translate(orig, self._description)
        state = getattr(orig, "sqlstate", None) or ""
        lines = str(orig if orig is not None else exc).strip().splitlines()
        detail = lines[0] if lines else type(exc).__name__
        if state in ("55P03", "40P01", "40001"):
            # lock_not_available, deadlock, serialization failure
            # A table lock azctx never takes (its own lock is told apart in ``_lock``):
            # another database session holds it.
            return StoreLockedError.at(self._description, "session")
        if state == "57014":
            return StoreUnavailableError(
                f"the database {self._description} cancelled a statement: {detail}",
                hint="the server is slow or a table is locked by another client; try again,"
                " or raise statement_timeout for azctx",
            )
        if state == "3F000":
            # search_path names no schema that exists and this role may use
            return StoreUnavailableError(
                f"the database {self._description} has no schema azctx can use: {detail}",
                hint="create the schema named in the URL's search_path and grant azctx's role"
                " USAGE and CREATE on it",
            )
        if state == "42501":
            return StoreUnavailableError(
                f"the database {self._description} refused access: {detail}",
                hint="grant azctx's role USAGE and CREATE on its schema and rights on its tables",
            )
        if state.startswith("42") or state.startswith("23"):
            return CorruptStoreError(
                f"the database {self._description} does not hold an intact azctx store ({orig})"
            )
        return self._unavailable(exc, state, detail)

    def _unavailable(self, exc: SQLAlchemyError, state: str, detail: str) -> StoreError:
        # Connection failures carry no SQLSTATE (libpq reports them before any server
        # message), so a refused login is recognised by libpq's wording.
        if state.startswith("28") or any(marker in detail for marker in _LOGIN_REFUSED):
            return StoreUnavailableError(
                f"the database {self._description} refused the login: {detail}",
                hint="check the user and password in the URL (or PGPASSWORD, ~/.pgpass)"
                " and that the server lets this user in",
            )
        if 'database "' in detail and "does not exist" in detail:
            return StoreUnavailableError(
                f"cannot use the database {self._description}: {detail}",
                hint="create the database (createdb NAME) or correct the URL",
            )
        lost = getattr(exc, "connection_invalidated", False) or state[:2] in ("08", "57")
        if lost:
            return StoreUnavailableError(
                f"lost the connection to the database {self._description}: {detail}",
                hint="an operation is saved whole or not at all: 'azctx history' shows"
                " whether it was; run the command again",
            )
        return StoreUnavailableError(
            f"cannot use the database {self._description}: {detail}",
            hint="check that the database server is running and reachable",
        )

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except SQLAlchemyError as exc:
            raise self._translate(exc) from None

    @contextlib.contextmanager
    def _reading(self) -> Iterator[Connection]:
        """The write transaction's connection, or a short read transaction."""
        if self._write_conn is not None:
            with self._errors():
                yield self._write_conn
            return
        with self._errors(), self._engine.connect() as conn, conn.begin():
            yield conn

    def _writing(self) -> Connection:
        if self._write_conn is None:
            raise RuntimeError("store writes must run inside a write transaction")
        return self._write_conn

    def _all(self, statement: Any) -> list[Any]:
        with self._reading() as conn:
            return list(conn.execute(statement).all())

    def _first(self, statement: Any) -> Any:
        with self._reading() as conn:
            return conn.execute(statement).first()

    def _exec(self, statement: Any) -> None:
        conn = self._writing()
        with self._errors():
            conn.execute(statement)

    def close(self) -> None:
        with contextlib.suppress(SQLAlchemyError):
            self._engine.dispose()

    # -- transactions -----------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        if self._write_conn is not None:
            raise RuntimeError("write transactions do not nest")
        with self._errors():
            conn = self._engine.connect().execution_options(**{_WRITE_OPTION: True})
        try:
            with self._errors():
                trans = conn.begin()
                self._lock(conn)
            self._write_conn = conn
            try:
                with sqlite_file.private_umask():
                    yield
            except BaseException:
                with contextlib.suppress(SQLAlchemyError):
                    trans.rollback()
                raise
            with self._errors():
                trans.commit()
        finally:
            self._write_conn = None
            with contextlib.suppress(SQLAlchemyError):
                conn.close()

    def _lock(self, conn: Connection) -> None:
        if self._dialect != "postgresql":
            return
        try:
            conn.execute(text(PG_LOCK_SQL), {"namespace": PG_LOCK_NAMESPACE})
        except SQLAlchemyError as exc:
            error = self._translate(exc)
            if isinstance(error, StoreLockedError):
                # Our advisory lock: only another azctx command takes it.
                error = StoreLockedError.at(self._description, "writer")
            raise error from None

    def scrub(self, shredded: bool) -> None:
        database = self._engine.url.database
        if self._dialect != "sqlite" or not database or database == ":memory:":
            return  # see the module docstring for what a server keeps
        sqlite_file.scrub(Path(database).expanduser(), shredded, self._checkpoint)

    def _checkpoint(self) -> bool:
        # On the raw driver connection: outside any transaction, so the checkpoint can
        # truncate the WAL.
        with self._errors(), self._engine.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert raw is not None
            cursor = raw.cursor()
            try:
                return sqlite_file.checkpoint_now(cursor, int(self.lock_timeout * 1000))
            finally:
                cursor.close()

    # -- schema -----------------------------------------------------------------------

    def schema_revision(self) -> str | None:
        with self._reading() as conn:
            if not inspect(conn).has_table("alembic_version"):
                self._check_schema(conn)
                return None
            row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
        if row is None:
            raise CorruptStoreError(f"the database {self._description} has no schema revision")
        return str(row[0])

    def _check_schema(self, conn: Connection) -> None:
        """No store here: fine if one can be made, but a search_path that names no
        schema this role may use is a broken configuration, not an empty store."""
        if self._dialect != "postgresql":
            return
        if conn.execute(text("SELECT current_schema()")).scalar() is None:
            raise StoreUnavailableError(
                f"the database {self._description} has no schema azctx can use:"
                " the search_path names none this role may use",
                hint="create the schema named in the URL's search_path and grant azctx's role"
                " USAGE and CREATE on it",
            )

    def migrate(self) -> None:
        conn = self._writing()
        from azctx.store.migrate import upgrade_to_head

        with self._errors():
            upgrade_to_head(conn)

    # -- meta -------------------------------------------------------------------------

    def get_meta(self, name: str) -> bytes | None:
        row = self._first(select(_meta.c.value).where(_meta.c.name == name))
        return None if row is None else meta_value(name, row[0])

    def set_meta(self, name: str, value: bytes) -> None:
        conn = self._writing()
        with self._errors():
            changed = conn.execute(update(_meta).where(_meta.c.name == name).values(value=value))
            if changed.rowcount == 0:
                conn.execute(_meta.insert().values(name=name, value=value))

    # -- log --------------------------------------------------------------------------

    def head(self) -> LogRow | None:
        row = self._first(select(_log).order_by(_log.c.seq.desc()).limit(1))
        return None if row is None else _log_row(row)

    def log_row(self, seq: int) -> LogRow | None:
        row = self._first(select(_log).where(_log.c.seq == seq))
        return None if row is None else _log_row(row)

    def log_page(self, after: int, upto: int | None, limit: int) -> list[LogRow]:
        bound = _MAX_SEQ if upto is None else upto
        statement = (
            select(_log)
            .where(_log.c.seq > after, _log.c.seq <= bound)
            .order_by(_log.c.seq)
            .limit(limit)
        )
        return [_log_row(r) for r in self._all(statement)]

    def log_page_desc(self, before: int | None, limit: int) -> list[LogRow]:
        bound = _MAX_SEQ if before is None else before
        statement = select(_log).where(_log.c.seq < bound).order_by(_log.c.seq.desc()).limit(limit)
        return [_log_row(r) for r in self._all(statement)]

    def seq_at(self, time_us: int) -> int:
        statement = (
            select(_log.c.seq)
            .where(_log.c.time <= time_us)
            .order_by(_log.c.time.desc(), _log.c.seq.desc())
            .limit(1)
        )
        row = self._first(statement)
        return 0 if row is None else int(row[0])

    def insert_log(self, row: LogRow) -> None:
        self._exec(
            _log.insert().values(
                seq=row.seq, time=row.time_us, kind=row.kind, scope=row.scope,
                session=row.session, key_id=row.key_id, nonce=row.nonce,
                ciphertext=row.ciphertext, prev_hash=row.prev_hash, hash=row.hash,
            )
        )  # fmt: skip

    # -- snapshots ----------------------------------------------------------------------

    def snapshot_page(self, version: int, upto: int | None, limit: int) -> list[SnapshotRow]:
        bound = _MAX_SEQ if upto is None else upto
        statement = (
            select(_snapshots)
            .where(_snapshots.c.version == version, _snapshots.c.seq <= bound)
            .order_by(_snapshots.c.seq.desc())
            .limit(limit)
        )
        try:
            return [
                SnapshotRow(r.seq, r.version, r.key_id, bytes(r.nonce), bytes(r.ciphertext))
                for r in self._all(statement)
            ]
        except TypeError:
            raise wrong_type("a snapshot") from None

    def has_snapshot(self, seq: int, version: int) -> bool:
        condition = (_snapshots.c.version == version) & (_snapshots.c.seq == seq)
        row = self._first(select(exists().where(condition)))
        return bool(row[0])

    def insert_snapshot(self, row: SnapshotRow, created_us: int) -> None:
        self._exec(
            _snapshots.insert().values(
                seq=row.seq, version=row.version, key_id=row.key_id, nonce=row.nonce,
                ciphertext=row.ciphertext, created=created_us,
            )
        )  # fmt: skip

    # -- data keys ----------------------------------------------------------------------

    def data_key(self, key_id: str) -> DataKeyRow | None:
        row = self._first(select(_keys).where(_keys.c.key_id == key_id))
        return None if row is None else _key_row(row)

    def data_keys(self) -> list[DataKeyRow]:
        return [_key_row(r) for r in self._all(select(_keys))]

    def session_key_ids(self, session: str) -> list[str]:
        statement = (
            select(_keys.c.key_id).where(_keys.c.session == session).order_by(_keys.c.key_id)
        )
        return [str(r[0]) for r in self._all(statement)]

    def insert_data_key(self, row: DataKeyRow) -> None:
        self._exec(
            _keys.insert().values(
                key_id=row.key_id, kind=row.kind, session=row.session, wrapped=row.wrapped,
                created=row.created_us,
            )
        )  # fmt: skip

    def rewrap_data_key(self, key_id: str, wrapped: bytes) -> None:
        self._exec(update(_keys).where(_keys.c.key_id == key_id).values(wrapped=wrapped))

    def delete_data_keys(self, key_ids: Iterable[str]) -> None:
        wanted = list(key_ids)
        if wanted:
            self._exec(delete(_keys).where(_keys.c.key_id.in_(wanted)))
