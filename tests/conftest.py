"""Shared test set-up: no test ever reads or writes the real user directories."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cli_runner import AzctxCli

_STORE_ENV = ("AZCTX_KEY", "AZCTX_KEY_FILE", "AZCTX_STORE")


@pytest.fixture(scope="session", autouse=True)
def _private_runtime_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Fixtures set up outside a test (module- or session-scoped) keep the Azure CLI
    folders of their sessions in the test run's temp folder too, never in /dev/shm."""
    runtime = tmp_path_factory.mktemp("azctx-runtime")
    runtime.chmod(0o700)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_RUNTIME_DIR", str(runtime))
        yield


@pytest.fixture(autouse=True)
def _private_azctx_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point azctx's default data and config folders at the test's own tmp_path, drop
    any key or store the developer's shell may have set, and work in tmp_path so a
    relative path (e.g. a fuzzed ``--store history``) never lands in the checkout."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AZCTX_DATA_DIR", str(tmp_path / "azctx-data"))
    monkeypatch.setenv("AZCTX_CONFIG_DIR", str(tmp_path / "azctx-config"))
    # the private Azure CLI folders of run and sessions, beside tmp_path (a
    # test may check that tmp_path holds nothing but the store)
    runtime = tmp_path.parent / f"{tmp_path.name}-runtime"
    runtime.mkdir(mode=0o700, exist_ok=True)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    for name in _STORE_ENV:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def az() -> str:
    """The real Azure CLI: from PATH, else installed once into the bench's cache venv
    (never skipped on CI)."""
    from azcli_world import find_or_install_az

    return find_or_install_az()


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
def postgres_url_with(postgres_url: str) -> Callable[[str], str]:
    """``postgres_url`` with more libpq ``-c`` settings in its options parameter, e.g.
    ``postgres_url_with("-clock_timeout=500")``."""
    from sqlalchemy.engine import make_url

    def with_options(extra: str) -> str:
        parsed = make_url(postgres_url)
        options = parsed.query["options"]
        assert isinstance(options, str)
        extended = parsed.update_query_dict({"options": f"{options} {extra}"})
        return extended.render_as_string(hide_password=False)

    return with_options


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    """A copy of the process environment for a ``ContextStore(environ=...)``: no azctx
    variable of the developer's shell, a key file and folders of this test's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZCTX_")}
    env.update(
        {
            "AZCTX_KEY_FILE": str(tmp_path / "keys" / "master.key"),
            "AZCTX_DATA_DIR": str(tmp_path / "data"),
            "AZCTX_CONFIG_DIR": str(tmp_path / "config"),
        }
    )
    return env


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


@pytest.fixture
def azctx_cli(azctx_env: dict[str, str]) -> AzctxCli:
    """An in-process ``azctx`` bound to the test's own store (see ``azctx_env``)."""
    return AzctxCli(azctx_env)
