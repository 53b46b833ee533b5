"""azctx on a real PostgreSQL server: every CLI command, the ContextStore scenarios,
concurrent writers in many processes, races, and failures of the server connection.

The server's URL comes from ``AZCTX_TEST_POSTGRES_URL`` (``.ci/run`` sets it); without it
every test here is skipped with that reason. Each test gets a fresh schema (the
``postgres_url`` fixture in conftest.py) reached through libpq's ``options`` parameter:
``…/test?options=-csearch_path%3D<schema>``. The same URL works for the library, the
CLI and raw SQLAlchemy, and the schema is dropped afterwards.

The stress test runs 4 processes x 25 operations by default; set
``AZCTX_TEST_PG_STRESS=8x200`` for the full size.
"""

from __future__ import annotations

import base64
import contextlib
import json
import multiprocessing
import os
import random
import re
import secrets
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from azctx.cli.commands import app
from azctx.events import Refused, decode
from azctx.events.errors import StoreError
from azctx.projections.snapshot import PROJECTION_VERSION
from azctx.projections.state import State, evolve, replay
from azctx.store import StoreLockedError, StoreUnavailableError, open_log
from azctx.store.backends.sqlalchemy_core import PG_LOCK_NAMESPACE, PG_LOCK_SQL
from azctx.store.context_store import ContextStore, OperationResult
from azctx.store.keys import cipher as crypto
from azctx.store.keys import master as keys
from azctx.store.migrations import HEAD_REVISION
from azctx.store.rows import row_metadata
from azctx.store.rows import secret_aad as _secret_aad
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner, Result

pytestmark = pytest.mark.postgres

SECRET = "pg-s3cret-value"
TABLES = {"alembic_version", "log", "data_keys", "snapshots", "meta"}


# -- helpers ------------------------------------------------------------------------------


def _schema_of(url: str) -> str:
    options = make_url(url).query["options"]
    assert isinstance(options, str)
    match = re.search(r"search_path=(\w+)", options)
    assert match is not None
    return match.group(1)


def _new_key() -> str:
    return base64.b64encode(keys.generate_key()).decode()


@pytest.fixture
def engine(postgres_url: str) -> Iterator[Engine]:
    """Raw SQL on the test's schema, behind azctx's back."""
    eng = create_engine(postgres_url)
    yield eng
    eng.dispose()


def _rows(engine: Engine, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    with engine.begin() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def _tables(engine: Engine, schema: str) -> set[str]:
    found = _rows(engine, "SELECT tablename FROM pg_tables WHERE schemaname = :s", s=schema)
    return {r[0] for r in found}


def _head(engine: Engine) -> int:
    return int(_rows(engine, "SELECT coalesce(max(seq), 0) FROM log")[0][0])


def _cli(env: Mapping[str, str | None], *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env=dict(env), input=stdin)


def _cli_env(tmp_path: Path, url: str | None = None) -> dict[str, str | None]:
    env: dict[str, str | None] = {
        "AZCTX_KEY_FILE": str(tmp_path / "keys" / "master.key"),
        "AZCTX_SESSION": None,
        "AZCTX_AUTOSAVE": None,
    }
    if url is not None:
        env["AZCTX_STORE"] = url
    return env


def _subprocess_env(tmp_path: Path, url: str, key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZCTX_")}
    env.update(
        AZCTX_STORE=url,
        AZCTX_KEY=key,
        AZCTX_DATA_DIR=str(tmp_path / "azctx-data"),
        AZCTX_CONFIG_DIR=str(tmp_path / "azctx-config"),
    )
    return env


def _azctx(*args: str) -> list[str]:
    return [sys.executable, "-m", "azctx.cli", *args]


# -- the server's view of azctx's write lock ----------------------------------------------


@contextlib.contextmanager
def _write_lock_held(url: str) -> Iterator[Connection]:
    """Hold the store's write lock (as an azctx writer would) until the block ends."""
    eng = create_engine(url)
    try:
        with eng.connect() as conn, conn.begin():
            conn.execute(text(PG_LOCK_SQL), {"namespace": PG_LOCK_NAMESPACE})
            yield conn
    finally:
        eng.dispose()


def _lock_waiters(engine: Engine, schema: str, count: int, timeout: float) -> list[int]:
    """Backend pids waiting for ``schema``'s write lock, once there are ``count`` of them
    (or whatever waits when ``timeout`` runs out)."""
    # The two-key advisory lock shows its second key as an oid: the int4 hash, unsigned.
    sql = (
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND classid::bigint = :ns"
        " AND objid::bigint = (hashtext(:schema)::bigint + 4294967296) % 4294967296"
    )
    deadline = time.monotonic() + timeout
    while True:
        pids = [int(r[0]) for r in _rows(engine, sql, ns=PG_LOCK_NAMESPACE, schema=schema)]
        if len(pids) >= count or time.monotonic() > deadline:
            return pids
        time.sleep(0.05)


def _racer(url: str, env: dict[str, str], method: str, kwargs: dict[str, Any]) -> str:
    """One racing process: the operation's summary, or the refusal's message."""
    with ContextStore(url, environ=env) as store:
        try:
            result: OperationResult = getattr(store, method)(**kwargs)
        except Refused as exc:
            return f"refused: {exc.message}"
    return f"ok: {result.summary}"


def _race(
    url: str, engine: Engine, env: dict[str, str], calls: list[tuple[str, dict[str, Any]]]
) -> list[str]:
    """Run every call in its own process while the write lock is held, and let go once
    all of them wait for it, so they really contend; their outcomes in the order given."""
    # fork: the racers need no fresh interpreter, and start in milliseconds.
    with multiprocessing.get_context("fork").Pool(len(calls)) as pool:
        with _write_lock_held(url):
            pending = pool.starmap_async(_racer, [(url, env, m, kw) for m, kw in calls])
            waiting = _lock_waiters(engine, _schema_of(url), len(calls), timeout=20)
        assert len(waiting) == len(calls), "the racers never met at the write lock"
        return pending.get(timeout=60)


# -- every command through the CLI --------------------------------------------------------


def test_every_command_works_through_the_cli(
    postgres_url: str, engine: Engine, tmp_path: Path
) -> None:
    schema = _schema_of(postgres_url)
    by_flag = {**_cli_env(tmp_path), "AZCTX_STORE": None}
    by_env = _cli_env(tmp_path, postgres_url)
    assert _tables(engine, schema) == set()

    add = ["add", "--account", "app-1", "--tenant", "t1", "--subscription", "s1", "--name", "one"]
    sp = ["--account-type", "service-principal", "--secret-stdin"]
    result = _cli(by_flag, "--store", postgres_url, *add, *sp, stdin=SECRET + "\n")
    assert (result.exit_code, result.stdout, result.stderr) == (
        0, "added context 'one'; the default is now 'one' (operation 1)\n", "",
    )  # fmt: skip
    # The first command created the schema through the Alembic migrations.
    assert _tables(engine, schema) == TABLES
    assert _rows(engine, "SELECT version_num FROM alembic_version") == [(HEAD_REVISION,)]

    ok = _cli(by_env, "add", "--account", "u@x.org", "--tenant", "t1", "--subscription", "s2",
              "--name", "two")  # fmt: skip
    assert (ok.exit_code, ok.stdout, ok.stderr) == (
        0,
        "added context 'two'; the default is now 'two' (operation 2)\n",
        "",
    )
    assert _cli(by_env, "list", "--names").stdout == "one\ntwo\n"
    listed = _cli(by_flag, "--store", postgres_url, "list")
    assert listed.exit_code == 0 and listed.stderr == ""
    assert [line.split()[:2] for line in listed.stdout.splitlines()[1:]] == [
        ["one", "s1"], ["*", "two"],
    ]  # fmt: skip

    shown = _cli(by_env, "show", "one", "--json")
    assert shown.exit_code == 0 and shown.stderr == ""
    document = json.loads(shown.stdout)
    assert (document["account"], document["credential"], document["default"]) == (
        "app-1", "stored", False,
    )  # fmt: skip
    assert SECRET not in shown.stdout

    steps: list[tuple[list[str], str]] = [
        (["select", "one"], "one"),
        (["select", "-"], "two"),
        (["rename", "two", "deux"], "deux"),
        (["remove", "deux", "--force"], "one"),
        (["undo"], "deux"),
    ]
    for args, default in steps:
        step = _cli(by_env, *args)
        assert (step.exit_code, step.stderr) == (0, ""), args
        assert _cli(by_env, "current").stdout == f"{default}\n", args

    history = _cli(by_flag, "--store", postgres_url, "history", "--json")
    assert history.exit_code == 0 and history.stderr == ""
    rows = json.loads(history.stdout)
    assert [r["operation"] for r in rows] == [
        "undo", "remove", "rename", "select", "select", "add", "add",
    ]  # fmt: skip
    assert rows[1]["undone_by"] == rows[0]["seq"] == 7

    for args, expected in (
        (["autosave", "disable"], 0),
        (["autosave", "enable"], 0),
    ):
        assert _cli(by_env, *args).exit_code == expected
    status = _cli(by_env, "autosave", "status")
    assert (status.exit_code, status.stdout) == (0, "autosave on (from user)\n")

    started = _cli(by_env, "session", "start", "--ttl", "1h")
    assert started.exit_code == 0
    match = re.match(r"export AZCTX_SESSION=(\S+)\n", started.stdout)
    assert match is not None
    in_session = {**by_env, "AZCTX_SESSION": match.group(1)}
    assert "live" in _cli(in_session, "session", "status").stdout
    ended = _cli(in_session, "session", "end")
    assert (ended.exit_code, ended.stdout.splitlines()[0]) == (0, "unset AZCTX_SESSION")

    check = (
        "import os,sys; sys.exit(0 if os.environ.get('AZURE_CLIENT_SECRET') == sys.argv[1] else 7)"
    )
    ran = _cli(by_env, "run", "--context", "one", "--", sys.executable, "-c", check, SECRET)
    assert ran.exit_code == 0, ran.stderr

    exported = tmp_path / "AzureRmContext.json"
    out = _cli(by_env, "export", str(exported), "--include-secrets")
    assert out.exit_code == 0 and out.stderr == ""
    assert stat.S_IMODE(exported.stat().st_mode) == 0o600
    imported = _cli(by_env, "import", str(exported))
    assert imported.exit_code == 0 and "imported 2 context(s)" in imported.stdout

    key_status = _cli(by_env, "key", "status")
    assert key_status.exit_code == 0
    assert f"store: {postgres_url}" in key_status.stdout
    rotated = _cli(by_env, "key", "rotate")
    assert rotated.exit_code == 0 and rotated.stderr == ""
    assert _cli(by_env, "key", "status").stdout != key_status.stdout
    assert _cli(by_env, "list", "--names").stdout == "deux\none\n"

    gone = _cli(by_env, "disconnect", "app-1", "--yes")
    assert gone.exit_code == 0 and gone.stderr == ""
    assert _cli(by_env, "list", "--names").stdout == "deux\n"

    cleared = _cli(by_env, "clear", "--yes")
    assert cleared.exit_code == 0
    assert _cli(by_env, "list", "--names").stdout == ""

    head = _head(engine)
    verified = _cli(by_env, "verify")
    assert (verified.exit_code, verified.stderr) == (0, "")
    assert verified.stdout.startswith(f"ok: {head} operations, chain and ciphertexts verified\n")
    chain = _cli(by_flag, "--store", postgres_url, "verify", "--chain-only")
    assert chain.exit_code == 0 and chain.stdout.startswith(f"ok: {head} operations")
    assert len(json.loads(_cli(by_env, "history", "--json").stdout)) == head


# -- the ContextStore scenarios -----------------------------------------------------------


def _names(store: ContextStore) -> list[str]:
    return [item.context.name for item in store.contexts()]


def _lib_env(tmp_path: Path, key: str, **extra: str) -> dict[str, str]:
    return {
        "AZCTX_KEY": key,
        "AZCTX_DATA_DIR": str(tmp_path / "azctx-data"),
        "AZCTX_CONFIG_DIR": str(tmp_path / "azctx-config"),
        **extra,
    }


def _recoverable_secrets(engine: Engine, key: str) -> tuple[set[str], bytes]:
    """What the master key recovers from the raw rows alone: every secret whose data key
    still exists, and all decrypted payloads (to search for clear text)."""
    master = base64.b64decode(key)
    master_id = keys.key_id(master)
    data_keys = {
        r[0]: crypto.unwrap(master, master_id, r[0], bytes(r[1]))
        for r in _rows(engine, "SELECT key_id, wrapped FROM data_keys")
    }
    found: set[str] = set()
    payloads = []
    columns = "seq, time, kind, scope, session, key_id, nonce, ciphertext, prev_hash"
    for row in _rows(engine, f"SELECT {columns} FROM log ORDER BY seq"):
        seq, time_us, kind, scope, session, key_id, nonce, ciphertext, prev_hash = row
        aad = bytes(prev_hash) + row_metadata(seq, time_us, kind, scope, session, key_id)
        payload = crypto.decrypt(data_keys[key_id], bytes(nonce), bytes(ciphertext), aad)
        payloads.append(payload)
        for sealed_key, sealed in _sealed_values(json.loads(payload)):
            if sealed_key in data_keys:
                blob = base64.b64decode(sealed)
                found.add(
                    crypto.open(data_keys[sealed_key], blob, _secret_aad(sealed_key)).decode()
                )
    return found, b"\n".join(payloads)


def _sealed_values(document: Any) -> Iterator[tuple[str, str]]:
    if isinstance(document, dict):
        if isinstance(document.get("sealed"), str) and isinstance(document.get("key_id"), str):
            yield document["key_id"], document["sealed"]
        for value in document.values():
            yield from _sealed_values(value)
    elif isinstance(document, list):
        for value in document:
            yield from _sealed_values(value)


def _raw_bytes(engine: Engine) -> bytes:
    dumps = []
    for table in ("log", "data_keys", "snapshots", "meta"):
        for row in _rows(engine, f"SELECT * FROM {table}"):
            dumps.extend(bytes(v) if isinstance(v, memoryview | bytes) else str(v).encode()
                         for v in row)  # fmt: skip
    return b"\n".join(dumps)


def test_context_store_operations(postgres_url: str, engine: Engine, tmp_path: Path) -> None:
    key = _new_key()
    env = _lib_env(tmp_path, key, AZCTX_STORE=postgres_url)
    # The URL from AZCTX_STORE, as the CLI would take it.
    with ContextStore(environ=env) as store:
        store.add(account="app-1", tenant="t", subscription="s1", name="one",
                  account_type="service-principal", secret=SECRET)  # fmt: skip
        store.add(account="u@x.org", tenant="t", subscription="s2", name="two")
        assert (_names(store), store.current()) == (["one", "two"], "two")
        with pytest.raises(Refused, match="already exists"):
            store.add(account="u@x.org", tenant="t", subscription="s3", name="TWO")
        store.select("one")
        store.rename("one", "uno")
        assert (_names(store), store.current()) == (["two", "uno"], "uno")
        removed = store.remove("two")
        undone = store.undo()
        assert _names(store) == ["two", "uno"]
        store.undo(undone.seq)  # undoing the undo redoes the removal
        assert _names(store) == ["uno"]
        assert [r.undone_by for r in store.history() if r.seq == removed.seq] == [None]

        session = store.start_session("1h")
        session_env = {**env, "AZCTX_SESSION": session.session_id}
        with ContextStore(postgres_url, environ=session_env) as mine:
            mine.add(account="app-2", tenant="t", subscription="s9", name="proc", scope="process",
                     account_type="service-principal", secret="session-secret")  # fmt: skip
            assert _names(mine) == ["proc", "uno"]
            assert _names(store) == ["uno"]
            assert mine.environment_for("proc").variables["AZURE_CLIENT_SECRET"] == "session-secret"
            mine.end_session()
        assert "session-secret" not in _recoverable_secrets(engine, key)[0]

        assert store.environment_for("uno").variables["AZURE_CLIENT_SECRET"] == SECRET
        assert SECRET in _recoverable_secrets(engine, key)[0]
        store.disconnect("app-1")
        store.undo()  # the contexts come back, the secret does not
        assert store.show("uno").credential == "none"
        assert "AZURE_CLIENT_SECRET" not in store.environment_for("uno").variables
        assert store.verify().count == _head(engine)

    recoverable, payloads = _recoverable_secrets(engine, key)
    assert recoverable == set()
    for text_secret in (SECRET, "session-secret"):
        assert text_secret.encode() not in payloads
        assert text_secret.encode() not in _raw_bytes(engine)


def test_replay_from_zero_equals_snapshot_plus_tail_equals_live(
    postgres_url: str, engine: Engine, tmp_path: Path
) -> None:
    env = _lib_env(tmp_path, _new_key())
    live = State.empty()
    with (
        ContextStore(postgres_url, environ=env) as store,
        open_log(postgres_url, environ=env) as log,
    ):

        def fold(result: OperationResult) -> None:
            # Live: a reader that folds each new operation into what it already has.
            nonlocal live
            live = evolve(live, result.seq, decode(log.entry(result.seq).payload))

        fold(store.add(account="a@x", tenant="t", subscription="s", name="a"))
        fold(store.add(account="b@x", tenant="t", subscription="s", name="b"))
        for i in range(70):
            fold(store.select("a" if i % 2 else "b"))
        fold(store.rename("b", "c"))
        fold(store.undo())
        from_zero = replay(State.empty(), ((e.seq, decode(e.payload)) for e in log.entries()))
        snapshot = log.latest_snapshot(PROJECTION_VERSION)
        assert snapshot is not None and 0 < snapshot.seq < _head(engine)
        assert store.state() == from_zero == live
        assert _names(store) == ["a", "b"]


# -- many processes -----------------------------------------------------------------------


def _stress_size() -> tuple[int, int]:
    raw = os.environ.get("AZCTX_TEST_PG_STRESS", "4x25")
    workers, each = raw.lower().split("x")
    return int(workers), int(each)


def _stress_worker(url: str, env: dict[str, str], worker: int, count: int) -> dict[str, Any]:
    """Random operations through ContextStore; returns what was acknowledged."""
    rng = random.Random(worker)
    acked: list[tuple[int, str]] = []
    refused = locked = 0
    mine: list[str] = []
    with ContextStore(url, environ=env) as store:
        for i in range(count):
            try:
                result = _stress_operation(store, rng, mine, f"w{worker}-{i}")
            except Refused:
                refused += 1
                continue
            except StoreLockedError:
                locked += 1  # not acknowledged; must then not land
                continue
            acked.append((result.seq, result.operation))
    return {"pid": os.getpid(), "acked": acked, "refused": refused, "locked": locked}


def _stress_operation(
    store: ContextStore, rng: random.Random, mine: list[str], fresh: str
) -> OperationResult:
    kind = rng.choice(("add", "add", "select", "rename", "remove", "undo"))
    if kind == "add" or not mine:
        # Some adds aim at names every worker wants: all but one of those are refused.
        name = f"shared-{rng.randrange(4)}" if rng.random() < 0.25 else fresh
        result = store.add(account=f"{fresh}@x", tenant="t", subscription="s", name=name)
        mine.append(name)
        return result
    if kind == "select":
        return store.select(rng.choice(mine))
    if kind == "rename":
        old = rng.choice(mine)
        result = store.rename(old, fresh)
        mine[mine.index(old)] = fresh
        return result
    if kind == "remove":
        name = rng.choice(mine)
        result = store.remove(name, force=True)
        mine.remove(name)
        return result
    return store.undo()


def test_many_processes_mixed_operations_land_once_in_one_chain(
    postgres_url: str, engine: Engine, tmp_path: Path
) -> None:
    workers, each = _stress_size()
    env = _lib_env(tmp_path, _new_key())
    # The schema is still empty: the workers also race to create the store.
    started = time.monotonic()
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        reports = pool.starmap(
            _stress_worker, [(postgres_url, env, w, each) for w in range(workers)]
        )
    elapsed = time.monotonic() - started

    acked = {seq: (kind, r["pid"]) for r in reports for seq, kind in r["acked"]}
    count = sum(len(r["acked"]) for r in reports)
    attempts = workers * each
    refused = sum(r["refused"] for r in reports)
    locked = sum(r["locked"] for r in reports)
    print(f"{workers}x{each}: {count} acknowledged, {refused} refused, {locked} lock timeouts,"
          f" {elapsed:.1f} s, {count / elapsed:.1f} ops/s")  # fmt: skip
    assert count + refused + locked == attempts
    assert len(acked) == count  # no seq acknowledged twice
    assert count >= attempts // 2
    assert sorted(acked) == list(range(1, count + 1))  # gap-free, nothing unacknowledged
    with open_log(postgres_url, environ=env) as log:
        for entry in log.entries():
            event = decode(entry.payload)
            assert (entry.kind, event.actor.pid) == acked[entry.seq]
        assert log.verify().count == count


# -- races ----------------------------------------------------------------------------------


def test_two_adds_of_one_name_exactly_one_wins(
    postgres_url: str, engine: Engine, tmp_path: Path
) -> None:
    env = _lib_env(tmp_path, _new_key())
    with ContextStore(postgres_url, environ=env) as store:
        store.state()  # the store exists before the race
    base = {"tenant": "t", "subscription": "s", "name": "prod"}
    calls = [("add", {**base, "account": "a@x"}), ("add", {**base, "account": "b@x"})]
    outcomes = _race(postgres_url, engine, env, calls)
    assert sorted(outcomes) == [
        "ok: added context 'prod'; the default is now 'prod' (operation 1)",
        "refused: a context named 'prod' already exists",
    ]
    won = "a@x" if outcomes[0].startswith("ok") else "b@x"
    with ContextStore(postgres_url, environ=env) as store:
        assert store.show("prod").context.account == won
        assert store.verify().count == 1


def test_rename_racing_remove_exactly_one_wins(
    postgres_url: str, engine: Engine, tmp_path: Path
) -> None:
    env = _lib_env(tmp_path, _new_key())
    with ContextStore(postgres_url, environ=env) as store:
        store.add(account="a@x", tenant="t", subscription="s", name="old")
        store.add(account="b@x", tenant="t", subscription="s", name="other")
    outcomes = _race(postgres_url, engine, env,
                     [("rename", {"old": "old", "new": "new"}),
                      ("remove", {"name": "old", "force": True})])  # fmt: skip
    assert sorted(o.split(":")[0] for o in outcomes) == ["ok", "refused"], outcomes
    loser = next(o for o in outcomes if o.startswith("refused"))
    assert loser.startswith("refused: no context named 'old'")
    expected = ["new", "other"] if outcomes[0].startswith("ok") else ["other"]
    with ContextStore(postgres_url, environ=env) as store:
        assert _names(store) == expected
        assert store.verify().count == 3


# -- the server going wrong -----------------------------------------------------------------


@pytest.fixture
def roles(engine: Engine) -> Iterator[dict[str, str]]:
    """Throw-away roles: one that may not log in, one that may but has no rights."""
    suffix = secrets.token_hex(4)
    made = {"nologin": f"azctx_nologin_{suffix}", "norights": f"azctx_norights_{suffix}"}
    with engine.begin() as conn:
        conn.execute(text(f"CREATE ROLE {made['nologin']} NOLOGIN"))
        conn.execute(text(f"CREATE ROLE {made['norights']} LOGIN"))
    try:
        yield made
    finally:
        with engine.begin() as conn:
            for role in made.values():
                conn.execute(text(f"DROP ROLE IF EXISTS {role}"))


def _store_error(result: Result) -> tuple[str, str]:
    """The error and hint lines of a command that failed with exit 3 and printed nothing."""
    assert (result.exit_code, result.stdout) == (3, ""), result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith("error: ") and lines[1].startswith("hint: ")
    return lines[0], lines[1]


def test_unreachable_server_and_refused_logins_are_exit_3(
    postgres_url: str, engine: Engine, tmp_path: Path, roles: dict[str, str]
) -> None:
    env = _cli_env(tmp_path)
    first = _cli(env, "--store", postgres_url, "add", "--account", "a@x", "--tenant", "t",
                 "--subscription", "s", "--name", "kept")  # fmt: skip
    assert first.exit_code == 0
    url = make_url(postgres_url)
    wrong_port = url.set(port=1).render_as_string(hide_password=False)
    error, hint = _store_error(_cli(env, "--store", wrong_port, "list"))
    assert error.startswith(f"error: cannot use the database {wrong_port}: connection failed")
    assert "Connection refused" in error and "server is running" in hint

    ghost = url.set(username=f"azctx_ghost_{secrets.token_hex(4)}", password="hunter2")
    error, hint = _store_error(_cli(env, "--store", ghost.render_as_string(False), "list"))
    assert "refused the login" in error and "does not exist" in error
    assert "hunter2" not in error + hint  # the URL is shown without its password
    assert "password" in hint

    no_login = url.set(username=roles["nologin"]).render_as_string(hide_password=False)
    error, _ = _store_error(_cli(env, "--store", no_login, "add", "--account", "b@x",
                                 "--tenant", "t", "--subscription", "s"))  # fmt: skip
    assert "refused the login" in error and "not permitted to log in" in error

    no_rights = url.set(username=roles["norights"]).render_as_string(hide_password=False)
    error, hint = _store_error(_cli(env, "--store", no_rights, "list"))
    assert "has no schema azctx can use" in error and "GRANT" in hint.upper()

    key = _cli_env(tmp_path)["AZCTX_KEY_FILE"]
    assert key is not None
    for target in (wrong_port, ghost.render_as_string(False), no_login, no_rights):
        lib_env = {"AZCTX_KEY_FILE": key, "AZCTX_DATA_DIR": str(tmp_path / "d")}
        with ContextStore(target, environ=lib_env) as store, pytest.raises(StoreUnavailableError):
            store.contexts()

    # Nothing half-done anywhere, and the next command succeeds.
    assert _head(engine) == 1
    after = _cli(env, "--store", postgres_url, "list", "--names")
    assert (after.exit_code, after.stdout, after.stderr) == (0, "kept\n", "")


def _terminate_after_log_insert(admin: Engine) -> Any:
    """An engine hook: once the writer has inserted its log row, kill its backend from
    another connection, before the transaction can commit."""
    fired: list[int] = []

    def hook(conn: Connection, _cursor: Any, statement: str, *_rest: Any) -> None:
        if fired or not statement.lstrip().upper().startswith("INSERT INTO LOG"):
            return
        raw = conn.connection.dbapi_connection
        assert raw is not None
        pid = raw.info.backend_pid
        fired.append(pid)
        with admin.begin() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})

    return hook, fired


def test_a_connection_dropped_mid_write_leaves_nothing(
    postgres_url: str, engine: Engine, tmp_path: Path
) -> None:
    env = _lib_env(tmp_path, _new_key())
    with ContextStore(postgres_url, environ=env) as store:
        store.add(account="a@x", tenant="t", subscription="s", name="before")
        keys_before = _rows(engine, "SELECT key_id FROM data_keys ORDER BY key_id")
        hook, fired = _terminate_after_log_insert(engine)
        event.listen(Engine, "after_cursor_execute", hook)
        try:
            with pytest.raises(StoreUnavailableError, match="lost the connection") as caught:
                store.add(account="sp", tenant="t", subscription="s", name="lost",
                          account_type="service-principal", secret=SECRET)  # fmt: skip
        finally:
            event.remove(Engine, "after_cursor_execute", hook)
        assert len(fired) == 1
        assert isinstance(caught.value, StoreError) and caught.value.hint
        # The log row and the new data key were rolled back together.
        assert _head(engine) == 1
        assert _rows(engine, "SELECT key_id FROM data_keys ORDER BY key_id") == keys_before
        # The same store object carries on with a fresh connection.
        store.add(account="a@x", tenant="t", subscription="s", name="after")
        assert _names(store) == ["after", "before"]
        assert store.verify().count == 2


def test_a_cli_writer_killed_while_it_waits_for_the_lock_exits_3(
    postgres_url: str, engine: Engine, tmp_path: Path
) -> None:
    key = _new_key()
    with ContextStore(postgres_url, environ=_lib_env(tmp_path, key)) as store:
        store.add(account="a@x", tenant="t", subscription="s", name="before")
    env = _subprocess_env(tmp_path, postgres_url, key)
    with _write_lock_held(postgres_url):
        proc = subprocess.Popen(
            _azctx("add", "--account", "b@x", "--tenant", "t", "--subscription", "s"),
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        (pid,) = _lock_waiters(engine, _schema_of(postgres_url), 1, timeout=30)
        _rows(engine, "SELECT pg_terminate_backend(:pid, 5000)", pid=pid)
        out, err = proc.communicate(timeout=60)
    assert (proc.returncode, out) == (3, ""), err
    assert err.startswith(f"error: lost the connection to the database {postgres_url}: ")
    assert "\nhint: " in err
    assert _head(engine) == 1
    again = _cli({**_cli_env(tmp_path, postgres_url), "AZCTX_KEY": key}, "list", "--names")
    assert (again.exit_code, again.stdout, again.stderr) == (0, "before\n", "")


def test_a_statement_timeout_is_exit_3_and_changes_nothing(
    postgres_url_with: Callable[[str], str], engine: Engine, tmp_path: Path
) -> None:
    env = _cli_env(tmp_path)
    impatient = postgres_url_with("-cstatement_timeout=300")
    add = ["add", "--account", "a@x", "--tenant", "t", "--subscription", "s"]
    assert _cli(env, "--store", impatient, *add, "--name", "first").exit_code == 0
    # Another client holds the log table; azctx's read of it inside its write
    # transaction runs into statement_timeout.
    with engine.connect() as other, other.begin():
        other.execute(text("LOCK TABLE log IN ACCESS EXCLUSIVE MODE"))
        error, hint = _store_error(_cli(env, "--store", impatient, *add, "--name", "second"))
        key = env["AZCTX_KEY_FILE"]
        assert key is not None
        lib_env = {"AZCTX_KEY_FILE": key, "AZCTX_DATA_DIR": str(tmp_path / "d")}
        with (
            ContextStore(impatient, environ=lib_env) as store,
            pytest.raises(StoreUnavailableError, match="statement timeout"),
        ):
            store.select("first")
    assert error.startswith(f"error: the database {impatient} cancelled a statement")
    assert "statement timeout" in error and "statement_timeout" in hint
    assert _head(engine) == 1
    after = _cli(env, "--store", impatient, *add, "--name", "second")
    assert (after.exit_code, after.stderr) == (0, "")
    assert _head(engine) == 2
