"""The master key under attack: a wrong key, a missing key file, a key file others may
read, malformed ``AZCTX_KEY`` values, ``key rotate`` while other processes write, and
the old key after a rotation (which must open nothing, not even through raw SQL)."""

from __future__ import annotations

import base64
import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

import pytest
from adversarial_support import (
    assert_error,
    fingerprint,
    home,
    invoke,
    run,
    sql,
    store_path,
)
from azctx.events.errors import StoreError
from azctx.store.context_store import ContextStore
from azctx.store.keys import cipher as crypto
from azctx.store.keys import master as keys

pytestmark = pytest.mark.adversarial

ADD = ["add", "--account", "a@x", "--tenant", "t", "--subscription", "s", "--name", "n"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A store with two operations and its key in the (default) key file."""
    environ = home(tmp_path)
    assert invoke(ADD, environ).code == 0
    assert invoke([*ADD[:-1], "m"], environ).code == 0
    return environ


def _key_file(env: dict[str, str]) -> Path:
    return Path(env["AZCTX_CONFIG_DIR"]) / "master.key"


def _every_command_refuses(env: dict[str, str], *needles: str) -> None:
    db = store_path(env)
    before = fingerprint(db)
    for args in (["list"], ["verify"], ["history"], [*ADD[:-1], "x"], ["key", "rotate"]):
        assert_error(invoke(args, env), 3, *needles)
    assert fingerprint(db) == before


def test_a_wrong_key_is_named_as_such(env: dict[str, str]) -> None:
    wrong = base64.b64encode(keys.generate_key()).decode()
    _every_command_refuses({**env, "AZCTX_KEY": wrong}, "does not open the store")


def test_a_wrong_key_file(env: dict[str, str], tmp_path: Path) -> None:
    other = tmp_path / "other.key"
    keys.write_key_file(other, keys.generate_key())
    _every_command_refuses({**env, "AZCTX_KEY_FILE": str(other)}, "does not open the store")


def test_a_missing_key_file(env: dict[str, str]) -> None:
    _key_file(env).unlink()
    _every_command_refuses(env, "no master key")
    assert not _key_file(env).exists(), "a key file is only made for a new store"


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o606])
def test_a_key_file_others_may_read_is_refused(env: dict[str, str], mode: int) -> None:
    os.chmod(_key_file(env), mode)
    _every_command_refuses(env, "accessible by other users", "chmod 600")


@pytest.mark.parametrize(
    "value",
    [
        "not base64!",
        base64.b64encode(b"short").decode(),
        base64.b64encode(bytes(33)).decode(),
        "=" * 44,
        "\u00e9" * 44,
        "A" * 10_000,
    ],
)
def test_a_malformed_env_key(env: dict[str, str], value: str) -> None:
    _every_command_refuses({**env, "AZCTX_KEY": value}, "AZCTX_KEY")


def _writer(target: str, environ: dict[str, str], name: str, progress: Any, stop: Any,
            out: Any) -> None:  # fmt: skip
    """A long-lived library user adding contexts until told to stop; reports what was
    acknowledged and what failed."""
    acknowledged: list[tuple[int, str]] = []
    failures: list[str] = []
    with ContextStore(target, environ=environ) as store:
        i = 0
        while not stop.is_set() and i < 500:
            context = f"{name}-{i}"
            i += 1
            try:
                result = store.add(account=f"{context}@x", tenant="t", subscription="s",
                                   name=context)  # fmt: skip
                acknowledged.append((result.seq, context))
            except Exception as exc:  # reported, and judged, by the test
                failures.append(f"{type(exc).__name__}: {exc}")
            with progress.get_lock():
                progress.value += 1
    out.put((name, acknowledged, failures))


def _wait_for(progress: Any, target: int) -> None:
    deadline = time.monotonic() + 120
    while progress.value < target:
        assert time.monotonic() < deadline, "the writers stalled"
        time.sleep(0.02)


def test_rotation_under_concurrent_writers(env: dict[str, str]) -> None:
    """Writers that opened the store with the old key pick up the rotated key file and
    go on; every acknowledged operation stays readable; the old key opens nothing."""
    db = store_path(env)
    old_key = keys.read_key_file(_key_file(env))
    assert old_key is not None
    old_wrapped = [bytes(r[0]) for r in sql(db, "SELECT wrapped FROM data_keys")]
    ctx = multiprocessing.get_context("spawn")
    out, progress, stop = ctx.Queue(), ctx.Value("i", 0), ctx.Event()
    writers = [
        ctx.Process(target=_writer, args=(str(db), env, f"w{n}", progress, stop, out))
        for n in range(3)
    ]
    for proc in writers:
        proc.start()
    rotations = []
    for step in (1, 2):
        _wait_for(progress, 9 * step)
        rotations.append(run(["key", "rotate"], env))
    _wait_for(progress, progress.value + 9)
    stop.set()
    reports = [out.get(timeout=120) for _ in writers]
    for proc in writers:
        proc.join(timeout=30)
    for rotated in rotations:
        assert rotated.code == 0, rotated.describe()
        assert "master key rotated" in rotated.out
    acknowledged = [item for _, acked, _ in reports for item in acked]
    failures = [failure for _, _, failed in reports for failure in failed]
    assert failures == [], failures
    assert len(acknowledged) >= 27
    with ContextStore(db, environ=env) as store:
        names = {c.context.name for c in store.contexts()}
        history = {row.seq: row for row in store.history()}
        store.verify()
    for seq, context in acknowledged:
        assert context in names
        assert history[seq].context == context
    # The old key: refused by azctx, and useless against the raw database.
    old_env = {**env, "AZCTX_KEY": base64.b64encode(old_key.key).decode()}
    assert_error(invoke(["list"], old_env), 3, "does not open the store")
    blob = db.read_bytes() + _sidecars(db)
    for wrapped in old_wrapped:
        assert wrapped not in blob
    for key_id, wrapped in sql(db, "SELECT key_id, wrapped FROM data_keys"):
        with pytest.raises(crypto.CryptoError):
            crypto.unwrap(old_key.key, old_key.key_id, key_id, bytes(wrapped))


def _sidecars(db: Path) -> bytes:
    data = b""
    for suffix in ("-wal", "-shm", "-journal"):
        side = Path(f"{db}{suffix}")
        if side.exists():
            data += side.read_bytes()
    return data


def test_a_writer_with_a_stale_env_key_fails_cleanly(env: dict[str, str], tmp_path: Path) -> None:
    """A process holding the old key in AZCTX_KEY cannot re-read it: exit 3, nothing
    written, and the hint says why."""
    old_key = keys.read_key_file(_key_file(env))
    assert old_key is not None
    stale = {**env, "AZCTX_KEY": base64.b64encode(old_key.key).decode()}
    db = store_path(env)
    with ContextStore(db, environ=stale) as store:
        store.state()
        assert invoke(["key", "rotate"], env).code == 0
        before = fingerprint(db)
        with pytest.raises(StoreError) as caught:
            store.add(account="late@x", tenant="t", subscription="s", name="late")
        assert caught.value.exit_code == 3
        assert "changed since it was opened" in caught.value.message
        assert fingerprint(db) == before


def test_a_long_lived_writer_picks_up_the_rotated_key_file(env: dict[str, str]) -> None:
    """Rotated by another process after this one opened the store: the next write
    reads the key file again and succeeds, under the new key."""
    db = store_path(env)
    with ContextStore(db, environ=env) as store:
        store.state()
        assert invoke(["key", "rotate"], env).code == 0
        new_key = keys.read_key_file(_key_file(env))
        assert new_key is not None
        new_id = new_key.key_id
        result = store.add(account="late@x", tenant="t", subscription="s", name="late")
        assert store.key_status().key_id == new_id
    with ContextStore(db, environ=env) as fresh:
        assert fresh.show("late").context.account == "late@x"
        assert fresh.history(limit=1)[0].seq == result.seq
