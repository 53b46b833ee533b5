"""The pydantic-free reader of the present view (projections/plain.py, store/quick.py)
shows exactly what the pydantic projections show.

Random operation histories come from the model-based machine of tests/test_model.py;
after every step, the plain fold of the encoded events (from nothing, and from a JSON
snapshot of a prefix plus the tail) must give the view that ``view.view`` gives, for
callers without a session, in a live, an ended and an unknown session, after expiry,
and with ``AZCTX_AUTOSAVE`` on and off. Then the same on a real store, through
``quick_view``, against ``ContextStore.view()``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from azctx.events import BadInput, encode
from azctx.events.codec import _CURRENT
from azctx.projections import plain
from azctx.projections.state import PROJECTION_VERSION, State, replay
from azctx.projections.view import Caller, session_status, view
from azctx.store import quick, schedule
from azctx.store.context_store import ContextStore
from hypothesis import HealthCheck, settings
from hypothesis.stateful import invariant
from test_model import ProjectionMachine


def plain_of(caller: Caller) -> plain.PlainCaller:
    return plain.PlainCaller(
        time=caller.time, session=caller.session, autosave_env=caller.autosave_env
    )


class PlainMachine(ProjectionMachine):
    def callers(self) -> list[Caller]:
        """No session, sessions A and B (live or ended), an unknown session, each with
        AZCTX_AUTOSAVE unset, on and off, and all of them after the sessions expired."""
        base = [self.caller(slot) for slot in (None, "A", "B")]
        base.append(replace(base[0], session="s-unknown"))
        every = [replace(c, autosave_env=env) for c in base for env in (None, True, False)]
        return every + [replace(c, time=c.time + timedelta(days=60)) for c in base]

    @invariant()
    def plain_view_agrees(self) -> None:
        payloads = [(seq, encode(event)) for seq, event in self.log]
        split = (len(payloads) * 2) // 3
        prefix = replay(State(), self.log[:split])
        # What the store saves as a snapshot, then the tail as the store reads it.
        from_snapshot = plain.from_snapshot(prefix.model_dump_json().encode())
        from_zero = plain.PlainState()
        for seq, payload in payloads[split:]:
            plain.apply(from_snapshot, seq, payload)
        for seq, payload in payloads:
            plain.apply(from_zero, seq, payload)
        assert from_snapshot == from_zero
        for caller in self.callers():
            expected = quick.plain_rows(view(self.state, caller))
            assert plain.view(from_zero, plain_of(caller)) == expected, caller
            status = plain.session_status(from_zero, plain_of(caller))
            assert status == session_status(self.state, caller)

    @invariant()
    def a_shredded_key_reads_as_no_credential(self) -> None:
        """Operations drop a credential with its key; a snapshot can still hold one
        whose key was destroyed (by a session's end, or an undo), and shows none."""
        scopes = (self.state.user, *self.state.process.values())
        keys = sorted({c.key_id for s in scopes for c in s.credentials.values()})
        state = self.state.model_copy(
            update={"shredded": self.state.shredded | frozenset(keys[::2])}
        )
        folded = plain.from_snapshot(state.model_dump_json())
        for caller in self.callers():
            expected = quick.plain_rows(view(state, caller))
            assert plain.view(folded, plain_of(caller)) == expected, caller


PlainMachine.TestCase.settings = settings(
    max_examples=30,
    stateful_step_count=30,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestPlainView = PlainMachine.TestCase


def test_the_reader_folds_the_versions_the_codec_writes() -> None:
    assert plain.EVENT_VERSIONS == _CURRENT
    assert PROJECTION_VERSION == plain.PROJECTION_VERSION


@pytest.mark.parametrize(
    "payload",
    [
        b'{"type": "add", "v": 2, "changes": []}',  # a newer (or older) version
        b'{"type": "teleport", "changes": []}',
        b'{"type": "add", "changes": [{"type": "weather", "scope": "user", "after": 1}]}',
        b'{"type": "add", "changes": [{"type": "default", "scope": "user", "after": 5}]}',
        b'{"type": "session-start", "session_id": "s-1", "expires": "soon"}',
        b"[1, 2]",
        b"not json",
    ],
)
def test_what_the_reader_does_not_know_is_unreadable(payload: bytes) -> None:
    with pytest.raises(plain.Unreadable):
        plain.apply(plain.PlainState(), 1, payload)


@pytest.mark.parametrize(
    "text",
    ['{"seq": 1, "extra": 1}', '{"seq": "1"}', '{"user": {"contexts": {"a": {"name": "a"}}}}'],
)
def test_a_snapshot_in_another_shape_is_unreadable(text: str) -> None:
    with pytest.raises(plain.Unreadable):
        plain.from_snapshot(text)


# --- on a real store ------------------------------------------------------------------


def busy_store(path: Path, environ: dict[str, str]) -> tuple[str, str]:
    """A store with user and session contexts, credentials, a hidden name, a shredded
    key and snapshots; returns a live and an ended session id."""
    with ContextStore(path, environ=environ) as store:
        store.add(account="ann@x.org", tenant="t", subscription="1", name="dev")
        store.add(account="app@x.org", tenant="t", subscription="2", name="ci", secret="s")
        live = store.start_session().session_id
        ended = store.start_session().session_id
    in_live = {**environ, "AZCTX_SESSION": live}
    with ContextStore(path, environ=in_live) as store:
        mine = {"tenant": "t", "scope": "process"}
        store.add(account="bob@x.org", subscription="3", name="mine", secret="x", **mine)
        store.remove("dev", force=True, scope="process")  # hidden in this session
        store.add(account="app@x.org", subscription="4", name="ci2", secret="y", **mine)
    with ContextStore(path, environ={**environ, "AZCTX_SESSION": ended}) as store:
        store.add(account="eve@x.org", tenant="t", subscription="5", name="gone", scope="process")
        store.end_session()
    with ContextStore(path, environ=environ) as store:
        store.add(account="carl@x.org", tenant="t", subscription="6", name="ops", secret="z")
        store.disconnect("carl@x.org")
        store.undo()  # 'ops' is back, its credential's key stays destroyed
        store.add(account="ann@x.org", tenant="t", subscription="7", name="Dev2")
        store.select("ci")
    return live, ended


Read = tuple[plain.PlainView, list[str]]


def read_both(path: Path, environ: dict[str, str]) -> tuple[Read, Read]:
    """The view and the warnings through ``quick_view``, then through the store."""
    quick_warnings: list[str] = []
    shown = quick.quick_view(path, environ, quick_warnings.append)
    warnings: list[str] = []
    with ContextStore(path, environ=environ, on_warning=warnings.append) as store:
        expected = quick.plain_rows(store.view())
    return (shown, quick_warnings), (expected, warnings)


@pytest.mark.parametrize("every", [3, 1000])  # with snapshots, and without
def test_quick_view_equals_the_store_view(
    tmp_path: Path, environ: dict[str, str], monkeypatch: pytest.MonkeyPatch, every: int
) -> None:
    monkeypatch.setattr(schedule, "SNAPSHOT_EVERY", every)
    path = tmp_path / "store.db"
    live, ended = busy_store(path, environ)
    seen = set()
    for session in (None, live, ended, "s-0123456789abcdef"):
        for autosave in (None, "true", "false"):
            env = dict(environ)
            if session is not None:
                env["AZCTX_SESSION"] = session
            if autosave is not None:
                env["AZCTX_AUTOSAVE"] = autosave
            got, expected = read_both(path, env)
            assert got == expected, (session, autosave)
            seen.add(got[0])
    assert len(seen) >= 4  # the callers do see different things


def test_a_log_the_reader_cannot_fold_is_read_through_the_models(
    tmp_path: Path, environ: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "store.db"
    live, _ = busy_store(path, environ)
    env = {**environ, "AZCTX_SESSION": live}
    monkeypatch.setattr(plain, "EVENT_VERSIONS", {})  # as if every event were newer
    got, expected = read_both(path, env)
    assert got == expected
    assert got[0].contexts


def test_a_bad_autosave_value_is_refused_before_the_store_is_opened(
    tmp_path: Path, environ: dict[str, str]
) -> None:
    path = tmp_path / "store.db"
    with pytest.raises(BadInput):
        quick.quick_view(path, {**environ, "AZCTX_AUTOSAVE": "maybe"})
    assert not path.exists()
    quick.quick_view(path, {**environ, "AZCTX_AUTOSAVE": "false"})
    assert not path.exists()  # a read never creates a store: only the first write does
