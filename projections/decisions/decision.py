"""What every decision shares: the shape of a decision and of its event, where a change
goes, what exists there, and the default's fallback."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from azctx.events import (
    USER,
    BadInput,
    Change,
    Context,
    Event,
    Op,
    Refused,
    ScopeName,
    check_name,
    default_change,
    name_key,
)
from azctx.events.records import Record
from azctx.projections.state import ScopeState, State, apply_changes
from azctx.projections.view import (
    Caller,
    autosave,
    lookup,
    seen,
    select_notes,
    session_status,
    view,
)

START_HINT = 'eval "$(azctx session start)"'
LIST_HINT = "see 'azctx list'"


class Decision(Record):
    event: Event
    notes: tuple[str, ...] = ()


def event(caller: Caller, target: str, op: Op, changes: Iterable[Change] = ()) -> Event:
    """The event of ``op`` by ``caller`` in scope ``target``, with the changes that
    change something (undo checks every listed cell)."""
    real = tuple(c for c in changes if c.before != c.after)
    scope: ScopeName = "user" if target == USER else "process"
    return Event(caller.time, caller.actor, scope, caller.session, op, real)


def check_scope(scope: str | None) -> None:
    if scope not in (None, "user", "process"):
        raise BadInput(f"unknown scope {scope!r}", hint="use --scope user or --scope process")


def live_session(state: State, caller: Caller) -> str:
    """The caller's session id, or a refusal saying why the process scope is closed."""
    status = session_status(state, caller)
    if status == "live" and caller.session is not None:
        return caller.session
    if status == "none":
        raise Refused(
            "the process scope needs a session, and there is no live session",
            hint=START_HINT,
        )
    raise Refused(
        f"session {caller.session} is {status}, so its process scope cannot change",
        hint=f"start a new session: {START_HINT}",
    )


def resolve_scope(state: State, caller: Caller, scope: str | None, name: str | None = None) -> str:
    """The scope key (``"user"`` or the session id) a change goes to."""
    check_scope(scope)
    if scope == "user":
        return USER
    if scope == "process":
        return live_session(state, caller)
    if name is not None:
        found = seen(state, caller, name)
        if found is not None and found[1] == "process":
            return live_session(state, caller)
    on, _ = autosave(state, caller)
    return USER if on else live_session(state, caller)


def select_scope(state: State, caller: Caller, scope: str | None) -> str:
    """Where a ``select`` goes. A shell is where people switch: in a live session,
    without ``--scope``, the session's own default, whatever autosave says. A shell that
    ``azctx run`` started is the run's context, which only leaving it changes."""
    check_scope(scope)
    if caller.run_context is not None and scope != "user":
        raise Refused(
            f"this shell was started by 'azctx run' as '{caller.run_context}'; "
            "select cannot move it",
            hint="leave it (exit) and select in the shell that ran it",
        )
    if scope is None and caller.session is not None and session_status(state, caller) == "live":
        return caller.session
    return resolve_scope(state, caller, scope)


def where(target: str) -> str:
    return "the user scope" if target == USER else f"session {target}"


def scope_names(state: State, caller: Caller, target: str) -> dict[str, Context]:
    """The contexts that exist for a change aimed at ``target``, by name key."""
    if target == USER:
        return dict(state.user.contexts)
    return {name_key(i.context.name): i.context for i in view(state, caller).contexts}


def pick_earlier(
    history: Sequence[str], skip: str | None, names: Mapping[str, Context]
) -> str | None:
    """The most recent earlier default that still exists, as a name (case kept)."""
    for key in reversed(history):
        if key != skip and key in names:
            return names[key].name
    return None


def settle_default(
    state: State, caller: Caller, target: str, changes: Sequence[Change]
) -> list[Change]:
    """``changes``, falling back to an earlier default when they leave the
    scope's default pointing at no context: the most recent earlier default that still
    exists, else none. Merged into the operation's own change of the default, if it
    has one, so that each cell is listed once (undo inverts the list)."""
    own = state.scope(target)
    if own.default is not None and name_key(own.default) not in scope_names(state, caller, target):
        return list(changes)  # it already pointed nowhere; this operation did not do it
    after = apply_changes(state, changes)
    default = after.scope(target).default
    names = scope_names(after, caller, target)
    if default is not None and name_key(default) in names:
        return list(changes)
    if default is None and own.default is None:
        return list(changes)
    skip = None if default is None else name_key(default)
    history = after.scope(target).default_history
    fallback = pick_earlier(history, skip, names)
    if fallback == default:
        return list(changes)
    kept = [c for c in changes if not (c.type == "default" and c.scope == target)]
    return [*kept, default_change(target, own.default, fallback)]


def named(state: State, caller: Caller, name: str) -> str:
    """The name of the context the caller means by ``name`` (its name, subscription id
    or subscription name: ``lookup``), so that the scope it lives in decides where the
    change goes; ``name`` itself when the caller sees no such context."""
    check_name(name)
    if seen(state, caller, name) is not None:
        return name
    try:
        return lookup((i.context for i in view(state, caller).contexts), name).name
    except Refused:
        return name  # ``find`` says why, for the scope the change goes to


def find(state: State, caller: Caller, target: str, name: str) -> Context:
    """The context ``name`` means (``lookup``) that a change aimed at ``target`` acts on."""
    # Say "in the user scope" when the caller does see that name, in its session.
    shown = target == USER and seen(state, caller, name) is not None
    in_user = " in the user scope" if shown else ""
    return lookup(scope_names(state, caller, target).values(), name, in_user)


def select_change(own: ScopeState, target: str, name: str) -> list[Change]:
    return [default_change(target, own.default, name)]


def notes(state: State, caller: Caller, target: str, name: str) -> tuple[str, ...]:
    """A user-scope select that the session's own default shadows says so."""
    return select_notes(state, caller, name) if target == USER else ()
