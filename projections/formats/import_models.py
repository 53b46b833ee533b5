"""pydantic models of the files ``azctx import`` reads: Az PowerShell's
``AzureRmContext.json``, the Azure CLI's ``azureProfile.json``, its
``service_principal_entries.json`` and the custom clouds of its ``clouds.config``.

The models say which fields are read and of what type; the importers
(``azps_import``, ``azcli_profile``, ``azcli_entries``) decide what they mean. Property
names are matched as Az PowerShell matches them, case-insensitively (an exact match
first), and a null or empty string counts as absent. A file that does not fit is one
``BadInput`` line naming the path of the bad field, e.g.
``Contexts.prod.Account.Id: field required``; the line never carries the field's value,
only its place, so a secret in a misplaced field is never shown.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from azctx.events import BadInput, host_suffix_problem, https_url_problem
from azctx.projections.formats.json_input import JsonObject, compact, show
from azctx.projections.handoff.azcli_folder import CLOUD_OPTIONS
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    create_model,
    model_validator,
)
from pydantic_core import PydanticCustomError

T = TypeVar("T")


def _text(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise PydanticCustomError("string_type", "must be a string")
    # A lone surrogate (legal in JSON's \u escapes) cannot be stored or printed as UTF-8.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise PydanticCustomError("unicode", "is not valid Unicode text") from None
    return value or None


def _required(value: str | None) -> str:
    if value is None:
        raise PydanticCustomError("missing", "field required")
    return value


def _flag(value: object) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise PydanticCustomError("bool_type", "must be true or false")
    return value


def _object(value: object) -> dict[str, Any]:
    """A JSON object's members as a dict (a repeated name: the last wins, as in json)."""
    if isinstance(value, JsonObject):
        return dict(value.pairs)
    if isinstance(value, dict):
        return value
    raise PydanticCustomError("dict_type", "must be a JSON object")


def _key(value: str) -> str:
    _text(value)
    return value


#: A string, or ``None`` for null, absent or empty.
Text = Annotated[str | None, BeforeValidator(_text)]
#: A non-empty string.
RequiredText = Annotated[str, BeforeValidator(_text), AfterValidator(_required)]
Flag = Annotated[bool | None, BeforeValidator(_flag)]
#: The names of a JSON object used as a map (context keys, environment keys).
Key = Annotated[str, AfterValidator(_key)]


class FileModel(BaseModel):
    """A JSON object of an import file: members looked up by field name in any case,
    null the same as absent, members the model does not name ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)

    @model_validator(mode="before")
    @classmethod
    def _members(cls, value: object) -> object:
        if not isinstance(value, JsonObject):
            if isinstance(value, dict):
                value = JsonObject(list(value.items()))
            else:
                raise PydanticCustomError("model_type", "must be a JSON object")
        found: dict[str, object] = {}
        for name, field in cls.model_fields.items():
            member = value.get(field.alias or name)
            if member is not None:
                found[name] = member
        return cls._complete(value, found)

    @classmethod
    def _complete(cls, value: JsonObject, found: dict[str, object]) -> dict[str, object]:
        """Members read from ``value`` beyond the model's fields."""
        return found


# -- Az PowerShell: AzureRmContext.json ----------------------------------------------------


class AzEnvironment(FileModel):
    Name: Text = None
    ActiveDirectoryAuthority: Text = None
    ResourceManagerUrl: Text = None
    #: the whole object as the file has it, kept to export it again
    raw: str = ""

    @classmethod
    def _complete(cls, value: JsonObject, found: dict[str, object]) -> dict[str, object]:
        found.pop("raw", None)
        return {**found, "raw": compact(value)}


class AzAccountProperties(FileModel):
    ServicePrincipalSecret: Text = Field(default=None, repr=False)
    CertificatePath: Text = None
    CertificatePassword: Text = Field(default=None, repr=False)
    CertificateThumbprint: Text = None
    # Tokens: only whether they are there is read (they are never imported).
    AccessToken: Any = Field(default=None, repr=False)
    GraphAccessToken: Any = Field(default=None, repr=False)
    KeyVault: Any = Field(default=None, repr=False)
    ClientAssertion: Any = Field(default=None, repr=False)


class AzAccount(FileModel):
    Id: RequiredText
    Type: RequiredText
    ExtendedProperties: AzAccountProperties | None = None


class AzTenant(FileModel):
    Id: RequiredText


class AzSubscription(FileModel):
    # A null Subscription is a tenant-level context; a present one must carry its Id.
    Id: RequiredText
    Name: Text = None


class AzTokenCache(FileModel):
    CacheData: Any = Field(default=None, repr=False)


def _absent_is_empty() -> Any:
    # An absent Account, Tenant or Environment is read as an empty object, so the error
    # names the field the context lacks (``Account.Id``), not only its parent.
    return Field(default_factory=lambda: JsonObject([]), validate_default=True)


class AzContext(FileModel):
    Account: AzAccount = _absent_is_empty()
    Tenant: AzTenant = _absent_is_empty()
    Subscription: AzSubscription | None = None
    Environment: AzEnvironment = _absent_is_empty()
    TokenCache: AzTokenCache | None = None


class AzContextFile(FileModel):
    """``AzureRmContext.json``, as Save-AzContext writes it."""

    DefaultContextKey: Text = None
    EnvironmentTable: Annotated[dict[Key, AzEnvironment], BeforeValidator(_object)] | None = None
    #: in file order; names equal but for case are both kept (the importer refuses them)
    Contexts: Annotated[dict[Key, AzContext], BeforeValidator(_object)] | None = None


# -- the Azure CLI: azureProfile.json ------------------------------------------------------


class CliUser(FileModel):
    name: RequiredText
    type: RequiredText
    clientId: Text = None
    assignedIdentityInfo: Text = None


class CliSubscription(FileModel):
    id: RequiredText
    tenantId: RequiredText
    name: Text = None
    isDefault: Flag = None
    environmentName: Text = None
    user: CliUser = _absent_is_empty()
    #: written inside ``user`` by the CLI; accepted beside it too
    assignedIdentityInfo: Text = None


def _array(value: object) -> list[Any]:
    if not isinstance(value, list):
        raise PydanticCustomError("list_type", "must be a JSON array")
    return value


class CliProfile(FileModel):
    """``azureProfile.json``."""

    subscriptions: Annotated[list[CliSubscription], BeforeValidator(_array)] | None = None


# -- the Azure CLI: service_principal_entries.json -------------------------------------------


class CliServicePrincipal(FileModel):
    client_id: RequiredText
    tenant: Text = None
    client_secret: Text = Field(default=None, repr=False)
    certificate: Text = None
    client_assertion: Text = Field(default=None, repr=False)


#: ``service_principal_entries.json``: a JSON array of entries.
CliServicePrincipals = TypeAdapter(
    Annotated[list[CliServicePrincipal], BeforeValidator(_array)],
    config=ConfigDict(strict=True),
)


# -- the Azure CLI: clouds.config ------------------------------------------------------------


def _https_url(value: str | None) -> str | None:
    problem = None if value is None else https_url_problem(value)
    if problem is not None:
        raise PydanticCustomError("https_url", problem)
    return value


def _host_suffix(value: str | None) -> str | None:
    problem = None if value is None else host_suffix_problem(value)
    if problem is not None:
        raise PydanticCustomError("host_suffix", problem)
    return value


#: An endpoint: an https URL of a host.
Endpoint = Annotated[str | None, BeforeValidator(_text), AfterValidator(_https_url)]
# (``str | None`` before the check: an empty value is then "field required".)
RequiredEndpoint = Annotated[
    str | None, BeforeValidator(_text), AfterValidator(_required), AfterValidator(_https_url)
]
#: A DNS suffix (``core.windows.net``, ``.vault.azure.net``).
HostSuffix = Annotated[str | None, BeforeValidator(_text), AfterValidator(_host_suffix)]

#: What a custom cloud cannot do without: where to sign in, and Resource Manager.
REQUIRED_CLOUD_OPTIONS = ("endpoint_active_directory", "endpoint_resource_manager")


def _cloud_field(option: str) -> tuple[Any, Any]:
    # The CLI's own rule: an ``endpoint_`` option is a URL, a ``suffix_`` one a suffix.
    if option in REQUIRED_CLOUD_OPTIONS:
        return (RequiredEndpoint, ...)
    return (Endpoint if option.startswith("endpoint_") else HostSuffix, None)


#: One custom cloud's section of ``clouds.config``: the options ``CLOUD_OPTIONS`` maps
#: (its fields are made from that table, so the two cannot drift apart), others ignored.
_CLOUD_FIELDS: dict[str, Any] = {option: _cloud_field(option) for _, option, _ in CLOUD_OPTIONS}
CliCloud: type[FileModel] = create_model("CliCloud", __base__=FileModel, **_CLOUD_FIELDS)


def ini_place(location: tuple[int | str, ...], prefix: str) -> str:
    """Where in an INI file: ``prefix`` (the file and ``[section]``), then the option."""
    return " ".join([prefix, *(str(part) for part in location)])


# -- errors ----------------------------------------------------------------------------------

_PLAIN = re.compile(r"[A-Za-z0-9_@-]+")


def field_path(location: tuple[int | str, ...], prefix: str = "") -> str:
    """``("Contexts", "My Ctx", "Account", "Id")`` as ``Contexts.'My Ctx'.Account.Id``:
    indexes in brackets, names that are not plain words quoted (and cut, and with their
    control characters escaped, so a hostile key cannot flood or forge the line)."""
    path = prefix
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part == "[key]":
            path += " (the name)"
        else:
            word = part if _PLAIN.fullmatch(part) and len(part) <= 60 else show(part)
            path += f".{word}" if path else word
    return path


def _message(error: Any) -> str:
    if error["type"] == "missing":
        return "field required"
    text = str(error["msg"])
    return text[:1].lower() + text[1:]


def validated(
    validate: Callable[[object], T],
    value: object,
    what: str,
    prefix: str = "",
    place: Callable[[tuple[int | str, ...], str], str] = field_path,
) -> T:
    """``validate(value)`` (a model's ``model_validate``, an adapter's
    ``validate_python``); ``BadInput`` naming the first bad field's path (after
    ``prefix``, as ``place`` writes it) otherwise. ``what`` names the file, for an
    error at its top."""
    try:
        return validate(value)
    except ValidationError as exc:
        error = exc.errors(include_input=False, include_url=False)[0]
        where = place(tuple(error["loc"]), prefix) or what
        raise BadInput(f"{where}: {_message(error)}") from None
