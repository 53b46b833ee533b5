"""Reading the Azure CLI's ``azureProfile.json`` (``import --from-az-cli``)."""

from __future__ import annotations

from configparser import ConfigParser

from azctx.events import (
    BUILTIN_ENVIRONMENT_NAMES,
    DEFAULT_ENVIRONMENT,
    AccountType,
    Context,
    Environment,
    default_name,
    name_key,
    name_problem,
)
from azctx.projections.formats.azcli_clouds import custom_cloud, read_clouds
from azctx.projections.formats.import_models import CliProfile, CliSubscription, validated
from azctx.projections.formats.json_input import bad, guarded, load_object, show
from azctx.projections.formats.plans import ImportPlan
from azctx.projections.handoff.azcli_folder import CLOUDS

WHAT = "the Azure CLI profile"

#: ``user.name`` values the CLI gives a managed identity (its type is servicePrincipal).
MANAGED_IDENTITY_NAMES = frozenset({"systemassignedidentity", "userassignedidentity"})
_CLIENT_PREFIX = "msiclient-"


def parse_az_cli(text: str, clouds: str | None = None) -> ImportPlan:
    """What importing an ``azureProfile.json`` (text) would bring in, with the custom
    clouds its subscriptions use defined by ``clouds`` (the text of the CLI's
    ``clouds.config`` beside it; None when there is none).

    One context per subscription, named ``[ACCOUNT; SUBSCRIPTION]``; the ``isDefault``
    entry is the default (the first, if several claim it). An entry whose name repeats
    an earlier one is skipped with a note. A managed identity's account is its client id
    when the file records one (``user.clientId`` or ``assignedIdentityInfo``
    ``MSIClient-<id>``), else the CLI's ``user.name``. The file holds no secrets.
    """
    return guarded(lambda: _parse(text, clouds), WHAT)


def _parse(text: str, clouds_text: str | None) -> ImportPlan:
    root = validated(CliProfile.model_validate, load_object(text, WHAT), WHAT)
    clouds = None if clouds_text is None else read_clouds(clouds_text)
    entries = root.subscriptions or []
    notes: list[str] = []
    kept: dict[str, Context] = {}
    environments: dict[str, Environment] = {}
    default: str | None = None
    for index, item in enumerate(entries):
        where = f"subscriptions[{index}]"
        context, is_default = _read_entry(item, where)
        first = kept.setdefault(name_key(context.name), context)
        if first is not context:
            notes.append(
                f"{where} repeats the name {show(context.name)}; only the first is imported"
            )
        if is_default and default is None:
            default = first.name
        elif is_default and default != first.name:
            notes.append(f"{where} is also marked isDefault; the first default is kept")
        _note_environment(context.environment, clouds, environments, notes)
    return ImportPlan(
        source="az-cli",
        contexts=tuple(kept.values()),
        environments=tuple(environments.values()),
        default=default,
        notes=tuple(notes),
    )


def _read_entry(entry: CliSubscription, where: str) -> tuple[Context, bool]:
    account = entry.user.name
    account_type = _account_type(entry, where)
    if account_type == "managed-identity":
        account = _identity_client_id(entry) or account
    subscription = entry.id
    name = default_name(account, subscription)
    problem = name_problem(name)
    if problem is not None:
        bad(f"{where}: its name {show(name)} is not valid: {problem}")
    context = Context(
        name=name,
        account=account,
        account_type=account_type,
        tenant=entry.tenantId,
        subscription=subscription,
        subscription_name=entry.name,
        environment=_environment_name(entry, where),
    )
    return context, bool(entry.isDefault)


def _account_type(entry: CliSubscription, where: str) -> AccountType:
    kind = entry.user.type
    if kind.casefold() == "user":
        return "user"
    if kind.casefold() != "serviceprincipal":
        bad(f"{where}.user.type: {show(kind)} is not user or servicePrincipal")
    # The CLI stores a managed identity as a servicePrincipal with a marker name.
    if entry.user.name.casefold() in MANAGED_IDENTITY_NAMES or _identity_info(entry):
        return "managed-identity"
    return "service-principal"


def _identity_info(entry: CliSubscription) -> str | None:
    # The CLI writes it inside ``user``; accept it beside ``user`` too.
    return entry.user.assignedIdentityInfo or entry.assignedIdentityInfo


def _identity_client_id(entry: CliSubscription) -> str | None:
    """The client id of a user-assigned identity, which azure-identity needs.

    Newer CLIs store ``user.clientId``; older ones only ``assignedIdentityInfo``, as
    ``MSIClient-<id>`` (``MSIObject-``/``MSIResource-`` ids cannot be used as a client
    id). A system-assigned identity needs none, so its marker name is kept.
    """
    if entry.user.name.casefold() == "systemassignedidentity":
        return None  # its client id (newer CLIs record one) must not be sent as a user id
    if entry.user.clientId is not None:
        return entry.user.clientId
    info = _identity_info(entry) or ""
    if info.casefold().startswith(_CLIENT_PREFIX):
        return info[len(_CLIENT_PREFIX) :] or None
    return None


def _environment_name(entry: CliSubscription, where: str) -> str:
    name = entry.environmentName
    if name is None:
        return DEFAULT_ENVIRONMENT
    builtin = BUILTIN_ENVIRONMENT_NAMES.get(name.casefold())
    if builtin is not None:
        return builtin
    problem = name_problem(name)
    if problem is not None:
        bad(f"{where}.environmentName: {show(name)} is not valid: {problem}")
    return name


def _note_environment(
    name: str, clouds: ConfigParser | None, found: dict[str, Environment], notes: list[str]
) -> None:
    """Record a custom cloud once. Its endpoints are not in this file but in the CLI's
    ``clouds.config``: from there when it defines the cloud, else by name only; a note
    says which."""
    if name.casefold() in BUILTIN_ENVIRONMENT_NAMES or name.casefold() in found:
        return
    cloud = None if clouds is None else custom_cloud(clouds, name)
    if cloud is not None:
        found[name.casefold()] = cloud
        notes.append(f"environment {show(name)} is not built in; its endpoints come from {CLOUDS}")
        return
    found[name.casefold()] = Environment(name=name)
    where = (
        "azureProfile.json has no"
        if clouds is None
        else f"neither {CLOUDS} nor azureProfile.json has"
    )
    notes.append(
        f"environment {show(name)} is not built in and {where} endpoints "
        "for it; it is imported by name only"
    )
