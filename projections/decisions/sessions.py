"""The decisions on sessions, autosave and the master key: ``session start|end``,
``autosave enable|disable``, ``key rotate``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from azctx.events import (
    USER,
    AutosaveSet,
    BadInput,
    Change,
    EndReason,
    KeyRotated,
    Refused,
    SessionEnded,
    SessionStarted,
    autosave_change,
    default_change,
    is_session_id,
)
from azctx.events.records import Record
from azctx.events.rules import shown
from azctx.projections.decisions.decision import (
    START_HINT,
    Decision,
    check_scope,
    event,
    live_session,
)
from azctx.projections.state import State
from azctx.projections.view import Caller, session_status, view


def decide_autosave(
    state: State, caller: Caller, enabled: bool, scope: str | None = None
) -> Decision:
    check_scope(scope)
    target = live_session(state, caller) if scope == "process" else USER
    change = autosave_change(target, state.scope(target).autosave, enabled)
    return Decision(event(caller, target, AutosaveSet(enabled), [change]))


class Shell(Record):
    """The shell a session lives in: its process mark and its kind."""

    mark: str
    name: str


def decide_session_start(
    state: State,
    caller: Caller,
    *,
    session_id: str,
    expires: datetime,
    shell: Shell | None = None,
    parent: str | None = None,
) -> Decision:
    """A new session. Started inside a shell whose own session is live, it starts
    from that session's default (then each goes its own way). ``parent`` names that
    session where the caller's environment cannot (a tmux pane is started by the tmux
    server, not by the pane it was split from)."""
    if parent is not None and is_session_id(parent):
        caller = caller._replace(session=parent)
    if not is_session_id(session_id):
        raise BadInput(f"not a session id: {shown(session_id)}")
    if session_id in state.sessions:
        raise Refused(f"session {session_id} already exists")
    if expires <= caller.time:
        raise BadInput("a session must expire in the future")
    if shell is not None:
        refuse_second_session(state, caller, shell.mark)
    parent = caller.session if session_status(state, caller) == "live" else None
    changes, notes = _inherited(state, caller, session_id) if parent else ([], ())
    op = SessionStarted(
        session_id,
        expires,
        None if shell is None else shell.mark,
        None if shell is None else shell.name,
        parent,
    )
    decided = event(caller, session_id, op, changes)._replace(session=session_id)
    return Decision(decided, notes)


def own_session(state: State, caller: Caller, mark: str) -> str | None:
    """The caller's live session when it is the one of the shell ``mark`` names."""
    info = state.sessions.get(caller.session) if caller.session else None
    if info is None or session_status(state, caller) != "live" or info.shell != mark:
        return None
    return info.id


def refuse_second_session(state: State, caller: Caller, mark: str) -> None:
    own = own_session(state, caller, mark)
    if own is not None:
        raise Refused(
            f"this shell already has session {own}; nothing started",
            hint="azctx session start --new ends it and starts another",
        )


def _inherited(
    state: State, caller: Caller, session_id: str
) -> tuple[list[Change], tuple[str, ...]]:
    """The parent shell's default, as the new session's own, when the new session can
    see it (a context of the parent's own session is not handed on: its secret dies with
    the parent)."""
    name = view(state, caller).default
    if name is None:
        return [], ()
    fresh = view(state, caller._replace(session=None, run_context=None)).get(name)
    if fresh is None:
        return [], (
            f"note: the parent shell's default '{name}' belongs to its session only; "
            "this shell starts on the saved default",
        )
    return [default_change(session_id, None, fresh.context.name)], ()


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
