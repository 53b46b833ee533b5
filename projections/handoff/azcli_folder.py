"""What a private Azure CLI config directory holds so that ``az`` acts as one context
: ``azureProfile.json``, ``service_principal_entries.json``, ``config`` and
``clouds.config``, as azure-cli-core's ``_profile.py``, ``auth/identity.py`` and
``cloud.py`` read them. Pure: plain values in, file names and texts out; the files are
written by ``azctx.store.azcli.folders``.
"""

from __future__ import annotations

import configparser
import io
import json
import re
from collections.abc import Mapping
from typing import Literal

from azctx.events import BUILTIN_ENVIRONMENT_NAMES, Context, Credential, Environment
from azctx.events.records import Record

PROFILE = "azureProfile.json"
SP_ENTRIES = "service_principal_entries.json"
CONFIG = "config"
CLOUDS = "clouds.config"
CERTIFICATE_COPY = "azctx-certificate.pem"
#: The CLI's token cache on Linux and macOS (``msal_token_cache`` + ``.json``, unencrypted).
TOKEN_CACHE = "msal_token_cache.json"
#: Files ``az`` rebuilds in a new directory; a copy of the caller's keeps the first call warm.
WARM_FILES = ("commandIndex.json", "versionCheck.json")
#: The folder of extensions ``az`` uses when ``AZURE_EXTENSION_DIR`` is not set.
EXTENSIONS = "cliextensions"
#: What ``run`` also sets for ``az`` beside its folder: no telemetry, no log file. The
#: CLI's telemetry is sent by a process that outlives ``az`` and writes into the folder
#: after ``run`` has removed it (making it again, 0755); its log file is a copy of every
#: command line. A folder whose secrets are gone should stay gone.
QUIET_VARIABLES = {
    "AZURE_CORE_COLLECT_TELEMETRY": "false",
    "AZURE_LOGGING_ENABLE_LOG_FILE": "false",
}
#: Every file azctx writes into such a directory (anything else there is ``az``'s own).
MANAGED = (PROFILE, SP_ENTRIES, CONFIG, CLOUDS, CERTIFICATE_COPY, TOKEN_CACHE)

_TENANT_LEVEL = "N/A(tenant level account)"
_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
#: How a value is spelled on each side (Az PowerShell's field, the CLI's option):
#: ``authority``: the CLI writes no trailing slash, Az one; ``same``: as it is;
#: ``dot``: the CLI starts it with a dot, Az does not (Key Vault); ``dotted``: both
#: start it with a dot (SQL).
Spelling = Literal["authority", "same", "dot", "dotted"]
#: Az PowerShell environment fields <-> the CLI's ``clouds.config`` options: ``run``
#: writes a custom cloud's options from its fields, ``import --from-az-cli`` reads its
#: fields from the options.
CLOUD_OPTIONS: tuple[tuple[str, str, Spelling], ...] = (
    ("ActiveDirectoryAuthority", "endpoint_active_directory", "authority"),
    ("ResourceManagerUrl", "endpoint_resource_manager", "same"),
    ("ActiveDirectoryServiceEndpointResourceId", "endpoint_active_directory_resource_id", "same"),
    ("GraphUrl", "endpoint_active_directory_graph_resource_id", "same"),
    ("ServiceManagementUrl", "endpoint_management", "same"),
    ("GalleryUrl", "endpoint_gallery", "same"),
    ("MicrosoftGraphUrl", "endpoint_microsoft_graph_resource_id", "same"),
    ("StorageEndpointSuffix", "suffix_storage_endpoint", "same"),
    ("AzureKeyVaultDnsSuffix", "suffix_keyvault_dns", "dot"),
    ("SqlDatabaseDnsSuffix", "suffix_sql_server_hostname", "dotted"),
)


class AzTarget(Record):
    """The context a directory acts as, with its credential in clear (never shown)."""

    account: str
    account_type: str
    tenant: str
    subscription: str | None
    subscription_name: str | None
    environment: str
    credential_kind: str | None = None
    secret: str | None = None
    certificate_path: str | None = None
    cloud: Environment | None = None

    def __repr__(self) -> str:  # holds a secret: never show it
        return f"AzTarget(account={self.account!r}, subscription={self.subscription!r})"


def az_target(
    context: Context,
    credential: Credential | None,
    secret: str | None,
    environment: Environment | None,
) -> AzTarget:
    """The target for ``context``; a credential counts only for a service principal."""
    usable = credential if context.account_type == "service-principal" else None
    return AzTarget(
        account=context.account,
        account_type=context.account_type,
        tenant=context.tenant,
        subscription=context.subscription,
        subscription_name=context.subscription_name,
        environment=cloud_name(context.environment),
        credential_kind=None if usable is None else usable.kind,
        secret=None if usable is None else secret,
        certificate_path=None if usable is None else usable.certificate_path,
        cloud=environment,
    )


def cloud_name(environment: str) -> str:
    """The CLI's spelling of a cloud: built-in names canonical, custom ones as given."""
    return BUILTIN_ENVIRONMENT_NAMES.get(environment.casefold(), environment)


def _dumps(document: object) -> str:
    return json.dumps(document, indent=2) + "\n"


def profile_text(target: AzTarget | None, installation_id: str) -> str:
    """``azureProfile.json``: the target's subscription (or its tenant, as the CLI's
    tenant-level account) as the one default entry; no entries without a target."""
    entries: list[dict[str, object]] = []
    if target is not None:
        entries.append(_profile_entry(target))
    return _dumps({"installationId": installation_id, "subscriptions": entries})


def _profile_entry(target: AzTarget) -> dict[str, object]:
    user: dict[str, str] = {"name": target.account, "type": "servicePrincipal"}
    if target.account_type == "user":
        user["type"] = "user"
    elif target.account_type == "managed-identity":
        user.update(_identity_user(target.account))
    return {
        "id": target.subscription or target.tenant,
        "name": target.subscription_name or target.subscription or _TENANT_LEVEL,
        "state": "Enabled",
        "user": user,
        "isDefault": True,
        "tenantId": target.tenant,
        "environmentName": target.environment,
        "homeTenantId": target.tenant,
        "managedByTenants": [],
    }


def _identity_user(account: str) -> dict[str, str]:
    """A managed identity as ``az login --identity`` records it."""
    if _GUID.fullmatch(account):
        return {"name": "userAssignedIdentity", "assignedIdentityInfo": f"MSIClient-{account}"}
    if account.casefold().startswith("/subscriptions/"):
        return {"name": "userAssignedIdentity", "assignedIdentityInfo": f"MSIResource-{account}"}
    return {"name": "systemAssignedIdentity", "assignedIdentityInfo": "MSI"}


def needs_certificate(target: AzTarget | None) -> bool:
    """Whether the target's entry names a certificate file."""
    return (
        target is not None
        and target.credential_kind == "certificate"
        and target.certificate_path is not None
    )


def sp_entries_text(target: AzTarget | None, certificate_pem: str | None) -> str | None:
    """``service_principal_entries.json`` for a service principal with a secret or a
    certificate (``certificate_pem``: the unencrypted PEM file to name), else None."""
    if target is None or target.account_type != "service-principal":
        return None
    entry = {"client_id": target.account, "tenant": target.tenant}
    if target.credential_kind == "client-secret" and target.secret is not None:
        entry["client_secret"] = target.secret
    elif target.credential_kind == "certificate" and certificate_pem is not None:
        entry["certificate"] = certificate_pem
    else:
        return None
    return _dumps([entry])


def _parser(text: str | None) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    if text:
        try:
            parser.read_string(text)
        except configparser.Error:
            return configparser.ConfigParser(interpolation=None)
    return parser


def _render(parser: configparser.ConfigParser) -> str:
    out = io.StringIO()
    parser.write(out)
    return out.getvalue()


def config_text(target: AzTarget | None, caller_config: str | None) -> str:
    """``config``: the caller's own settings, with the target's cloud as the active one
    (``az`` shows only the subscriptions of its active cloud)."""
    parser = _parser(caller_config)
    if target is not None:
        if not parser.has_section("cloud"):
            parser.add_section("cloud")
        parser.set("cloud", "name", target.environment)
    return _render(parser)


def clouds_text(target: AzTarget | None, caller_clouds: str | None) -> str | None:
    """``clouds.config``: the caller's custom clouds, plus the target's custom cloud
    from its stored endpoints; None when there is none."""
    parser = _parser(caller_clouds)
    cloud = None if target is None else target.cloud
    if cloud is not None and cloud.name.casefold() not in BUILTIN_ENVIRONMENT_NAMES:
        options = cloud_options(cloud)
        if options:
            if not parser.has_section(cloud.name):
                parser.add_section(cloud.name)
            for option, value in options.items():
                parser.set(cloud.name, option, value)
    return _render(parser) if parser.sections() else None


def cloud_options(cloud: Environment) -> dict[str, str]:
    """The ``clouds.config`` options of a custom cloud (Az PowerShell's fields)."""
    raw: Mapping[str, object] = {}
    if cloud.raw:
        try:
            loaded = json.loads(cloud.raw)
        except ValueError:
            loaded = {}
        if isinstance(loaded, dict):
            extended = loaded.get("ExtendedProperties")  # e.g. MicrosoftGraphUrl
            merged = {**extended, **loaded} if isinstance(extended, dict) else loaded
            raw = {str(k).casefold(): v for k, v in merged.items()}
    options: dict[str, str] = {}
    for field, option, spelling in CLOUD_OPTIONS:
        value = raw.get(field.casefold())
        if isinstance(value, str) and value.strip():
            options[option] = _option_value(value.strip(), spelling)
    if cloud.authority and "endpoint_active_directory" not in options:
        options["endpoint_active_directory"] = cloud.authority.rstrip("/")
    if cloud.resource_manager and "endpoint_resource_manager" not in options:
        options["endpoint_resource_manager"] = cloud.resource_manager
    if options:
        options.setdefault("profile", "latest")
    return options


def _option_value(value: str, spelling: Spelling) -> str:
    """An Az field's value as the CLI spells the option."""
    if spelling == "authority":
        return value.rstrip("/")
    if spelling in ("dot", "dotted") and not value.startswith("."):
        return f".{value}"
    return value


def environment_fields(options: Mapping[str, str]) -> dict[str, str]:
    """The Az PowerShell environment fields of a custom cloud's ``clouds.config``
    options (the reverse of ``cloud_options``); options it does not map are left out."""
    return {
        field: _field_value(options[option], spelling)
        for field, option, spelling in CLOUD_OPTIONS
        if options.get(option)
    }


def _field_value(value: str, spelling: Spelling) -> str:
    """A CLI option's value as Az spells the field."""
    if spelling == "authority":
        return value if value.endswith("/") else f"{value}/"
    if spelling == "dot":
        return value.lstrip(".")
    if spelling == "dotted" and not value.startswith("."):
        return f".{value}"
    return value
