"""Value types of the azctx vocabulary: contexts, environments, credentials, actors."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from .names import (
    DEFAULT_ENVIRONMENT,
    MAX_NAME_LENGTH,
    SESSION_PREFIX,
    USER,
    account_key,
    default_name,
    is_session_scope,
    name_key,
    name_problem,
)

AccountType = Literal["user", "service-principal", "managed-identity"]
ACCOUNT_TYPES: tuple[AccountType, ...] = ("user", "service-principal", "managed-identity")

ScopeName = Literal["user", "process"]
SCOPES: tuple[ScopeName, ...] = ("user", "process")

BUILTIN_ENVIRONMENTS: dict[str, tuple[str, str]] = {
    # name -> (authority, Resource Manager URL), from shared/interop/FORMATS.md
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


class Frozen(BaseModel):
    """Base of every vocabulary model: immutable, and strict about unknown fields.

    ``defer_build``: a schema is built on first use, not at import, so a command pays
    only for the models it touches (building them all costs more than the command)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class Actor(Frozen):
    """Who performed an operation."""

    user: str
    host: str
    pid: int


class Environment(Frozen):
    """A custom cloud brought in by an import (built-in clouds are never stored).

    ``raw`` keeps the Az PowerShell environment object as JSON text so an export can
    write it back unchanged.
    """

    name: str
    authority: str | None = None
    resource_manager: str | None = None
    raw: str | None = None


class Context(Frozen):
    """A named target: account, tenant, subscription and environment."""

    name: str
    account: str
    account_type: AccountType
    tenant: str
    subscription: str | None = None
    subscription_name: str | None = None
    environment: str = DEFAULT_ENVIRONMENT


class Credential(Frozen):
    """An account's secret, sealed under a data key that can be destroyed.

    ``sealed`` is base64 of the AES-GCM nonce and ciphertext of the secret (a client
    secret, or a certificate's password). It is opaque to everything but the key store.
    """

    key_id: str
    kind: Literal["client-secret", "certificate"]
    sealed: str | None = None
    certificate_path: str | None = None


__all__ = [
    "ACCOUNT_TYPES",
    "BUILTIN_ENVIRONMENTS",
    "BUILTIN_ENVIRONMENT_NAMES",
    "DEFAULT_ENVIRONMENT",
    "MAX_NAME_LENGTH",
    "SCOPES",
    "SESSION_PREFIX",
    "USER",
    "AccountType",
    "Actor",
    "Context",
    "Credential",
    "Environment",
    "Frozen",
    "ScopeName",
    "account_key",
    "default_name",
    "is_session_scope",
    "name_key",
    "name_problem",
]
