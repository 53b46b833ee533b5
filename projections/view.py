"""What a caller sees (SPEC §2): the user scope, if autosave is on, overlaid with the
caller's own live session's process scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from azctx.events import Actor, Context, Credential, account_key, name_key

from .state import ScopeState, State

SessionStatus = Literal["none", "live", "ended", "unknown", "expired"]
AutosaveSource = Literal["env", "process", "user", "default"]


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
    if caller.session is None:
        return "none"
    info = state.sessions.get(caller.session)
    if info is None:
        return "unknown"
    if info.ended:
        return "ended"
    if info.expires <= caller.time:
        return "expired"
    return "live"


def live_process(state: State, caller: Caller) -> ScopeState | None:
    """The caller's process scope, if its session is live."""
    if caller.session is None or session_status(state, caller) != "live":
        return None
    return state.scope(caller.session)


def autosave(state: State, caller: Caller) -> tuple[bool, AutosaveSource]:
    if caller.autosave_env is not None:
        return caller.autosave_env, "env"
    process = live_process(state, caller)
    if process is not None and process.autosave is not None:
        return process.autosave, "process"
    if state.user.autosave is not None:
        return state.user.autosave, "user"
    return True, "default"


def _credential(
    found: Credential | None, fallback: Credential | None, shredded: frozenset[str]
) -> Credential | None:
    for cred in (found, fallback):
        # A credential whose data key was destroyed can never be read again.
        if cred is not None and cred.key_id not in shredded:
            return cred
    return None


def view(state: State, caller: Caller) -> View:
    saved, _ = autosave(state, caller)
    process = live_process(state, caller)
    found: dict[str, tuple[Context, Literal["user", "process"]]] = {}
    if saved:
        hidden = process.hidden if process is not None else frozenset()
        for key, ctx in state.user.contexts.items():
            if key not in hidden:
                found[key] = (ctx, "user")
    if process is not None:
        for key, ctx in process.contexts.items():
            found[key] = (ctx, "process")

    default_key: str | None = None
    candidates = (
        process.default if process is not None else None,
        state.user.default if saved else None,
    )
    for name in candidates:
        if name is not None and name_key(name) in found:
            default_key = name_key(name)
            break

    items = []
    for key in sorted(found):
        ctx, scope = found[key]
        account = account_key(ctx.account)
        cred = _credential(
            process.credentials.get(account) if process is not None else None,
            state.user.credentials.get(account) if saved else None,
            state.shredded,
        )
        items.append(
            ViewContext(
                context=ctx,
                scope=scope,
                default=key == default_key,
                credential="none" if cred is None else "stored",
                credential_obj=cred,
            )
        )
    default = found[default_key][0].name if default_key is not None else None
    return View(contexts=tuple(items), default=default)
