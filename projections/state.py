"""The projection: the state of every scope, folded from the event log.

``evolve`` applies one event and returns a new state; ``replay`` folds many events
quickly. Both apply each change's ``after`` value to its cell, nothing else, plus the
few pieces of memory that are not cells: each scope's default history, the sessions,
the shredded data keys and the undo ledger (which operation undid which).

States are immutable by convention: ``evolve`` shares untouched scopes between the old
and the new state, so nobody may mutate the dicts inside a state.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from azctx.events import (
    USER,
    Actor,
    Change,
    Context,
    ContextChange,
    Credential,
    Environment,
    Event,
    OperationUndone,
    SessionEnded,
    SessionStarted,
    name_key,
)
from pydantic import BaseModel, ConfigDict, Field, ValidationError

# Defined with the pydantic-free reader of snapshots, which must agree with it.
from .plain import PROJECTION_VERSION as PROJECTION_VERSION


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ScopeState(_Model):
    """One scope: the user scope, or one session's process scope."""

    contexts: dict[str, Context] = Field(default_factory=dict)
    #: Process scope only: names of user contexts hidden in this session.
    hidden: frozenset[str] = frozenset()
    #: The default context's name, case kept, or None.
    default: str | None = None
    #: Name keys that were the default, oldest first, each once at its latest position.
    default_history: tuple[str, ...] = ()
    autosave: bool | None = None
    credentials: dict[str, Credential] = Field(default_factory=dict)
    environments: dict[str, Environment] = Field(default_factory=dict)


EMPTY_SCOPE = ScopeState()


class SessionInfo(_Model):
    id: str
    started: datetime
    expires: datetime
    ended: bool = False
    actor: Actor


class State(_Model):
    """Everything the decisions and the view need, as of operation ``seq``."""

    seq: int = 0
    user: ScopeState = EMPTY_SCOPE
    process: dict[str, ScopeState] = Field(default_factory=dict)
    sessions: dict[str, SessionInfo] = Field(default_factory=dict)
    shredded: frozenset[str] = frozenset()
    #: The undo ledger: undo seq -> the seq it targets ...
    undo_of: dict[int, int] = Field(default_factory=dict)
    #: ... target seq -> every undo that targeted it, oldest first ...
    undos_of: dict[int, tuple[int, ...]] = Field(default_factory=dict)
    #: ... and target seq -> the undo in force (absent when the target is in force).
    undone_by: dict[int, int] = Field(default_factory=dict)

    @classmethod
    def empty(cls) -> State:
        return cls()

    def scope(self, key: str) -> ScopeState:
        """The scope ``"user"`` or a session id; an unknown session reads as empty."""
        if key == USER:
            return self.user
        return self.process.get(key, EMPTY_SCOPE)


class _Snapshot(_Model):
    version: int
    state: State


def snapshot_json(state: State) -> str:
    """The state as JSON text, tagged with ``PROJECTION_VERSION``."""
    return _Snapshot(version=PROJECTION_VERSION, state=state).model_dump_json()


def state_from_snapshot(text: str | bytes) -> State | None:
    """The state in a snapshot, or None when it is unreadable or from another version."""
    try:
        snap = _Snapshot.model_validate_json(text)
    except ValidationError:
        return None
    return snap.state if snap.version == PROJECTION_VERSION else None


# --- the mutable working copy ---------------------------------------------------------


@dataclass
class _Scope:
    contexts: dict[str, Context]
    hidden: set[str]
    default: str | None
    history: list[str]
    autosave: bool | None
    credentials: dict[str, Credential]
    environments: dict[str, Environment]

    @classmethod
    def thaw(cls, scope: ScopeState) -> _Scope:
        return cls(
            dict(scope.contexts),
            set(scope.hidden),
            scope.default,
            list(scope.default_history),
            scope.autosave,
            dict(scope.credentials),
            dict(scope.environments),
        )

    def freeze(self) -> ScopeState:
        # model_construct: the values came from validated events, so skip validation.
        return ScopeState.model_construct(
            contexts=self.contexts,
            hidden=frozenset(self.hidden),
            default=self.default,
            default_history=tuple(self.history),
            autosave=self.autosave,
            credentials=self.credentials,
            environments=self.environments,
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


@dataclass
class _Ledger:
    """The undo ledger, mutable: who undid whom, and which undo is in force."""

    undo_of: dict[int, int]
    undos_of: dict[int, tuple[int, ...]]
    undone_by: dict[int, int]

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


@dataclass
class _Work:
    """A private, mutable copy of a state. Each part is copied on its first write
    (None: still the base state's), so ``evolve`` costs what the event touches."""

    base: State
    seq: int
    user: _Scope | None = None
    process: dict[str, ScopeState | _Scope] | None = None
    sessions: dict[str, SessionInfo] | None = None
    shredded: set[str] | None = None
    ledger: _Ledger | None = None

    def scope(self, key: str) -> _Scope:
        if key == USER:
            if self.user is None:
                self.user = _Scope.thaw(self.base.user)
            return self.user
        process = self.own_process()
        current = process.get(key, EMPTY_SCOPE)
        if isinstance(current, ScopeState):
            current = _Scope.thaw(current)
            process[key] = current
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

    def own_ledger(self) -> _Ledger:
        if self.ledger is None:
            b = self.base
            self.ledger = _Ledger(dict(b.undo_of), dict(b.undos_of), dict(b.undone_by))
        return self.ledger

    def freeze(self) -> State:
        b = self.base
        process = b.process
        if self.process is not None:
            process = {
                k: v.freeze() if isinstance(v, _Scope) else v for k, v in self.process.items()
            }
        ledger = self.ledger
        return State.model_construct(
            seq=self.seq,
            user=b.user if self.user is None else self.user.freeze(),
            process=process,
            sessions=b.sessions if self.sessions is None else self.sessions,
            shredded=b.shredded if self.shredded is None else frozenset(self.shredded),
            undo_of=b.undo_of if ledger is None else ledger.undo_of,
            undos_of=b.undos_of if ledger is None else ledger.undos_of,
            undone_by=b.undone_by if ledger is None else ledger.undone_by,
        )


def _set_cell(work: _Work, change: Change) -> None:
    # Dispatch on the discriminator (faster than class patterns): the innermost loop
    # of replay.
    scope = work.scope(change.scope)
    key = change.key
    if change.type == "context":
        if change.after is None:
            scope.contexts.pop(key, None)
        else:
            scope.contexts[key] = change.after
    elif change.type == "default":
        scope.default = change.after
        if change.after is not None:
            scope.remember_default(name_key(change.after))
    elif change.type == "credential":
        if change.after is None:
            scope.credentials.pop(key, None)
        else:
            scope.credentials[key] = change.after
    elif change.type == "hidden":
        if change.after:
            scope.hidden.add(key)
        else:
            scope.hidden.discard(key)
    elif change.type == "autosave":
        scope.autosave = change.after
    elif change.after is None:
        scope.environments.pop(key, None)
    else:
        scope.environments[key] = change.after


def _unnamed(ctx: Context) -> tuple[object, ...]:
    """Everything about a context but its name (cheaper than a model copy)."""
    return tuple(v for k, v in ctx.__dict__.items() if k != "name")


def context_moves(changes: Iterable[Change]) -> list[tuple[str, str, str]]:
    """The (scope, old key, new key) of every context that moved to another name.

    A rename, the undo of a rename and its redo all move a context: it leaves one key
    and the same context (but for its name) arrives under one other key. (Contexts can
    be alike but for their names, hence lists, and only a single candidate counts.)
    """
    left: dict[tuple[str, tuple[object, ...]], list[str]] = {}
    arrived: list[tuple[str, tuple[object, ...], str]] = []
    for c in changes:
        if not isinstance(c, ContextChange):
            continue
        if c.before is not None:
            left.setdefault((c.scope, _unnamed(c.before)), []).append(c.key)
        if c.after is not None:
            arrived.append((c.scope, _unnamed(c.after), c.key))
    moves = []
    for scope, body, key in arrived:
        others = [k for k in left.get((scope, body), ()) if k != key]
        if len(others) == 1:
            moves.append((scope, others[0], key))
    return moves


#: The events that change more than cells: the few ``_apply`` hands on (a set lookup is
#: cheaper than the isinstance checks every other event would go through).
_LEDGER_AND_SESSION_KINDS = frozenset({"undo", "session-start", "session-end"})


def _apply_ledger_or_session(work: _Work, seq: int, event: Event) -> None:
    if isinstance(event, OperationUndone):
        work.own_ledger().record(seq, event.target)
    elif isinstance(event, SessionStarted):
        work.own_sessions()[event.session_id] = SessionInfo(
            id=event.session_id,
            started=event.time,
            expires=event.expires,
            actor=event.actor,
        )
        work.own_process()[event.session_id] = EMPTY_SCOPE
    elif isinstance(event, SessionEnded):
        sessions = work.own_sessions()
        info = sessions.get(event.session_id)
        if info is not None:
            sessions[event.session_id] = info.model_copy(update={"ended": True})
        # Its contexts are no longer visible to anyone; its secrets are shredded.
        work.own_process().pop(event.session_id, None)


def _apply(work: _Work, seq: int, event: Event) -> None:
    kind = event.type
    if kind in ("rename", "undo") and len(event.changes) > 1:
        # Before the default changes below, so the history remembers the new name.
        for scope, old, new in context_moves(event.changes):
            work.scope(scope).move_in_history(old, new)
    for change in event.changes:
        _set_cell(work, change)
    if event.shredded:
        work.own_shredded().update(event.shredded)
    if kind in _LEDGER_AND_SESSION_KINDS:
        _apply_ledger_or_session(work, seq, event)
    work.seq = seq


def evolve(state: State, seq: int, event: Event) -> State:
    """The state after ``event``, logged as operation ``seq``."""
    work = _Work(state, state.seq)
    _apply(work, seq, event)
    return work.freeze()


def replay(state: State, entries: Iterable[tuple[int, Event]]) -> State:
    """Fold many ``(seq, event)`` entries, oldest first, into ``state``."""
    work = _Work(state, state.seq)
    for seq, event in entries:
        _apply(work, seq, event)
    return work.freeze()


def undone_by(entries: Iterable[tuple[int, Event]]) -> dict[int, int | None]:
    """Every entry's seq -> the seq of the undo in force on it, else None.

    ``entries`` oldest first; only undo events are looked at, so this is cheap.
    """
    ledger = _Ledger({}, {}, {})
    seqs: list[int] = []
    for seq, event in entries:
        seqs.append(seq)
        if isinstance(event, OperationUndone):
            ledger.record(seq, event.target)
    return {s: ledger.undone_by.get(s) for s in seqs}


def apply_changes(state: State, changes: Iterable[Change]) -> State:
    """The state with ``changes`` applied (for previewing an operation being decided)."""
    work = _Work(state, state.seq)
    for change in changes:
        _set_cell(work, change)
    return work.freeze()
