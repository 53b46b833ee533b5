"""When a write saves a snapshot: one rule for every writer, read at call time so tests
can shorten it."""

from __future__ import annotations

#: A snapshot is saved at every multiple of this many operations (and whenever the tail
#: since the last one reaches it), so loading the state reads one snapshot and at most
#: this many log rows.
SNAPSHOT_EVERY = 64


def snapshot_due(before: int, after: int, base: int) -> bool:
    """Whether the write that took the log from seq ``before`` to ``after`` saves a
    snapshot, the last one being at ``base``.

    Multiples of ``SNAPSHOT_EVERY`` make the schedule the same for every writer: of
    several processes taking turns, exactly the one whose write crosses a multiple
    saves it, however stale its idea of ``base``. The tail rule covers a log without a
    snapshot of this projection version (an upgrade, an older program)."""
    return crossed(before, after) is not None or after - base >= SNAPSHOT_EVERY


def crossed(before: int, after: int) -> int | None:
    """The newest multiple of ``SNAPSHOT_EVERY`` in ``before < seq <= after``, where a
    snapshot is saved; None when there is none."""
    newest = after // SNAPSHOT_EVERY * SNAPSHOT_EVERY
    return newest if newest > before else None
