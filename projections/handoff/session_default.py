"""What a session's Azure CLI directory names: the default context of the
session's view, read from a state. Pure; ``azctx.store.azcli.sessions`` writes it."""

from __future__ import annotations

from datetime import datetime

from azctx.events import Actor, Context, Credential, Environment, name_key
from azctx.events.records import Record
from azctx.projections.state import State
from azctx.projections.view import Caller, environments, view

#: The view of another shell's session is read without that shell's AZCTX_AUTOSAVE.
_NOBODY = Actor(user="", host="", pid=0)


class SessionDefault(Record):
    """The session's default context, its credential and its custom cloud (if any)."""

    context: Context
    credential: Credential | None
    environment: Environment | None


def live_sessions(state: State, now: datetime) -> list[str]:
    """Sessions that are neither ended nor past their ttl."""
    return [sid for sid, info in state.sessions.items() if not info.ended and info.expires > now]


def open_sessions(state: State) -> list[str]:
    """Sessions not ended yet (some may be past their ttl, to be ended by a write)."""
    return [sid for sid, info in state.sessions.items() if not info.ended]


def session_default(state: State, session: str, now: datetime) -> SessionDefault | None:
    """What the session sees as its default, or None (no default, or not live)."""
    caller = Caller(actor=_NOBODY, time=now, session=session)
    shown = view(state, caller)
    item = shown.default_context
    if item is None:
        return None
    return SessionDefault(
        item.context,
        item.credential_obj,
        environments(state, caller).get(name_key(item.context.environment)),
    )


def prompt_text(choice: SessionDefault | None) -> str:
    """The line a shell's prompt segment shows: the default context's name, marked with
    ``!`` in front (the mark ``list`` uses) when it is protected; empty with no default."""
    if choice is None:
        return ""
    return f"!{choice.context.name}" if choice.context.protected else choice.context.name
