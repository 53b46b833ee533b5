"""The shipped Alembic migrations: the fast-path constants, the schema they build, and
how stores at other revisions are treated."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from azctx.store import SchemaTooNewError, open_log
from azctx.store.migrate import alembic_config, script_revisions, upgrade_to_head
from azctx.store.migrations import HEAD_REVISION, REVISIONS
from azctx.store.schema import sqlalchemy_metadata
from sqlalchemy import create_engine, inspect


def test_constants_match_alembic() -> None:
    revisions, head = script_revisions()
    assert head == HEAD_REVISION
    assert tuple(revisions) == REVISIONS


def _schema_drift(url: str) -> list[object]:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            upgrade_to_head(conn)
        with engine.connect() as conn:
            return list(compare_metadata(MigrationContext.configure(conn), sqlalchemy_metadata()))
    finally:
        engine.dispose()


def test_migrations_build_exactly_the_declared_tables(tmp_path: Path) -> None:
    assert _schema_drift(f"sqlite:///{tmp_path / 'drift.db'}") == []


@pytest.mark.postgres
def test_migrations_build_exactly_the_declared_tables_postgres(postgres_url: str) -> None:
    assert _schema_drift(postgres_url) == []


def test_downgrade_and_upgrade_again(tmp_path: Path) -> None:
    from alembic import command

    engine = create_engine(f"sqlite:///{tmp_path / 'cycle.db'}")
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
        command.downgrade(alembic_config(conn), "base")
        assert set(inspect(conn).get_table_names()) == {"alembic_version"}
        command.upgrade(alembic_config(conn), "head")
        assert {"log", "data_keys", "snapshots", "meta"} <= set(inspect(conn).get_table_names())
    engine.dispose()


def _made(path: Path) -> None:
    """A new store: opening alone creates nothing, its first write makes it."""
    with open_log(path) as log, log.write():
        pass


def test_a_new_store_is_at_head(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    _made(path)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [(HEAD_REVISION,)]
    conn.close()


def test_an_unknown_revision_is_too_new(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    _made(path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = 'ffff_from_the_future'")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaTooNewError) as caught:
        open_log(path)
    assert caught.value.exit_code == 3
    assert caught.value.hint


def test_the_migrations_ship_inside_the_package() -> None:
    folder = Path(alembic_config().get_main_option("script_location") or "")
    assert (folder / "env.py").is_file()
    assert (folder / "script.py.mako").is_file()
    assert (folder / "versions" / f"{HEAD_REVISION}_initial.py").is_file()
