"""Alembic environment: always online, always on the caller's connection and transaction.

azctx has no alembic.ini; ``azctx.store.migrate`` builds the configuration in code and
passes the connection in ``config.attributes["connection"]``. Because that connection is
already inside the caller's write transaction, Alembic neither begins nor commits one.
"""

from __future__ import annotations

from alembic import context
from azctx.store.schema import sqlalchemy_metadata
from sqlalchemy.engine import Connection

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("azctx migrations run in code, on a connection the store provides")

context.configure(
    connection=connection,
    target_metadata=sqlalchemy_metadata(),
    # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
