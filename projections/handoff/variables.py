"""The environment variables ``run`` hands a child (and a Python job): azure-identity's
``AZURE_*``, Terraform's ``ARM_*``, and which of a caller's own variables never reach
the child. Pure: a context and its credential in, variables out."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from azctx.events import BUILTIN_ENVIRONMENTS, Context, Environment, name_key
from azctx.events.urls import url_without_password

#: Every variable ``environment_variables`` may set. ``run`` drops these from the
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
    "ARM_TENANT_ID",
    "ARM_SUBSCRIPTION_ID",
    "ARM_ENVIRONMENT",
    "ARM_CLIENT_ID",
    "ARM_CLIENT_SECRET",
    "ARM_CLIENT_CERTIFICATE_PATH",
    "ARM_CLIENT_CERTIFICATE_PASSWORD",
    "ARM_USE_MSI",
)

#: Variables that some Azure tool reads to pick or prove an identity, a cloud or a way
#: to sign in, and that no context sets: ``run`` drops them too, so a caller's stale
#: value never pairs with this context's tenant and client id.
#: The ``AZURE_*`` names are azure-identity's own, from the installed package's
#: ``azure/identity/_constants.py`` (class ``EnvironmentVariables``, azure-identity
#: 1.27), less those in RUN_VARIABLES and in HOST_IDENTITY_VARIABLES; a test compares
#: them with the installed class. The ``ARM_*`` names are the azurerm/azapi providers'
#: other sign-in settings (OIDC and workload identity, file-based ids and secrets, a
#: base64 certificate, the CLI switch, auxiliary tenants, a metadata host naming
#: another cloud).
FOREIGN_IDENTITY_VARIABLES = (
    "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN",
    "AZURE_USERNAME",
    "AZURE_PASSWORD",
    "AZURE_IDENTITY_DISABLE_MULTITENANTAUTH",
    "AZURE_REGIONAL_AUTHORITY_NAME",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_KUBERNETES_SNI_NAME",
    "AZURE_KUBERNETES_TOKEN_PROXY",
    "AZURE_KUBERNETES_CA_FILE",
    "AZURE_KUBERNETES_CA_DATA",
    "AZURE_TOKEN_CREDENTIALS",
    "ARM_CLIENT_CERTIFICATE",
    "ARM_CLIENT_ID_FILE_PATH",
    "ARM_CLIENT_SECRET_FILE_PATH",
    "ARM_USE_OIDC",
    "ARM_OIDC_TOKEN",
    "ARM_OIDC_TOKEN_FILE_PATH",
    "ARM_OIDC_REQUEST_TOKEN",
    "ARM_OIDC_REQUEST_URL",
    "ARM_OIDC_AZURE_SERVICE_CONNECTION_ID",
    "ARM_ADO_PIPELINE_SERVICE_CONNECTION_ID",
    "ARM_USE_AKS_WORKLOAD_IDENTITY",
    "ARM_USE_CLI",
    "ARM_AUXILIARY_TENANT_IDS",
    "ARM_METADATA_HOSTNAME",
)

#: azure-identity variables that ``run`` keeps on purpose: they describe the machine's
#: managed-identity endpoint (App Service, Azure Arc, Cloud Shell, Service Fabric, AKS
#: pod identity), name no identity, and a managed-identity context cannot work without
#: them where the platform sets them.
HOST_IDENTITY_VARIABLES = (
    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "IDENTITY_SERVER_THUMBPRINT",
    "IMDS_ENDPOINT",
    "MSI_ENDPOINT",
    "MSI_SECRET",
)

#: azctx's own variables that would hand CMD every context of the store, not the one
#: ``run`` hands on: the master key, and a store URL's password.
KEY_VARIABLE = "AZCTX_KEY"
STORE_VARIABLE = "AZCTX_STORE"


def withheld_variables(environ: Mapping[str, str]) -> dict[str, str | None]:
    """How ``run`` changes the caller's azctx variables for CMD: each name with its new
    value, None where it is dropped. ``AZCTX_KEY`` never goes on; ``AZCTX_STORE`` goes
    without its password (or not at all when the password's end is a guess). An azctx
    inside CMD knows its context from ``AZCTX_CONTEXT``; for the store it says which key
    or login it lacks."""
    changes: dict[str, str | None] = {}
    if KEY_VARIABLE in environ:
        changes[KEY_VARIABLE] = None
    store = environ.get(STORE_VARIABLE)
    if store is not None and "://" in store:
        stripped = url_without_password(store)
        if stripped != store:
            changes[STORE_VARIABLE] = stripped
    return changes


#: ``ARM_ENVIRONMENT`` (azurerm, azapi) of each built-in cloud, by its casefolded name.
ARM_ENVIRONMENTS = {
    "azurecloud": "public",
    "azureusgovernment": "usgovernment",
    "azurechinacloud": "china",
}

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


def authority_url(environment_name: str, environments: Mapping[str, Environment]) -> str | None:
    """``AZURE_AUTHORITY_HOST`` for an environment: its authority host as an ``https://``
    URL without a path (``https://login.microsoftonline.com``). .NET's Azure.Identity
    parses the value as a URI; azure-identity for Python keeps an https URL as it is
    (``normalize_authority``). None when the authority is unknown."""
    host = authority_host(environment_name, environments)
    return None if host is None else f"https://{host}"


def environment_variables(
    context: Context,
    *,
    secret: str | None,
    credential_kind: str | None,
    certificate_path: str | None,
    environment: Environment | None,
) -> dict[str, str]:
    """What ``azctx run`` puts into the child's environment for ``context``: the
    ``AZURE_*`` variables azure-identity reads and the ``ARM_*`` ones of Terraform's and
    Pulumi's azurerm/azapi providers.

    ``secret`` is the client secret, or the certificate's password when
    ``credential_kind`` is ``"certificate"``; ``environment`` is the context's custom
    environment (None for a built-in cloud). The client id is the account of a service
    principal, and of a managed identity only when it is user-assigned, which azctx
    recognises by its stored account id being a client id (a GUID): ``MSI@50342``,
    ``systemAssignedIdentity`` or any other id name the system-assigned identity, which
    must get no client id. A credential is handed on only for a service principal.
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
    authority = authority_url(context.environment, known)
    if authority is not None:
        variables["AZURE_AUTHORITY_HOST"] = authority
    variables.update(arm_variables(context, variables))
    return variables


def arm_variables(context: Context, azure: Mapping[str, str]) -> dict[str, str]:
    """The ``ARM_*`` variables of the azurerm/azapi providers, from the context and its
    ``AZURE_*`` variables: tenant, subscription, the cloud (built-in clouds only), a
    service principal's client id and credential, or ``ARM_USE_MSI`` for a managed
    identity (with its client id when it is user-assigned)."""
    arm = {"ARM_TENANT_ID": context.tenant}
    copied = {
        "AZURE_SUBSCRIPTION_ID": "ARM_SUBSCRIPTION_ID",
        "AZURE_CLIENT_ID": "ARM_CLIENT_ID",
        "AZURE_CLIENT_SECRET": "ARM_CLIENT_SECRET",
        "AZURE_CLIENT_CERTIFICATE_PATH": "ARM_CLIENT_CERTIFICATE_PATH",
        "AZURE_CLIENT_CERTIFICATE_PASSWORD": "ARM_CLIENT_CERTIFICATE_PASSWORD",
    }
    for source, target in copied.items():
        if source in azure:
            arm[target] = azure[source]
    cloud = ARM_ENVIRONMENTS.get(context.environment.casefold())
    if cloud is not None:
        arm["ARM_ENVIRONMENT"] = cloud
    if context.account_type == "managed-identity":
        arm["ARM_USE_MSI"] = "true"
    return arm


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
