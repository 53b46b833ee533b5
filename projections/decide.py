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
from typing import NamedTuple

from azctx.events import (
    ACCOUNT_TYPES,
    BUILTIN_ENVIRONMENT_NAMES,
    DEFAULT_ENVIRONMENT,
    USER,
    Added,
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
    Event,
    Imported,
    ImportSource,
    KeyRotated,
    Op,
    Refused,
    Removed,
    Renamed,
    ScopeName,
    Selected,
    SessionEnded,
    SessionStarted,
    account_key,
    autosave_change,
    check_name,
    check_optional_text,
    check_secret,
    check_text,
    context_change,
    credential_change,
    default_change,
    default_name,
    environment_change,
    hidden_change,
    is_session_scope,
    name_key,
)

from .scopes import (
    LIST_HINT,
    START_HINT,
    check_scope,
    live_session,
    resolve_scope,
    scope_names,
    settle_default,
    where,
)
from .state import ScopeState, State
from .view import Caller, seen, select_notes, view


class Decision(NamedTuple):
    event: Event
    notes: tuple[str, ...] = ()


class AddRequest(NamedTuple):
    """What ``add`` asks for; ``name`` None means ``[ACCOUNT; SUBSCRIPTION]``."""

    account: str
    tenant: str
    subscription: str | None = None
    account_type: str = "user"
    subscription_name: str | None = None
    environment: str | None = None
    name: str | None = None
    scope: str | None = None
    select: bool = True
    force: bool = False


def event(caller: Caller, target: str, op: Op, changes: Iterable[Change] = ()) -> Event:
    """The event of ``op`` by ``caller`` in scope ``target``, with the changes that
    change something (undo checks every listed cell)."""
    real = tuple(c for c in changes if c.before != c.after)
    scope: ScopeName = "user" if target == USER else "process"
    return Event(caller.time, caller.actor, scope, caller.session, op, real)


def _find(state: State, caller: Caller, target: str, name: str) -> Context:
    found = scope_names(state, caller, target).get(name_key(name))
    if found is None:
        # Say "in the user scope" when the caller does see that name, in its session.
        shown = target == USER and seen(state, caller, name) is not None
        in_user = " in the user scope" if shown else ""
        raise Refused(f"no context named '{name}'{in_user}", hint=LIST_HINT)
    return found


def _select_change(own: ScopeState, target: str, name: str) -> list[Change]:
    return [default_change(target, own.default, name)]


def _notes(state: State, caller: Caller, target: str, name: str) -> tuple[str, ...]:
    """SPEC §2: a user-scope select that the session's own default shadows says so."""
    return select_notes(state, caller, name) if target == USER else ()


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


def checked_context(ctx: Context) -> Context:
    """``ctx`` when every value in it obeys the input rules (SPEC §1), else BadInput:
    the one check of a context, whether it comes from ``add`` or from a file."""
    check_name(ctx.name)
    check_text("the account", ctx.account)
    check_text("the tenant", ctx.tenant)
    check_optional_text("the subscription", ctx.subscription)
    check_optional_text("the subscription name", ctx.subscription_name)
    check_text("the environment", ctx.environment)
    if ctx.account_type not in ACCOUNT_TYPES:
        raise BadInput(
            f"unknown account type {ctx.account_type!r}",
            hint="use user, service-principal or managed-identity",
        )
    return ctx


def new_context(state: State, target: str, request: AddRequest) -> Context:
    """The context an add request describes (name defaulted, cloud normalized)."""
    name = request.name
    if name is None:
        name = default_name(request.account, request.subscription)
    check_optional_text("the environment", request.environment)
    ctx = Context(
        name,
        request.account,
        request.account_type,  # type: ignore[arg-type]  # checked just below
        request.tenant,
        request.subscription,
        request.subscription_name,
        DEFAULT_ENVIRONMENT,
    )
    checked_context(ctx)
    return ctx._replace(environment=_environment(state, target, request.environment))


def check_credential(account_type: str, credential: bool) -> None:
    """SPEC §1: a credential (a secret or a certificate) belongs only to a service
    principal."""
    if credential and account_type != "service-principal":
        raise BadInput(
            f"a {account_type} account takes no secret or certificate: only a service "
            "principal has one",
            hint="drop --secret-stdin/--secret-env/--certificate, or use "
            "--account-type service-principal",
        )


def check_request(request: AddRequest, secret: str | None, certificate: str | None) -> None:
    """Everything about an add request that needs no state, so that bad input is
    reported before the store is opened or a question asked (``decide_add`` checks it
    all again on the way)."""
    if request.name is not None:
        check_name(request.name)
    for label, value in (("the account", request.account), ("the tenant", request.tenant)):
        check_text(label, value)
    check_optional_text("the subscription", request.subscription)
    check_optional_text("the subscription name", request.subscription_name)
    check_optional_text("the environment", request.environment)
    if request.account_type not in ACCOUNT_TYPES:
        raise BadInput(
            f"unknown account type {request.account_type!r}",
            hint="use user, service-principal or managed-identity",
        )
    check_credential(request.account_type, secret is not None or certificate is not None)
    if secret is not None:
        check_secret(secret)
    check_optional_text("the certificate path", certificate)


def decide_add(
    state: State, caller: Caller, request: AddRequest, *, credential: Credential | None = None
) -> Decision:
    name = request.name
    if name is None:
        name = default_name(request.account, request.subscription)
    check_name(name)
    target = resolve_scope(state, caller, request.scope, name)
    ctx = new_context(state, target, request)
    check_credential(ctx.account_type, credential is not None)
    key = name_key(ctx.name)
    taken = scope_names(state, caller, target).get(key)
    if taken is not None and not request.force:
        raise Refused(f"a context named '{taken.name}' already exists", hint="--force replaces it")
    own = state.scope(target)
    changes = [context_change(target, key, own.contexts.get(key), ctx)]
    if credential is not None:
        account = account_key(ctx.account)
        changes.append(credential_change(target, account, own.credentials.get(account), credential))
    notes: tuple[str, ...] = ()
    if request.select:
        changes += _select_change(own, target, ctx.name)
        notes = _notes(state, caller, target, ctx.name)
    op = Added(ctx, replaced=taken is not None, selected=request.select)
    return Decision(event(caller, target, op, changes), notes)


def account_key_id(state: State, scope_key: str, account: str) -> str | None:
    """The data key id of the account's live credential in that scope, if any (so the
    store seals a new secret under the same key)."""
    cred = state.scope(scope_key).credentials.get(account_key(account))
    if cred is None or cred.key_id in state.shredded:
        return None
    return cred.key_id


# --- select ---------------------------------------------------------------------------


def decide_select(state: State, caller: Caller, name: str, scope: str | None = None) -> Decision:
    check_name(name)
    target = resolve_scope(state, caller, scope, name)
    ctx = _find(state, caller, target, name)
    own = state.scope(target)
    changes = _select_change(own, target, ctx.name)
    return Decision(
        event(caller, target, Selected(ctx.name), changes),
        _notes(state, caller, target, ctx.name),
    )


def decide_select_previous(state: State, caller: Caller, scope: str | None = None) -> Decision:
    """``select -``: the most recent different earlier default that still exists."""
    from .scopes import pick_earlier

    target = resolve_scope(state, caller, scope)
    own = state.scope(target)
    current = None if own.default is None else name_key(own.default)
    name = pick_earlier(own.default_history, current, scope_names(state, caller, target))
    if name is None:
        raise Refused(
            f"there is no earlier default to go back to in {where(target)}",
            hint="azctx select NAME",
        )
    changes = _select_change(own, target, name)
    return Decision(
        event(caller, target, Selected(name, previous=True), changes),
        _notes(state, caller, target, name),
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
    if taken is not None and not force:
        raise ConfirmationNeeded(
            f"a context named '{taken.name}' already exists",
            f"Replace the existing context '{taken.name}'?",
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
        changes += _select_change(own, target, new)  # the default follows the context
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
        changes += _select_change(own, target, chosen)
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
