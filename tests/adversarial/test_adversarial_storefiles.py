"""The store's own files behind azctx's back: a lock file planted as a symbolic link (or a
FIFO, or another user's file) in a store folder others can write is refused, never
followed or created through; a data key row deleted without an operation that destroyed
it, a store file truncated to nothing and key records without a log are all tampering
or corruption (exit 3), never a quiet loss or a verified empty store."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from adversarial_support import assert_error, fingerprint, home, run, sql, store_path
from azctx.store import locks
from azctx.store.context_store import ContextStore

pytestmark = pytest.mark.adversarial

ADD = ["add", "--account", "a@x", "--tenant", "t", "--subscription", "s", "--name"]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environ = home(tmp_path)
    assert run([*ADD, "first"], environ).code == 0
    return environ


def _lock(env: dict[str, str]) -> Path:
    return locks.lock_path(store_path(env))


# -- the lock file ---------------------------------------------------------------------------


def test_a_lock_file_planted_as_a_symlink_is_never_followed(
    env: dict[str, str], tmp_path: Path
) -> None:
    chosen = tmp_path / "attackers-choice"
    _lock(env).unlink()
    _lock(env).symlink_to(chosen)
    before = fingerprint(store_path(env))
    assert_error(run([*ADD, "second"], env), 3, "lock file")
    assert not chosen.exists()  # not created as the victim
    assert fingerprint(store_path(env)) == before
    _lock(env).unlink()
    assert run([*ADD, "second"], env).code == 0  # and the new lock file is 0600
    assert stat.S_IMODE(_lock(env).stat().st_mode) == 0o600


def test_a_lock_file_that_is_a_fifo_is_refused_without_blocking(env: dict[str, str]) -> None:
    _lock(env).unlink()
    os.mkfifo(_lock(env), 0o600)
    assert_error(run([*ADD, "second"], env), 3, "lock file")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the file to another user")
def test_a_lock_file_of_another_user_is_refused(env: dict[str, str]) -> None:
    os.chown(_lock(env), 65534, 65534)
    assert_error(run([*ADD, "second"], env), 3, "lock file")


def test_the_one_lock_helper_refuses_links_and_creates_0600(tmp_path: Path) -> None:
    path = tmp_path / "a-lock"
    fd = locks.open_lock_file(path)
    try:
        assert locks.hold(fd, wait=False)
    finally:
        os.close(fd)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    (tmp_path / "link").symlink_to(path)
    with pytest.raises(OSError):
        locks.open_lock_file(tmp_path / "link")
    with pytest.raises(FileExistsError):
        locks.open_lock_file(path, new=True)


# -- quiet losses ----------------------------------------------------------------------------


def test_a_deleted_data_key_row_is_tampering_not_a_destroyed_secret(tmp_path: Path) -> None:
    env = home(tmp_path)
    with ContextStore(store_path(env), environ=env) as store:
        store.add(
            account="sp1", tenant="t", subscription="s", name="sp",
            account_type="service-principal", secret="s3cret-value",
        )  # fmt: skip
    sql(store_path(env), "DELETE FROM data_keys WHERE kind = 'account'")
    assert_error(run(["verify"], env), 3, "missing")
    assert_error(run(["run", "--context", "sp", "--", "true"], env), 3, "missing")


def test_a_destroyed_secret_is_still_an_ordinary_refusal(tmp_path: Path) -> None:
    env = home(tmp_path)
    with ContextStore(store_path(env), environ=env) as store:
        store.add(
            account="sp1", tenant="t", subscription="s", name="sp",
            account_type="service-principal", secret="s3cret-value",
        )  # fmt: skip
        store.disconnect("sp1")
    assert run(["verify"], env).code == 0


def test_a_store_truncated_to_nothing_is_not_an_empty_store(env: dict[str, str]) -> None:
    os.truncate(store_path(env), 0)
    for suffix in ("-wal", "-shm"):
        Path(f"{store_path(env)}{suffix}").unlink(missing_ok=True)
    for args in (["verify"], ["list"], ["current"], [*ADD, "second"]):
        assert_error(run(args, env), 3, "truncated")
    assert store_path(env).stat().st_size == 0  # nothing was written over it


def test_key_records_without_a_log_are_not_an_empty_store(env: dict[str, str]) -> None:
    sql(store_path(env), "DELETE FROM snapshots")
    sql(store_path(env), "DELETE FROM log")
    for args in (["verify"], ["list"], [*ADD, "second"]):
        assert_error(run(args, env), 3, "no operations")


def test_a_new_store_is_still_made_from_an_empty_file(tmp_path: Path) -> None:
    env = home(tmp_path)
    store_path(env).touch(mode=0o600)  # made empty by the user, never written by azctx
    assert run([*ADD, "first"], env).code == 0
    assert run(["verify"], env).code == 0
