"""Interop with Azure's own tools: Az PowerShell and Azure CLI files, and the
environment variables azure-identity reads. Pure: text and values in, values out.

The parsers and the exporter live in ``interop_*`` modules; this module is the one
import point for the rest of azctx.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from azctx.events import BUILTIN_ENVIRONMENTS, Context, Environment, name_key

from .interop_azcli import parse_az_cli
from .interop_azps import parse_az_powershell
from .interop_export import export_az_powershell
from .interop_model import (
    MAX_IMPORT_BYTES,
    ExportSecret,
    ImportedSecret,
    ImportPlan,
    ImportSource,
    SecretKind,
)

__all__ = [
    "MAX_IMPORT_BYTES",
    "RUN_VARIABLES",
    "ExportSecret",
    "ImportPlan",
    "ImportSource",
    "ImportedSecret",
    "SecretKind",
    "authority_host",
    "environment_variables",
    "export_az_powershell",
    "parse_az_cli",
    "parse_az_powershell",
]

#: Every variable ``environment_variables`` may set. ``run`` should drop these from the
#: inherited environment first, so a stale secret of another identity never leaks into
#: the child next to this context's values.
RUN_VARIABLES = (
    "AZURE_TENANT_ID",
    "AZURE_SUBSCRIPTION_ID",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_AUTHORITY_HOST",
    "AZCTX_CONTEXT",
)

_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def url_host(url: str) -> str | None:
    """The host (and port) of an authority URL, with or without a scheme, or None."""
    text = url.strip()
    parts = urlsplit(text if "://" in text else f"//{text}")
    return parts.netloc or None


def authority_host(environment_name: str, environments: Mapping[str, Environment]) -> str | None:
    """The authority host azure-identity wants (``login.microsoftonline.com``) for an
    environment: a built-in cloud's from the vocabulary, a custom one's from its
    authority (looked up by name, case-insensitively). None when it is unknown."""
    builtin = BUILTIN_ENVIRONMENTS.get(environment_name.casefold())
    if builtin is not None:
        return url_host(builtin[0])
    wanted = name_key(environment_name)
    for environment in environments.values():
        if name_key(environment.name) == wanted and environment.authority:
            return url_host(environment.authority)
    return None


def environment_variables(
    context: Context,
    *,
    secret: str | None,
    credential_kind: str | None,
    certificate_path: str | None,
    environment: Environment | None,
) -> dict[str, str]:
    """What ``azctx run`` puts into the child's environment for ``context``.

    ``secret`` is the client secret, or the certificate's password when
    ``credential_kind`` is ``"certificate"``; ``environment`` is the context's custom
    environment (None for a built-in cloud). ``AZURE_CLIENT_ID`` is the account of a
    service principal, and of a managed identity only when that account is a client id
    (a GUID): ``MSI@50342`` or ``systemAssignedIdentity`` name the system identity, and
    azure-identity must get no client id for it. A credential is handed on only for a
    service principal.
    """
    variables = {"AZCTX_CONTEXT": context.name, "AZURE_TENANT_ID": context.tenant}
    if context.subscription:
        variables["AZURE_SUBSCRIPTION_ID"] = context.subscription
    client_id = _client_id(context)
    if client_id is not None:
        variables["AZURE_CLIENT_ID"] = client_id
    if context.account_type == "service-principal":
        variables.update(_credential_variables(credential_kind, secret, certificate_path))
    known = {environment.name: environment} if environment is not None else {}
    host = authority_host(context.environment, known)
    if host is not None:
        variables["AZURE_AUTHORITY_HOST"] = host
    return variables


def _client_id(context: Context) -> str | None:
    if context.account_type == "service-principal":
        return context.account
    if context.account_type == "managed-identity" and _GUID.fullmatch(context.account):
        return context.account
    return None


def _credential_variables(
    kind: str | None, secret: str | None, certificate_path: str | None
) -> dict[str, str]:
    if kind is None:
        return {}
    if kind == "client-secret":
        return {"AZURE_CLIENT_SECRET": secret} if secret is not None else {}
    if kind != "certificate":
        raise ValueError(f"unknown credential kind {kind!r}")
    variables: dict[str, str] = {}
    if certificate_path is not None:
        variables["AZURE_CLIENT_CERTIFICATE_PATH"] = certificate_path
        if secret is not None:
            variables["AZURE_CLIENT_CERTIFICATE_PASSWORD"] = secret
    return variables
