"""``protect`` and ``unprotect``, and the one rule they set up: selecting a protected
context, or running a command as one, asks first."""

from __future__ import annotations

from azctx.events import (
    ConfirmationNeeded,
    Context,
    Protected,
    Refused,
    Unprotected,
    context_change,
    name_key,
)
from azctx.projections.decisions.decision import Decision, event, find, named, resolve_scope
from azctx.projections.state import State
from azctx.projections.view import Caller


def decide_protect(
    state: State, caller: Caller, name: str, on: bool = True, scope: str | None = None
) -> Decision:
    """``protect NAME`` (``on``) or ``unprotect NAME``: one change, the context's own
    ``protected`` flag, in the scope the context lives in."""
    name = named(state, caller, name)
    target = resolve_scope(state, caller, scope, name)
    ctx = find(state, caller, target, name)
    key = name_key(ctx.name)
    own = state.scope(target)
    if key not in own.contexts:
        raise Refused(
            f"'{ctx.name}' is a user-scope context; a session cannot change it",
            hint="--scope user changes it for every session",
        )
    word = "protected" if on else "not protected"
    if ctx.protected == on:
        raise Refused(f"'{ctx.name}' is already {word}; nothing was changed")
    change = context_change(target, key, ctx, ctx._replace(protected=on))
    op = Protected(ctx.name) if on else Unprotected(ctx.name)
    return Decision(event(caller, target, op, [change]))


def guard(ctx: Context, doing: str, confirmed: bool) -> None:
    """A protected context is only selected or run as once the user has said yes:
    ``doing`` names the action ("select it", "run CMD as it")."""
    if ctx.protected and not confirmed:
        raise ConfirmationNeeded(
            f"'{ctx.name}' is a protected context",
            f"'{ctx.name}' is protected: {doing} anyway?",
            hint="--yes confirms it",
        )
