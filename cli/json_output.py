"""pydantic models of the ``--json`` documents, and the reference page generated from
their JSON Schema.

The commands themselves write their documents from plain records (``render.py``): the
prompt commands and ``show`` must not pay for importing pydantic. These models are the
published contract of those documents; the tests validate real command output against
them and check the generated page is the one in the repository. Regenerate it with

    python -m azctx.cli.json_output > docs/reference/json-output.md
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

from azctx.events import AccountType, Operation, ScopeName
from azctx.projections.view import AutosaveSource, SessionStatus
from pydantic import BaseModel, ConfigDict, Field, RootModel

UtcTime = Annotated[
    str,
    Field(
        pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$",
        json_schema_extra={"format": "date-time"},
        description="ISO 8601 in UTC, with microseconds and a final Z",
    ),
]


class _Document(BaseModel):
    # A field the model does not name is an undocumented change of the output.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ContextDocument(_Document):
    """One context as the caller sees it (never its secret)."""

    name: str = Field(description="the context's name, as spelled when it was added")
    account: str = Field(description="user name, application (client) id or identity id")
    account_type: AccountType
    tenant: str = Field(description="the tenant id or domain")
    subscription: str | None = Field(description="the subscription id; null: tenant level")
    subscription_name: str | None
    environment: str = Field(description="the Azure cloud, e.g. AzureCloud")
    scope: ScopeName = Field(description="user: saved; process: this shell session's only")
    default: bool = Field(description="whether it is the caller's default context")
    credential: Literal["stored", "none"] = Field(
        description="whether a secret or certificate of the account is stored"
    )


class ContextList(RootModel[list[ContextDocument]]):
    """The contexts the caller sees, sorted by name."""


class HistoryEntry(_Document):
    """One operation of the log."""

    seq: int = Field(ge=1, description="the operation's number, from 1")
    time: UtcTime
    user: str = Field(description="who ran it (the OS user)")
    host: str = Field(description="the machine it ran on")
    scope: ScopeName
    session: str | None = Field(description="the shell session it ran in, if any")
    operation: Operation
    context: str | None = Field(description="the context it acted on, if one")
    undone_by: int | None = Field(description="the operation that undid it, if any")


class HistoryList(RootModel[list[HistoryEntry]]):
    """The operations, newest first."""


class SessionStatusDocument(_Document):
    """The caller's shell session (``AZCTX_SESSION``)."""

    session: str | None = Field(description="the session id; null when none is set")
    state: SessionStatus = Field(
        description="live; ended or expired; unknown to this store; none when no session"
    )
    expires: UtcTime | None


class KeyStatusDocument(_Document):
    """Where the master key comes from."""

    source: Literal["env", "env-file", "file", "none"] = Field(
        description="AZCTX_KEY, AZCTX_KEY_FILE, the default key file, or none yet"
    )
    path: str | None = Field(description="the key file; null for AZCTX_KEY")
    key_id: str = Field(description="the key's id (not the key)")
    store: str = Field(description="the store, with any password hidden")


class AutosaveStatusDocument(_Document):
    """Whether Azure CLI changes are taken back into the store."""

    enabled: bool
    source: AutosaveSource = Field(
        description="what decided: AZCTX_AUTOSAVE, the session, the user, or the default"
    )


#: Each documented command line and the model of what it prints.
DOCUMENTS: dict[str, type[BaseModel]] = {
    "azctx list --json": ContextList,
    "azctx show [NAME] --json": ContextDocument,
    "azctx history --json": HistoryList,
    "azctx session status --json": SessionStatusDocument,
    "azctx key status --json": KeyStatusDocument,
    "azctx autosave status --json": AutosaveStatusDocument,
}

_INTRO = """\
# `--json` output

The commands below print one JSON document on stdout when given `--json`: UTF-8,
indented, ending in a newline, and never holding a secret. Scripts can rely on these
documents: a field is only ever added in a new release, and its meaning never changes.
Times are UTC in ISO 8601 with microseconds and a final `Z`
(`2026-01-31T09:15:00.000000Z`); an absent value is `null`, never a missing field.

Each section gives the document's JSON Schema (draft 2020-12). This page is generated
from the models in `cli/json_output.py`
(`python -m azctx.cli.json_output > docs/reference/json-output.md`) and a test checks
that it matches them and that the commands' real output validates against them.
"""


def markdown() -> str:
    """The reference page: the intro, then each command's schema."""
    parts = [_INTRO]
    for command, model in DOCUMENTS.items():
        schema = model.model_json_schema()
        summary = (model.__doc__ or "").strip()
        parts.append(f"\n## `{command}`\n\n{summary}\n\n```json\n")
        parts.append(json.dumps(schema, indent=2, ensure_ascii=False) + "\n```\n")
    return "".join(parts)


if __name__ == "__main__":
    print(markdown(), end="")
