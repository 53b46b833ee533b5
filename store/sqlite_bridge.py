"""Running Alembic on the sqlite3 recorder's own connection, inside its open
``BEGIN IMMEDIATE`` transaction. Imported only when a migration must run.

SQLAlchemy would commit, roll back or close the DBAPI connection it is given; the proxy
below makes those no-ops so the recorder alone decides the outcome of its transaction.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from .errors import CorruptStoreError
from .migrate import upgrade_to_head


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
