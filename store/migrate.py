"""Run the Alembic migrations in code, on a connection the caller already holds inside
its write transaction; imports Alembic only when called. The sqlite3 recorder runs them
on its own connection, inside its open ``BEGIN IMMEDIATE`` transaction: SQLAlchemy would
commit, roll back or close the DBAPI connection it is given, so a proxy makes those
no-ops and the recorder alone decides the outcome of its transaction."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from azctx.store.errors import CorruptStoreError

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection

SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    cfg.set_main_option("path_separator", "os")
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade_to_head(connection: Connection) -> None:
    from alembic import command

    command.upgrade(alembic_config(connection), "head")


def script_revisions() -> tuple[list[str], str | None]:
    """All revision ids of the shipped scripts (oldest first) and the head, as Alembic
    computes them."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config())
    revisions = [script.revision for script in scripts.walk_revisions()]
    return list(reversed(revisions)), scripts.get_current_head()


class _BorrowedConnection:
    def __init__(self, conn: sqlite3.Connection) -> None:
        object.__setattr__(self, "_conn", conn)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def __setattr__(self, name: str, value: Any) -> None:
        # SQLAlchemy may try to change isolation settings; the recorder owns them.
        pass

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass


def run_migrations(conn: sqlite3.Connection) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError
    from sqlalchemy.pool import StaticPool

    borrowed = _BorrowedConnection(conn)
    engine = create_engine("sqlite://", creator=lambda: borrowed, poolclass=StaticPool)
    try:
        with engine.connect() as connection, connection.begin():
            upgrade_to_head(connection)
    except DBAPIError as exc:
        # Hand the driver's own error back, for the recorder's one translation.
        if isinstance(exc.orig, sqlite3.Error):
            raise exc.orig from None
        raise CorruptStoreError(f"the store schema cannot be upgraded: {exc}") from None
    except SQLAlchemyError as exc:
        raise CorruptStoreError(f"the store schema cannot be upgraded: {exc}") from None
    finally:
        engine.dispose()
