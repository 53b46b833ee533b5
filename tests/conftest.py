"""Shared test set-up: no test ever reads or writes the real user directories."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

_STORE_ENV = ("AZCTX_KEY", "AZCTX_KEY_FILE", "AZCTX_STORE")


@pytest.fixture(autouse=True)
def _private_azctx_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point azctx's default data and config folders at the test's own tmp_path and
    drop any key or store the developer's shell may have set."""
    monkeypatch.setenv("AZCTX_DATA_DIR", str(tmp_path / "azctx-data"))
    monkeypatch.setenv("AZCTX_CONFIG_DIR", str(tmp_path / "azctx-config"))
    for name in _STORE_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A SQLAlchemy URL whose search_path is a fresh, empty schema, dropped afterwards.

    Skipped (visibly) unless AZCTX_TEST_POSTGRES_URL names a server."""
    base = os.environ.get("AZCTX_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("AZCTX_TEST_POSTGRES_URL is not set: no PostgreSQL server to test against")
    from sqlalchemy import create_engine, text

    schema = f"azctx_test_{secrets.token_hex(6)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def azctx_env(tmp_path: Path) -> dict[str, str]:
    """Variables that give azctx a store and key file of this test's own, for
    CliRunner's ``env=`` or a copied environment of a subprocess (store and key in
    folders that do not exist yet: azctx creates them)."""
    return {
        "AZCTX_STORE": str(tmp_path / "store" / "store.db"),
        "AZCTX_KEY_FILE": str(tmp_path / "keys" / "master.key"),
        "AZCTX_DATA_DIR": str(tmp_path / "azctx-data"),
        "AZCTX_CONFIG_DIR": str(tmp_path / "azctx-config"),
    }
