"""Undo: an operation reverted by a compensating one, and which operation a plain
``undo`` picks."""

from __future__ import annotations

from collections.abc import Iterable

from azctx.events import (
    NOT_UNDOABLE,
    USER,
    Change,
    Event,
    Refused,
    SessionEnded,
    Undone,
    describe_cell,
    inverse,
    is_session_scope,
)
from azctx.projections.decisions.decision import Decision, event, live_session, settle_default
from azctx.projections.state import State
from azctx.projections.view import Caller


def cell_value(state: State, change: Change) -> object:
    """The value the cell ``change`` addresses holds now."""
    scope = state.scope(change.scope)
    kind = change.type
    if kind == "context":
        return scope.contexts.get(change.key)
    if kind == "hidden":
        return change.key in scope.hidden
    if kind == "default":
        return scope.default
    if kind == "autosave":
        return scope.autosave
    if kind == "credential":
        return scope.credentials.get(change.key)
    return scope.environments.get(change.key)


def _restored(change: Change, shredded: frozenset[str]) -> Change:
    """The inverse of ``change``, except that a destroyed credential stays destroyed."""
    back = inverse(change)
    after = back.after
    if back.type == "credential" and after is not None and after.key_id in shredded:  # type: ignore[union-attr]
        return back._replace(after=None)
    return back


def _check_undo_scope(state: State, caller: Caller, seq: int, target: Event) -> None:
    sessions = {c.scope for c in target.changes if is_session_scope(c.scope)}
    if target.scope == "process" and target.session is not None:
        sessions.add(target.session)
    for sid in sessions:
        if sid != caller.session:
            raise Refused(
                f"operation {seq} changed the process scope of session {sid}; "
                "only that session can undo it"
            )
        live_session(state, caller)


def _changed_later(
    state: State, later: Iterable[tuple[int, Event]], cells: set[tuple[str, str, str]]
) -> set[tuple[str, str, str]]:
    """Which of ``cells`` a later operation in force changed. An undo in force only
    cancels its own target (which is then not in force), so it does not count."""
    found: set[tuple[str, str, str]] = set()
    for seq, entry in later:
        if isinstance(entry.op, Undone) or seq in state.undone_by:
            continue
        found.update(_cell(c) for c in entry.changes if _cell(c) in cells)
    return found


def _cell(change: Change) -> tuple[str, str, str]:
    return (change.scope, change.type, change.key)


def _check_unchanged(
    state: State, seq: int, target: Event, later: Iterable[tuple[int, Event]]
) -> None:
    """Every cell the operation changed still holds what it left there, and no later
    operation in force changed it (not even back again: a→b→a has changed)."""
    changed = _changed_later(state, later, {_cell(c) for c in target.changes})
    for change in target.changes:
        if _cell(change) in changed or cell_value(state, change) != change.after:
            raise Refused(
                f"cannot undo operation {seq} ({target.type}): {describe_cell(change)} "
                "has changed since",
                hint="see 'azctx history'; undo the later operations first",
            )


def decide_undo(
    state: State,
    caller: Caller,
    target_seq: int,
    target: Event,
    later: Iterable[tuple[int, Event]] = (),
) -> Decision:
    """Revert operation ``target_seq`` (``target``); ``later`` are the operations
    logged after it, oldest first (the state's undo ledger says which are in force)."""
    kind = target.type
    if kind in NOT_UNDOABLE:
        raise Refused(f"operation {target_seq} ({kind}) cannot be undone")
    by = state.undone_by.get(target_seq)
    if by is not None:
        raise Refused(
            f"operation {target_seq} was already undone by operation {by}",
            hint=f"'azctx undo {by}' redoes it",
        )
    _check_undo_scope(state, caller, target_seq, target)
    _check_unchanged(state, target_seq, target, later)
    changes = [_restored(c, state.shredded) for c in target.changes]
    # No operation, undo included, leaves a scope's default pointing nowhere.
    for scope in dict.fromkeys(c.scope for c in changes if c.type in ("context", "default")):
        changes = settle_default(state, caller, scope, changes)
    scope_key = USER if target.scope in (None, "user") else target.session or USER
    undo = event(caller, scope_key, Undone(target_seq, kind), changes)
    return Decision(undo._replace(scope=target.scope or "user"))


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
    for seq, entry in entries:
        in_force[seq] = not any(in_force.get(u, False) for u in undos.get(seq, ()))
        op = entry.op
        if isinstance(op, Undone):
            undos.setdefault(op.target, []).append(seq)
            continue
        if isinstance(op, SessionEnded) and op.session_id == caller.session:
            session_ended = True  # its process-scope operations can no longer be undone
        if entry.type in NOT_UNDOABLE or not in_force[seq]:
            continue
        mine = entry.scope == "user" or (
            entry.scope == "process"
            and not session_ended
            and caller.session is not None
            and entry.session == caller.session
        )
        if mine:
            return seq
    return None
