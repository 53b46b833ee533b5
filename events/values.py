"""Value types of the azctx vocabulary: contexts, environments, credentials, actors."""

from __future__ import annotations

import unicodedata
from typing import Literal

from pydantic import BaseModel, ConfigDict

AccountType = Literal["user", "service-principal", "managed-identity"]
ACCOUNT_TYPES: tuple[AccountType, ...] = ("user", "service-principal", "managed-identity")

ScopeName = Literal["user", "process"]
SCOPES: tuple[ScopeName, ...] = ("user", "process")

#: The scope key of the user scope. A process scope is keyed by its session id,
#: which always starts with ``SESSION_PREFIX`` so the two can never collide.
USER = "user"
SESSION_PREFIX = "s-"

MAX_NAME_LENGTH = 256

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
DEFAULT_ENVIRONMENT = "AzureCloud"


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


def name_key(name: str) -> str:
    """The case-insensitive identity of a context name (or an account id)."""
    return name.casefold()


def account_key(account: str) -> str:
    return account.casefold()


def name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid context name, or None when it is valid."""
    if not name:
        return "a context name cannot be empty"
    if len(name) > MAX_NAME_LENGTH:
        return f"a context name is at most {MAX_NAME_LENGTH} characters (got {len(name)})"
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        return "a context name cannot contain control characters"
    return None


def default_name(account: str, subscription: str | None) -> str:
    """The name a context gets when none is given: ``[ACCOUNT; SUBSCRIPTION]``."""
    return f"[{account}; {subscription or ''}]"


def is_session_scope(scope_key: str) -> bool:
    return scope_key.startswith(SESSION_PREFIX)
