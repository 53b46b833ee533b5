"""Value types of the azctx vocabulary: contexts, environments, credentials, actors.

Plain immutable records (NamedTuples): cheap to import and to build, which the commands
a shell runs at every prompt need. ``events.codec`` reads and writes them, checking
every field against the annotations below: they are the schema.
"""

from __future__ import annotations

from typing import Literal

from azctx.events.names import DEFAULT_ENVIRONMENT
from azctx.events.records import Record

AccountType = Literal["user", "service-principal", "managed-identity"]
ACCOUNT_TYPES: tuple[AccountType, ...] = ("user", "service-principal", "managed-identity")

ScopeName = Literal["user", "process"]
SCOPES: tuple[ScopeName, ...] = ("user", "process")

CredentialKind = Literal["client-secret", "certificate"]
CREDENTIAL_KINDS: tuple[CredentialKind, ...] = ("client-secret", "certificate")

BUILTIN_ENVIRONMENTS: dict[str, tuple[str, str]] = {
    # name -> (authority, Resource Manager URL), as Az PowerShell and the Azure CLI know them
    "azurecloud": ("https://login.microsoftonline.com/", "https://management.azure.com/"),
    "azurechinacloud": ("https://login.chinacloudapi.cn/", "https://management.chinacloudapi.cn/"),
    "azureusgovernment": (
        "https://login.microsoftonline.us/",
        "https://management.usgovcloudapi.net/",
    ),
}
BUILTIN_ENVIRONMENT_NAMES: dict[str, str] = {
    "azurecloud": "AzureCloud",
    "azurechinacloud": "AzureChinaCloud",
    "azureusgovernment": "AzureUSGovernment",
}


class Actor(Record):
    """Who performed an operation."""

    user: str
    host: str
    pid: int


class Environment(Record):
    """A custom cloud brought in by an import (built-in clouds are never stored).

    ``raw`` keeps the Az PowerShell environment object as JSON text so an export can
    write it back unchanged.
    """

    name: str
    authority: str | None = None
    resource_manager: str | None = None
    raw: str | None = None


class Context(Record):
    """A named target: account, tenant, subscription and environment.

    ``protected`` (``azctx protect``) makes selecting it or running as it ask first; it
    belongs to the context, so a rename keeps it and a removal takes it away."""

    name: str
    account: str
    account_type: AccountType
    tenant: str
    subscription: str | None = None
    subscription_name: str | None = None
    environment: str = DEFAULT_ENVIRONMENT
    protected: bool = False


class Credential(Record):
    """An account's secret, sealed under a data key that can be destroyed.

    ``sealed`` is base64 of the AES-GCM nonce and ciphertext of the secret (a client
    secret, or a certificate's password). It is opaque to everything but the key store.
    """

    key_id: str
    kind: CredentialKind
    sealed: str | None = None
    certificate_path: str | None = None
