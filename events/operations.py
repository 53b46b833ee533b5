"""The operation events: one per user action, one log entry each.

Every event says who did it, when, in which scope and session, what was asked for
(the typed fields of each class), and what it changed (``changes``: cells with their
values before and after) and which data keys it destroyed (``shredded``). The
``type`` field is the operation name that ``history`` shows.

Schemas are versioned by ``v``. When a field is added to an event, its class's
``VERSION`` is raised and an upcaster from the old version is registered in
``events.codec`` so an old log still reads.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from .changes import Change
from .values import Actor, Context, Frozen, ScopeName

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
]
OPERATIONS: tuple[Operation, ...] = (
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
)
NOT_UNDOABLE: frozenset[str] = frozenset({"session-start", "session-end", "key-rotate"})


class EventBase(Frozen):
    VERSION: ClassVar[int] = 1

    v: int = 1
    time: datetime
    actor: Actor
    scope: ScopeName | None
    session: str | None = None
    changes: tuple[Change, ...] = ()
    shredded: tuple[str, ...] = ()

    @property
    def subject(self) -> str | None:
        """The context name the operation acted on, for history; None if none."""
        return None

    def names(self) -> tuple[str, ...]:
        """Every context name the operation touched (for ``history --context``)."""
        found: list[str] = []
        for change in self.changes:
            if change.type == "context":
                for ctx in (change.before, change.after):
                    if ctx is not None and ctx.name not in found:
                        found.append(ctx.name)
        subject = self.subject
        if subject is not None and subject not in found:
            found.insert(0, subject)
        return tuple(found)


class ContextAdded(EventBase):
    type: Literal["add"] = "add"
    context: Context
    replaced: bool = False
    selected: bool = True

    @property
    def subject(self) -> str | None:
        return self.context.name


class DefaultSelected(EventBase):
    type: Literal["select"] = "select"
    name: str
    previous: bool = False

    @property
    def subject(self) -> str | None:
        return self.name


class ContextRenamed(EventBase):
    type: Literal["rename"] = "rename"
    old: str
    new: str
    replaced: bool = False

    @property
    def subject(self) -> str | None:
        return self.old


class ContextRemoved(EventBase):
    type: Literal["remove"] = "remove"
    name: str

    @property
    def subject(self) -> str | None:
        return self.name


class AccountDisconnected(EventBase):
    type: Literal["disconnect"] = "disconnect"
    account: str


class ScopeCleared(EventBase):
    type: Literal["clear"] = "clear"


class AutosaveSet(EventBase):
    type: Literal["autosave"] = "autosave"
    enabled: bool


class ContextsImported(EventBase):
    type: Literal["import"] = "import"
    source: Literal["az-powershell", "az-cli"]
    file: str
    imported: tuple[str, ...] = ()
    default: str | None = None


class OperationUndone(EventBase):
    type: Literal["undo"] = "undo"
    target: int
    target_type: str

    @property
    def subject(self) -> str | None:
        return None


class SessionStarted(EventBase):
    type: Literal["session-start"] = "session-start"
    session_id: str
    expires: datetime


class SessionEnded(EventBase):
    type: Literal["session-end"] = "session-end"
    session_id: str
    reason: Literal["ended", "expired"] = "ended"


class KeyRotated(EventBase):
    type: Literal["key-rotate"] = "key-rotate"
    master_key_id: str


Event = Annotated[
    ContextAdded
    | DefaultSelected
    | ContextRenamed
    | ContextRemoved
    | AccountDisconnected
    | ScopeCleared
    | AutosaveSet
    | ContextsImported
    | OperationUndone
    | SessionStarted
    | SessionEnded
    | KeyRotated,
    Field(discriminator="type"),
]

EVENT_CLASSES: tuple[type[EventBase], ...] = (
    ContextAdded,
    DefaultSelected,
    ContextRenamed,
    ContextRemoved,
    AccountDisconnected,
    ScopeCleared,
    AutosaveSet,
    ContextsImported,
    OperationUndone,
    SessionStarted,
    SessionEnded,
    KeyRotated,
)
