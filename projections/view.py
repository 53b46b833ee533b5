"""What a caller sees: the user scope, if autosave is on, overlaid with the
caller's own live session's process scope; session status and autosave precedence."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from azctx.events import (
    Actor,
    Context,
    Credential,
    Environment,
    Refused,
    account_key,
    check_name,
    name_key,
)
from azctx.events.records import Record
from azctx.projections.state import ScopeState, State

SessionStatus = Literal["none", "live", "ended", "unknown", "expired"]
AutosaveSource = Literal["env", "process", "user", "default"]
Where = Literal["user", "process"]


class Caller(Record):
    """Who asks, when, from which session, with which ``AZCTX_AUTOSAVE``, and inside
    which ``azctx run`` (the context it runs as, from ``AZCTX_CONTEXT``)."""

    actor: Actor
    time: datetime
    session: str | None = None
    autosave_env: bool | None = None
    run_context: str | None = None


class ViewContext(Record):
    context: Context
    scope: Where
    default: bool
    credential: Literal["stored", "none"]
    credential_obj: Credential | None


class View(Record):
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

    def pick(self, name: str | None) -> ViewContext:
        """The context ``name`` looks up (``lookup``), or the default: a refusal when
        there is none. An invalid ``name`` is bad input, also where it is only looked
        up (``show``, ``run --context``, ``export --context``)."""
        if name is None:
            if self.default is None:
                raise Refused("there is no default context", hint="azctx select NAME")
            name = self.default
        found = lookup((i.context for i in self.contexts), name)
        item = self.get(found.name)
        assert item is not None  # lookup chose it among these contexts
        return item

    def matching(self, pattern: str) -> tuple[ViewContext, ...]:
        """The contexts whose names match the glob ``pattern`` (any case), by name."""
        from fnmatch import fnmatchcase  # imports re: not on the prompt path

        wanted = name_key(pattern)
        return tuple(i for i in self.contexts if fnmatchcase(name_key(i.context.name), wanted))


def lookup(contexts: Iterable[Context], name: str, where: str = "") -> Context:
    """The one context ``name`` means: the context of that name (any case), else the
    only one with that subscription id, else the only one with that subscription name
    (any case), as ``az account set --subscription`` takes either. Unknown or
    ambiguous is a refusal naming the closest names; ``where`` ends its message."""
    check_name(name)
    pool = tuple(contexts)
    key = name_key(name)
    for item in pool:
        if name_key(item.name) == key:
            return item
    for field in ("subscription", "subscription_name"):
        hits = [c for c in pool if name_key(getattr(c, field) or "") == key]
        if len(hits) == 1:
            return hits[0]
        if hits:
            listed = ", ".join(f"'{c.name}'" for c in sorted(hits, key=lambda c: name_key(c.name)))
            label = field.replace("_", " ")
            raise Refused(
                f"'{name}' is the {label} of {len(hits)} contexts{where}: {listed}",
                hint="name one of them",
            )
    raise Refused(f"no context named '{name}'{where}", hint=_closest(pool, name))


def _closest(pool: tuple[Context, ...], name: str) -> str:
    import difflib  # only a name that is not found pays for it

    names = {name_key(c.name): c.name for c in pool}
    close = difflib.get_close_matches(name_key(name), list(names), n=3, cutoff=0.6)
    if not close:
        return "see 'azctx list'"
    return "did you mean " + " or ".join(f"'{names[k]}'" for k in close) + "?"


def whose_default(state: State, caller: Caller) -> str:
    """How a message names the default the caller sees: "this shell's default" in a
    shell with its own live session, else "the default"."""
    return "this shell's default" if session_status(state, caller) == "live" else "the default"


def session_status(state: State, caller: Caller) -> SessionStatus:
    session = caller.session
    if session is None:
        return "none"
    info = state.sessions.get(session)
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


def _autosave(
    env: bool | None, process: ScopeState | None, user: ScopeState
) -> tuple[bool, AutosaveSource]:
    """``AZCTX_AUTOSAVE``, else the live session's setting, else the user's, else on."""
    if env is not None:
        return env, "env"
    if process is not None and process.autosave is not None:
        return process.autosave, "process"
    if user.autosave is not None:
        return user.autosave, "user"
    return True, "default"


def autosave(state: State, caller: Caller) -> tuple[bool, AutosaveSource]:
    return _autosave(caller.autosave_env, live_process(state, caller), state.user)


def _visible(
    user: ScopeState, process: ScopeState | None, saved: bool, key: str
) -> tuple[Context, Where] | None:
    if process is not None and key in process.contexts:
        return process.contexts[key], "process"
    if saved and key in user.contexts and (process is None or key not in process.hidden):
        return user.contexts[key], "user"
    return None


def seen(state: State, caller: Caller, name: str) -> tuple[Context, Where] | None:
    """The context the caller sees under ``name``, and its scope: what the view shows
    under that name, without building the whole view."""
    process = live_process(state, caller)
    saved, _ = _autosave(caller.autosave_env, process, state.user)
    return _visible(state.user, process, saved, name_key(name))


def select_notes(state: State, caller: Caller, name: str) -> tuple[str, ...]:
    """What a user-scope select of ``name`` says when the caller's live
    session would not show it as the default."""
    process = live_process(state, caller)
    if process is None or caller.session is None:
        return ()
    key = name_key(name)
    if key in process.hidden:
        return (f"hint: '{name}' is hidden in session {caller.session} (removed there)",)
    saved, _ = _autosave(caller.autosave_env, process, state.user)
    # The session's default wins only while the session sees it.
    own = None
    if process.default is not None:
        own = _visible(state.user, process, saved, name_key(process.default))
    if own is not None and name_key(own[0].name) != key:
        return (
            f"hint: session {caller.session} has its own default '{own[0].name}', "
            "which wins in this shell (azctx select NAME without --scope changes it)",
        )
    return ()


def _found(user: ScopeState, process: ScopeState | None, saved: bool) -> dict[str, ViewContext]:
    """The contexts the caller sees by name key, not yet sorted, none the default."""
    found: dict[str, tuple[Context, Where]] = {}
    if saved:
        hidden = process.hidden if process is not None else frozenset()
        for key, ctx in user.contexts.items():
            if key not in hidden:
                found[key] = (ctx, "user")
    if process is not None:
        for key, ctx in process.contexts.items():
            found[key] = (ctx, "process")
    return {
        key: ViewContext(ctx, where, False, "none", None) for key, (ctx, where) in found.items()
    }


def _credential(
    state: State, process: ScopeState | None, saved: bool, account: str
) -> Credential | None:
    """The account's readable credential: the session's first, then the user's; one
    whose data key was destroyed can never be read again."""
    for scope in (process, state.user if saved else None):
        cred = None if scope is None else scope.credentials.get(account)
        if cred is not None and cred.key_id not in state.shredded:
            return cred
    return None


def view(state: State, caller: Caller) -> View:
    """The contexts the caller sees, sorted by name key, and the default's name.

    User contexts (when autosave is on) less the names the session hides, then the
    session's own contexts shadowing them; the session's default wins over the user's
    when it is visible."""
    process = live_process(state, caller)
    saved, _ = _autosave(caller.autosave_env, process, state.user)
    found = _found(state.user, process, saved)
    default_key: str | None = None
    user_default = state.user.default if saved else None
    # Inside ``azctx run`` the run's context is the default: what the child acts as.
    own_default = process.default if process is not None else None
    for name in (caller.run_context, own_default, user_default):
        if name is not None and name_key(name) in found:
            default_key = name_key(name)
            break
    items = []
    for key in sorted(found):
        item = found[key]
        cred = _credential(state, process, saved, account_key(item.context.account))
        items.append(
            item._replace(
                default=key == default_key,
                credential="none" if cred is None else "stored",
                credential_obj=cred,
            )
        )
    default = found[default_key].context.name if default_key is not None else None
    return View(tuple(items), default)


def environments(state: State, caller: Caller) -> dict[str, Environment]:
    """The custom clouds the caller can see, by name key: the user scope's, then its
    live session's."""
    found = dict(state.user.environments)
    process = live_process(state, caller)
    if process is not None:
        found.update(process.environments)
    return found
