"""The values that import and export exchange with the store.

Secrets travel here in plain text (the store seals them), so every field that can hold
one is left out of ``repr``: a traceback or a log line never shows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from azctx.events import Context, Environment

#: The largest import file accepted. Real profiles are a few kilobytes per context
#: (an old one with a token cache may reach a few megabytes); 16 MiB leaves room for
#: thousands of contexts while keeping a hostile or mistaken file (a disk image, a
#: log) from being read into memory. The store checks the file size before reading;
#: the parsers refuse longer text too, so no caller can skip the limit.
MAX_IMPORT_BYTES = 16 * 1024 * 1024

SecretKind = Literal["client-secret", "certificate"]
ImportSource = Literal["az-powershell", "az-cli"]


@dataclass(frozen=True)
class ImportedSecret:
    """An account's credential found in an import file.

    ``secret`` is the client secret, or the certificate's password (``None`` when the
    certificate has none). ``account`` is spelled as in the file; the store compares
    account ids case-insensitively.
    """

    account: str
    kind: SecretKind
    secret: str | None = field(default=None, repr=False)
    certificate_path: str | None = None


@dataclass(frozen=True)
class ExportSecret:
    """The credential to write for one account in an export (``--include-secrets``)."""

    kind: SecretKind
    secret: str | None = field(default=None, repr=False)
    certificate_path: str | None = None


@dataclass(frozen=True)
class ImportPlan:
    """Everything an import would bring in, decided before anything is written.

    ``default`` is the name (as in ``contexts``) of the context to select, or None.
    ``notes`` are one-line remarks for stderr (dropped tokens, skipped duplicates);
    they never contain a secret.
    """

    source: ImportSource
    contexts: tuple[Context, ...] = ()
    secrets: tuple[ImportedSecret, ...] = ()
    environments: tuple[Environment, ...] = ()
    default: str | None = None
    notes: tuple[str, ...] = ()
