"""Stores for the benchmarks, in a temp folder, never the user's real ones.

Big logs are made in-process: each operation is decided by the same pure functions the
CLI uses (so every event is one a user could have caused), then appended through the
``Log`` API in large transactions instead of one process per operation. Snapshots are
saved where ``ContextStore`` would have saved them, so a generated store reads like one
that grew through the CLI.
"""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from azcli import ACCOUNT, TENANT, subscriptions
from azctx.events import Actor, Event
from azctx.projections import decide as d
from azctx.projections.state import PROJECTION_VERSION, State, evolve
from azctx.projections.view import Caller
from azctx.store import open_log
from azctx.store.context_store import append_event
from azctx.store.schedule import snapshot_due

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


@dataclass(frozen=True)
class BenchStore:
    """A store file and the environment that points every azctx variable at it."""

    path: Path
    env: dict[str, str]

    @property
    def environ(self) -> dict[str, str]:
        return self.env


def context_names() -> list[str]:
    return [sub.name for sub in subscriptions()]


def make_env(root: Path, key: str | None = None) -> dict[str, str]:
    """A copy of os.environ whose azctx variables all point inside ``root``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZCTX_")}
    env.update(
        {
            "AZCTX_DATA_DIR": str(root / "data"),
            "AZCTX_CONFIG_DIR": str(root / "config"),
            "AZCTX_STORE": str(root / "store.db"),
            "AZCTX_KEY": key or base64.b64encode(secrets.token_bytes(32)).decode(),
        }
    )
    return env


def new_store(root: Path) -> BenchStore:
    root.mkdir(parents=True, exist_ok=True)
    env = make_env(root)
    return BenchStore(Path(env["AZCTX_STORE"]), env)


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
        return self.period[index % PERIOD][0].model_copy(update={"time": _time(index)})

    def state(self, index: int) -> State:
        """The state after operation ``index``."""
        if index < len(self.prefix):
            return self.prefix[index][1]
        return self.period[index % PERIOD][1].model_copy(update={"seq": index + 1})


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
        if now[0].model_copy(update={"time": before[0].time}) != before[0]:
            raise AssertionError(f"synthetic history is not periodic at {index}")
        if now[1].model_copy(update={"seq": before[1].seq}) != before[1]:
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
                        payload = cycle.state(seq - 1).model_dump_json().encode()
                        log.save_snapshot(seq, PROJECTION_VERSION, payload)
                        last_snapshot = seq
        return seq
