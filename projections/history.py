"""``history``: the operations, newest first, as rows for text and JSON output."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import NamedTuple

from azctx.events import Event, name_key
from azctx.projections.state import undone_by

__all__ = ["HistoryRow", "history_rows", "undone_by"]


class HistoryRow(NamedTuple):
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


def _context(event: Event) -> str | None:
    """The subject, else the one name the operation touched (a disconnect of an account
    with one context, an undo of a remove), else None."""
    if event.subject is not None:
        return event.subject
    names = event.names()
    return names[0] if len(names) == 1 else None


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
    rows: list[HistoryRow] = []
    for seq, event in sorted(entries, key=lambda e: e[0], reverse=True):
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
                context=_context(event),
                undone_by=undone.get(seq),
            )
        )
        if limit is not None and len(rows) >= limit:
            break
    return rows
