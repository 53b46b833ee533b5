"""Reads of the past: which operation an ``--at``/``--since`` names, and ``history``.
Both read (and so check) the rows before the newest snapshot, which reads of the
present do not."""

from __future__ import annotations

from typing import TYPE_CHECKING

from azctx.events import BadInput
from azctx.projections import snapshot
from azctx.store.loader import decoded
from azctx.store.log import Log
from azctx.store.when import When, parse_when

if TYPE_CHECKING:
    from azctx.projections.history import HistoryRow


def resolve(log: Log, when: When) -> int:
    """The operation ``when`` names: its number, or the last at or before its time."""
    head, _ = log.head()
    if when.seq is not None:
        if not 1 <= when.seq <= head:
            raise BadInput(f"there is no operation {when.seq} (the log has {head})")
        return when.seq
    assert when.time is not None
    return log.seq_at(when.time)


def history(
    log: Log, *, limit: int | None, context: str | None, since: str | None
) -> list[HistoryRow]:
    """The rows of ``azctx history``, newest first."""
    from azctx.projections.history import history_rows
    from azctx.projections.state import undone_by

    after_seq, after_time = 0, None
    if since is not None:
        when = parse_when(since, "--since")
        if when.seq is not None:
            after_seq = resolve(log, when)
        after_time = when.time
    # The whole log is read (and so checked) below; the newest snapshot too, so a
    # forged cache is reported here as it is by every read of the present.
    log.latest_snapshot(snapshot.PROJECTION_VERSION)
    entries = list(decoded(log, 0))
    undone = undone_by(entries)
    return history_rows(
        entries, undone, limit=limit, context=context, since=after_time, after=after_seq
    )
