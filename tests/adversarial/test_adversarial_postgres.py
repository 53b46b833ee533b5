"""A shared PostgreSQL store under attack: table locks held from psql, a URL's own
timeouts, and reads of an empty schema by a member with the wrong key.

Every wait for the server ends within the lock timeout (exit 3, saying what is known);
the subprocess timeouts below only stop a test that would otherwise wait for ever."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from adversarial_support import AZCTX, Outcome, assert_error
from azctx.store.keys import master as keys
from sqlalchemy import Engine, create_engine, text

pytestmark = pytest.mark.adversarial

ADD = ["add", "--account", "a@x", "--tenant", "t", "--subscription", "s", "--name"]


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    eng = create_engine(postgres_url)
    yield eng
    eng.dispose()


def _env(tmp_path: Path, url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZCTX_")}
    env.update(
        AZCTX_STORE=url,
        AZCTX_KEY_FILE=str(tmp_path / "keys" / "master.key"),
        AZCTX_DATA_DIR=str(tmp_path / "data"),
        AZCTX_CONFIG_DIR=str(tmp_path / "config"),
        **extra,
    )
    return env


def _run(args: list[str], env: dict[str, str]) -> Outcome:
    done = subprocess.run(
        [AZCTX, *args], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    return Outcome(done.returncode, done.stdout, done.stderr)


def _tables(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT table_name FROM information_schema.tables"
                 " WHERE table_schema = current_schema()")
        )  # fmt: skip
        return sorted(r[0] for r in rows)


@pytest.mark.parametrize("args", [["list"], ["history"], [*ADD, "second"]])
def test_a_table_lock_from_another_session_ends_within_the_timeout(
    postgres_url: str, engine: Engine, tmp_path: Path, args: list[str]
) -> None:
    env = _env(tmp_path, postgres_url, AZCTX_LOCK_TIMEOUT="1")
    assert _run([*ADD, "first"], env).code == 0
    with engine.connect() as psql, psql.begin():
        psql.execute(text("LOCK TABLE log IN ACCESS EXCLUSIVE MODE"))
        outcome = _run(args, env)
    assert_error(outcome, 3, "locked by another database session")
    assert "another azctx command" not in outcome.err


def test_a_urls_own_lock_timeout_is_honoured(
    postgres_url_with: Callable[[str], str], engine: Engine, tmp_path: Path
) -> None:
    # azctx's own limit is long; the URL's is short, and the shorter one wins.
    impatient = postgres_url_with("-clock_timeout=500")
    env = _env(tmp_path, impatient, AZCTX_LOCK_TIMEOUT="120")
    assert _run([*ADD, "first"], env).code == 0
    with engine.connect() as psql, psql.begin():
        psql.execute(text("LOCK TABLE log IN ACCESS EXCLUSIVE MODE"))
        outcome = _run([*ADD, "second"], env)
    assert_error(outcome, 3, "locked by another database session")


def test_an_azctx_writer_holding_the_lock_is_named_as_such(
    postgres_url: str, engine: Engine, tmp_path: Path
) -> None:
    env = _env(tmp_path, postgres_url, AZCTX_LOCK_TIMEOUT="1")
    assert _run([*ADD, "first"], env).code == 0
    with engine.connect() as writer, writer.begin():
        writer.execute(
            text("SELECT pg_advisory_xact_lock(:n, hashtext(coalesce(current_schema(), '')))"),
            {"n": 0x617A6374},
        )
        outcome = _run([*ADD, "second"], env)
    assert_error(outcome, 3, "locked by another writer", "another azctx command is writing")


def test_reads_of_an_empty_schema_create_nothing(
    postgres_url: str, engine: Engine, tmp_path: Path
) -> None:
    env = _env(tmp_path, postgres_url)
    for args in (["list"], ["history"], ["verify"], ["key", "status"], ["current"]):
        outcome = _run(args, env)
        assert outcome.code in (0, 1) and "error: internal" not in outcome.err, outcome.describe()
    assert _tables(engine) == []
    assert not (tmp_path / "keys").exists()


def test_a_members_wrong_key_does_not_bind_a_new_store(
    postgres_url: str, engine: Engine, tmp_path: Path
) -> None:
    member = _env(tmp_path / "member", postgres_url)
    member["AZCTX_KEY"] = keys.encode_key(keys.generate_key())
    assert _run(["list"], member).code == 0
    assert _tables(engine) == []
    admin = _env(tmp_path / "admin", postgres_url)
    assert _run([*ADD, "first"], admin).code == 0
    assert _run(["list", "--names"], admin).out == "first\n"
    assert_error(_run(["list"], member), 3, "does not open the store")
