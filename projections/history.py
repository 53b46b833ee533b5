"""``history``: the operations, newest first, as rows for text and JSON output."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from azctx.events import Context, Event, Renamed, Undone, name_key
from azctx.events.records import Record
from azctx.projections.state import undone_by

__all__ = ["HistoryRow", "history_rows", "undo_effects", "undone_by"]


class HistoryRow(Record):
    seq: int
    time: datetime
    user: str
    host: str
    scope: str
    session: str | None
    operation: str
    #: The context the operation acted on, or None.
    context: str | None
    #: The seq of the undo in force on this operation, else None.
    undone_by: int | None
    #: A rename's new name (``context`` is the old one), else None.
    renamed_to: str | None = None


def _context(event: Event, subjects: Mapping[int, str | None]) -> str | None:
    """The subject, else the target's for an undo, else the one name the operation
    touched (a disconnect of an account with one context), else None."""
    if event.subject is not None:
        return event.subject
    if isinstance(event.op, Undone) and subjects.get(event.op.target) is not None:
        return subjects[event.op.target]
    names = event.names()
    return names[0] if len(names) == 1 else None


def undo_effects(event: Event) -> str:
    """What an undo (or any operation) did to the contexts, in words: "'prod' is back",
    "'dev' is gone", "'b' is 'a' again", "'prod' is protected again"."""
    back: list[str] = []
    gone: list[str] = []
    said: list[str] = []
    for change in event.changes:
        if change.type != "context":
            continue
        before, after = change.before, change.after
        if isinstance(after, Context) and isinstance(before, Context):
            if before.protected != after.protected:
                word = "protected again" if after.protected else "no longer protected"
                said.append(f"'{after.name}' is {word}")
        elif isinstance(after, Context):
            back.append(after.name)
        elif isinstance(before, Context):
            gone.append(before.name)
    if len(back) == len(gone) == 1 and name_key(back[0]) != name_key(gone[0]):
        return f"'{gone[0]}' is '{back[0]}' again"  # a rename, undone
    for names, verb in ((back, "back"), (gone, "gone")):
        if names:
            listed = ", ".join(f"'{n}'" for n in names)
            said.append(f"{listed} {'is' if len(names) == 1 else 'are'} {verb}")
    return "; ".join(said)


def history_rows(
    entries: Iterable[tuple[int, Event]],
    undone: Mapping[int, int | None],
    *,
    limit: int | None = None,
    context: str | None = None,
    since: datetime | None = None,
    after: int = 0,
) -> list[HistoryRow]:
    """Rows newest first. ``context`` keeps operations that touched that name (any
    case); ``since`` those at or after that time; ``after`` those after operation N
    (``--since N``: the changes since the state after N); ``limit`` the first N."""
    wanted = None if context is None else name_key(context)
    ordered = sorted(entries, key=lambda e: e[0], reverse=True)
    subjects = {seq: event.subject for seq, event in ordered}
    rows: list[HistoryRow] = []
    for seq, event in ordered:
        if seq <= after or (since is not None and event.time < since):
            continue
        if wanted is not None and wanted not in {name_key(n) for n in event.names()}:
            continue
        rows.append(
            HistoryRow(
                seq=seq,
                time=event.time,
                user=event.actor.user,
                host=event.actor.host,
                scope=event.scope or "",
                session=event.session,
                operation=event.type,
                context=_context(event, subjects),
                undone_by=undone.get(seq),
                renamed_to=event.op.new if isinstance(event.op, Renamed) else None,
            )
        )
        if limit is not None and len(rows) >= limit:
            break
    return rows
