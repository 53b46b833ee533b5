"""The store layer under attack: shredding while a reader holds the WAL, swapped data
keys, values of the wrong type in its tables, key folders others may change, locks held
by other programs and sessions, and reads of a store that does not exist."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from adversarial_support import (
    Outcome,
    assert_error,
    fingerprint,
    home,
    invoke,
    run,
    sql,
    store_path,
)
from azctx.store.keys import master as keys

pytestmark = pytest.mark.adversarial

ADD = ["add", "--account", "a@x", "--tenant", "t", "--subscription", "s", "--name", "a"]
SP = ["--account-type", "service-principal", "--secret-stdin"]
READS = (["list"], ["current"], ["show"], ["history"], ["verify"], ["key", "status"])


def _add(env: dict[str, str], account: str, name: str, secret: str | None = None) -> None:
    args = [*ADD[:2], account, *ADD[3:-1], name]
    outcome = invoke([*args, *SP] if secret else args, env, stdin=secret)
    assert outcome.code == 0, outcome.describe()


def _files(db: Path) -> bytes:
    """Every byte azctx keeps of the store: the database, its WAL and journal."""
    data = b""
    for suffix in ("", "-wal", "-journal"):
        with_suffix = Path(f"{db}{suffix}")
        if with_suffix.exists():
            data += with_suffix.read_bytes()
    return data


# -- 2. a shredding never waits for a reader --------------------------------------------


@pytest.fixture
def reader(tmp_path: Path) -> Iterator[tuple[dict[str, str], sqlite3.Connection]]:
    """A store with two accounts' secrets, and another connection inside a read
    transaction that holds the WAL's current snapshot."""
    env = {**home(tmp_path), "AZCTX_LOCK_TIMEOUT": "1"}
    _add(env, "doomed@x", "doomed", "doomed-secret")
    _add(env, "kept@x", "kept", "kept-secret")
    conn = sqlite3.connect(store_path(env), isolation_level=None)
    conn.execute("BEGIN")
    conn.execute("SELECT count(*) FROM log").fetchall()
    yield env, conn
    conn.close()


def _write_after(env: dict[str, str], seq: int, results: list[Outcome]) -> None:
    """Once operation ``seq`` is committed, another writer's ``select``."""
    while True:
        rows = sql(store_path(env), "SELECT max(seq) FROM log")
        if rows[0][0] is not None and rows[0][0] >= seq:
            break
        time.sleep(0.01)
    results.append(run(["select", "kept"], env))


def test_a_shredding_commits_past_a_reader_and_others_keep_writing(
    reader: tuple[dict[str, str], sqlite3.Connection],
) -> None:
    env, held = reader
    db = store_path(env)
    ((wrapped,),) = sql(db, "SELECT wrapped FROM data_keys WHERE session IS NULL AND kind = "
                        "'account' ORDER BY created LIMIT 1")  # fmt: skip
    head = sql(db, "SELECT max(seq) FROM log")[0][0]
    results: list[Outcome] = []
    other = threading.Thread(target=_write_after, args=(env, head + 1, results))
    other.start()
    shred = run(["disconnect", "doomed@x", "--yes"], env)
    other.join()
    assert shred.code == 0, shred.describe()
    # The other writer was not held up behind the reader-blocked scrub.
    assert results[0].code == 0, results[0].describe()
    # Until a scrub finds no reader, the destroyed key (still wrapped under the master
    # key) stays in the database files, and the scrub stays due.
    assert bytes(wrapped) in _files(db)
    assert Path(f"{db}-scrub").exists()
    held.execute("ROLLBACK")
    assert run(["select", "kept"], env).code == 0  # the next write scrubs
    assert bytes(wrapped) not in _files(db)
    assert not Path(f"{db}-scrub").exists()


# -- 4. verify checks every data key ----------------------------------------------------


def test_swapped_data_keys_fail_verify(tmp_path: Path) -> None:
    env = home(tmp_path)
    _add(env, "one@x", "one", "secret-one")
    _add(env, "two@x", "two", "secret-two")
    db = store_path(env)
    rows = sql(db, "SELECT key_id, wrapped FROM data_keys WHERE kind = 'account' ORDER BY key_id")
    (first, first_wrapped), (second, second_wrapped) = rows
    sql(db, "UPDATE data_keys SET wrapped = ? WHERE key_id = ?", (second_wrapped, first))
    sql(db, "UPDATE data_keys SET wrapped = ? WHERE key_id = ?", (first_wrapped, second))
    assert_error(invoke(["verify"], env), 3, f"data key {first}")
    assert invoke(["verify", "--chain-only"], env).code == 0  # the chain needs no key


def test_a_data_key_relabelled_to_another_kind_fails_verify(tmp_path: Path) -> None:
    env = home(tmp_path)
    _add(env, "one@x", "one", "secret-one")
    db = store_path(env)
    ((key_id,),) = sql(db, "SELECT key_id FROM data_keys WHERE kind = 'account'")
    sql(db, "UPDATE data_keys SET kind = 'session', session = 'x' WHERE key_id = ?", (key_id,))
    assert_error(invoke(["verify"], env), 3, f"data key {key_id}")


# -- 5. values of the wrong type: tampering, named, never a traceback ---------------------


@pytest.mark.parametrize(
    ("statement", "named"),
    [
        ("UPDATE meta SET value = 'abc' WHERE name = 'master_key_id'", "meta.master_key_id"),
        ("UPDATE meta SET value = 12 WHERE name = 'log_key_id'", "meta.log_key_id"),
        ("UPDATE meta SET value = X'FF00' WHERE name = 'master_key_id'", "meta.master_key_id"),
        ("UPDATE log SET nonce = 'text' WHERE seq = 1", "log row 1"),
        ("UPDATE log SET hash = 7 WHERE seq = 1", "log row 1"),
        ("UPDATE data_keys SET wrapped = 'text'", "data key"),
    ],
)
def test_a_value_of_the_wrong_type_is_named_tampering(
    tmp_path: Path, statement: str, named: str
) -> None:
    env = home(tmp_path)
    _add(env, "one@x", "one")
    sql(store_path(env), statement)
    before = fingerprint(store_path(env))
    for args in (["verify"], ["list"], [*ADD[:-1], "b"]):
        outcome = invoke(args, env)
        assert_error(outcome, 3, named)
    assert fingerprint(store_path(env)) == before


def test_a_key_file_variable_naming_a_folder_is_bad_input(tmp_path: Path) -> None:
    env = home(tmp_path)
    _add(env, "one@x", "one")
    folder = tmp_path / "keys"
    folder.mkdir()
    for args in (["list"], [*ADD[:-1], "b"], ["key", "status"]):
        outcome = invoke(args, {**env, "AZCTX_KEY_FILE": str(folder)})
        assert_error(outcome, 2, "AZCTX_KEY_FILE", str(folder))
        assert len(outcome.err.splitlines()) <= 2


# -- 13. a key others could swap is refused, as ssh refuses it ----------------------------


def test_a_key_folder_others_may_write_is_refused(tmp_path: Path) -> None:
    env = home(tmp_path)
    _add(env, "one@x", "one")
    folder = Path(env["AZCTX_CONFIG_DIR"])
    for mode in (0o777, 0o770, 0o722):
        folder.chmod(mode)
        assert_error(invoke(["list"], env), 3, str(folder), "other users")
    folder.chmod(0o700)
    assert invoke(["list"], env).code == 0


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to chown")
def test_a_key_file_of_another_user_is_refused(tmp_path: Path) -> None:
    env = home(tmp_path)
    _add(env, "one@x", "one")
    key_file = Path(env["AZCTX_CONFIG_DIR"]) / "master.key"
    os.chown(key_file, 65534, 65534)
    assert_error(invoke(["list"], env), 3, str(key_file), "another user")
    os.chown(key_file, 0, 0)
    assert invoke(["list"], env).code == 0


# -- 15. a lock message says what is known ------------------------------------------------


def test_a_lock_held_by_another_program_is_not_called_an_azctx_writer(tmp_path: Path) -> None:
    env = {**home(tmp_path), "AZCTX_LOCK_TIMEOUT": "0.5"}
    _add(env, "one@x", "one")
    other = sqlite3.connect(store_path(env), isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # the sqlite3 shell, say: not in azctx's queue
        outcome = invoke([*ADD[:-1], "b"], env)
    finally:
        other.close()
    assert_error(outcome, 3, "locked by another program")
    assert "another azctx command is writing" not in outcome.err


# -- 16. a read never creates a store ----------------------------------------------------


def test_reads_of_a_missing_store_show_it_empty_and_create_nothing(tmp_path: Path) -> None:
    env = home(tmp_path)
    store = tmp_path / "data" / "deeper" / "store.db"
    env["AZCTX_STORE"] = str(store)
    config = Path(env["AZCTX_CONFIG_DIR"])
    expected = {"list": 0, "current": 1, "show": 1, "history": 0, "verify": 0, "key": 0}
    for args in READS:
        outcome = run(args, env)
        assert outcome.code == expected[args[0]], outcome.describe()
        assert "Traceback" not in outcome.err
    assert "0 operations" in run(["verify"], env).out
    assert not store.parent.exists()
    assert list(config.iterdir()) == []
    assert run([*ADD[:-1], "b"], env).code == 0  # the first write creates it
    assert store.exists() and (config / "master.key").exists()
    assert run(["list", "--names"], env).out == "b\n"


def test_a_read_with_a_wrong_key_binds_no_new_store_to_it(tmp_path: Path) -> None:
    env = home(tmp_path)
    member = {**env, "AZCTX_KEY": keys.encode_key(keys.generate_key())}
    assert run(["list"], member).code == 0
    assert not store_path(env).exists()
    assert run([*ADD[:-1], "b"], env).code == 0  # the owner's first write, own key


def test_an_empty_file_is_not_a_store_until_written(tmp_path: Path) -> None:
    env = home(tmp_path)
    store_path(env).touch(mode=0o600)
    assert run(["list"], env).code == 0
    assert store_path(env).stat().st_size == 0
    assert not (Path(env["AZCTX_CONFIG_DIR"]) / "master.key").exists()
    assert run([*ADD[:-1], "b"], env).code == 0
