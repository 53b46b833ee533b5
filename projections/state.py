"""The projection: the state of every scope, folded from the event log.

``evolve`` applies one event and returns a new state; ``replay`` folds many events.
Both apply each change's ``after`` value to its cell, nothing else, plus the few
pieces of memory that are not cells: each scope's default history, the sessions, the
shredded data keys and the undo ledger (which operation undid which).

States are plain records, immutable by convention: ``evolve`` shares untouched scopes
between the old and the new state, so nobody may mutate the dicts inside a state.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from azctx.events import (
    USER,
    Actor,
    Change,
    Context,
    Credential,
    Environment,
    Event,
    Renamed,
    SessionEnded,
    SessionStarted,
    Undone,
    name_key,
)
from azctx.events.names import SessionId
from azctx.events.records import Record


class ScopeState(Record):
    """One scope: the user scope, or one session's process scope."""

    contexts: dict[str, Context]
    #: Process scope only: name keys of user contexts hidden in this session.
    hidden: frozenset[str] = frozenset()
    #: The default context's name, case kept, or None.
    default: str | None = None
    #: Name keys that were the default, oldest first, each once at its latest position.
    default_history: tuple[str, ...] = ()
    autosave: bool | None = None
    credentials: dict[str, Credential] = {}  # noqa: RUF012  # never mutated: see above
    environments: dict[str, Environment] = {}  # noqa: RUF012


EMPTY_SCOPE = ScopeState({})


class SessionInfo(Record):
    id: SessionId
    started: datetime
    expires: datetime
    ended: bool
    actor: Actor
    shell: str | None = None
    shell_name: str | None = None


class State(Record):
    """Everything the decisions and the view need, as of operation ``seq``."""

    seq: int
    user: ScopeState
    process: dict[str, ScopeState]
    sessions: dict[str, SessionInfo]
    shredded: frozenset[str]
    #: The undo ledger: undo seq -> the seq it targets ...
    undo_of: dict[int, int]
    #: ... target seq -> every undo that targeted it, oldest first ...
    undos_of: dict[int, tuple[int, ...]]
    #: ... and target seq -> the undo in force (absent when the target is in force).
    undone_by: dict[int, int]
    #: Each rename's seq -> (scope key, old name key, new name key): an undo of it (or
    #: a redo) moves the context back (or forth) in the default history.
    renames: dict[int, tuple[str, str, str]]

    @classmethod
    def empty(cls) -> State:
        return cls(0, EMPTY_SCOPE, {}, {}, frozenset(), {}, {}, {}, {})

    def scope(self, key: str) -> ScopeState:
        """The scope ``"user"`` or a session id; an unknown session reads as empty."""
        if key == USER:
            return self.user
        return self.process.get(key, EMPTY_SCOPE)


# --- the mutable working copy ---------------------------------------------------------


class _Scope:
    __slots__ = (
        "autosave",
        "contexts",
        "credentials",
        "default",
        "environments",
        "hidden",
        "history",
    )

    def __init__(self, scope: ScopeState) -> None:
        self.contexts = dict(scope.contexts)
        self.hidden = set(scope.hidden)
        self.default = scope.default
        self.history = list(scope.default_history)
        self.autosave = scope.autosave
        self.credentials = dict(scope.credentials)
        self.environments = dict(scope.environments)

    def freeze(self) -> ScopeState:
        return ScopeState(
            self.contexts,
            frozenset(self.hidden),
            self.default,
            tuple(self.history),
            self.autosave,
            self.credentials,
            self.environments,
        )

    def remember_default(self, key: str) -> None:
        if key in self.history:
            self.history.remove(key)
        self.history.append(key)

    def move_in_history(self, old: str, new: str) -> None:
        """A renamed context keeps its place; a name is kept once, at its latest place."""
        if old not in self.history:
            return
        self.history = [new if k == old else k for k in self.history]
        last = len(self.history) - 1 - self.history[::-1].index(new)
        self.history = [k for i, k in enumerate(self.history) if k != new or i == last]


class Ledger:
    """The undo ledger, mutable: who undid whom, and which undo is in force."""

    __slots__ = ("undo_of", "undone_by", "undos_of")

    def __init__(
        self,
        undo_of: dict[int, int],
        undos_of: dict[int, tuple[int, ...]],
        undone_by: dict[int, int],
    ) -> None:
        self.undo_of = undo_of
        self.undos_of = undos_of
        self.undone_by = undone_by

    def record(self, seq: int, target: int) -> None:
        self.undo_of[seq] = target
        self.undos_of[target] = (*self.undos_of.get(target, ()), seq)
        self._redecide(target)

    def _redecide(self, target: int) -> None:
        """Recompute which undo of ``target`` is in force, and follow the chain upwards.

        An undo is in force while nothing undoes it; a target is undone by its latest
        undo in force. Undoing an undo therefore puts its target back in force (a redo).
        """
        while True:
            in_force = [u for u in self.undos_of.get(target, ()) if u not in self.undone_by]
            now = in_force[-1] if in_force else None
            if self.undone_by.get(target) == now:
                return
            if now is None:
                del self.undone_by[target]
            else:
                self.undone_by[target] = now
            if target not in self.undo_of:
                return
            target = self.undo_of[target]


class _Work:
    """A private, mutable copy of a state. Each part is copied on its first write
    (None: still the base state's), so ``evolve`` costs what the event touches."""

    __slots__ = ("base", "ledger", "process", "renames", "seq", "sessions", "shredded", "user")

    def __init__(self, base: State) -> None:
        self.base = base
        self.seq = base.seq
        self.user: _Scope | None = None
        self.process: dict[str, ScopeState | _Scope] | None = None
        self.sessions: dict[str, SessionInfo] | None = None
        self.shredded: set[str] | None = None
        self.ledger: Ledger | None = None
        self.renames: dict[int, tuple[str, str, str]] | None = None

    def scope(self, key: str) -> _Scope:
        if key == USER:
            if self.user is None:
                self.user = _Scope(self.base.user)
            return self.user
        process = self.own_process()
        current = process.get(key, EMPTY_SCOPE)
        if isinstance(current, ScopeState):
            current = process[key] = _Scope(current)
        return current

    def own_process(self) -> dict[str, ScopeState | _Scope]:
        if self.process is None:
            self.process = dict(self.base.process)
        return self.process

    def own_sessions(self) -> dict[str, SessionInfo]:
        if self.sessions is None:
            self.sessions = dict(self.base.sessions)
        return self.sessions

    def own_shredded(self) -> set[str]:
        if self.shredded is None:
            self.shredded = set(self.base.shredded)
        return self.shredded

    def own_ledger(self) -> Ledger:
        if self.ledger is None:
            b = self.base
            self.ledger = Ledger(dict(b.undo_of), dict(b.undos_of), dict(b.undone_by))
        return self.ledger

    def freeze(self) -> State:
        b = self.base
        process = b.process
        if self.process is not None:
            process = {
                k: v.freeze() if isinstance(v, _Scope) else v for k, v in self.process.items()
            }
        ledger = self.ledger
        return State(
            self.seq,
            b.user if self.user is None else self.user.freeze(),
            process,
            b.sessions if self.sessions is None else self.sessions,
            b.shredded if self.shredded is None else frozenset(self.shredded),
            b.undo_of if ledger is None else ledger.undo_of,
            b.undos_of if ledger is None else ledger.undos_of,
            b.undone_by if ledger is None else ledger.undone_by,
            b.renames if self.renames is None else self.renames,
        )


def _put(cells: dict[str, object], key: str, value: object) -> None:
    if value is None:
        cells.pop(key, None)
    else:
        cells[key] = value


def _set_cell(work: _Work, change: Change) -> None:
    # Dispatch on the cell type: the innermost loop of replay.
    scope = work.scope(change.scope)
    kind, after = change.type, change.after
    if kind == "context":
        _put(scope.contexts, change.key, after)  # type: ignore[arg-type]
    elif kind == "default":
        scope.default = after  # type: ignore[assignment]
        if isinstance(after, str):
            scope.remember_default(name_key(after))
    elif kind == "credential":
        _put(scope.credentials, change.key, after)  # type: ignore[arg-type]
    elif kind == "hidden":
        if after:
            scope.hidden.add(change.key)
        else:
            scope.hidden.discard(change.key)
    elif kind == "autosave":
        scope.autosave = after  # type: ignore[assignment]
    else:
        _put(scope.environments, change.key, after)  # type: ignore[arg-type]


def _moves(work: _Work, seq: int, event: Event) -> list[tuple[str, str, str]]:
    """The (scope, old key, new key) of the context ``event`` moves to another name: a
    rename moves it, the undo of a rename moves it back, the undo of that undo (a redo)
    forth again. Read from the operations themselves, never guessed from the cells."""
    op = event.op
    if isinstance(op, Renamed):
        scope = USER if event.scope != "process" else event.session
        old, new = name_key(op.old), name_key(op.new)
        if scope is None or old == new:
            return []
        if work.renames is None:
            work.renames = dict(work.base.renames)
        work.renames[seq] = (scope, old, new)
        return [(scope, old, new)]
    if isinstance(op, Undone):
        undo_of = work.base.undo_of if work.ledger is None else work.ledger.undo_of
        base, layers = op.target, 1
        while base in undo_of:
            base, layers = undo_of[base], layers + 1
        renames = work.base.renames if work.renames is None else work.renames
        found = renames.get(base)
        if found is not None:
            scope, old, new = found
            return [(scope, new, old)] if layers % 2 else [found]
    return []


def _apply_ledger_or_session(work: _Work, seq: int, event: Event) -> None:
    op = event.op
    if isinstance(op, Undone):
        work.own_ledger().record(seq, op.target)
    elif isinstance(op, SessionStarted):
        work.own_sessions()[op.session_id] = SessionInfo(
            op.session_id, event.time, op.expires, False, event.actor, op.shell, op.shell_name
        )
        # The cells it started with (a nested shell's default) are set already.
        work.own_process().setdefault(op.session_id, EMPTY_SCOPE)
    elif isinstance(op, SessionEnded):
        sessions = work.own_sessions()
        info = sessions.get(op.session_id)
        if info is not None:
            sessions[op.session_id] = info._replace(ended=True)
        # Its contexts are no longer visible to anyone; its secrets are shredded.
        work.own_process().pop(op.session_id, None)


#: The records of the operations that change more than cells (a set lookup is cheaper
#: than the isinstance checks every other event would go through).
_LEDGER_AND_SESSION_OPS = frozenset({Undone, SessionStarted, SessionEnded})
#: The operations that can move a context to another name.
_MOVING_OPS = frozenset({Renamed, Undone})


def _apply(work: _Work, seq: int, event: Event) -> None:
    op_type = type(event.op)
    if op_type in _MOVING_OPS:
        # Before the default changes below, so the history remembers the new name.
        for scope, old, new in _moves(work, seq, event):
            work.scope(scope).move_in_history(old, new)
    for change in event.changes:
        _set_cell(work, change)
    if event.shredded:
        work.own_shredded().update(event.shredded)
    if op_type in _LEDGER_AND_SESSION_OPS:
        _apply_ledger_or_session(work, seq, event)
    work.seq = seq


def evolve(state: State, seq: int, event: Event) -> State:
    """The state after ``event``, logged as operation ``seq``."""
    work = _Work(state)
    _apply(work, seq, event)
    return work.freeze()


def replay(state: State, entries: Iterable[tuple[int, Event]]) -> State:
    """Fold many ``(seq, event)`` entries, oldest first, into ``state``."""
    work = _Work(state)
    for seq, event in entries:
        _apply(work, seq, event)
    return work.freeze()


def undone_by(entries: Iterable[tuple[int, Event]]) -> dict[int, int | None]:
    """Every entry's seq -> the seq of the undo in force on it, else None.

    ``entries`` oldest first; only undo events are looked at, so this is cheap.
    """
    ledger = Ledger({}, {}, {})
    seqs: list[int] = []
    for seq, event in entries:
        seqs.append(seq)
        if isinstance(event.op, Undone):
            ledger.record(seq, event.op.target)
    return {s: ledger.undone_by.get(s) for s in seqs}


def apply_changes(state: State, changes: Iterable[Change]) -> State:
    """The state with ``changes`` applied (for previewing an operation being decided)."""
    work = _Work(state)
    for change in changes:
        _set_cell(work, change)
    return work.freeze()
