"""What a caller sees (SPEC §2): the user scope, if autosave is on, overlaid with the
caller's own live session's process scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from azctx.events import Actor, Context, Credential, name_key

from . import overlay
from .overlay import AutosaveSource, SessionStatus
from .state import ScopeState, State


@dataclass(frozen=True)
class Caller:
    """Who asks, when, from which session, with which ``AZCTX_AUTOSAVE``."""

    actor: Actor
    time: datetime
    session: str | None = None
    autosave_env: bool | None = None


@dataclass(frozen=True)
class ViewContext:
    context: Context
    scope: Literal["user", "process"]
    default: bool
    credential: Literal["stored", "none"]
    credential_obj: Credential | None


@dataclass(frozen=True)
class View:
    contexts: tuple[ViewContext, ...]
    default: str | None

    def get(self, name: str) -> ViewContext | None:
        """The context of that name, compared case-insensitively."""
        key = name_key(name)
        for item in self.contexts:
            if name_key(item.context.name) == key:
                return item
        return None

    @property
    def default_context(self) -> ViewContext | None:
        return None if self.default is None else self.get(self.default)


def session_status(state: State, caller: Caller) -> SessionStatus:
    return overlay.session_status(state.sessions, caller.session, caller.time)


def live_process(state: State, caller: Caller) -> ScopeState | None:
    """The caller's process scope, if its session is live."""
    if caller.session is None or session_status(state, caller) != "live":
        return None
    return state.scope(caller.session)


def autosave(state: State, caller: Caller) -> tuple[bool, AutosaveSource]:
    return overlay.autosave(caller.autosave_env, live_process(state, caller), state.user)


def seen(
    state: State, caller: Caller, name: str
) -> tuple[Context, Literal["user", "process"]] | None:
    """``view(state, caller).get(name)``'s context and scope, without the whole view."""
    process = live_process(state, caller)
    saved, _ = overlay.autosave(caller.autosave_env, process, state.user)
    return overlay.visible(state.user, process, saved, name_key(name))


def view(state: State, caller: Caller) -> View:
    process = live_process(state, caller)
    saved, _ = overlay.autosave(caller.autosave_env, process, state.user)
    shown, default = overlay.overlay(
        state.user, process, saved, state.shredded, lambda cred: cred.key_id
    )
    items = tuple(
        ViewContext(
            context=item.context,
            scope=item.scope,
            default=item.default,
            credential="none" if item.credential is None else "stored",
            credential_obj=item.credential,
        )
        for item in shown
    )
    return View(contexts=items, default=default)
