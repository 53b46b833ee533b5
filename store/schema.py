"""The store's tables, defined once (SQLAlchemy Core).

Imported only by the SQLAlchemy recorder and by migrations: the sqlite3 recorder's hot
path must not pay for importing SQLAlchemy. ``tests/test_migrations.py`` checks that the
migrations produce exactly these tables.

- ``log``: the append-only operation log. Rows are only ever inserted.
- ``data_keys``: data keys wrapped by the master key; the only table whose rows change
  (rewrapped on rotation, deleted when shredded).
- ``snapshots``: an insert-only cache of projected state, bound to a log row's hash.
- ``meta``: master key id, key check and the log data key id (rewritten on rotation).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
)

# SQLite only treats "INTEGER PRIMARY KEY" as the rowid; elsewhere a 64-bit integer.
SeqType = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

log = Table(
    "log",
    metadata,
    Column("seq", SeqType, primary_key=True, autoincrement=False),
    # microseconds since the Unix epoch, UTC; non-decreasing with seq
    Column("time", BigInteger, nullable=False),
    Column("kind", String(64), nullable=False),
    Column("scope", String(300), nullable=True),
    Column("session", String(300), nullable=True),
    Column("key_id", String(64), nullable=False),
    Column("nonce", LargeBinary, nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("prev_hash", LargeBinary, nullable=False),
    Column("hash", LargeBinary, nullable=False),
    Index("ix_log_time", "time", "seq"),
)

data_keys = Table(
    "data_keys",
    metadata,
    Column("key_id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("session", String(300), nullable=True),
    Column("wrapped", LargeBinary, nullable=False),
    Column("created", BigInteger, nullable=False),
    CheckConstraint("kind IN ('log', 'account', 'session')", name="ck_data_keys_kind"),
    Index("ix_data_keys_session", "session"),
)

snapshots = Table(
    "snapshots",
    metadata,
    Column("seq", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("nonce", LargeBinary, nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("created", BigInteger, nullable=False),
    PrimaryKeyConstraint("version", "seq", name="pk_snapshots"),
)

meta = Table(
    "meta",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", LargeBinary, nullable=False),
)
