"""``azctx select NAME`` decided on the plain state, without pydantic.

A shell switches contexts as often as it shows them, so ``select NAME`` gets the lean
path of the prompt commands (``plain.py``): this is ``decide.decide_select`` for a
caller that names no ``--scope``, producing the same event as ``codec.encode`` would
(same fields, same order, same JSON), and the same notes. Whatever it does not decide
itself (a refusal, sessions to expire first) it leaves to the model path by raising
``plain.Unreadable``, which then decides, and reports, exactly as it always does.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, NamedTuple

from azctx.events.names import USER, name_key

from . import overlay
from .plain import PlainCaller, PlainContext, PlainState, Unreadable


class PlainActor(NamedTuple):
    user: str
    host: str
    pid: int


class PlainSelect(NamedTuple):
    """The decided select: the event's clear columns and encoded bytes, and its notes."""

    name: str
    scope: str
    session: str | None
    time: datetime
    payload: bytes
    notes: tuple[str, ...]


def event_time(time: datetime) -> str:
    """An aware time as the event encoder writes it (``...T03:04:05.000006Z`` in UTC,
    the offset otherwise)."""
    text = time.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _encode(fields: dict[str, Any]) -> bytes:
    # The encoder's JSON: compact, and UTF-8 text left as it is.
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()


def _find(state: PlainState, caller: PlainCaller, name: str) -> tuple[str, PlainContext]:
    """``decide.resolve_scope`` and ``decide._find`` for a select without ``--scope``:
    the target scope key and the context. Refusals are the model path's to word."""
    key = name_key(name)
    session = _live_session(state, caller)
    process = None if session is None else state.process.get(session)
    saved, _ = overlay.autosave(caller.autosave_env, process, state.user)
    seen = overlay.visible(state.user, process, saved, key)
    if session is not None and seen is not None and (seen[1] == "process" or not saved):
        return session, seen[0]
    found = state.user.contexts.get(key) if saved else None
    if found is None:
        raise Unreadable("a refusal: the model path words it")
    return USER, found


def _live_session(state: PlainState, caller: PlainCaller) -> str | None:
    status = overlay.session_status(state.sessions, caller.session, caller.time)
    return caller.session if status == "live" else None


def _notes(state: PlainState, caller: PlainCaller, target: str, name: str) -> tuple[str, ...]:
    """``decide._user_select_notes``."""
    session = _live_session(state, caller)
    if target != USER or session is None:
        return ()
    process = state.scope(session)
    saved, _ = overlay.autosave(caller.autosave_env, process, state.user)
    return overlay.select_notes(state.user, process, saved, session, name)


def sessions_to_expire(state: PlainState, caller: PlainCaller) -> bool:
    """Whether a write now must first end sessions past their ttl (the model path's
    ``_expire_sessions`` appends those events)."""
    return any(not s.ended and s.expires <= caller.time for s in state.sessions.values())


def decide_select(
    state: PlainState, caller: PlainCaller, actor: PlainActor, name: str
) -> PlainSelect:
    """The select of ``name`` as ``decide.decide_select(state, caller, name)`` makes it;
    ``Unreadable`` for anything the model path must decide."""
    if sessions_to_expire(state, caller):
        raise Unreadable("sessions to expire first")
    target, found = _find(state, caller, name)
    before = state.scope(target).default
    scope = USER if target == USER else "process"
    changes = []
    if before != found.name:
        changes.append(
            {"type": "default", "scope": target, "key": "", "before": before, "after": found.name}
        )
    payload = _encode(
        {
            "v": 1,
            "time": event_time(caller.time),
            "actor": {"user": actor.user, "host": actor.host, "pid": actor.pid},
            "scope": scope,
            "session": caller.session,
            "changes": changes,
            "shredded": [],
            "type": "select",
            "name": found.name,
            "previous": False,
        }
    )
    notes = _notes(state, caller, target, found.name)
    return PlainSelect(found.name, scope, caller.session, caller.time, payload, notes)
