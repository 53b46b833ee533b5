"""The operation events: one per user action, one log entry each.

Every event says who did it, when, in which scope and session (the fields of
``Event``), what was asked for (``op``: one record per operation, its fields those of
the operation), what it changed (``changes``: cells with their values before and after)
and which data keys it destroyed (``shredded``). ``Event.type`` is the operation name
that ``history`` shows.

Schemas are versioned by ``v``, per operation (``VERSIONS``). When a field is added to
an operation, its version is raised and an upcaster from the old version is registered
in ``events.codec`` so an old log still reads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from azctx.events.changes import Change
from azctx.events.names import SessionId
from azctx.events.records import Record
from azctx.events.values import Actor, Context, ScopeName

Operation = Literal[
    "add",
    "select",
    "rename",
    "remove",
    "disconnect",
    "clear",
    "autosave",
    "undo",
    "import",
    "session-start",
    "session-end",
    "key-rotate",
    "protect",
    "unprotect",
]
ImportSource = Literal["az-powershell", "az-cli"]
EndReason = Literal["ended", "expired", "shell-gone"]


class Added(Record):
    context: Context
    replaced: bool = False
    selected: bool = True


class Selected(Record):
    name: str
    previous: bool = False


class Renamed(Record):
    old: str
    new: str
    replaced: bool = False


class Removed(Record):
    name: str


class Disconnected(Record):
    account: str


class Cleared(Record):
    pass


class AutosaveSet(Record):
    enabled: bool


class Imported(Record):
    source: ImportSource
    file: str
    imported: tuple[str, ...] = ()
    default: str | None = None


class Undone(Record):
    target: int
    target_type: str


class SessionStarted(Record):
    session_id: SessionId
    expires: datetime
    #: The shell the session lives in, as ``store.processes`` marks a process; None in
    #: events written before sessions knew their shell (and for a library session).
    shell: str | None = None
    #: The shell's kind (bash, zsh, fish, pwsh, sh), for ``session list``.
    shell_name: str | None = None
    #: The live session of the shell this one was started inside, whose default it
    #: started from.
    parent: str | None = None


class SessionEnded(Record):
    session_id: SessionId
    reason: EndReason = "ended"


class KeyRotated(Record):
    master_key_id: str


class Protected(Record):
    """``protect``: selecting the context or running as it asks first."""

    name: str


class Unprotected(Record):
    name: str


Op = (
    Added
    | Selected
    | Renamed
    | Removed
    | Disconnected
    | Cleared
    | AutosaveSet
    | Imported
    | Undone
    | SessionStarted
    | SessionEnded
    | KeyRotated
    | Protected
    | Unprotected
)

#: Each operation's name -> its record, in the order ``history`` documents them.
OPS: dict[str, type[Op]] = {
    "add": Added,
    "select": Selected,
    "rename": Renamed,
    "remove": Removed,
    "disconnect": Disconnected,
    "clear": Cleared,
    "autosave": AutosaveSet,
    "undo": Undone,
    "import": Imported,
    "session-start": SessionStarted,
    "session-end": SessionEnded,
    "key-rotate": KeyRotated,
    "protect": Protected,
    "unprotect": Unprotected,
}
OPERATIONS: tuple[Operation, ...] = tuple(OPS)  # type: ignore[arg-type]
_NAMES: dict[type[Op], Operation] = {cls: name for name, cls in OPS.items()}  # type: ignore[misc]
#: The schema version of each operation's events.
VERSIONS: dict[str, int] = dict.fromkeys(OPS, 1)
NOT_UNDOABLE: frozenset[str] = frozenset({"session-start", "session-end", "key-rotate"})


class Event(Record):
    time: datetime
    actor: Actor
    scope: ScopeName | None
    session: SessionId | None
    op: Op
    changes: tuple[Change, ...] = ()
    shredded: tuple[str, ...] = ()

    @property
    def type(self) -> Operation:
        return _NAMES[type(self.op)]

    @property
    def subject(self) -> str | None:
        """The context name the operation acted on, for history; None if none."""
        op = self.op
        if isinstance(op, Added):
            return op.context.name
        if isinstance(op, Selected | Removed | Protected | Unprotected):
            return op.name
        if isinstance(op, Renamed):
            return op.old
        return None

    def names(self) -> tuple[str, ...]:
        """Every context name the operation touched (for ``history --context``)."""
        found: list[str] = []
        for change in self.changes:
            if change.type == "context":
                for ctx in (change.before, change.after):
                    if isinstance(ctx, Context) and ctx.name not in found:
                        found.append(ctx.name)
        subject = self.subject
        if subject is not None and subject not in found:
            found.insert(0, subject)
        return tuple(found)
