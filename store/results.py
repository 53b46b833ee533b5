"""What ``ContextStore`` methods return: plain records, rendered by the command line."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from azctx.projections.handoff.azcli_folder import AzTarget


class OperationResult(NamedTuple):
    seq: int
    operation: str
    context: str | None
    summary: str
    notes: tuple[str, ...] = ()


class SessionInfo(NamedTuple):
    session_id: str
    expires: datetime


class SessionStatus(NamedTuple):
    session_id: str | None
    state: str
    expires: datetime | None


class KeyStatus(NamedTuple):
    source: str
    path: str | None
    key_id: str
    store: str


class RunEnvironment(NamedTuple):
    context: str
    variables: dict[str, str]
    notes: tuple[str, ...] = ()
    azcli: AzTarget | None = None  # what run's private AZURE_CONFIG_DIR acts as

    def __repr__(self) -> str:  # the variables hold a secret: never show them
        return f"RunEnvironment(context={self.context!r}, variables=<{len(self.variables)}>)"
