"""Every use the benchmark makes of azctx's internals, in this one module.

The figures drive azctx through its CLI and ``ContextStore``'s public methods; only what
cannot be done that way lives here, so that a rewrite of the core breaks the bench in
one place:

- ``grow``: big synthetic logs (10,000 to 1,000,000 operations) made in-process, far
  faster than one ``ContextStore`` operation at a time. Each operation is decided by the
  same pure functions the CLI uses (so every event is one a user could have caused),
  then appended through the ``Log`` API in large transactions; snapshots are saved
  where ``ContextStore`` would have saved them, so the store reads like one that grew
  through the CLI.
- ``full_replay``, ``log_data_key``, ``floor_loop``: the replay figures (rebuilding the
  state from operation 0, and the least any replay must do to the same rows).
- ``average_row_bytes``, ``write_turn``: the raw-SQLite references (rows of the size
  azctx writes, taking turns on azctx's write queue).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from azcli import ACCOUNT, TENANT, subscriptions
from azctx.events import Actor, Event
from azctx.projections import decisions as d
from azctx.projections.state import State, evolve, replay
from azctx.projections.view import Caller
from azctx.store import open_log
from azctx.store.loader import decoded, save_snapshot, snapshot_due
from azctx.store.writing import append_event

if TYPE_CHECKING:
    from stores import BenchStore

#: Operations per write transaction while generating.
BATCH = 5000
#: A scratch context is added or removed every this many operations; the rest are
#: selects cycling through the 20 subscriptions.
CHURN_EVERY = 10
SCRATCH = "scratch"
#: Operation i happens i seconds after this moment (1M operations span 12 days).
HISTORY_START = datetime(2024, 1, 1, tzinfo=UTC)
#: Selects cycle through the subscriptions while the scratch context comes and goes.
PERIOD = 20


def _decide(state: State, caller: Caller, index: int) -> Event:
    """Operation ``index`` (0-based) of the synthetic history."""
    subs = subscriptions()
    if index < len(subs):
        sub = subs[index]
        request = d.AddRequest(
            account=ACCOUNT,
            tenant=TENANT,
            subscription=sub.id,
            subscription_name=sub.name,
            name=sub.name,
        )
        return d.decide_add(state, caller, request).event
    if index % CHURN_EVERY == 0:
        if SCRATCH in state.user.contexts:
            return d.decide_remove(state, caller, SCRATCH, force=True).event
        request = d.AddRequest(
            account=ACCOUNT, tenant=TENANT, subscription=subs[0].id, name=SCRATCH, select=False
        )
        return d.decide_add(state, caller, request).event
    return d.decide_select(state, caller, subs[index % len(subs)].name).event


def _time(index: int) -> datetime:
    return HISTORY_START + timedelta(seconds=index)


@dataclass(frozen=True)
class _Cycle:
    """After the first adds the history repeats every ``PERIOD`` operations: the same
    events (but for their time) leading to the same state (but for its seq). Deciding
    one period and re-stamping it is what makes a million operations affordable."""

    prefix: list[tuple[Event, State]]
    period: list[tuple[Event, State]]

    def event(self, index: int) -> Event:
        """Operation ``index`` (0-based: it is logged as seq ``index + 1``)."""
        if index < len(self.prefix):
            return self.prefix[index][0]
        return self.period[index % PERIOD][0]._replace(time=_time(index))

    def state(self, index: int) -> State:
        """The state after operation ``index``."""
        if index < len(self.prefix):
            return self.prefix[index][1]
        return self.period[index % PERIOD][1]._replace(seq=index + 1)


def _cycle() -> _Cycle:
    actor = Actor(user="bench", host="bench-host", pid=os.getpid())
    state = State.empty()
    decided: list[tuple[Event, State]] = []
    warm = len(subscriptions()) + 2 * PERIOD
    for index in range(warm + PERIOD):
        event = _decide(state, Caller(actor=actor, time=_time(index)), index)
        state = evolve(state, index + 1, event)
        decided.append((event, state))
    # The claim the shortcut rests on: the last period repeats the one before it.
    for index in range(warm, warm + PERIOD):
        now, before = decided[index], decided[index - PERIOD]
        if now[0]._replace(time=before[0].time) != before[0]:
            raise AssertionError(f"synthetic history is not periodic at {index}")
        if now[1]._replace(seq=before[1].seq) != before[1]:
            raise AssertionError(f"synthetic state is not periodic at {index}")
    period = [decided[i] for i in sorted(range(warm, warm + PERIOD), key=lambda i: i % PERIOD)]
    return _Cycle(decided[:warm], period)


def grow(store: BenchStore, total: int, *, snapshots: bool = True) -> int:
    """Append operations until the log holds ``total``; returns the head seq.

    Continues an existing synthetic log, so a 100k log can be extended to 1M."""
    cycle = _cycle()
    with open_log(store.path, environ=store.env) as log:
        seq, _ = log.head()
        last_snapshot = seq
        while seq < total:
            with log.write():
                for _ in range(min(BATCH, total - seq)):
                    event = cycle.event(seq)
                    before, seq = seq, append_event(log, event).seq
                    if snapshots and snapshot_due(before, seq, last_snapshot):
                        save_snapshot(log, seq, cycle.state(seq - 1))
                        last_snapshot = seq
        return seq


# -- replay -------------------------------------------------------------------------------


def full_replay(store: str | Path, environ: dict[str, str] | None = None) -> int:
    """What azctx does to rebuild the state from operation 0 (every row checked);
    returns the operation count."""
    with open_log(store, environ=environ) as log:
        state = replay(State.empty(), decoded(log, 0))
    return state.seq


def log_data_key(store: BenchStore) -> bytes:
    """The data key of the log's rows, unwrapped with the store's master key."""
    from azctx.store.keys import cipher as crypto
    from azctx.store.keys import master as keys

    master = keys.load_master_key(store.env)
    assert master is not None
    with sqlite3.connect(store.path) as conn:
        (log_key_id,) = conn.execute("SELECT value FROM meta WHERE name = 'log_key_id'").fetchone()
        key_id = bytes(log_key_id).decode()
        (wrapped,) = conn.execute(
            "SELECT wrapped FROM data_keys WHERE key_id = ?", (key_id,)
        ).fetchone()
    conn.close()
    return crypto.unwrap(master.key, master.key_id, key_id, bytes(wrapped))


def floor_loop(store: BenchStore, key: bytes) -> int:
    """The least any replay must do: fetch every row, decrypt it, parse its JSON."""
    from azctx.store.rows import row_metadata
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aead = AESGCM(key)
    count = 0
    conn = sqlite3.connect(store.path)
    try:
        rows = conn.execute(
            "SELECT seq, time, kind, scope, session, key_id, nonce, ciphertext, prev_hash"
            " FROM log ORDER BY seq"
        )
        for seq, time_us, kind, scope, session, key_id, nonce, ciphertext, prev_hash in rows:
            aad = prev_hash + row_metadata(seq, time_us, kind, scope, session, key_id)
            json.loads(aead.decrypt(nonce, ciphertext, aad))
            count += 1
    finally:
        conn.close()
    return count


# -- raw-SQLite references --------------------------------------------------------------


def average_row_bytes(store: BenchStore) -> int:
    """The mean ciphertext size of the store's log rows."""
    with sqlite3.connect(store.path) as conn:
        (row_bytes,) = conn.execute("SELECT avg(length(ciphertext)) FROM log").fetchone()
    conn.close()
    return int(row_bytes)


@contextmanager
def write_turn(path: Path) -> Iterator[None]:
    """A turn on azctx's write queue for the database at ``path``."""
    from azctx.store.locks import turn

    with turn(path, 30):
        yield
