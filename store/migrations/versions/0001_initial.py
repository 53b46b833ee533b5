"""Initial schema: log, data_keys, snapshots, meta.

Revision ID: 0001
Revises:
Create Date: 2024-11-26
"""

from __future__ import annotations

from alembic import op
from azctx.store.schema import VERSION_1, sqlalchemy_items

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in VERSION_1:
        op.create_table(table.name, *sqlalchemy_items(table))
        for name, columns in table.indexes:
            op.create_index(name, table.name, list(columns))


def downgrade() -> None:
    for table in reversed(VERSION_1):
        for name, _columns in table.indexes:
            op.drop_index(name, table_name=table.name)
        op.drop_table(table.name)
