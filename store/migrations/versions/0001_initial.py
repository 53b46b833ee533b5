"""Initial schema: log, data_keys, snapshots, meta.

Revision ID: 0001
Revises:
Create Date: 2024-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

SeqType = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "log",
        sa.Column("seq", SeqType, primary_key=True, autoincrement=False),
        sa.Column("time", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("scope", sa.String(300), nullable=True),
        sa.Column("session", sa.String(300), nullable=True),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("nonce", sa.LargeBinary, nullable=False),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("prev_hash", sa.LargeBinary, nullable=False),
        sa.Column("hash", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_log_time", "log", ["time", "seq"])
    op.create_table(
        "data_keys",
        sa.Column("key_id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("session", sa.String(300), nullable=True),
        sa.Column("wrapped", sa.LargeBinary, nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.CheckConstraint("kind IN ('log', 'account', 'session')", name="ck_data_keys_kind"),
    )
    op.create_index("ix_data_keys_session", "data_keys", ["session"])
    op.create_table(
        "snapshots",
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("nonce", sa.LargeBinary, nullable=False),
        sa.Column("ciphertext", sa.LargeBinary, nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("version", "seq", name="pk_snapshots"),
    )
    op.create_table(
        "meta",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("meta")
    op.drop_table("snapshots")
    op.drop_index("ix_data_keys_session", table_name="data_keys")
    op.drop_table("data_keys")
    op.drop_index("ix_log_time", table_name="log")
    op.drop_table("log")
