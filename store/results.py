"""What ``ContextStore`` methods return: plain records, rendered by the command line."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from azctx.events.records import Record

if TYPE_CHECKING:
    from azctx.projections.handoff.azcli_folder import AzTarget


class OperationResult(Record):
    seq: int
    operation: str
    context: str | None
    summary: str
    notes: tuple[str, ...] = ()


class SessionInfo(Record):
    session_id: str
    expires: datetime
    #: The session of the shell it was started inside, whose default it started from.
    parent: str | None = None
    notes: tuple[str, ...] = ()


class PinResult(Record):
    """What a shell keeps after crossing a pin boundary: the default to bring back on
    leaving the pins (None: nothing to bring back), and what changed (None: nothing)."""

    previous: str | None
    summary: str | None


class SessionRow(Record):
    """One live session of this host, for ``session list``."""

    session_id: str
    pid: int | None
    shell: str | None
    started: datetime
    expires: datetime
    default: str | None
    mine: bool


class SessionStatus(Record):
    session_id: str | None
    state: str
    expires: datetime | None


class KeyStatus(Record):
    source: str
    path: str | None
    key_id: str
    store: str


class RunEnvironment(Record):
    context: str
    variables: dict[str, str]
    notes: tuple[str, ...] = ()
    azcli: AzTarget | None = None  # what run's private AZURE_CONFIG_DIR acts as

    def __repr__(self) -> str:  # the variables hold a secret: never show them
        return f"RunEnvironment(context={self.context!r}, variables=<{len(self.variables)}>)"
