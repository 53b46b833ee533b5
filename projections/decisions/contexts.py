"""The decisions on contexts: ``select`` (and ``select -``), ``rename``, ``remove``,
``disconnect`` and ``clear``.

Where a change goes: an explicit scope wins; otherwise an operation on a context the
caller sees in its process scope acts there; otherwise ``user`` when autosave is on and
``process`` when it is off. "Exists in a scope" means: in the user scope, its own
contexts; in the process scope, what the session sees (its own contexts and the visible
user ones), since that is what the caller acts on.
"""

from __future__ import annotations

from collections.abc import Iterable

from azctx.events import (
    USER,
    Change,
    Cleared,
    ConfirmationNeeded,
    Context,
    Disconnected,
    Refused,
    Removed,
    Renamed,
    Selected,
    account_key,
    check_name,
    check_text,
    context_change,
    credential_change,
    default_change,
    hidden_change,
    name_key,
)
from azctx.projections.decisions.decision import (
    Decision,
    check_scope,
    event,
    find,
    live_session,
    named,
    notes,
    pick_earlier,
    resolve_scope,
    scope_names,
    select_change,
    select_scope,
    settle_default,
    where,
)
from azctx.projections.decisions.protection import guard
from azctx.projections.state import State
from azctx.projections.view import Caller, lookup, seen, view, whose_default


def decide_select(
    state: State, caller: Caller, name: str, scope: str | None = None, confirmed: bool = False
) -> Decision:
    name = named(state, caller, name)
    target = select_scope(state, caller, scope)
    ctx = find(state, caller, target, name)
    guard(ctx, "select it", confirmed)
    own = state.scope(target)
    changes = select_change(own, target, ctx.name)
    return Decision(
        event(caller, target, Selected(ctx.name), changes),
        notes(state, caller, target, ctx.name),
    )


def decide_select_previous(
    state: State, caller: Caller, scope: str | None = None, confirmed: bool = False
) -> Decision:
    """``select -``: the most recent different earlier default that still exists."""
    target = select_scope(state, caller, scope)
    own = state.scope(target)
    current = None if own.default is None else name_key(own.default)
    name = pick_earlier(
        _earlier_defaults(state, target), current, scope_names(state, caller, target)
    )
    if name is None:
        raise Refused(
            f"there is no earlier default to go back to in {where(target)}",
            hint="azctx select NAME",
        )
    guard(scope_names(state, caller, target)[name_key(name)], "select it", confirmed)
    changes = select_change(own, target, name)
    return Decision(
        event(caller, target, Selected(name, previous=True), changes),
        notes(state, caller, target, name),
    )


def _earlier_defaults(state: State, target: str) -> tuple[str, ...]:
    """The defaults ``select -`` may go back to, oldest first. A session that switched
    had, before its first switch, the saved default the shell showed: it comes first,
    so ``select -`` right after a shell's first ``select`` goes back to it."""
    own = state.scope(target)
    saved = state.scope(USER).default
    if target == USER or own.default is None or saved is None:
        return own.default_history
    return (name_key(saved), *own.default_history)


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
    old = named(state, caller, old)
    check_name(new)
    target = resolve_scope(state, caller, scope, old)
    own = state.scope(target)
    key = name_key(old)
    if key not in own.contexts and target != USER and key in scope_names(state, caller, target):
        raise Refused(
            f"'{old}' is a user-scope context; a session cannot rename it",
            hint="--scope user renames it for every session",
        )
    ctx = lookup(own.contexts.values(), old, f" in {where(target)}")
    changes, taken = _renamed_changes(state, caller, target, ctx, new, force)
    if own.default is not None and name_key(own.default) in (name_key(old), name_key(new)):
        changes += select_change(own, target, new)  # the default follows the context
    op = Renamed(ctx.name, new, replaced=taken is not None)
    return Decision(event(caller, target, op, changes))


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
    name = named(state, caller, name)
    target = resolve_scope(state, caller, scope, name)
    ctx = find(state, caller, target, name)
    key = name_key(ctx.name)
    own = state.scope(target)
    # The default of the scope it goes from, or the one the caller sees (a session's).
    whose = _whose_default(state, caller, key, target, own.default)
    if whose is not None and not force:
        raise ConfirmationNeeded(
            f"'{ctx.name}' is {whose}",
            f"Remove {whose}, '{ctx.name}'?",
            hint="--force removes it; the previous default becomes the default",
        )
    changes: list[Change] = []
    if key in own.contexts:
        changes.append(context_change(target, key, own.contexts[key], None))
    changes += _hide(state, target, [key])
    changes = settle_default(state, caller, target, changes)
    return Decision(event(caller, target, Removed(ctx.name), changes))


def _whose_default(
    state: State, caller: Caller, key: str, target: str, own: str | None
) -> str | None:
    """Which default the context ``key`` is, in the words of the caller's shell: the one
    it sees, else the one of the scope ``target`` it goes from (a saved default that
    the shell's own hides)."""
    seen_default = view(state, caller).default
    if seen_default is not None and name_key(seen_default) == key:
        return f"{whose_default(state, caller)} context"
    if own is not None and name_key(own) == key:
        return (
            "the saved default context (user scope)"
            if target == USER
            else "the session's default context"
        )
    return None


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
    state: State,
    caller: Caller,
    account: str | None = None,
    scope: str | None = None,
    ask: bool = False,
) -> Decision:
    """Every context and the credential of ``account``; ``ask``: a question first,
    naming the account and how many contexts go (``ConfirmationNeeded``)."""
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
    if ask:
        gone = removed_count(changes)
        raise ConfirmationNeeded(
            f"disconnecting '{account}' removes {gone} context(s) and its credential",
            f"Disconnect '{account}': remove its {gone} context(s) in {where(target)} "
            "and destroy its credential?",
        )
    changes = settle_default(state, caller, target, changes)
    decided = event(caller, target, Disconnected(account), changes)
    return Decision(decided._replace(shredded=shredded))


def removed_count(changes: Iterable[Change]) -> int:
    """How many contexts ``changes`` take out of the view: removed or hidden."""
    return sum(
        1
        for c in changes
        if (c.type == "context" and c.after is None) or (c.type == "hidden" and c.after)
    )


def decide_clear(
    state: State, caller: Caller, scope: str | None = None, ask: bool = False
) -> Decision:
    """Every context and credential of the scope; ``ask`` as for a disconnect."""
    target = resolve_scope(state, caller, scope)
    own = state.scope(target)
    changes = [context_change(target, k, c, None) for k, c in own.contexts.items()]
    changes += _hide(state, target, list(state.user.contexts))
    changes += [credential_change(target, k, c, None) for k, c in own.credentials.items()]
    if ask:
        gone, creds = removed_count(changes), len(own.credentials)
        raise ConfirmationNeeded(
            f"clearing {where(target)} removes {gone} context(s) and {creds} credential(s)",
            f"Clear {where(target)}: remove its {gone} context(s) and {creds} credential(s)?",
        )
    changes.append(default_change(target, own.default, None))
    keys = sorted({c.key_id for c in own.credentials.values()} - state.shredded)
    decided = event(caller, target, Cleared(), changes)
    return Decision(decided._replace(shredded=tuple(keys)))
