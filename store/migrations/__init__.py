"""Alembic migrations of the azctx store schema, run in code by ``azctx.store.migrate``.

The revision ids are repeated here as plain constants so that opening a current store
can compare its stored revision without importing Alembic or SQLAlchemy;
``tests/test_migrations.py`` checks them against Alembic's own view of the scripts.
"""

from __future__ import annotations

#: Every revision this program knows, oldest first.
REVISIONS: tuple[str, ...] = ("0001",)
HEAD_REVISION = REVISIONS[-1]
