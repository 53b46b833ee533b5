"""The decisions on sessions, autosave and the master key: ``session start|end``,
``autosave enable|disable``, ``key rotate``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from azctx.events import (
    USER,
    AutosaveSet,
    BadInput,
    EndReason,
    KeyRotated,
    Refused,
    SessionEnded,
    SessionStarted,
    autosave_change,
    is_session_id,
)
from azctx.events.rules import shown
from azctx.projections.decisions.decision import (
    START_HINT,
    Decision,
    check_scope,
    event,
    live_session,
)
from azctx.projections.state import State
from azctx.projections.view import Caller


def decide_autosave(
    state: State, caller: Caller, enabled: bool, scope: str | None = None
) -> Decision:
    check_scope(scope)
    target = live_session(state, caller) if scope == "process" else USER
    change = autosave_change(target, state.scope(target).autosave, enabled)
    return Decision(event(caller, target, AutosaveSet(enabled), [change]))


def decide_session_start(
    state: State, caller: Caller, *, session_id: str, expires: datetime
) -> Decision:
    if not is_session_id(session_id):
        raise BadInput(f"not a session id: {shown(session_id)}")
    if session_id in state.sessions:
        raise Refused(f"session {session_id} already exists")
    if expires <= caller.time:
        raise BadInput("a session must expire in the future")
    op = SessionStarted(session_id, expires)
    return Decision(event(caller, session_id, op)._replace(session=session_id))


def decide_session_end(
    state: State,
    caller: Caller,
    *,
    session_id: str,
    key_ids: Sequence[str] = (),
    reason: EndReason = "ended",
) -> Decision:
    info = state.sessions.get(session_id)
    if info is None:
        raise Refused(f"session {session_id} is unknown", hint=START_HINT)
    if info.ended:
        raise Refused(f"session {session_id} has already ended", hint=START_HINT)
    shredded = tuple(k for k in key_ids if k not in state.shredded)
    decided = event(caller, session_id, SessionEnded(session_id, reason))
    decided = decided._replace(session=session_id, shredded=shredded)
    notes: tuple[str, ...] = ()
    if reason == "ended" and info.expires <= caller.time:
        notes = (f"note: session {session_id} had already expired",)
    return Decision(decided, notes)


def decide_key_rotate(state: State, caller: Caller, *, master_key_id: str) -> Decision:
    return Decision(event(caller, USER, KeyRotated(master_key_id)))
