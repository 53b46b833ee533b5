"""The queue in front of SQLite's write lock (store/write_queue.py): writers of one
store take turns through a kernel lock, a wait gives up after the lock timeout with
the store's locked error, and a wait given up never keeps the lock."""

from __future__ import annotations

import fcntl
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from azctx.store import StoreLockedError
from azctx.store import locks as write_queue
from azctx.store.context_store import ContextStore
from azctx.store.locks import lock_path, turn


def _store(azctx_env: dict[str, str]) -> ContextStore:
    store = ContextStore(None, environ=azctx_env)
    store.add(account="u@contoso.org", tenant="t-1", subscription="s-1", name="a")
    store.add(account="u@contoso.org", tenant="t-1", subscription="s-2", name="b")
    return store


def _hold(path: Path) -> int:
    """Another writer's turn, held until the descriptor is closed."""
    fd = os.open(lock_path(path), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _freed_soon(database: Path) -> None:
    """The queue's lock can be taken within 5 s: no waiter kept it."""
    deadline = time.monotonic() + 5
    while True:
        probe = os.open(lock_path(database), os.O_RDWR)
        try:
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            assert time.monotonic() < deadline, "a given-up wait kept the lock"
            time.sleep(0.01)
        finally:
            os.close(probe)


def test_the_queue_file_is_private_and_beside_the_database(
    azctx_env: dict[str, str],
) -> None:
    with _store(azctx_env):
        pass
    queue = Path(azctx_env["AZCTX_STORE"] + "-lock")
    assert queue.exists()
    assert stat.S_IMODE(queue.stat().st_mode) == 0o600


def test_a_writer_waits_for_its_turn_then_writes(
    azctx_env: dict[str, str],
) -> None:
    store = _store(azctx_env)
    fd = _hold(Path(azctx_env["AZCTX_STORE"]))
    threading.Timer(0.3, os.close, (fd,)).start()
    started = time.monotonic()
    result = store.select("a")
    assert time.monotonic() - started >= 0.25  # it did wait for the other turn
    assert result.summary.startswith("the saved default context (user scope) is now 'a'")
    store.close()


def test_a_wait_past_the_lock_timeout_is_the_locked_error_and_writes_nothing(
    azctx_env: dict[str, str],
) -> None:
    store = _store(azctx_env)
    head = store.state().seq
    store.close()
    fd = _hold(Path(azctx_env["AZCTX_STORE"]))
    try:
        with (
            ContextStore(
                Path(azctx_env["AZCTX_STORE"]), environ={**azctx_env, "AZCTX_LOCK_TIMEOUT": "0.2"}
            ) as waiting,
            pytest.raises(StoreLockedError, match="locked by another writer"),
        ):
            waiting.select("a")
    finally:
        os.close(fd)
    with ContextStore(Path(azctx_env["AZCTX_STORE"]), environ=azctx_env) as after:
        assert after.state().seq == head
        after.select("a")  # the abandoned wait let go of the lock it took
        assert after.state().seq == head + 1


def test_an_abandoned_wait_lets_go_as_soon_as_it_gets_the_lock(tmp_path: Path) -> None:
    database = tmp_path / "store.db"
    fd = _hold(database)
    with pytest.raises(StoreLockedError), turn(database, 0.1):
        pass
    os.close(fd)
    _freed_soon(database)  # the abandoned waiter takes the lock and releases it at once


def test_the_cli_reports_a_held_turn_as_locked_exit_3(
    azctx_env: dict[str, str],
) -> None:
    _store(azctx_env).close()
    fd = _hold(Path(azctx_env["AZCTX_STORE"]))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "azctx.cli", "select", "a"],
            env={
                **os.environ,
                **azctx_env,
                "AZCTX_LOCK_TIMEOUT": "0.2",
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        os.close(fd)
    assert done.returncode == 3
    assert done.stdout == ""
    assert done.stderr.startswith("error: the store ")
    assert "locked by another writer" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_interrupted_wait_does_not_keep_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "store.db"
    fd = _hold(database)

    class Interrupted:
        """The waiter's event, but Ctrl-C arrives while this process waits on it."""

        def __init__(self, real: threading.Event) -> None:
            self.real = real

        def wait(self, timeout: float | None = None) -> bool:
            raise KeyboardInterrupt

        def is_set(self) -> bool:
            return self.real.is_set()

        def set(self) -> None:
            self.real.set()

    class Waiter(write_queue._Waiter):
        def __init__(self, fd: int) -> None:
            super().__init__(fd)  # its thread blocks on the held lock meanwhile
            self._done = Interrupted(self._done)  # type: ignore[assignment]

    monkeypatch.setattr(write_queue, "_Waiter", Waiter)
    with pytest.raises(KeyboardInterrupt), turn(database, 5):
        pass
    os.close(fd)
    _freed_soon(database)  # the interrupted waiter takes the lock and releases it at once
