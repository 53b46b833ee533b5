"""Writing Az PowerShell's ``AzureRmContext.json`` (what Save-AzContext writes)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from azctx.events import (
    BUILTIN_ENVIRONMENT_NAMES,
    BUILTIN_ENVIRONMENTS,
    AccountType,
    Context,
    Environment,
    account_key,
    name_key,
)
from azctx.projections.formats.plans import ExportSecret

ACCOUNT_TYPES_OUT: dict[AccountType, str] = {
    "user": "User",
    "service-principal": "ServicePrincipal",
    "managed-identity": "ManagedService",
}

# The endpoints Az knows for each built-in cloud (AzureEnvironmentConstants.cs in
# Azure/azure-powershell-common). Authority and Resource Manager come from the
# vocabulary's BUILTIN_ENVIRONMENTS so the two never disagree.
_BUILTIN_ENDPOINTS: dict[str, dict[str, str | None]] = {
    "AzureCloud": {
        "ServiceManagementUrl": "https://management.core.windows.net/",
        "ManagementPortalUrl": "https://portal.azure.com/",
        "PublishSettingsFileUrl": "https://go.microsoft.com/fwlink/?LinkID=301775",
        "GalleryUrl": "https://gallery.azure.com/",
        "GraphUrl": "https://graph.windows.net/",
        "ActiveDirectoryServiceEndpointResourceId": "https://management.core.windows.net/",
        "StorageEndpointSuffix": "core.windows.net",
        "SqlDatabaseDnsSuffix": ".database.windows.net",
        "TrafficManagerDnsSuffix": "trafficmanager.net",
        "AzureKeyVaultDnsSuffix": "vault.azure.net",
        "AzureKeyVaultServiceEndpointResourceId": "https://vault.azure.net",
        "GraphEndpointResourceId": "https://graph.windows.net/",
        "DataLakeEndpointResourceId": "https://datalake.azure.net/",
        "BatchEndpointResourceId": "https://batch.core.windows.net/",
        "AzureDataLakeAnalyticsCatalogAndJobEndpointSuffix": "azuredatalakeanalytics.net",
        "AzureDataLakeStoreFileSystemEndpointSuffix": "azuredatalakestore.net",
        "ContainerRegistryEndpointSuffix": "azurecr.io",
        "MicrosoftGraphUrl": "https://graph.microsoft.com",
        "MicrosoftGraphEndpointResourceId": "https://graph.microsoft.com/",
    },
    "AzureChinaCloud": {
        "ServiceManagementUrl": "https://management.core.chinacloudapi.cn/",
        "ManagementPortalUrl": "https://portal.azure.cn/",
        "PublishSettingsFileUrl": "https://go.microsoft.com/fwlink/?LinkID=301776",
        "GalleryUrl": "https://gallery.chinacloudapi.cn/",
        "GraphUrl": "https://graph.chinacloudapi.cn/",
        "ActiveDirectoryServiceEndpointResourceId": "https://management.core.chinacloudapi.cn/",
        "StorageEndpointSuffix": "core.chinacloudapi.cn",
        "SqlDatabaseDnsSuffix": ".database.chinacloudapi.cn",
        "TrafficManagerDnsSuffix": "trafficmanager.cn",
        "AzureKeyVaultDnsSuffix": "vault.azure.cn",
        "AzureKeyVaultServiceEndpointResourceId": "https://vault.azure.cn",
        "GraphEndpointResourceId": "https://graph.chinacloudapi.cn/",
        "DataLakeEndpointResourceId": None,
        "BatchEndpointResourceId": "https://batch.chinacloudapi.cn/",
        "AzureDataLakeAnalyticsCatalogAndJobEndpointSuffix": None,
        "AzureDataLakeStoreFileSystemEndpointSuffix": None,
        "ContainerRegistryEndpointSuffix": "azurecr.cn",
        "MicrosoftGraphUrl": "https://microsoftgraph.chinacloudapi.cn",
        "MicrosoftGraphEndpointResourceId": "https://microsoftgraph.chinacloudapi.cn/",
    },
    "AzureUSGovernment": {
        "ServiceManagementUrl": "https://management.core.usgovcloudapi.net/",
        "ManagementPortalUrl": "https://portal.azure.us/",
        "PublishSettingsFileUrl": "https://manage.windowsazure.us/publishsettings/index",
        "GalleryUrl": "https://gallery.usgovcloudapi.net/",
        "GraphUrl": "https://graph.windows.net/",
        "ActiveDirectoryServiceEndpointResourceId": "https://management.core.usgovcloudapi.net/",
        "StorageEndpointSuffix": "core.usgovcloudapi.net",
        "SqlDatabaseDnsSuffix": ".database.usgovcloudapi.net",
        "TrafficManagerDnsSuffix": "usgovtrafficmanager.net",
        "AzureKeyVaultDnsSuffix": "vault.usgovcloudapi.net",
        "AzureKeyVaultServiceEndpointResourceId": "https://vault.usgovcloudapi.net",
        "GraphEndpointResourceId": "https://graph.windows.net/",
        "DataLakeEndpointResourceId": None,
        "BatchEndpointResourceId": "https://batch.core.usgovcloudapi.net/",
        "AzureDataLakeAnalyticsCatalogAndJobEndpointSuffix": None,
        "AzureDataLakeStoreFileSystemEndpointSuffix": None,
        "ContainerRegistryEndpointSuffix": "azurecr.us",
        "MicrosoftGraphUrl": "https://graph.microsoft.us",
        "MicrosoftGraphEndpointResourceId": "https://graph.microsoft.us/",
    },
}

# Az keeps these two under the environment's ExtendedProperties, not at the top level.
_EXTENDED_ENDPOINTS = ("MicrosoftGraphUrl", "MicrosoftGraphEndpointResourceId")


def az_environment(
    name: str,
    *,
    kind: str,
    authority: str | None,
    resource_manager: str | None,
    endpoints: Mapping[str, str | None] | None = None,
) -> dict[str, Any]:
    """A full Az environment object; endpoints not given are null, as Az writes them."""
    urls = dict(endpoints or {})
    extended = {key: urls.pop(key) for key in _EXTENDED_ENDPOINTS if key in urls}
    return {
        "Name": name,
        "Type": kind,
        "OnPremise": False,
        "ServiceManagementUrl": urls.get("ServiceManagementUrl"),
        "ResourceManagerUrl": resource_manager,
        "ManagementPortalUrl": urls.get("ManagementPortalUrl"),
        "PublishSettingsFileUrl": urls.get("PublishSettingsFileUrl"),
        "ActiveDirectoryAuthority": authority,
        "GalleryUrl": urls.get("GalleryUrl"),
        "GraphUrl": urls.get("GraphUrl"),
        "ActiveDirectoryServiceEndpointResourceId": urls.get(
            "ActiveDirectoryServiceEndpointResourceId"
        ),
        "StorageEndpointSuffix": urls.get("StorageEndpointSuffix"),
        "SqlDatabaseDnsSuffix": urls.get("SqlDatabaseDnsSuffix"),
        "TrafficManagerDnsSuffix": urls.get("TrafficManagerDnsSuffix"),
        "AzureKeyVaultDnsSuffix": urls.get("AzureKeyVaultDnsSuffix"),
        "AzureKeyVaultServiceEndpointResourceId": urls.get(
            "AzureKeyVaultServiceEndpointResourceId"
        ),
        "GraphEndpointResourceId": urls.get("GraphEndpointResourceId"),
        "DataLakeEndpointResourceId": urls.get("DataLakeEndpointResourceId"),
        "BatchEndpointResourceId": urls.get("BatchEndpointResourceId"),
        "AzureDataLakeAnalyticsCatalogAndJobEndpointSuffix": urls.get(
            "AzureDataLakeAnalyticsCatalogAndJobEndpointSuffix"
        ),
        "AzureDataLakeStoreFileSystemEndpointSuffix": urls.get(
            "AzureDataLakeStoreFileSystemEndpointSuffix"
        ),
        "ContainerRegistryEndpointSuffix": urls.get("ContainerRegistryEndpointSuffix"),
        "AdTenant": "Common" if kind == "Built-in" else None,
        "VersionProfiles": [],
        "ExtendedProperties": extended,
    }


def builtin_environment(name: str) -> dict[str, Any] | None:
    """The Az object of a built-in cloud (any case), or None if ``name`` is custom."""
    canonical = BUILTIN_ENVIRONMENT_NAMES.get(name.casefold())
    if canonical is None:
        return None
    authority, resource_manager = BUILTIN_ENVIRONMENTS[name.casefold()]
    return az_environment(
        canonical,
        kind="Built-in",
        authority=authority,
        resource_manager=resource_manager,
        endpoints=_BUILTIN_ENDPOINTS[canonical],
    )


def custom_environment(name: str, known: Environment | None) -> dict[str, Any]:
    """The Az object of a custom cloud: the imported original (``raw``) when there is
    one, so nothing Az knew about it is lost; else one built from what azctx keeps."""
    if known is not None and known.raw is not None:
        try:
            original = json.loads(known.raw)
        except ValueError:
            original = None
        if isinstance(original, dict):
            return original
    return az_environment(
        known.name if known is not None else name,
        kind="User-defined",
        authority=known.authority if known is not None else None,
        resource_manager=known.resource_manager if known is not None else None,
    )


def export_az_powershell(
    contexts: Sequence[Context],
    default: str | None,
    environments: Mapping[str, Environment],
    secrets: Mapping[str, ExportSecret | None],
) -> str:
    """The ``AzureRmContext.json`` text (2-space indented JSON) for ``contexts``.

    ``environments`` holds the custom environments (looked up by their name,
    case-insensitively; the mapping's keys are not used). ``secrets`` is keyed by
    ``account_key(account)``; a credential is written for every account that has an
    entry there, so pass only what ``--include-secrets`` allows. The output is ASCII
    (other characters are ``\\u`` escapes), so it can always be written.
    """
    names = [name_key(context.name) for context in contexts]
    if len(set(names)) != len(names):
        raise ValueError("export_az_powershell: two contexts have the same name")
    custom = {name_key(env.name): env for env in environments.values()}
    reach = _account_reach(contexts)
    table: dict[str, Any] = {}
    written: dict[str, Any] = {}
    for context in contexts:
        environment = builtin_environment(context.environment)
        if environment is None:
            environment = custom_environment(
                context.environment, custom.get(name_key(context.environment))
            )
            table.setdefault(context.environment, environment)
        secret = secrets.get(account_key(context.account))
        account = _account_object(context, reach[account_key(context.account)], secret)
        written[context.name] = _context_object(context, account, environment)
    document = {
        "DefaultContextKey": _default_key(contexts, default),
        "EnvironmentTable": table,
        "Contexts": written,
        "ExtendedProperties": {},
    }
    return json.dumps(document, indent=2, ensure_ascii=True)


def _default_key(contexts: Sequence[Context], default: str | None) -> str | None:
    # Written as the exported context's own spelling; null when it is not exported.
    if default is None:
        return None
    wanted = name_key(default)
    return next((c.name for c in contexts if name_key(c.name) == wanted), None)


def _account_reach(contexts: Sequence[Context]) -> dict[str, dict[str, dict[str, None]]]:
    """account key -> the tenants and subscriptions its exported contexts reach.

    Az lists every tenant and subscription an account knows, comma-separated, in the
    account's ExtendedProperties; this is the closest equivalent azctx has.
    """
    reach: dict[str, dict[str, dict[str, None]]] = {}  # dicts as ordered sets
    for context in contexts:
        seen = reach.setdefault(account_key(context.account), {"Tenants": {}, "Subscriptions": {}})
        seen["Tenants"][context.tenant] = None
        if context.subscription:
            seen["Subscriptions"][context.subscription] = None
    return reach


def _context_object(
    context: Context, account: dict[str, Any], environment: dict[str, Any]
) -> dict[str, Any]:
    return {
        "Account": account,
        "Tenant": {
            "Id": context.tenant,
            "Directory": None,
            "IsHome": True,
            "ExtendedProperties": {},
        },
        "Subscription": _subscription_object(context),
        "Environment": environment,
        "VersionProfile": None,
        "TokenCache": {"CacheData": None},
        "ExtendedProperties": {},
    }


def _account_object(
    context: Context, reach: dict[str, dict[str, None]], secret: ExportSecret | None
) -> dict[str, Any]:
    properties = {field: ",".join(values) for field, values in reach.items() if values}
    properties.update(_secret_properties(secret))
    return {
        "Id": context.account,
        "Credential": None,
        "Type": ACCOUNT_TYPES_OUT[context.account_type],
        "TenantMap": {},
        "ExtendedProperties": properties,
    }


def _secret_properties(secret: ExportSecret | None) -> dict[str, str]:
    if secret is None:
        return {}
    if secret.kind == "client-secret":
        return {"ServicePrincipalSecret": secret.secret} if secret.secret is not None else {}
    properties: dict[str, str] = {}
    if secret.certificate_path is not None:
        properties["CertificatePath"] = secret.certificate_path
    if secret.secret is not None:
        properties["CertificatePassword"] = secret.secret
    return properties


def _subscription_object(context: Context) -> dict[str, Any] | None:
    if context.subscription is None:
        return None
    return {
        "Id": context.subscription,
        "Name": context.subscription_name,
        "State": "Enabled",
        "ExtendedProperties": {
            "Account": context.account,
            "Tenants": context.tenant,
            "Environment": context.environment,
            "HomeTenant": context.tenant,
        },
    }
