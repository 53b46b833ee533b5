"""Decisions: a request, checked against the state, becomes one event (or a refusal).

Each ``decide_*`` function is pure: it reads the state and the caller and returns a
``Decision`` whose event lists every cell it changes, or raises ``Refused`` (exit 1)
or ``BadInput`` (exit 2). Nothing is ever half decided.

Where a change goes (SPEC §2): an explicit scope wins; otherwise an operation on a
context the caller sees in its process scope acts there; otherwise ``user`` when
autosave is on and ``process`` when it is off. "Exists in a scope" means: in the user
scope, its own contexts; in the process scope, what the session sees (its own contexts
and the visible user ones), since that is what the caller acts on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from azctx.events import (
    ACCOUNT_TYPES,
    BUILTIN_ENVIRONMENT_NAMES,
    DEFAULT_ENVIRONMENT,
    NOT_UNDOABLE,
    USER,
    AccountDisconnected,
    AccountType,
    AutosaveChange,
    AutosaveSet,
    BadInput,
    Change,
    ConfirmationNeeded,
    Context,
    ContextAdded,
    ContextChange,
    ContextRemoved,
    ContextRenamed,
    ContextsImported,
    Credential,
    CredentialChange,
    DefaultChange,
    DefaultSelected,
    Environment,
    EnvironmentChange,
    Event,
    HiddenChange,
    KeyRotated,
    OperationUndone,
    Refused,
    ScopeCleared,
    SessionEnded,
    SessionStarted,
    account_key,
    default_name,
    describe_cell,
    inverse,
    is_session_scope,
    name_key,
    name_problem,
)

from . import overlay
from .state import ScopeState, State, apply_changes
from .view import Caller, autosave, seen, session_status, view

START_HINT = 'eval "$(azctx session start)"'
LIST_HINT = "see 'azctx list'"


@dataclass(frozen=True)
class Decision:
    event: Event
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class AddRequest:
    """What ``add`` asks for; ``name`` None means ``[ACCOUNT; SUBSCRIPTION]``."""

    account: str
    tenant: str
    subscription: str | None = None
    account_type: AccountType | str = "user"
    subscription_name: str | None = None
    environment: str | None = None
    name: str | None = None
    scope: str | None = None
    select: bool = True
    force: bool = False


# --- scopes ---------------------------------------------------------------------------


def _meta(caller: Caller, target: str) -> dict[str, Any]:
    """The fields every event takes from its caller and its target scope."""
    return {
        "time": caller.time,
        "actor": caller.actor,
        "scope": USER if target == USER else "process",
        "session": caller.session,
    }


def _check_scope(scope: str | None) -> None:
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
    """The scope key (``"user"`` or the session id) a change goes to (SPEC §2)."""
    _check_scope(scope)
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


def _where(target: str) -> str:
    return "the user scope" if target == USER else f"session {target}"


def scope_names(state: State, caller: Caller, target: str) -> dict[str, Context]:
    """The contexts that exist for a change aimed at ``target``, by name key."""
    if target == USER:
        return dict(state.user.contexts)
    return {name_key(i.context.name): i.context for i in view(state, caller).contexts}


def _find(state: State, caller: Caller, target: str, name: str) -> Context:
    found = scope_names(state, caller, target).get(name_key(name))
    if found is None:
        # Say "in the user scope" when the caller does see that name, in its session.
        shown = target == USER and seen(state, caller, name) is not None
        where = " in the user scope" if shown else ""
        raise Refused(f"no context named '{name}'{where}", hint=LIST_HINT)
    return found


def _check_name(name: str) -> None:
    problem = name_problem(name)
    if problem is not None:
        raise BadInput(f"invalid context name {name!r}: {problem}")


def _real(changes: Iterable[Change]) -> tuple[Change, ...]:
    """Drop changes that change nothing: undo checks every listed cell."""
    return tuple(c for c in changes if c.before != c.after)


# --- defaults -------------------------------------------------------------------------


def _pick_earlier(
    history: Sequence[str], skip: str | None, names: Mapping[str, Context]
) -> str | None:
    """The most recent earlier default that still exists, as a name (case kept)."""
    for key in reversed(history):
        if key != skip and key in names:
            return names[key].name
    return None


def _settle_default(
    state: State, caller: Caller, target: str, changes: Sequence[Change]
) -> list[Change]:
    """If ``changes`` make the scope's default disappear, fall back to an earlier one."""
    own = state.scope(target)
    if own.default is None:
        return []
    key = name_key(own.default)
    if key not in scope_names(state, caller, target):
        return []  # it already pointed nowhere; this operation did not remove it
    after = apply_changes(state, changes)
    names = scope_names(after, caller, target)
    if key in names:
        return []
    fallback = _pick_earlier(after.scope(target).default_history, key, names)
    return [DefaultChange(scope=target, before=own.default, after=fallback)]


def _select_change(own: ScopeState, target: str, name: str) -> list[Change]:
    return [DefaultChange(scope=target, before=own.default, after=name)]


def _user_select_notes(state: State, caller: Caller, target: str, name: str) -> tuple[str, ...]:
    """SPEC §2: a user-scope select that the session's own default shadows says so."""
    if target != USER or session_status(state, caller) != "live" or caller.session is None:
        return ()
    saved, _ = autosave(state, caller)
    process = state.scope(caller.session)
    return overlay.select_notes(state.user, process, saved, caller.session, name)


# --- add ------------------------------------------------------------------------------


def _environment(state: State, target: str, wanted: str | None) -> str:
    """The canonical name of a built-in cloud, or a custom one an import brought in."""
    if wanted is None:
        return DEFAULT_ENVIRONMENT
    key = name_key(wanted)
    if key in BUILTIN_ENVIRONMENT_NAMES:
        return BUILTIN_ENVIRONMENT_NAMES[key]
    for scope in (state.scope(target), state.user):
        if key in scope.environments:
            return scope.environments[key].name
    raise BadInput(
        f"unknown environment {wanted!r}",
        hint="use AzureCloud, AzureChinaCloud or AzureUSGovernment; other clouds come "
        "from an imported file",
    )


def new_context(state: State, target: str, request: AddRequest) -> Context:
    """The context an add request describes (name defaulted, cloud normalized)."""
    for label, value in (("account", request.account), ("tenant", request.tenant)):
        if not value.strip():
            raise BadInput(f"the {label} cannot be empty")
    kinds = [t for t in ACCOUNT_TYPES if t == request.account_type]
    if not kinds:
        raise BadInput(
            f"unknown account type {request.account_type!r}",
            hint="use user, service-principal or managed-identity",
        )
    name = request.name
    if name is None:
        name = default_name(request.account, request.subscription)
    _check_name(name)
    return Context(
        name=name,
        account=request.account,
        account_type=kinds[0],
        tenant=request.tenant,
        subscription=request.subscription,
        subscription_name=request.subscription_name,
        environment=_environment(state, target, request.environment),
    )


def decide_add(
    state: State, caller: Caller, request: AddRequest, *, credential: Credential | None = None
) -> Decision:
    name = request.name
    if name is None:
        name = default_name(request.account, request.subscription)
    _check_name(name)
    target = resolve_scope(state, caller, request.scope, name)
    ctx = new_context(state, target, request)
    key = name_key(ctx.name)
    taken = scope_names(state, caller, target).get(key)
    if taken is not None and not request.force:
        raise Refused(f"a context named '{taken.name}' already exists", hint="--force replaces it")
    own = state.scope(target)
    changes: list[Change] = [
        ContextChange(scope=target, key=key, before=own.contexts.get(key), after=ctx)
    ]
    if credential is not None:
        account = account_key(ctx.account)
        changes.append(
            CredentialChange(
                scope=target, key=account, before=own.credentials.get(account), after=credential
            )
        )
    notes: tuple[str, ...] = ()
    if request.select:
        changes += _select_change(own, target, ctx.name)
        notes = _user_select_notes(state, caller, target, ctx.name)
    event = ContextAdded(
        **_meta(caller, target),
        context=ctx,
        replaced=taken is not None,
        selected=request.select,
        changes=_real(changes),
    )
    return Decision(event, notes)


def account_key_id(state: State, scope_key: str, account: str) -> str | None:
    """The data key id of the account's live credential in that scope, if any (so the
    store seals a new secret under the same key)."""
    cred = state.scope(scope_key).credentials.get(account_key(account))
    if cred is None or cred.key_id in state.shredded:
        return None
    return cred.key_id


# --- select ---------------------------------------------------------------------------


def decide_select(state: State, caller: Caller, name: str, scope: str | None = None) -> Decision:
    target = resolve_scope(state, caller, scope, name)
    ctx = _find(state, caller, target, name)
    own = state.scope(target)
    event = DefaultSelected(
        **_meta(caller, target),
        name=ctx.name,
        changes=_real(_select_change(own, target, ctx.name)),
    )
    return Decision(event, _user_select_notes(state, caller, target, ctx.name))


def decide_select_previous(state: State, caller: Caller, scope: str | None = None) -> Decision:
    """``select -``: the most recent different earlier default that still exists."""
    target = resolve_scope(state, caller, scope)
    own = state.scope(target)
    current = None if own.default is None else name_key(own.default)
    name = _pick_earlier(own.default_history, current, scope_names(state, caller, target))
    if name is None:
        raise Refused(
            f"there is no earlier default to go back to in {_where(target)}",
            hint="azctx select NAME",
        )
    event = DefaultSelected(
        **_meta(caller, target),
        name=name,
        previous=True,
        changes=_real(_select_change(own, target, name)),
    )
    return Decision(event, _user_select_notes(state, caller, target, name))


# --- rename ---------------------------------------------------------------------------


def decide_rename(
    state: State,
    caller: Caller,
    old: str,
    new: str,
    force: bool = False,
    scope: str | None = None,
) -> Decision:
    _check_name(new)
    target = resolve_scope(state, caller, scope, old)
    own = state.scope(target)
    old_key, new_key = name_key(old), name_key(new)
    ctx = own.contexts.get(old_key)
    if ctx is None:
        if target != USER and old_key in scope_names(state, caller, target):
            raise Refused(
                f"'{old}' is a user-scope context; a session cannot rename it",
                hint="--scope user renames it for every session",
            )
        raise Refused(f"no context named '{old}' in {_where(target)}", hint=LIST_HINT)
    renamed = ctx.model_copy(update={"name": new})
    changes: list[Change] = []
    taken = None
    if new_key == old_key:
        # Only the case changes: same cell, new spelling.
        changes.append(ContextChange(scope=target, key=old_key, before=ctx, after=renamed))
    else:
        taken = scope_names(state, caller, target).get(new_key)
        if taken is not None and not force:
            raise ConfirmationNeeded(
                f"a context named '{taken.name}' already exists",
                f"Replace the existing context '{taken.name}'?",
                hint="--force replaces it",
            )
        changes.append(ContextChange(scope=target, key=old_key, before=ctx, after=None))
        changes.append(
            ContextChange(
                scope=target, key=new_key, before=own.contexts.get(new_key), after=renamed
            )
        )
    if own.default is not None and name_key(own.default) in (old_key, new_key):
        changes += _select_change(own, target, new)  # the default follows the context
    event = ContextRenamed(
        **_meta(caller, target),
        old=ctx.name,
        new=new,
        replaced=taken is not None,
        changes=_real(changes),
    )
    return Decision(event)


# --- remove, disconnect, clear --------------------------------------------------------


def _hide(state: State, target: str, keys: Iterable[str]) -> list[Change]:
    """Process scope: hide these user contexts in that session (not hidden yet)."""
    if target == USER:
        return []
    hidden = state.scope(target).hidden
    return [
        HiddenChange(scope=target, key=k, before=False, after=True)
        for k in keys
        if k in state.user.contexts and k not in hidden
    ]


def decide_remove(
    state: State,
    caller: Caller,
    name: str,
    force: bool = False,
    scope: str | None = None,
) -> Decision:
    target = resolve_scope(state, caller, scope, name)
    ctx = _find(state, caller, target, name)
    key = name_key(name)
    own = state.scope(target)
    if own.default is not None and name_key(own.default) == key and not force:
        raise ConfirmationNeeded(
            f"'{ctx.name}' is the default context",
            f"Remove the default context '{ctx.name}'?",
            hint="--force removes it; the previous default becomes the default",
        )
    changes: list[Change] = []
    if key in own.contexts:
        changes.append(ContextChange(scope=target, key=key, before=own.contexts[key], after=None))
    changes += _hide(state, target, [key])
    changes += _settle_default(state, caller, target, changes)
    event = ContextRemoved(**_meta(caller, target), name=ctx.name, changes=_real(changes))
    return Decision(event)


def _account_scope(state: State, caller: Caller, scope: str | None, account: str) -> str:
    """Like ``resolve_scope``, for an account: one the caller sees only in its process
    scope is disconnected there."""
    _check_scope(scope)
    if scope is None:
        key = account_key(account)
        scopes = {
            i.scope for i in view(state, caller).contexts if account_key(i.context.account) == key
        }
        if scopes == {"process"}:
            return live_session(state, caller)
    return resolve_scope(state, caller, scope)


def decide_disconnect(
    state: State, caller: Caller, account: str | None = None, scope: str | None = None
) -> Decision:
    if account is None:
        current = view(state, caller).default_context
        if current is None:
            raise Refused(
                "there is no default context to take the account from",
                hint="azctx disconnect ACCOUNT",
            )
        account = current.context.account
    target = _account_scope(state, caller, scope, account)
    own = state.scope(target)
    key = account_key(account)
    changes: list[Change] = [
        ContextChange(scope=target, key=k, before=c, after=None)
        for k, c in own.contexts.items()
        if account_key(c.account) == key
    ]
    changes += _hide(
        state, target, [k for k, c in state.user.contexts.items() if account_key(c.account) == key]
    )
    shredded: tuple[str, ...] = ()
    cred = own.credentials.get(key)
    if cred is not None:
        changes.append(CredentialChange(scope=target, key=key, before=cred, after=None))
        shredded = () if cred.key_id in state.shredded else (cred.key_id,)
    if not changes:
        raise Refused(f"no context or credential of account '{account}' in {_where(target)}")
    changes += _settle_default(state, caller, target, changes)
    event = AccountDisconnected(
        **_meta(caller, target), account=account, changes=_real(changes), shredded=shredded
    )
    return Decision(event)


def decide_clear(state: State, caller: Caller, scope: str | None = None) -> Decision:
    target = resolve_scope(state, caller, scope)
    own = state.scope(target)
    changes: list[Change] = [
        ContextChange(scope=target, key=k, before=c, after=None) for k, c in own.contexts.items()
    ]
    changes += _hide(state, target, list(state.user.contexts))
    changes += [
        CredentialChange(scope=target, key=k, before=c, after=None)
        for k, c in own.credentials.items()
    ]
    changes.append(DefaultChange(scope=target, before=own.default, after=None))
    keys = sorted({c.key_id for c in own.credentials.values()} - state.shredded)
    event = ScopeCleared(**_meta(caller, target), changes=_real(changes), shredded=tuple(keys))
    return Decision(event)


# --- autosave, import -----------------------------------------------------------------


def decide_autosave(
    state: State, caller: Caller, enabled: bool, scope: str | None = None
) -> Decision:
    _check_scope(scope)
    target = live_session(state, caller) if scope == "process" else USER
    change = AutosaveChange(scope=target, before=state.scope(target).autosave, after=enabled)
    event = AutosaveSet(**_meta(caller, target), enabled=enabled, changes=_real([change]))
    return Decision(event)


def decide_import(
    state: State,
    caller: Caller,
    *,
    contexts: Sequence[Context],
    credentials: Mapping[str, Credential] | None = None,
    environments: Sequence[Environment] = (),
    default: str | None = None,
    scope: str | None = None,
    source: Literal["az-powershell", "az-cli"] = "az-powershell",
    file: str = "",
) -> Decision:
    """One operation: the file's contexts replace those of the same name, all others
    are kept, and the file's default (when it has one) becomes the default."""
    imported: dict[str, Context] = {}
    for ctx in contexts:
        _check_name(ctx.name)
        key = name_key(ctx.name)
        if key in imported:
            raise BadInput(f"the file has two contexts named '{ctx.name}'")
        imported[key] = ctx
    if default is not None and name_key(default) not in imported:
        raise BadInput(f"the file's default context '{default}' is not among its contexts")
    target = resolve_scope(state, caller, scope)
    own = state.scope(target)
    changes: list[Change] = []
    for key, ctx in imported.items():
        changes.append(
            ContextChange(scope=target, key=key, before=own.contexts.get(key), after=ctx)
        )
    for account, cred in (credentials or {}).items():
        akey = account_key(account)
        changes.append(
            CredentialChange(scope=target, key=akey, before=own.credentials.get(akey), after=cred)
        )
    for env in environments:
        ekey = name_key(env.name)
        changes.append(
            EnvironmentChange(scope=target, key=ekey, before=own.environments.get(ekey), after=env)
        )
    chosen = None
    if default is not None:
        chosen = imported[name_key(default)].name
        changes += _select_change(own, target, chosen)
    event = ContextsImported(
        **_meta(caller, target),
        source=source,
        file=file,
        imported=tuple(c.name for c in imported.values()),
        default=chosen,
        changes=_real(changes),
    )
    return Decision(event)


# --- undo -----------------------------------------------------------------------------


def cell_value(state: State, change: Change) -> object:
    """The value the cell ``change`` addresses holds now."""
    scope = state.scope(change.scope)
    match change:
        case ContextChange():
            return scope.contexts.get(change.key)
        case HiddenChange():
            return change.key in scope.hidden
        case DefaultChange():
            return scope.default
        case AutosaveChange():
            return scope.autosave
        case CredentialChange():
            return scope.credentials.get(change.key)
        case EnvironmentChange():
            return scope.environments.get(change.key)
    raise AssertionError(change)  # pragma: no cover


def _restored(change: Change, shredded: frozenset[str]) -> Change:
    """The inverse of ``change``, except that a destroyed credential stays destroyed."""
    back = inverse(change)
    if (
        isinstance(back, CredentialChange)
        and back.after is not None
        and back.after.key_id in shredded
    ):
        return back.model_copy(update={"after": None})
    return back


def _check_undo_scope(state: State, caller: Caller, seq: int, event: Event) -> None:
    sessions = {c.scope for c in event.changes if is_session_scope(c.scope)}
    if event.scope == "process" and event.session is not None:
        sessions.add(event.session)
    for sid in sessions:
        if sid != caller.session:
            raise Refused(
                f"operation {seq} changed the process scope of session {sid}; "
                "only that session can undo it"
            )
        live_session(state, caller)


def decide_undo(
    state: State,
    caller: Caller,
    target_seq: int,
    target_event: Event,
    undone_by: int | None = None,
) -> Decision:
    """Revert operation ``target_seq`` (``target_event``): every cell it changed must
    still hold the value it left there. ``undone_by`` may pass the log's own answer;
    the state's undo ledger is consulted either way."""
    kind = target_event.type
    if kind in NOT_UNDOABLE:
        raise Refused(f"operation {target_seq} ({kind}) cannot be undone")
    by = state.undone_by.get(target_seq, undone_by)
    if by is not None:
        raise Refused(
            f"operation {target_seq} was already undone by operation {by}",
            hint=f"'azctx undo {by}' redoes it",
        )
    _check_undo_scope(state, caller, target_seq, target_event)
    for change in target_event.changes:
        if cell_value(state, change) != change.after:
            raise Refused(
                f"cannot undo operation {target_seq} ({kind}): {describe_cell(change)} "
                "has changed since",
                hint="see 'azctx history'; undo the later operations first",
            )
    changes = _real(_restored(c, state.shredded) for c in target_event.changes)
    scope = target_event.scope or USER
    event = OperationUndone(
        time=caller.time,
        actor=caller.actor,
        scope=scope,
        session=caller.session,
        target=target_seq,
        target_type=kind,
        changes=changes,
    )
    return Decision(event)


def find_undo_target(entries: Iterable[tuple[int, Event]], caller: Caller) -> int | None:
    """Plain ``undo``: the most recent operation, by anyone, in the user scope or in the
    caller's own session, that is undoable, in force and not itself an undo.

    ``entries`` newest first; the scan stops at the answer. An operation is in force
    when none of its undos is; every undo is newer than its target, so by the time the
    scan reaches an entry it has seen everything that decides its status.
    """
    undos: dict[int, list[int]] = {}
    in_force: dict[int, bool] = {}
    session_ended = False
    for seq, event in entries:
        in_force[seq] = not any(in_force.get(u, False) for u in undos.get(seq, ()))
        if isinstance(event, OperationUndone):
            undos.setdefault(event.target, []).append(seq)
            continue
        if isinstance(event, SessionEnded) and event.session_id == caller.session:
            session_ended = True  # its process-scope operations can no longer be undone
        if event.type in NOT_UNDOABLE or not in_force[seq]:
            continue
        mine = event.scope == "user" or (
            event.scope == "process"
            and not session_ended
            and caller.session is not None
            and event.session == caller.session
        )
        if mine:
            return seq
    return None


# --- sessions and keys ----------------------------------------------------------------


def decide_session_start(
    state: State, caller: Caller, *, session_id: str, expires: datetime
) -> Decision:
    if not is_session_scope(session_id):
        raise BadInput(f"a session id starts with 's-' (got {session_id!r})")
    if session_id in state.sessions:
        raise Refused(f"session {session_id} already exists")
    if expires <= caller.time:
        raise BadInput("a session must expire in the future")
    event = SessionStarted(
        time=caller.time,
        actor=caller.actor,
        scope="process",
        session=session_id,
        session_id=session_id,
        expires=expires,
    )
    return Decision(event)


def decide_session_end(
    state: State,
    caller: Caller,
    *,
    session_id: str,
    key_ids: Sequence[str] = (),
    reason: Literal["ended", "expired"] = "ended",
) -> Decision:
    info = state.sessions.get(session_id)
    if info is None:
        raise Refused(f"session {session_id} is unknown", hint=START_HINT)
    if info.ended:
        raise Refused(f"session {session_id} has already ended", hint=START_HINT)
    event = SessionEnded(
        time=caller.time,
        actor=caller.actor,
        scope="process",
        session=session_id,
        session_id=session_id,
        reason=reason,
        shredded=tuple(k for k in key_ids if k not in state.shredded),
    )
    notes: tuple[str, ...] = ()
    if reason == "ended" and info.expires <= caller.time:
        notes = (f"note: session {session_id} had already expired",)
    return Decision(event, notes)


def decide_key_rotate(state: State, caller: Caller, *, master_key_id: str) -> Decision:
    event = KeyRotated(
        time=caller.time,
        actor=caller.actor,
        scope="user",
        session=caller.session,
        master_key_id=master_key_id,
    )
    return Decision(event)
