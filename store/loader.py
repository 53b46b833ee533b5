"""Loading the state from the log: the newest snapshot and the rows after it, or the
rows another writer appended since this process last looked; and when a write saves a
snapshot (one rule for every writer, read at call time so tests can shorten it)."""

from __future__ import annotations

from collections.abc import Iterator

from azctx.events import Event
from azctx.events.codec import decode_many
from azctx.events.records import Record
from azctx.projections import snapshot
from azctx.projections.state import State, replay
from azctx.store.log import Log
from azctx.store.rows import Entry


class Loaded(Record):
    """A state with the log head it belongs to and the seq of the snapshot it grew from."""

    head: tuple[int, bytes]
    state: State
    base: int


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


#: Rows decoded together (their JSON parsed in one call).
DECODE_BATCH = 64


def decoded(log: Log, after: int, upto: int | None = None) -> Iterator[tuple[int, Event]]:
    """The events after ``after`` (to ``upto``), oldest first, each row checked."""
    seqs: list[int] = []
    payloads: list[bytes] = []
    for entry in log.entries(after=after, upto=upto):
        seqs.append(entry.seq)
        payloads.append(entry.payload)
        if len(payloads) == DECODE_BATCH:
            yield from zip(seqs, decode_many(payloads), strict=True)
            seqs, payloads = [], []
    yield from zip(seqs, decode_many(payloads), strict=True)


class StateCache:
    """The state one ``ContextStore`` last loaded or wrote, reused while the log head is
    unchanged and brought forward by the rows other writers appended meanwhile."""

    __slots__ = ("loaded",)

    def __init__(self) -> None:
        self.loaded: Loaded | None = None

    def load(self, log: Log, upto: int | None = None) -> tuple[State, int]:
        """The state after ``upto`` (default: the head), and the seq of its snapshot.

        Everything it reads is checked: the snapshot (authenticated and bound to its
        log row, whose own hash is recomputed) and every row after it (hash, link to its
        predecessor, authenticated decryption). The rows before the snapshot are not
        read, so loading costs the same on a long log as on a short one; ``verify``,
        ``history`` and reads of the past check those."""
        head = log.head() if upto is None else None
        cached = self.loaded
        if cached is not None and head is not None:
            if cached.head == head:
                return cached.state, cached.base
            caught_up = self._catch_up(log, cached, head)
            if caught_up is not None:
                return caught_up.state, caught_up.base
        state = _from_snapshot(log, upto)
        base = state.seq
        state = replay(state, decoded(log, state.seq, upto))
        if head is not None and state.seq == head[0]:
            self.loaded = Loaded(head, state, base)
        return state, base

    def _catch_up(self, log: Log, cached: Loaded, head: tuple[int, bytes]) -> Loaded | None:
        """``cached`` brought forward to ``head``, or None when the log no longer
        continues what it was (then the caller loads from the snapshot, with every check
        that brings). Writers taking turns each find a few new rows per write; folding
        just those keeps the time spent holding the lock as short as for a lone writer."""
        seq, digest = cached.head
        if head[0] <= seq or head[0] - seq >= SNAPSHOT_EVERY:
            return None
        if log.stored_hash(seq) != digest:
            return None
        state = replay(cached.state, decoded(log, seq))
        if state.seq != head[0]:
            return None
        # Whoever crossed a multiple of SNAPSHOT_EVERY saved a snapshot there.
        newest = crossed(seq, state.seq)
        self.loaded = Loaded(head, state, cached.base if newest is None else newest)
        return self.loaded

    def remember(self, entry: Entry, state: State, base: int) -> None:
        """``state``, after the row this process just committed, is the one to reuse."""
        self.loaded = Loaded((entry.seq, entry.hash), state, base)


def _from_snapshot(log: Log, upto: int | None) -> State:
    # The version is read at call time (tests change it to play an upgrade).
    saved = log.latest_snapshot(snapshot.PROJECTION_VERSION, upto)
    if saved is None:
        return State.empty()
    state = snapshot.state_from_snapshot(saved.payload)
    # An authenticated snapshot this reader cannot read is a cache miss, not an error:
    # the log itself is replayed instead.
    return State.empty() if state is None else state


def save_snapshot(log: Log, seq: int, state: State) -> None:
    log.save_snapshot(seq, snapshot.PROJECTION_VERSION, snapshot.snapshot_bytes(state))


def verify_snapshots(log: Log) -> None:
    """Each snapshot opens and holds exactly the state a replay gives at its seq."""
    from azctx.store.errors import TamperedError

    saved = sorted(log.snapshots(snapshot.PROJECTION_VERSION), key=lambda s: s.seq)
    state = State.empty()
    for one in saved:
        state = replay(state, decoded(log, state.seq, one.seq))
        if snapshot.state_from_snapshot(one.payload) != state:
            raise TamperedError(
                f"the snapshot of operation {one.seq} does not match the log", one.seq
            )


def verify_data_keys(log: Log, state: State) -> None:
    """Every credential the state holds has its data key, unless an operation of the
    log destroyed that key: a key row gone without one is a quiet loss (deleted behind
    azctx's back), not a shredding."""
    from azctx.store.errors import TamperedError

    for scope in (state.user, *state.process.values()):
        for account, credential in scope.credentials.items():
            key_id = credential.key_id
            if key_id not in state.shredded and not log.key_exists(key_id):
                raise TamperedError(
                    f"the data key {key_id} of the account {account} is missing from the"
                    " store, but no operation destroyed it"
                )
