"""The log contract, run against every recorder, plus the SQLite file's own guarantees:
concurrency, tamper evidence, refusal of bad files, shredding and the import-free hot path.
"""

from __future__ import annotations

import base64
import multiprocessing
import os
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from azctx.store import (
    CorruptStoreError,
    KeyDestroyedError,
    Log,
    MissingKeyError,
    SchemaTooNewError,
    StoreLockedError,
    StoreUnavailableError,
    TamperedError,
    WrongKeyError,
    open_log,
)
from azctx.store.keys import cipher as crypto
from azctx.store.keys import master as keys
from azctx.store.rows import ZERO_HASH, row_hash, row_metadata

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def _key_env(key: bytes) -> str:
    return base64.b64encode(key).decode()


# -- raw access to a store, behind azctx's back ------------------------------------------


class Backend:
    """A store target plus raw SQL on it (to tamper, or to look)."""

    target: str | Path

    def execute(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        raise NotImplementedError


class SqliteBackend(Backend):
    def __init__(self, path: Path) -> None:
        self.target = path

    def execute(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(self.target)
        try:
            rows = conn.execute(sql, params).fetchall()
            conn.commit()
            return rows
        finally:
            conn.close()


class SqlAlchemyBackend(Backend):
    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine

        self.target = url
        self._engine = create_engine(url)

    def execute(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        from sqlalchemy import text

        with self._engine.begin() as conn:
            result = conn.execute(text(sql), params)
            return [tuple(r) for r in result] if result.returns_rows else []

    def dispose(self) -> None:
        self._engine.dispose()


def _append(log: Log, count: int, *, start: datetime = T0, kind: str = "add") -> None:
    with log.write():
        for i in range(count):
            log.append(
                kind=kind,
                scope="user",
                session=None,
                time=start + timedelta(seconds=i),
                payload=f"payload {i + 1}".encode(),
            )


def _raw_row(backend: Backend, seq: int) -> dict[str, Any]:
    columns = "seq, time, kind, scope, session, key_id, nonce, ciphertext, prev_hash, hash"
    (row,) = backend.execute(f"SELECT {columns} FROM log WHERE seq = :seq", seq=seq)
    return {name.strip(): (bytes(v) if isinstance(v, memoryview) else v)
            for name, v in zip(columns.split(","), row, strict=True)}  # fmt: skip


def _rechain_from(backend: Backend, seq: int) -> None:
    """What a forger without the key can do: recompute every hash from ``seq`` on."""
    (last,) = backend.execute("SELECT max(seq) FROM log")
    prev = _raw_row(backend, seq - 1)["hash"] if seq > 1 else ZERO_HASH
    for current in range(seq, last[0] + 1):
        r = _raw_row(backend, current)
        meta = row_metadata(r["seq"], r["time"], r["kind"], r["scope"], r["session"], r["key_id"])
        digest = row_hash(prev, meta, r["nonce"], r["ciphertext"])
        backend.execute(
            "UPDATE log SET prev_hash = :p, hash = :h WHERE seq = :s", p=prev, h=digest, s=current
        )
        prev = digest


# -- tampering, as functions of (backend) -------------------------------------------------


def _flip_payload_byte(backend: Backend) -> tuple[int, ...]:
    ciphertext = bytearray(_raw_row(backend, 3)["ciphertext"])
    ciphertext[5] ^= 0x01
    backend.execute("UPDATE log SET ciphertext = :c WHERE seq = 3", c=bytes(ciphertext))
    return (3,)


def _swap_payloads(backend: Backend) -> tuple[int, ...]:
    two, four = _raw_row(backend, 2), _raw_row(backend, 4)
    for target, source in ((2, four), (4, two)):
        backend.execute(
            "UPDATE log SET nonce = :n, ciphertext = :c WHERE seq = :s",
            n=source["nonce"], c=source["ciphertext"], s=target,
        )  # fmt: skip
    return 2, 4


def _delete_middle_row(backend: Backend) -> tuple[int, ...]:
    backend.execute("DELETE FROM log WHERE seq = 3")
    return (3,)


def _edit_clear_kind(backend: Backend) -> tuple[int, ...]:
    backend.execute("UPDATE log SET kind = 'remove' WHERE seq = 3")
    return (3,)


def _edit_clear_scope(backend: Backend) -> tuple[int, ...]:
    backend.execute("UPDATE log SET scope = 'process:x' WHERE seq = 4")
    return (4,)


def _edit_time(backend: Backend) -> tuple[int, ...]:
    backend.execute("UPDATE log SET time = time + 1 WHERE seq = 2")
    return (2,)


TAMPERINGS = {
    "flip-payload-byte": _flip_payload_byte,
    "swap-two-payloads": _swap_payloads,
    "delete-middle-row": _delete_middle_row,
    "edit-kind": _edit_clear_kind,
    "edit-scope": _edit_clear_scope,
    "edit-time": _edit_time,
}


# -- the contract ------------------------------------------------------------------------


class LogContract:
    """Every recorder must pass these. Subclasses provide the ``backend`` fixture."""

    @pytest.fixture
    def backend(self, tmp_path: Path) -> Iterator[Backend]:
        raise NotImplementedError

    @pytest.fixture
    def log(self, backend: Backend) -> Iterator[Log]:
        with open_log(backend.target) as log:
            yield log

    def test_empty_log(self, log: Log) -> None:
        assert log.head() == (0, ZERO_HASH)
        assert list(log.entries()) == []
        assert list(log.entries_reverse()) == []
        assert log.seq_at(T0) == 0
        assert log.verify().count == 0

    def test_append_and_read_back(self, log: Log) -> None:
        _append(log, 5)
        entries = list(log.entries())
        assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
        assert entries[0].payload == b"payload 1"
        assert entries[0].time == T0 and entries[0].time.tzinfo is not None
        assert (
            entries[0].kind == "add" and entries[0].scope == "user" and entries[0].session is None
        )
        assert log.head() == (5, entries[-1].hash)
        assert [e.seq for e in log.entries(after=2, upto=4)] == [3, 4]
        assert [e.seq for e in log.entries_reverse()] == [5, 4, 3, 2, 1]
        assert [e.seq for e in log.entries_reverse(before=3)] == [2, 1]
        assert log.entry(4).payload == b"payload 4"
        with pytest.raises(LookupError):
            log.entry(6)
        with pytest.raises(LookupError):
            log.entry(0)

    def test_a_row_read_encodes_its_metadata_once(
        self, log: Log, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # The hash check and the decryption share one encoding of the row's columns
        # (replay reads every row; encoding it twice was a fifth of its cost).
        _append(log, 5)
        from azctx.store import chain as log_module

        calls: list[int] = []

        def counted(seq: int, *rest: Any) -> bytes:
            calls.append(seq)
            return row_metadata(seq, *rest)

        monkeypatch.setattr(log_module, "row_metadata", counted)
        assert [e.payload for e in log.entries()][-1] == b"payload 5"
        assert sorted(calls) == [1, 2, 3, 4, 5]
        calls.clear()
        assert len(list(log.entries_reverse())) == 5
        assert sorted(calls) == [1, 2, 3, 4, 5]
        calls.clear()
        assert log.verify().count == 5
        assert sorted(calls) == [1, 2, 3, 4, 5]

    def test_entries_links_across_pages(self, log: Log) -> None:
        with log.write():
            for i in range(600):
                log.append(kind="k", scope=None, session="s", time=T0, payload=bytes([i % 256]))
        assert len(list(log.entries())) == 600
        assert [e.seq for e in log.entries_reverse()] == list(range(600, 0, -1))
        assert log.verify().count == 600

    @pytest.mark.parametrize("bad", [1, 16, 17, 50, 300, 600])
    @pytest.mark.parametrize("damage", ["ciphertext", "kind"])
    def test_the_entries_before_a_damaged_row_come_first(
        self, log: Log, backend: Backend, bad: int, damage: str
    ) -> None:
        # Entries are decrypted ahead in batches; a reader must still get every entry
        # before the damaged row, in order, and then the error naming it.
        with log.write():
            for i in range(600):
                log.append(kind="k", scope=None, session="s", time=T0, payload=bytes([i % 256]))
        if damage == "ciphertext":  # found by the decryption
            ciphertext = bytearray(_raw_row(backend, bad)["ciphertext"])
            ciphertext[0] ^= 0x01
            backend.execute(
                "UPDATE log SET ciphertext = :c WHERE seq = :s", c=bytes(ciphertext), s=bad
            )
        else:  # found by the hash check
            backend.execute("UPDATE log SET kind = 'x' WHERE seq = :s", s=bad)
        for read, before in (
            (log.entries, list(range(1, bad))),
            (log.entries_reverse, list(range(600, bad, -1))),
        ):
            seen: list[int] = []
            with pytest.raises(TamperedError) as caught:
                for entry in read():
                    seen.append(entry.seq)
            assert seen == before
            assert caught.value.seq == bad

    def test_reopen_keeps_everything(self, backend: Backend) -> None:
        with open_log(backend.target) as log:
            _append(log, 3)
            head = log.head()
        with open_log(backend.target, create=False) as log:
            assert log.head() == head
            assert [e.payload for e in log.entries()][-1] == b"payload 3"

    def test_append_needs_a_write_transaction(self, log: Log) -> None:
        with pytest.raises(RuntimeError):
            log.append(kind="add", scope=None, session=None, time=T0, payload=b"x")

    def test_a_failed_transaction_leaves_nothing(self, log: Log) -> None:
        _append(log, 1)
        with pytest.raises(ZeroDivisionError), log.write():
            log.append(kind="add", scope=None, session=None, time=T0, payload=b"x")
            key_id = log.new_data_key("account")
            assert log.head()[0] == 2  # reads inside the transaction see its writes
            _ = 1 / 0
        assert log.head()[0] == 1
        assert not log.key_exists(key_id)

    def test_times_never_go_back(self, log: Log) -> None:
        with log.write():
            log.append(kind="a", scope=None, session=None, time=T0, payload=b"1")
            late = log.append(
                kind="a", scope=None, session=None, time=T0 + timedelta(hours=1), payload=b"2"
            )
            skewed = log.append(kind="a", scope=None, session=None, time=T0, payload=b"3")
        assert skewed.time == late.time
        assert log.seq_at(T0 - timedelta(seconds=1)) == 0
        assert log.seq_at(T0) == 1
        assert log.seq_at(T0 + timedelta(minutes=30)) == 1
        assert log.seq_at(T0 + timedelta(hours=1)) == 3
        assert log.seq_at(datetime(2030, 1, 1, tzinfo=UTC)) == 3

    def test_naive_times_are_refused(self, log: Log) -> None:
        with pytest.raises(ValueError), log.write():
            log.append(kind="a", scope=None, session=None, time=datetime(2024, 1, 1), payload=b"")

    def test_microsecond_times_round_trip(self, log: Log) -> None:
        moment = datetime(2024, 2, 29, 23, 59, 59, 999999, tzinfo=UTC)
        with log.write():
            log.append(kind="a", scope=None, session=None, time=moment, payload=b"")
        assert log.entry(1).time == moment
        assert log.seq_at(moment) == 1
        assert log.seq_at(moment - timedelta(microseconds=1)) == 0

    def test_snapshots(self, log: Log) -> None:
        _append(log, 6)
        assert log.latest_snapshot(1) is None
        log.save_snapshot(2, 1, b"state after 2")
        log.save_snapshot(4, 1, b"state after 4")
        log.save_snapshot(4, 1, b"ignored: already cached")
        log.save_snapshot(5, 2, b"version 2")
        latest = log.latest_snapshot(1)
        assert latest is not None and (latest.seq, latest.payload) == (4, b"state after 4")
        older = log.latest_snapshot(1, upto=3)
        assert older is not None and (older.seq, older.payload) == (2, b"state after 2")
        assert log.latest_snapshot(1, upto=1) is None
        newer = log.latest_snapshot(2)
        assert newer is not None and newer.payload == b"version 2"
        with log.write():
            log.save_snapshot(6, 1, b"inside a write")
        assert log.latest_snapshot(1) is not None

    def test_a_damaged_snapshot_is_tampering(self, log: Log, backend: Backend) -> None:
        # Passing over it would let a rolled-back cache go unnoticed.
        _append(log, 4)
        log.save_snapshot(2, 1, b"good")
        log.save_snapshot(4, 1, b"damaged")
        backend.execute("UPDATE snapshots SET seq = 3 WHERE seq = 4")
        with pytest.raises(TamperedError, match="snapshot of operation 3") as caught:
            log.latest_snapshot(1)
        assert caught.value.seq == 3
        older = log.latest_snapshot(1, upto=2)
        assert older is not None and older.payload == b"good"

    def test_secrets_and_shredding(self, log: Log) -> None:
        with log.write():
            account = log.new_data_key("account")
            session = log.new_data_key("session", session="s1")
        sealed = log.seal(account, b"client secret")
        assert b"client secret" not in sealed
        assert log.unseal(account, sealed) == b"client secret"
        assert log.session_key_ids("s1") == [session]
        assert log.key_exists(account)
        with pytest.raises(TamperedError):
            log.unseal(session, sealed)  # sealed under another key
        with log.write():
            log.destroy_data_keys([account])
        assert not log.key_exists(account)
        with pytest.raises(KeyDestroyedError) as caught:
            log.unseal(account, sealed)
        assert caught.value.exit_code == 1
        with pytest.raises(ValueError), log.write():
            log.new_data_key("log")

    def test_wrong_key_missing_key_and_keyless_open(
        self, backend: Backend, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("AZCTX_KEY", _key_env(keys.generate_key()))
        with open_log(backend.target) as log:
            _append(log, 3)
        monkeypatch.setenv("AZCTX_KEY", _key_env(keys.generate_key()))
        with pytest.raises(WrongKeyError) as wrong:
            open_log(backend.target)
        assert wrong.value.exit_code == 3
        monkeypatch.delenv("AZCTX_KEY")
        with pytest.raises(MissingKeyError):
            open_log(backend.target)
        with open_log(backend.target, key_required=False) as log:
            report = log.verify(chain_only=True)
            assert (report.count, report.ciphertexts_checked) == (3, False)
            with pytest.raises(MissingKeyError):
                log.verify()
            with pytest.raises(MissingKeyError):
                list(log.entries())

    def test_rotate_master_key(self, backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
        old, new = keys.generate_key(), keys.generate_key()
        monkeypatch.setenv("AZCTX_KEY", _key_env(old))
        with open_log(backend.target) as log:
            _append(log, 2)
            with log.write():
                account = log.new_data_key("account")
            sealed = log.seal(account, b"secret")
            with pytest.raises(ZeroDivisionError), log.write():
                log.rotate_master_key(new)
                _ = 1 / 0
            assert log.master_key_info().key_id == keys.key_id(old)
            with log.write():
                new_id = log.rotate_master_key(new)
            assert new_id == keys.key_id(new) == log.master_key_info().key_id
            assert log.unseal(account, sealed) == b"secret"
            _append(log, 1)
        with pytest.raises(WrongKeyError):
            open_log(backend.target)
        monkeypatch.setenv("AZCTX_KEY", _key_env(new))
        with open_log(backend.target) as log:
            assert log.unseal(account, sealed) == b"secret"
            assert log.verify().count == 3
            info = log.master_key_info()
            assert (info.source, info.path, info.key_id) == ("env", None, new_id)

    def test_a_rotation_elsewhere_stops_stale_writers(
        self, backend: Backend, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        with open_log(backend.target) as stale, open_log(backend.target) as rotator:
            with rotator.write():
                rotator.rotate_master_key(keys.generate_key())
            with pytest.raises(WrongKeyError), stale.write():
                pass

    def test_writers_wait_then_give_up(self, backend: Backend) -> None:
        with (
            open_log(backend.target) as holder,
            open_log(backend.target, lock_timeout=0.2) as waiter,
        ):
            with holder.write():
                holder.append(kind="a", scope=None, session=None, time=T0, payload=b"")
                started = time.monotonic()
                with pytest.raises(StoreLockedError) as caught, waiter.write():
                    pass
                assert caught.value.exit_code == 3
                assert time.monotonic() - started < 5
            with waiter.write():
                waiter.append(kind="a", scope=None, session=None, time=T0, payload=b"")
            assert waiter.head()[0] == 2

    def test_verify_reports_the_head(self, log: Log) -> None:
        _append(log, 4)
        report = log.verify()
        assert report.count == report.head_seq == 4
        assert report.head_hash == log.head()[1]
        assert report.ciphertexts_checked

    @pytest.mark.parametrize("tamper", list(TAMPERINGS), ids=list(TAMPERINGS))
    def test_tampering_is_named(self, log: Log, backend: Backend, tamper: str) -> None:
        _append(log, 5)
        damaged = TAMPERINGS[tamper](backend)
        # Reading oldest first names the first damaged row; newest first, the last one.
        for check, bad in (
            (lambda: log.verify(), min(damaged)),
            (lambda: log.verify(chain_only=True), min(damaged)),
            (lambda: list(log.entries()), min(damaged)),
            (lambda: list(log.entries(after=1)), min(damaged)),
            (lambda: list(log.entries_reverse()), max(damaged)),
        ):
            with pytest.raises(TamperedError) as caught:
                check()
            assert caught.value.seq == bad
            assert f"log row {bad} " in caught.value.message
            assert caught.value.exit_code == 3

    def test_a_rewritten_chain_still_fails_with_the_key(self, log: Log, backend: Backend) -> None:
        _append(log, 5)
        backend.execute("UPDATE log SET kind = 'remove' WHERE seq = 3")
        _rechain_from(backend, 3)
        assert log.verify(chain_only=True).count == 5
        with pytest.raises(TamperedError) as caught:
            log.verify()
        assert caught.value.seq == 3
        with pytest.raises(TamperedError) as caught:
            list(log.entries())
        assert caught.value.seq == 3


class TestSqliteLog(LogContract):
    @pytest.fixture
    def backend(self, tmp_path: Path) -> Iterator[Backend]:
        yield SqliteBackend(tmp_path / "store" / "store.db")


class TestSqlAlchemySqliteLog(LogContract):
    @pytest.fixture
    def backend(self, tmp_path: Path) -> Iterator[Backend]:
        backend = SqlAlchemyBackend(f"sqlite:///{tmp_path / 'store' / 'store.db'}")
        yield backend
        backend.dispose()


@pytest.mark.postgres
class TestPostgresLog(LogContract):
    @pytest.fixture
    def backend(self, postgres_url: str) -> Iterator[Backend]:
        backend = SqlAlchemyBackend(postgres_url)
        yield backend
        backend.dispose()


# -- many processes ------------------------------------------------------------------------


def _append_many(target: str, worker: int, count: int) -> None:
    with open_log(target) as log:
        for i in range(count):
            with log.write():
                log.append(
                    kind="add",
                    scope="user",
                    session=None,
                    time=datetime.now(UTC),
                    payload=f"{worker}:{i}".encode(),
                )


def _open_and_append_once(target: str, worker: int) -> str:
    with open_log(target) as log:
        with log.write():
            log.append(kind="add", scope=None, session=None, time=T0, payload=str(worker).encode())
        return log.master_key_info().key_id


def _run_workers(function: Any, args: list[tuple[Any, ...]]) -> list[Any]:
    context = multiprocessing.get_context("spawn")
    with context.Pool(len(args)) as pool:
        return pool.starmap(function, args)


def _check_all_landed(log: Log, workers: int, each: int) -> None:
    entries = list(log.entries())
    assert [e.seq for e in entries] == list(range(1, workers * each + 1))
    payloads = [e.payload.decode() for e in entries]
    assert sorted(payloads) == sorted(f"{w}:{i}" for w in range(workers) for i in range(each))
    for worker in range(workers):
        mine = [p for p in payloads if p.startswith(f"{worker}:")]
        assert mine == [f"{worker}:{i}" for i in range(each)]  # each writer's order is kept
    assert log.verify().count == workers * each


def test_four_processes_append_250_each(tmp_path: Path) -> None:
    target = str(tmp_path / "store.db")
    open_log(target).close()
    _run_workers(_append_many, [(target, w, 250) for w in range(4)])
    with open_log(target) as log:
        _check_all_landed(log, 4, 250)


@pytest.mark.postgres
def test_four_processes_append_at_once_postgres(postgres_url: str) -> None:
    # 60 each, not 250: a PostgreSQL append costs ~10 ms here; keep the suite quick.
    open_log(postgres_url).close()
    _run_workers(_append_many, [(postgres_url, w, 60) for w in range(4)])
    with open_log(postgres_url) as log:
        _check_all_landed(log, 4, 60)


def test_processes_creating_one_store_at_once_agree(tmp_path: Path) -> None:
    target = str(tmp_path / "new" / "store.db")
    key_ids = _run_workers(_open_and_append_once, [(target, w) for w in range(4)])
    assert len(set(key_ids)) == 1
    key_files = list((tmp_path / "azctx-config").iterdir())
    assert [p.name for p in key_files] == ["master.key"]
    with open_log(target) as log:
        assert sorted(e.payload for e in log.entries()) == [str(w).encode() for w in range(4)]
        assert log.verify().count == 4


# -- the SQLite file -----------------------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("url", [False, True], ids=["sqlite3", "sqlalchemy"])
def test_files_and_folders_are_private(tmp_path: Path, url: bool) -> None:
    path = tmp_path / "a" / "b" / "store.db"
    with open_log(f"sqlite:///{path}" if url else path) as log:
        _append(log, 1)
        assert _mode(path) == 0o600
        assert _mode(Path(f"{path}-wal")) == 0o600
        assert _mode(Path(f"{path}-shm")) == 0o600
    assert _mode(tmp_path / "a") == 0o700
    assert _mode(tmp_path / "a" / "b") == 0o700
    assert _mode(tmp_path / "azctx-config") == 0o700
    assert _mode(tmp_path / "azctx-config" / "master.key") == 0o600


def test_sqlite_settings(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with open_log(path) as log:
        with log.write():
            pass  # opening creates nothing: the first write makes the store
        conn = log._recorder._conn  # type: ignore[attr-defined]
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert conn.execute("PRAGMA secure_delete").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000


def _store_with_rows(path: Path) -> bytes:
    with open_log(path) as log:
        _append(log, 20)
    assert not Path(f"{path}-wal").exists()
    return path.read_bytes()


def _assert_untouched(path: Path, before: bytes) -> None:
    assert path.read_bytes() == before
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0


def test_wrong_key_leaves_the_file_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "store.db"
    before = _store_with_rows(path)
    monkeypatch.setenv("AZCTX_KEY", _key_env(keys.generate_key()))
    with pytest.raises(WrongKeyError):
        open_log(path)
    _assert_untouched(path, before)


def test_missing_key_creates_no_key_file(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    before = _store_with_rows(path)
    key_file = tmp_path / "azctx-config" / "master.key"
    key_file.unlink()
    with pytest.raises(MissingKeyError) as caught:
        open_log(path)
    assert str(key_file) in caught.value.message
    assert caught.value.hint
    assert not key_file.exists()
    _assert_untouched(path, before)


@pytest.mark.parametrize("how", ["half", "mid-page", "header-only"])
def test_a_truncated_file_is_corrupt(tmp_path: Path, how: str) -> None:
    path = tmp_path / "store.db"
    data = _store_with_rows(path)
    size = {"half": len(data) // 2, "mid-page": len(data) - 100, "header-only": 60}[how]
    path.write_bytes(data[:size])
    before = path.read_bytes()
    with pytest.raises(CorruptStoreError) as caught:
        open_log(path)
    assert caught.value.exit_code == 3
    _assert_untouched(path, before)


@pytest.mark.parametrize("content", [b"garbage " * 1000, os.urandom(8192), b"\0" * 4096])
def test_a_garbage_file_is_corrupt(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "store.db"
    path.write_bytes(content)
    with pytest.raises(CorruptStoreError):
        open_log(path)
    _assert_untouched(path, content)


def test_a_foreign_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(CorruptStoreError):
        open_log(path)
    _assert_untouched(path, before)


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    _store_with_rows(path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    for target in (path, f"sqlite:///{path}"):
        with pytest.raises(SchemaTooNewError) as caught:
            open_log(target)
        assert "9999" in caught.value.message
        _assert_untouched(path, before)


def test_unusable_paths(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailableError):
        open_log(tmp_path)  # a directory
    with pytest.raises(StoreUnavailableError):
        open_log(f"sqlite:///{tmp_path}")
    with pytest.raises(StoreUnavailableError):
        open_log(tmp_path / "absent.db", create=False)
    assert not (tmp_path / "absent.db").exists()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreUnavailableError):
        open_log(blocker / "store.db")  # a parent that is a file
    with pytest.raises(StoreUnavailableError):
        open_log("nosuchdialect://host/db")
    with pytest.raises(StoreUnavailableError):
        open_log("postgresql+psycopg://nobody@127.0.0.1:1/none", lock_timeout=1)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_unreadable_and_read_only_files(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    before = _store_with_rows(path)
    for mode in (0o000, 0o400):
        path.chmod(mode)
        with pytest.raises(StoreUnavailableError):
            open_log(path)
        path.chmod(0o600)
        _assert_untouched(path, before)


def _wrapped_and_raw(path: Path, key_id: str) -> tuple[bytes, bytes]:
    conn = sqlite3.connect(path)
    (wrapped,) = conn.execute(
        "SELECT wrapped FROM data_keys WHERE key_id = ?", (key_id,)
    ).fetchone()
    conn.close()
    master = keys.load_master_key()
    assert master is not None
    return bytes(wrapped), crypto.unwrap(master.key, master.key_id, key_id, bytes(wrapped))


@pytest.mark.parametrize("url", [False, True], ids=["sqlite3", "sqlalchemy"])
def test_a_destroyed_key_leaves_no_copy(tmp_path: Path, url: bool) -> None:
    path = tmp_path / "store.db"
    with open_log(f"sqlite:///{path}" if url else path) as log:
        with log.write():
            doomed = [log.new_data_key("session", session="s") for _ in range(3)]
            kept = log.new_data_key("account")
        _append(log, 50)
        secrets_ = {key_id: _wrapped_and_raw(path, key_id) for key_id in [*doomed, kept]}
        with log.write():
            log.destroy_data_keys(doomed)
        files = [path, Path(f"{path}-wal")]
        raw_bytes = b"".join(f.read_bytes() for f in files if f.exists())
        for key_id in doomed:
            wrapped, raw = secrets_[key_id]
            assert wrapped not in raw_bytes
            assert raw not in raw_bytes
        assert secrets_[kept][0] in raw_bytes  # the search itself works
        assert log.key_exists(kept)


def test_opening_a_current_store_imports_no_sqlalchemy(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    _store_with_rows(path)
    probe = (
        "import sys, time\n"
        "t = time.perf_counter()\n"
        "from azctx.store import open_log\n"
        f"log = open_log({str(path)!r})\n"
        "n = sum(1 for _ in log.entries())\n"
        "log.close()\n"
        "print(n, round((time.perf_counter() - t) * 1000), 'sqlalchemy' in sys.modules,"
        " 'alembic' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=os.environ
    )
    count, _millis, sqlalchemy_loaded, alembic_loaded = result.stdout.split()
    assert (count, sqlalchemy_loaded, alembic_loaded) == ("20", "False", "False")


def test_opening_a_missing_store_creates_nothing_until_the_first_write(tmp_path: Path) -> None:
    path = tmp_path / "deeper" / "store.db"
    with open_log(path) as log:
        assert not log.exists
        assert log.head() == (0, ZERO_HASH)
        assert list(log.entries()) == [] and log.verify().count == 0
        assert not path.parent.exists()
        with log.write():
            log.append(kind="k", scope=None, session=None, time=datetime.now(UTC), payload=b"p")
        assert log.exists and [e.payload for e in log.entries()] == [b"p"]


def test_a_log_opened_before_the_store_existed_sees_it_once_created(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with open_log(path) as early:
        assert early.head()[0] == 0
        with open_log(path) as writer, writer.write():
            writer.append(kind="k", scope=None, session=None, time=datetime.now(UTC), payload=b"p")
        assert early.head()[0] == 1
        assert [e.payload for e in early.entries()] == [b"p"]
        with early.write():
            early.append(kind="k", scope=None, session=None, time=datetime.now(UTC), payload=b"q")
    with open_log(path) as log:
        assert log.verify().count == 2
