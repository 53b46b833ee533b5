"""Decisions: a request, checked against the state, becomes one event (or a refusal).

Each ``decide_*`` function is pure: it reads the state and the caller and returns a
``Decision`` whose event lists every cell it changes, or raises ``Refused`` (exit 1)
or ``BadInput`` (exit 2). Nothing is ever half decided. Every value a request brings
in passes the input rules of ``events.rules`` here, whichever door it came in by.

Where a change goes (SPEC §2): an explicit scope wins; otherwise an operation on a
context the caller sees in its process scope acts there; otherwise ``user`` when
autosave is on and ``process`` when it is off. "Exists in a scope" means: in the user
scope, its own contexts; in the process scope, what the session sees (its own contexts
and the visible user ones), since that is what the caller acts on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from azctx.events import (
    USER,
    AutosaveSet,
    BadInput,
    Change,
    Cleared,
    ConfirmationNeeded,
    Context,
    Credential,
    Disconnected,
    EndReason,
    Environment,
    Imported,
    ImportSource,
    KeyRotated,
    Refused,
    Removed,
    Renamed,
    Selected,
    SessionEnded,
    SessionStarted,
    account_key,
    autosave_change,
    check_name,
    check_optional_text,
    check_text,
    context_change,
    credential_change,
    default_change,
    environment_change,
    hidden_change,
    is_session_scope,
    name_key,
)

from .add import (
    AddRequest,
    account_key_id,
    check_credential,
    check_request,
    checked_context,
    decide_add,
)
from .scopes import (
    LIST_HINT,
    START_HINT,
    Decision,
    check_scope,
    event,
    find,
    live_session,
    notes,
    pick_earlier,
    resolve_scope,
    scope_names,
    select_change,
    settle_default,
    where,
)
from .state import State
from .view import Caller, seen, view

__all__ = [
    "LIST_HINT",
    "START_HINT",
    "AddRequest",
    "Decision",
    "account_key_id",
    "check_credential",
    "check_request",
    "checked_context",
    "decide_add",
    "decide_autosave",
    "decide_clear",
    "decide_disconnect",
    "decide_import",
    "decide_key_rotate",
    "decide_remove",
    "decide_rename",
    "decide_select",
    "decide_select_previous",
    "decide_session_end",
    "decide_session_start",
    "event",
]

# --- select ---------------------------------------------------------------------------


def decide_select(state: State, caller: Caller, name: str, scope: str | None = None) -> Decision:
    check_name(name)
    target = resolve_scope(state, caller, scope, name)
    ctx = find(state, caller, target, name)
    own = state.scope(target)
    changes = select_change(own, target, ctx.name)
    return Decision(
        event(caller, target, Selected(ctx.name), changes),
        notes(state, caller, target, ctx.name),
    )


def decide_select_previous(state: State, caller: Caller, scope: str | None = None) -> Decision:
    """``select -``: the most recent different earlier default that still exists."""
    target = resolve_scope(state, caller, scope)
    own = state.scope(target)
    current = None if own.default is None else name_key(own.default)
    name = pick_earlier(own.default_history, current, scope_names(state, caller, target))
    if name is None:
        raise Refused(
            f"there is no earlier default to go back to in {where(target)}",
            hint="azctx select NAME",
        )
    changes = select_change(own, target, name)
    return Decision(
        event(caller, target, Selected(name, previous=True), changes),
        notes(state, caller, target, name),
    )


# --- rename ---------------------------------------------------------------------------


def _renamed_changes(
    state: State, caller: Caller, target: str, ctx: Context, new: str, force: bool
) -> tuple[list[Change], Context | None]:
    """The context cells of a rename, and the context it replaces (if any)."""
    own = state.scope(target)
    old_key, new_key = name_key(ctx.name), name_key(new)
    renamed = ctx._replace(name=new)
    if new_key == old_key:
        # Only the case changes: same cell, new spelling.
        return [context_change(target, old_key, ctx, renamed)], None
    taken = scope_names(state, caller, target).get(new_key)
    # The caller may see NEW where the rename does not go (a session's own context of
    # that name shadows the user-scope one this renames): that asks first too.
    visible = seen(state, caller, new)
    shown = taken or (None if visible is None else visible[0])
    if shown is not None and not force:
        raise ConfirmationNeeded(
            f"a context named '{shown.name}' already exists",
            f"Replace the existing context '{shown.name}'?",
            hint="--force replaces it",
        )
    changes = [
        context_change(target, old_key, ctx, None),
        context_change(target, new_key, own.contexts.get(new_key), renamed),
    ]
    return changes, taken


def decide_rename(
    state: State,
    caller: Caller,
    old: str,
    new: str,
    force: bool = False,
    scope: str | None = None,
) -> Decision:
    check_name(old)
    check_name(new)
    target = resolve_scope(state, caller, scope, old)
    own = state.scope(target)
    ctx = own.contexts.get(name_key(old))
    if ctx is None:
        if target != USER and name_key(old) in scope_names(state, caller, target):
            raise Refused(
                f"'{old}' is a user-scope context; a session cannot rename it",
                hint="--scope user renames it for every session",
            )
        raise Refused(f"no context named '{old}' in {where(target)}", hint=LIST_HINT)
    changes, taken = _renamed_changes(state, caller, target, ctx, new, force)
    if own.default is not None and name_key(own.default) in (name_key(old), name_key(new)):
        changes += select_change(own, target, new)  # the default follows the context
    op = Renamed(ctx.name, new, replaced=taken is not None)
    return Decision(event(caller, target, op, changes))


# --- remove, disconnect, clear --------------------------------------------------------


def _hide(state: State, target: str, keys: Iterable[str]) -> list[Change]:
    """Process scope: hide these user contexts in that session (not hidden yet)."""
    if target == USER:
        return []
    hidden = state.scope(target).hidden
    return [
        hidden_change(target, k, False, True)
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
    check_name(name)
    target = resolve_scope(state, caller, scope, name)
    ctx = find(state, caller, target, name)
    key = name_key(name)
    own = state.scope(target)
    # The default of the scope it goes from, or the one the caller sees (a session's).
    defaults = {name_key(d) for d in (own.default, view(state, caller).default) if d}
    if key in defaults and not force:
        raise ConfirmationNeeded(
            f"'{ctx.name}' is the default context",
            f"Remove the default context '{ctx.name}'?",
            hint="--force removes it; the previous default becomes the default",
        )
    changes: list[Change] = []
    if key in own.contexts:
        changes.append(context_change(target, key, own.contexts[key], None))
    changes += _hide(state, target, [key])
    changes = settle_default(state, caller, target, changes)
    return Decision(event(caller, target, Removed(ctx.name), changes))


def _account_scope(state: State, caller: Caller, scope: str | None, account: str) -> str:
    """Like ``resolve_scope``, for an account: one the caller sees only in its process
    scope is disconnected there."""
    check_scope(scope)
    if scope is None:
        key = account_key(account)
        scopes = {
            i.scope for i in view(state, caller).contexts if account_key(i.context.account) == key
        }
        if scopes == {"process"}:
            return live_session(state, caller)
    return resolve_scope(state, caller, scope)


def _default_account(state: State, caller: Caller) -> str:
    current = view(state, caller).default_context
    if current is None:
        raise Refused(
            "there is no default context to take the account from",
            hint="azctx disconnect ACCOUNT",
        )
    return current.context.account


def decide_disconnect(
    state: State, caller: Caller, account: str | None = None, scope: str | None = None
) -> Decision:
    if account is None:
        account = _default_account(state, caller)
    check_text("the account", account)
    target = _account_scope(state, caller, scope, account)
    own = state.scope(target)
    key = account_key(account)
    changes = [
        context_change(target, k, c, None)
        for k, c in own.contexts.items()
        if account_key(c.account) == key
    ]
    mine = [k for k, c in state.user.contexts.items() if account_key(c.account) == key]
    changes += _hide(state, target, mine)
    shredded: tuple[str, ...] = ()
    cred = own.credentials.get(key)
    if cred is not None:
        changes.append(credential_change(target, key, cred, None))
        shredded = () if cred.key_id in state.shredded else (cred.key_id,)
    if not changes:
        raise Refused(f"no context or credential of account '{account}' in {where(target)}")
    changes = settle_default(state, caller, target, changes)
    decided = event(caller, target, Disconnected(account), changes)
    return Decision(decided._replace(shredded=shredded))


def decide_clear(state: State, caller: Caller, scope: str | None = None) -> Decision:
    target = resolve_scope(state, caller, scope)
    own = state.scope(target)
    changes = [context_change(target, k, c, None) for k, c in own.contexts.items()]
    changes += _hide(state, target, list(state.user.contexts))
    changes += [credential_change(target, k, c, None) for k, c in own.credentials.items()]
    changes.append(default_change(target, own.default, None))
    keys = sorted({c.key_id for c in own.credentials.values()} - state.shredded)
    decided = event(caller, target, Cleared(), changes)
    return Decision(decided._replace(shredded=tuple(keys)))


# --- autosave, import -----------------------------------------------------------------


def decide_autosave(
    state: State, caller: Caller, enabled: bool, scope: str | None = None
) -> Decision:
    check_scope(scope)
    target = live_session(state, caller) if scope == "process" else USER
    change = autosave_change(target, state.scope(target).autosave, enabled)
    return Decision(event(caller, target, AutosaveSet(enabled), [change]))


def _imported(contexts: Sequence[Context]) -> dict[str, Context]:
    imported: dict[str, Context] = {}
    for ctx in contexts:
        checked_context(ctx)
        key = name_key(ctx.name)
        if key in imported:
            raise BadInput(f"the file has two contexts named '{ctx.name}'")
        imported[key] = ctx
    return imported


def _checked_environment(env: Environment) -> Environment:
    check_text("an environment's name", env.name)
    check_optional_text("an environment's authority", env.authority)
    check_optional_text("an environment's Resource Manager URL", env.resource_manager)
    return env


def decide_import(
    state: State,
    caller: Caller,
    *,
    contexts: Sequence[Context],
    credentials: Mapping[str, Credential] | None = None,
    environments: Sequence[Environment] = (),
    default: str | None = None,
    scope: str | None = None,
    source: ImportSource = "az-powershell",
    file: str = "",
) -> Decision:
    """One operation: the file's contexts replace those of the same name, all others
    are kept, and the file's default (when it has one) becomes the default."""
    imported = _imported(contexts)
    if default is not None and name_key(default) not in imported:
        raise BadInput(f"the file's default context '{default}' is not among its contexts")
    target = resolve_scope(state, caller, scope)
    own = state.scope(target)
    changes = [context_change(target, k, own.contexts.get(k), c) for k, c in imported.items()]
    types = {account_key(c.account): c.account_type for c in imported.values()}
    for account, cred in (credentials or {}).items():
        akey = account_key(account)
        check_credential(types.get(akey, "service-principal"), True)
        check_optional_text("a certificate path", cred.certificate_path)
        changes.append(credential_change(target, akey, own.credentials.get(akey), cred))
    for env in environments:
        ekey = name_key(_checked_environment(env).name)
        changes.append(environment_change(target, ekey, own.environments.get(ekey), env))
    chosen = None
    if default is not None:
        chosen = imported[name_key(default)].name
        changes += select_change(own, target, chosen)
    op = Imported(source, file, tuple(c.name for c in imported.values()), chosen)
    return Decision(event(caller, target, op, changes))


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
