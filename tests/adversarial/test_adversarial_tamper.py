"""Tampering with the database behind azctx's back: every edit of a log row, a swap, a
deletion, a row or snapshot brought in from another store (or from a fork of this
one), and a rolled-back snapshot is found by ``verify`` (exit 3, naming the row), and
no command acts on tampered data: every command checks every row and snapshot it reads.
A command that reads the present reads the newest snapshot and the rows after it, so
tampering there stops reads and writes alike; a row older than the newest snapshot is
read (and the tampering found) by ``verify``, ``history`` and reads of the past at or
after it (``--at``), never silently used."""

from __future__ import annotations

import base64
import random
import shutil
from pathlib import Path
from typing import Any

import pytest
from adversarial_support import (
    LOG_COLUMNS,
    assert_error,
    fingerprint,
    home,
    invoke,
    log_rows,
    sql,
    store_path,
)
from azctx.store.context_store import ContextStore
from azctx.store.keys import master as keys

pytestmark = pytest.mark.adversarial

#: Enough operations for two snapshots (every 64), with a tail after the newest.
OPERATIONS = 150
SEED = 20240501


def _populate(env: dict[str, str], count: int, prefix: str = "c") -> None:
    """User-scope adds (some with secrets), selects, renames, removes, undos and a
    session with process-scope contexts, so every column takes several values."""
    rng = random.Random(f"{SEED}-{prefix}")
    with ContextStore(store_path(env), environ=env) as store:
        session = store.start_session("7d").session_id
    session_env = {**env, "AZCTX_SESSION": session}
    with (
        ContextStore(store_path(env), environ=env) as store,
        ContextStore(store_path(env), environ=session_env) as in_session,
    ):
        names: list[str] = []
        done = 1
        while done < count:
            roll = rng.random()
            if roll < 0.1:
                in_session.add(
                    account=f"p{done}@x", tenant="t", subscription=f"s{done}",
                    name=f"{prefix}proc{done}", scope="process",
                )  # fmt: skip
            elif roll < 0.5 or len(names) < 3:
                name = f"{prefix}{done}"
                secret = f"secret-{done}" if rng.random() < 0.3 else None
                store.add(
                    account=f"a{done}@x", tenant="t", subscription=f"s{done}", name=name,
                    account_type="service-principal" if secret else "user", secret=secret,
                )  # fmt: skip
                names.append(name)
            elif roll < 0.7:
                store.select(rng.choice(names))
            elif roll < 0.8:
                old = names.pop(rng.randrange(len(names)))
                names.append(f"{old}r")
                store.rename(old, f"{old}r", force=True)
            elif roll < 0.9:
                store.remove(names.pop(rng.randrange(len(names))), force=True)
            else:
                store.select(rng.choice(names))
                store.undo()
                done += 1
            done += 1


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One populated store (built once), and its master key (base64)."""
    base = tmp_path_factory.mktemp("pristine")
    key = base64.b64encode(keys.generate_key()).decode()
    env = {**home(base), "AZCTX_KEY": key}
    _populate(env, OPERATIONS)
    return store_path(env), key


@pytest.fixture
def victim(pristine: tuple[Path, str], tmp_path: Path) -> dict[str, str]:
    """A private copy of the pristine store, and the environment that opens it."""
    source, key = pristine
    env = {**home(tmp_path), "AZCTX_KEY": key}
    shutil.copyfile(source, store_path(env))
    return env


def _snapshot_seqs(db: Path) -> list[int]:
    return [int(r[0]) for r in sql(db, "SELECT seq FROM snapshots ORDER BY seq")]


def _assert_untrusted(env: dict[str, str], *needles: str, seq: int | None = None) -> None:
    """verify and history exit 3; so do the reads and writes that read the tampered
    row: all of them when it lies in the newest snapshot or after it (``seq`` None or
    past the newest snapshot), else a read of the past at it. Nothing changes."""
    db = store_path(env)
    before = fingerprint(db)
    assert_error(invoke(["verify"], env), 3, *needles)
    assert_error(invoke(["history", "--json"], env), 3)
    snapshots = _snapshot_seqs(db)
    if seq is None or not snapshots or seq > max(snapshots):
        assert_error(invoke(["list"], env), 3)
        add = ["add", "--account", "z@x", "--tenant", "t", "--subscription", "z", "--name", "zz"]
        assert_error(invoke(add, env), 3)
    else:
        assert_error(invoke(["list", "--at", str(max(seq, 1))], env), 3)
    assert fingerprint(db) == before


def _flip(value: Any, rng: random.Random) -> Any:
    """One changed byte (or bit, or character) of a column value."""
    if value is None:
        return "user"
    if isinstance(value, int):
        return value ^ (1 << rng.randrange(8))
    if isinstance(value, str):
        at = rng.randrange(len(value))
        return value[:at] + chr(ord(value[at]) ^ 1) + value[at + 1 :]
    data = bytearray(value)
    data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return bytes(data)


def _update(db: Path, seq: int, column: str, value: Any) -> None:
    sql(db, f"UPDATE log SET {column} = ? WHERE seq = ?", (value, seq))


def test_the_pristine_store_is_trusted(victim: dict[str, str]) -> None:
    outcome = invoke(["verify"], victim)
    assert outcome.code == 0, outcome.describe()
    assert f"ok: {OPERATIONS + 1} operations" in outcome.out or "operations" in outcome.out
    assert len(_snapshot_seqs(store_path(victim))) >= 2


@pytest.mark.parametrize("column", LOG_COLUMNS)
@pytest.mark.parametrize("where", ["before-snapshot", "tail"])
def test_a_flipped_byte_in_any_column_is_caught(
    victim: dict[str, str], column: str, where: str
) -> None:
    db = store_path(victim)
    rng = random.Random(f"{SEED}-{column}-{where}")
    newest = max(_snapshot_seqs(db))
    head = len(log_rows(db))
    seq = (
        rng.randrange(2, newest) if where == "before-snapshot" else rng.randrange(newest + 1, head)
    )
    old = log_rows(db)[seq - 1][LOG_COLUMNS.index(column)]
    new = _flip(old, rng)
    if column == "seq":
        new = head + 1000 + seq  # a seq that no other row has
    _update(db, seq, column, new)
    _assert_untrusted(victim, f"log row {seq}", seq=seq)


def test_swapped_rows_are_caught(victim: dict[str, str]) -> None:
    db = store_path(victim)
    rows = log_rows(db)
    a, b = 40, 41
    body = LOG_COLUMNS[1:]
    for seq, row in ((a, rows[b - 1]), (b, rows[a - 1])):
        assignments = ", ".join(f"{c} = ?" for c in body)
        sql(db, f"UPDATE log SET {assignments} WHERE seq = ?", (*row[1:], seq))
    _assert_untrusted(victim, f"log row {a}", seq=b)


def test_reordered_seqs_are_caught(victim: dict[str, str]) -> None:
    db = store_path(victim)
    sql(db, "UPDATE log SET seq = -1 WHERE seq = 70")
    sql(db, "UPDATE log SET seq = 70 WHERE seq = 71")
    sql(db, "UPDATE log SET seq = 71 WHERE seq = -1")
    _assert_untrusted(victim, "log row 70", seq=71)


@pytest.mark.parametrize("seq", [1, 30, 100, 140])
def test_a_deleted_row_is_caught(victim: dict[str, str], seq: int) -> None:
    sql(store_path(victim), "DELETE FROM log WHERE seq = ?", (seq,))
    _assert_untrusted(victim, f"log row {seq}", seq=seq)


def _other_store(tmp_path: Path, key: str, count: int, prefix: str) -> Path:
    env = {**home(tmp_path / f"other-{prefix}"), "AZCTX_KEY": key}
    _populate(env, count, prefix)
    return store_path(env)


def _replace_row(db: Path, seq: int, row: tuple[Any, ...]) -> None:
    assignments = ", ".join(f"{c} = ?" for c in LOG_COLUMNS[1:])
    sql(db, f"UPDATE log SET {assignments} WHERE seq = ?", (*row[1:], seq))


def test_a_row_from_another_store_with_the_same_key_is_caught(
    victim: dict[str, str], tmp_path: Path
) -> None:
    other = _other_store(tmp_path, victim["AZCTX_KEY"], 12, "o")
    seq = 7
    _replace_row(store_path(victim), seq, log_rows(other)[seq - 1])
    _assert_untrusted(victim, f"log row {seq}", seq=seq)


def _fork(victim: dict[str, str], tmp_path: Path, extra: int) -> Path:
    """A copy of the victim that went its own way: same key, same log data key, same
    rows up to the victim's head, then ``extra`` operations of its own."""
    env = {**home(tmp_path / "fork"), "AZCTX_KEY": victim["AZCTX_KEY"]}
    shutil.copyfile(store_path(victim), store_path(env))
    _populate(env, extra, "f")
    return store_path(env)


def test_a_row_from_a_fork_of_the_store_is_caught(victim: dict[str, str], tmp_path: Path) -> None:
    db = store_path(victim)
    head = len(log_rows(db))
    fork = _fork(victim, tmp_path, 4)
    _populate(victim, 4, "v")  # the victim goes on differently
    # The fork's row head+1 links perfectly to the shared prefix and decrypts with the
    # shared log key; it is the next row that no longer links to it.
    _replace_row(db, head + 1, log_rows(fork)[head])
    _assert_untrusted(victim, f"log row {head + 2}")


def _set_snapshot(db: Path, seq: int, nonce: bytes, ciphertext: bytes, key_id: str) -> None:
    sql(
        db,
        "UPDATE snapshots SET nonce = ?, ciphertext = ?, key_id = ? WHERE seq = ?",
        (nonce, ciphertext, key_id, seq),
    )


def _snapshot(db: Path, seq: int) -> tuple[str, bytes, bytes]:
    rows = sql(db, "SELECT key_id, nonce, ciphertext FROM snapshots WHERE seq = ?", (seq,))
    key_id, nonce, ciphertext = rows[0]
    return str(key_id), bytes(nonce), bytes(ciphertext)


def test_a_snapshot_rolled_back_to_an_older_one_is_caught(victim: dict[str, str]) -> None:
    db = store_path(victim)
    older, newest = _snapshot_seqs(db)[-2:]
    key_id, nonce, ciphertext = _snapshot(db, older)
    _set_snapshot(db, newest, nonce, ciphertext, key_id)
    _assert_untrusted(victim, f"snapshot of operation {newest}")


def test_an_older_snapshot_moved_to_the_newest_seq_is_caught(victim: dict[str, str]) -> None:
    db = store_path(victim)
    older, newest = _snapshot_seqs(db)[-2:]
    sql(db, "DELETE FROM snapshots WHERE seq = ?", (newest,))
    sql(db, "UPDATE snapshots SET seq = ? WHERE seq = ?", (newest, older))
    _assert_untrusted(victim, f"snapshot of operation {newest}")


def test_a_snapshot_from_another_store_is_caught(victim: dict[str, str], tmp_path: Path) -> None:
    db = store_path(victim)
    other = _other_store(tmp_path, victim["AZCTX_KEY"], 70, "o")
    key_id, nonce, ciphertext = _snapshot(other, _snapshot_seqs(other)[0])
    newest = max(_snapshot_seqs(db))
    _set_snapshot(db, newest, nonce, ciphertext, key_id)
    _assert_untrusted(victim, f"snapshot of operation {newest}")


def _save_snapshot_at_head(env: dict[str, str]) -> int:
    """What a writer does every 64 operations, done now: the state, sealed and bound
    to the head row."""
    from azctx.projections.snapshot import PROJECTION_VERSION, snapshot_bytes
    from azctx.store import open_log

    with ContextStore(store_path(env), environ=env) as store:
        state = store.state()
    with open_log(store_path(env), environ=env) as log:
        log.save_snapshot(state.seq, PROJECTION_VERSION, snapshot_bytes(state))
    return state.seq


def test_a_snapshot_from_a_fork_is_caught(victim: dict[str, str], tmp_path: Path) -> None:
    """The fork shares the log data key, so only the binding to the log row's hash
    stands between its snapshot and the victim's state."""
    db = store_path(victim)
    fork = _fork(victim, tmp_path, 3)
    _populate(victim, 3, "v")
    seq = _save_snapshot_at_head(victim)
    assert _save_snapshot_at_head({**victim, "AZCTX_STORE": str(fork)}) == seq
    key_id, nonce, ciphertext = _snapshot(fork, seq)
    _set_snapshot(db, seq, nonce, ciphertext, key_id)
    _assert_untrusted(victim, f"snapshot of operation {seq}")


def test_an_old_row_tampered_under_a_snapshot_stops_reads_of_it(victim: dict[str, str]) -> None:
    """Reads of the past that read the row find it, whichever snapshot they start from."""
    db = store_path(victim)
    _update(db, 100, "kind", "select")
    for args in (["list", "--at", "100"], ["show", "--at", "120"], ["history"]):
        assert_error(invoke(args, victim), 3, "log row 100")


def test_a_tail_cut_below_a_snapshot_is_caught(victim: dict[str, str]) -> None:
    db = store_path(victim)
    newest = max(_snapshot_seqs(db))
    sql(db, "DELETE FROM log WHERE seq >= ?", (newest - 3,))
    _assert_untrusted(victim, "snapshot of operation")


def test_a_deleted_snapshot_is_only_a_lost_cache(victim: dict[str, str]) -> None:
    """Dropping snapshots (all, or just the newest) cannot change what anyone sees:
    the state is replayed from the log instead."""
    db = store_path(victim)
    before = invoke(["list", "--json"], victim)
    for query in ("DELETE FROM snapshots WHERE seq = (SELECT MAX(seq) FROM snapshots)",
                  "DELETE FROM snapshots"):  # fmt: skip
        sql(db, query)
        after = invoke(["list", "--json"], victim)
        assert (after.code, after.out) == (0, before.out), after.describe()
        assert invoke(["verify"], victim).code == 0


def _replayed_equals_live(env: dict[str, str]) -> None:
    from azctx.events import decode
    from azctx.projections.state import State, replay
    from azctx.store import open_log

    with open_log(store_path(env), environ=env) as log:
        events = ((e.seq, decode(e.payload)) for e in log.entries())
        replayed = replay(State.empty(), events)
    with ContextStore(store_path(env), environ=env) as store:
        assert store.state() == replayed


def test_writes_after_a_deleted_snapshot_match_a_replay(victim: dict[str, str]) -> None:
    sql(store_path(victim), "DELETE FROM snapshots WHERE seq = (SELECT MAX(seq) FROM snapshots)")
    _populate(victim, 80, "w")
    _replayed_equals_live(victim)
    assert invoke(["verify"], victim).code == 0
