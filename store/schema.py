"""The store's tables, written once, as plain data.

Both recorders and the migrations read the tables from here: the sqlite3 recorder takes
its column lists from them without importing SQLAlchemy (its hot path must not pay for
that import), the SQLAlchemy recorder and Alembic get ``Table`` objects built from them by
``sqlalchemy_metadata()``, and the first migration creates exactly ``VERSION_1``.
``tests/test_migrations.py`` checks that the migrations produce exactly these tables.

- ``log``: the append-only operation log. Rows are only ever inserted.
- ``data_keys``: data keys wrapped by the master key; the only table whose rows change
  (rewrapped on rotation, deleted when shredded).
- ``snapshots``: an insert-only cache of projected state, bound to a log row's hash.
- ``meta``: master key id, key check and the log data key id (rewritten on rotation).

A later migration that changes a table must leave ``VERSION_1`` as it is (the first
migration keeps building it for old and new stores alike): it gives the changed table a
new definition here, and ``TABLES`` names the current ones.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Literal

from azctx.events.records import Record

if TYPE_CHECKING:
    from sqlalchemy import MetaData, Table

#: ``seq`` is SQLite's rowid ("INTEGER PRIMARY KEY"), elsewhere a 64-bit integer.
ColumnType = Literal["seq", "bigint", "int", "text", "blob"]


class ColumnDef(Record):
    name: str
    type: ColumnType
    length: int | None = None
    nullable: bool = False
    primary_key: bool = False


class TableDef(Record):
    """One table: its columns in the order rows are read, its keys, indexes and checks."""

    name: str
    columns: tuple[ColumnDef, ...]
    #: (constraint name, columns) of a primary key over several columns
    composite_key: tuple[str, tuple[str, ...]] | None = None
    #: (index name, columns)
    indexes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: (constraint name, SQL condition)
    checks: tuple[tuple[str, str], ...] = ()

    def column_list(self, *, without: tuple[str, ...] = ()) -> str:
        """The column names, comma-separated in table order, for plain SQL."""
        return ", ".join(c.name for c in self.columns if c.name not in without)


LOG = TableDef(
    "log",
    (
        ColumnDef("seq", "seq", primary_key=True),
        # microseconds since the Unix epoch, UTC; non-decreasing with seq
        ColumnDef("time", "bigint"),
        ColumnDef("kind", "text", 64),
        ColumnDef("scope", "text", 300, nullable=True),
        ColumnDef("session", "text", 300, nullable=True),
        ColumnDef("key_id", "text", 64),
        ColumnDef("nonce", "blob"),
        ColumnDef("ciphertext", "blob"),
        ColumnDef("prev_hash", "blob"),
        ColumnDef("hash", "blob"),
    ),
    indexes=(("ix_log_time", ("time", "seq")),),
)

DATA_KEYS = TableDef(
    "data_keys",
    (
        ColumnDef("key_id", "text", 64, primary_key=True),
        ColumnDef("kind", "text", 16),
        ColumnDef("session", "text", 300, nullable=True),
        ColumnDef("wrapped", "blob"),
        ColumnDef("created", "bigint"),
    ),
    indexes=(("ix_data_keys_session", ("session",)),),
    checks=(("ck_data_keys_kind", "kind IN ('log', 'account', 'session')"),),
)

SNAPSHOTS = TableDef(
    "snapshots",
    (
        ColumnDef("seq", "bigint"),
        ColumnDef("version", "int"),
        ColumnDef("key_id", "text", 64),
        ColumnDef("nonce", "blob"),
        ColumnDef("ciphertext", "blob"),
        ColumnDef("created", "bigint"),
    ),
    composite_key=("pk_snapshots", ("version", "seq")),
)

META = TableDef(
    "meta",
    (
        ColumnDef("name", "text", 64, primary_key=True),
        ColumnDef("value", "blob"),
    ),
)

#: The tables the first migration creates, in creation order.
VERSION_1: tuple[TableDef, ...] = (LOG, DATA_KEYS, SNAPSHOTS, META)
#: The tables of a store at the head revision.
TABLES: tuple[TableDef, ...] = VERSION_1


def _sqlalchemy_type(column: ColumnDef) -> Any:
    import sqlalchemy as sa

    if column.type == "seq":
        return sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    if column.type == "text":
        return sa.String(column.length)
    return {"bigint": sa.BigInteger, "int": sa.Integer, "blob": sa.LargeBinary}[column.type]()


def sqlalchemy_items(table: TableDef) -> list[Any]:
    """The table's columns and constraints as SQLAlchemy objects, without its indexes
    (a migration creates those by name)."""
    import sqlalchemy as sa

    items: list[Any] = [
        sa.Column(
            c.name,
            _sqlalchemy_type(c),
            nullable=c.nullable and not c.primary_key,
            primary_key=c.primary_key,
            autoincrement=False if c.type == "seq" else "auto",
        )
        for c in table.columns
    ]
    if table.composite_key is not None:
        name, columns = table.composite_key
        items.append(sa.PrimaryKeyConstraint(*columns, name=name))
    items.extend(sa.CheckConstraint(condition, name=name) for name, condition in table.checks)
    return items


@functools.cache
def sqlalchemy_metadata() -> MetaData:
    """``TABLES`` as SQLAlchemy Core tables, with their indexes."""
    import sqlalchemy as sa

    metadata = sa.MetaData()
    for table in TABLES:
        indexes = [sa.Index(name, *columns) for name, columns in table.indexes]
        sa.Table(table.name, metadata, *sqlalchemy_items(table), *indexes)
    return metadata


def sqlalchemy_table(name: str) -> Table:
    return sqlalchemy_metadata().tables[name]
