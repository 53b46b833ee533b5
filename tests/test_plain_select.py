"""The pydantic-free ``select NAME`` (projections/plain_select.py, store/quick.py) makes
exactly the event the models make, byte for byte, with the same notes, and leaves to
the models everything it does not decide.

Random histories come from the model-based machine of tests/test_model.py: after every
step, for callers without a session, in live, ended and unknown sessions, after expiry
and with ``AZCTX_AUTOSAVE`` on and off, and for every name the machine uses, the plain
decision must equal ``decide.decide_select`` encoded, or be handed to the models
(``Unreadable``) exactly when the models refuse or sessions must expire first.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from azctx.events import Actor, AzctxError, DefaultSelected, decode, encode
from azctx.projections import decide as d
from azctx.projections import plain, plain_select
from azctx.projections.state import State, replay
from azctx.projections.view import Caller, seen, view
from azctx.store import quick, schedule
from azctx.store.context_store import ContextStore
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import invariant
from test_model import NAMES, ProjectionMachine
from test_plain import busy_store, plain_of


def plain_actor(caller: Caller) -> plain_select.PlainActor:
    return plain_select.PlainActor(caller.actor.user, caller.actor.host, caller.actor.pid)


class SelectMachine(ProjectionMachine):
    def callers(self) -> list[Caller]:
        base = [self.caller(slot) for slot in (None, "A", "B")]
        base.append(replace(base[0], session="s-unknown"))
        every = [replace(c, autosave_env=env) for c in base for env in (None, False)]
        return every + [replace(c, time=c.time + timedelta(days=60)) for c in base[1:3]]

    @invariant()
    def plain_select_agrees(self) -> None:
        folded = plain.PlainState()
        for seq, event in self.log:
            plain.apply(folded, seq, encode(event))
        names = {c.name for s in (self.state.user, *self.state.process.values()) for c in
                 s.contexts.values()}  # fmt: skip
        for caller in self.callers():
            for name in sorted(names) + [n for n in NAMES if n not in names]:
                self._agrees(folded, caller, name)

    @invariant()
    def one_name_is_seen_as_in_the_view(self) -> None:
        for caller in self.callers():
            shown = view(self.state, caller)
            for name in NAMES:
                item = shown.get(name)
                expected = None if item is None else (item.context, item.scope)
                assert seen(self.state, caller, name) == expected, (caller, name)

    def _agrees(self, folded: plain.PlainState, caller: Caller, name: str) -> None:
        try:
            expected = d.decide_select(self.state, caller, name)
        except AzctxError:
            expected = None
        try:
            got = plain_select.decide_select(folded, plain_of(caller), plain_actor(caller), name)
        except plain.Unreadable:
            must_expire = plain_select.sessions_to_expire(folded, plain_of(caller))
            assert expected is None or must_expire, (caller, name)
            return
        assert expected is not None, (caller, name)
        assert got.payload == encode(expected.event), (caller, name)
        assert got.notes == expected.notes
        assert (got.name, got.scope, got.session) == (
            expected.event.subject,
            expected.event.scope,
            expected.event.session,
        )


SelectMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=25,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestPlainSelect = SelectMachine.TestCase


def test_notes_are_compared_where_there_are_some(tmp_path: Path) -> None:
    """The machine's equality of notes means something: a real case has one."""
    environ = {**os.environ, "AZCTX_KEY_FILE": str(tmp_path / "k"), "AZCTX_DATA_DIR": str(tmp_path)}
    live, _ = busy_store(tmp_path / "s.db", environ)
    in_live = {**environ, "AZCTX_SESSION": live}
    with ContextStore(tmp_path / "s.db", environ=in_live) as store:
        store.select("mine", scope="process")
    assert quick.quick_select(tmp_path / "s.db", in_live, "ci").notes == (
        f"hint: session {live} has its own default 'mine', which wins in this session "
        "(azctx select NAME --scope process changes it)",
    )
    # 'dev' was removed in that session: selecting it for the user says so, both ways.
    hidden = (f"hint: 'dev' is hidden in session {live} (removed there)",)
    assert quick.quick_select(tmp_path / "s.db", in_live, "dev").notes == hidden
    with ContextStore(tmp_path / "s.db", environ=in_live) as store:
        assert store.select("dev", scope="user").notes == hidden


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30))]),
    )
)
def test_event_time_is_written_as_the_encoder_writes_it(moment: datetime) -> None:
    event = DefaultSelected(
        time=moment, actor=Actor(user="u", host="h", pid=1), scope="user", name="n"
    )
    assert f'"time":"{plain_select.event_time(moment)}"'.encode() in encode(event)


# --- on a real store ------------------------------------------------------------------


def _replayed(path: Path, environ: dict[str, str]) -> State:
    with ContextStore(path, environ=environ) as store:
        return store.state()


def _events(path: Path, environ: dict[str, str]) -> list[tuple[int, object]]:
    from azctx.store import open_log

    with open_log(path, environ=environ) as log:
        return [(e.seq, decode(e.payload)) for e in log.entries()]


def test_quick_select_appends_what_the_store_would(tmp_path: Path, environ: dict[str, str]) -> None:
    path = tmp_path / "store.db"
    busy_store(path, environ)
    head = _replayed(path, environ).seq
    result = quick.quick_select(path, environ, "DEV2")
    assert (result.seq, result.name, result.notes) == (head + 1, "Dev2", ())
    assert result.summary == f"default context is now 'Dev2' (operation {head + 1})"
    seq, event = _events(path, environ)[-1]
    assert seq == head + 1 and isinstance(event, DefaultSelected)
    assert event.name == "Dev2" and event.scope == "user"
    with ContextStore(path, environ=environ) as store:
        assert store.current() == "Dev2"
        assert store.state() == replay(State.empty(), _events(path, environ))  # type: ignore[arg-type]
        assert store.verify().count == head + 1


def test_a_refusal_is_the_models_and_writes_nothing(
    tmp_path: Path, environ: dict[str, str]
) -> None:
    path = tmp_path / "store.db"
    busy_store(path, environ)
    head = _replayed(path, environ).seq
    with pytest.raises(AzctxError, match="no context named 'nope'"):
        quick.quick_select(path, environ, "nope")
    assert _replayed(path, environ).seq == head


def test_expired_sessions_end_first_through_the_models(
    tmp_path: Path, environ: dict[str, str]
) -> None:
    path = tmp_path / "store.db"
    with ContextStore(path, environ=environ) as store:
        store.add(account="ann@x.org", tenant="t", subscription="1", name="dev")
        store.start_session("1s")
    time.sleep(1.1)  # the session's ttl passes
    result = quick.quick_select(path, environ, "dev")
    kinds = [type(e).__name__ for _, e in _events(path, environ)[-2:]]
    assert kinds == ["SessionEnded", "DefaultSelected"]
    assert result.seq == _replayed(path, environ).seq


@pytest.mark.parametrize("every", [4, 5, 7])
def test_snapshots_keep_their_schedule_when_selects_go_the_quick_way(
    tmp_path: Path, environ: dict[str, str], monkeypatch: pytest.MonkeyPatch, every: int
) -> None:
    monkeypatch.setattr(schedule, "SNAPSHOT_EVERY", every)
    path = tmp_path / "store.db"
    with ContextStore(path, environ=environ) as store:
        store.add(account="ann@x.org", tenant="t", subscription="1", name="a")
        store.add(account="ann@x.org", tenant="t", subscription="2", name="b")
    for index in range(3 * every):
        quick.quick_select(path, environ, "ab"[index % 2])
    head = _replayed(path, environ).seq
    con = sqlite3.connect(path)
    seqs = [s for (s,) in con.execute("SELECT seq FROM snapshots ORDER BY seq")]
    con.close()
    assert seqs == list(range(every, head + 1, every))
    with ContextStore(path, environ=environ) as store:
        assert store.state() == replay(State.empty(), _events(path, environ))  # type: ignore[arg-type]
