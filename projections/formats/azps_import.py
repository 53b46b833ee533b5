"""Reading Az PowerShell's ``AzureRmContext.json`` (Import-AzContext)."""

from __future__ import annotations

from dataclasses import dataclass

from azctx.events import (
    BUILTIN_ENVIRONMENT_NAMES,
    AccountType,
    BadInput,
    Context,
    Environment,
    account_key,
    default_name,
    name_key,
    name_problem,
)
from azctx.projections.formats.import_models import (
    AzAccountProperties,
    AzContext,
    AzContextFile,
    AzEnvironment,
    field_path,
    validated,
)
from azctx.projections.formats.json_input import bad, guarded, load_object, show
from azctx.projections.formats.plans import ImportedSecret, ImportPlan

WHAT = "the Az PowerShell context file"

#: Az's account types (compared case-insensitively) and what each becomes here.
ACCOUNT_TYPES_IN: dict[str, AccountType] = {
    "user": "user",
    "accesstoken": "user",
    "serviceprincipal": "service-principal",
    "certificate": "service-principal",
    "clientassertion": "service-principal",
    "managedservice": "managed-identity",
}
_TYPE_LIST = "User, AccessToken, ServicePrincipal, Certificate, ClientAssertion, ManagedService"

#: Account.ExtendedProperties that hold tokens, which are never imported.
_TOKEN_PROPERTIES = ("AccessToken", "GraphAccessToken", "KeyVault", "ClientAssertion")


@dataclass(frozen=True)
class _Entry:
    """One context as read from the file, before it gets its name."""

    key: str
    account: str
    account_type: AccountType
    tenant: str
    subscription: str | None
    subscription_name: str | None
    environment: str
    secret: ImportedSecret | None


def _endpoint(url: str | None) -> str | None:
    return None if url is None else url.rstrip("/").casefold()


def _conflicting(first: Environment, again: Environment) -> bool:
    """Whether a second mention of a cloud defines it otherwise. A context that names
    the cloud with fewer endpoints (or spells a URL with another case or trailing
    slash) refers to the same definition."""
    pairs = (
        (first.authority, again.authority),
        (first.resource_manager, again.resource_manager),
    )
    return any(a is not None and b is not None and _endpoint(a) != _endpoint(b) for a, b in pairs)


class _Environments:
    """The custom environments met while reading, first definition of a name wins.

    ``EnvironmentTable`` is read before the contexts, so its definition beats a copy
    embedded in a context.
    """

    def __init__(self, notes: list[str]) -> None:
        self._notes = notes
        self._found: dict[str, Environment] = {}

    def add(self, read: AzEnvironment, where: str, fallback_name: str | None = None) -> str:
        """Record the environment ``read`` at ``where``; return the name a context
        should use."""
        name = read.Name or fallback_name
        if name is None:
            bad(f"{where}.Name: field required")
        builtin = BUILTIN_ENVIRONMENT_NAMES.get(name.casefold())
        if builtin is not None:
            return builtin  # built-in clouds are never stored: their URLs are known
        problem = name_problem(name)
        if problem is not None:
            bad(f"{where}.Name: environment name {show(name)} is not valid: {problem}")
        env = Environment(
            name=name,
            authority=read.ActiveDirectoryAuthority,
            resource_manager=read.ResourceManagerUrl,
            raw=read.raw,
        )
        known = self._found.setdefault(name.casefold(), env)
        if known is not env and _conflicting(known, env):
            self._notes.append(
                f"environment {show(name)} is defined more than once with different "
                "endpoints; the first definition is imported"
            )
        return known.name

    def all(self) -> tuple[Environment, ...]:
        return tuple(self._found.values())


def parse_az_powershell(text: str, *, rename_invalid: bool = False) -> ImportPlan:
    """What importing an ``AzureRmContext.json`` (text) would bring in.

    Each entry of ``Contexts`` becomes a context named by its key (the fields are read,
    the key is never parsed). A key that is not a valid name is refused, or with
    ``rename_invalid`` given the default name ``[ACCOUNT; SUBSCRIPTION]``; two names
    equal case-insensitively are refused.

    Default: ``DefaultContextKey`` (compared case-insensitively, as Az does). When it
    is missing or null, Az reads it as ``"Default"``; if no context has that key and the
    file holds exactly one context, that context becomes the default (so
    ``import-context-no-default-key.json``, whose only context is keyed ``Default``,
    imports with it as the default either way, as Import-AzContext selects it). A key
    that names no context gives no default, with a note.

    Only ``ServicePrincipalSecret`` or ``CertificatePath`` (+ ``CertificatePassword``)
    of a service principal is imported as its credential; tokens never are (a note
    says so). Malformed JSON or a wrong shape raises ``BadInput`` with one line that
    names the bad field's path.
    """
    return guarded(lambda: _parse(text, rename_invalid), WHAT)


def _parse(text: str, rename_invalid: bool) -> ImportPlan:
    root = validated(AzContextFile.model_validate, load_object(text, WHAT), WHAT)
    notes: list[str] = []
    environments = _Environments(notes)
    for key, env in (root.EnvironmentTable or {}).items():
        environments.add(env, field_path(("EnvironmentTable", key)), fallback_name=key)
    entries = [
        _read_context(key, context, environments, notes)
        for key, context in (root.Contexts or {}).items()
    ]
    named = _name_contexts(entries, rename_invalid, notes)
    default_key = root.DefaultContextKey
    return ImportPlan(
        source="az-powershell",
        contexts=tuple(context for _, context in named),
        secrets=_collect_secrets(entries, notes),
        environments=environments.all(),
        default=_pick_default(default_key, named, notes),
        notes=tuple(notes),
    )


def _read_context(key: str, ctx: AzContext, envs: _Environments, notes: list[str]) -> _Entry:
    label = f"context {show(key)}"
    account = ctx.Account
    account_type = ACCOUNT_TYPES_IN.get(account.Type.casefold())
    if account_type is None:
        where = field_path(("Contexts", key, "Account", "Type"))
        bad(f"{where}: {show(account.Type)} is not one of {_TYPE_LIST}")
    props = account.ExtendedProperties
    _note_tokens(label, ctx, notes)
    return _Entry(
        key=key,
        account=account.Id,
        account_type=account_type,
        tenant=ctx.Tenant.Id,
        subscription=None if ctx.Subscription is None else ctx.Subscription.Id,
        subscription_name=None if ctx.Subscription is None else ctx.Subscription.Name,
        environment=envs.add(ctx.Environment, field_path(("Contexts", key, "Environment"))),
        secret=_read_secret(label, account.Id, account_type, props, notes),
    )


def _note_tokens(label: str, ctx: AzContext, notes: list[str]) -> None:
    """Add a note when the context carries tokens: they are dropped, not imported."""
    props = ctx.Account.ExtendedProperties
    found = [name for name in _TOKEN_PROPERTIES if props is not None and getattr(props, name)]
    if ctx.Account.Type.casefold() == "accesstoken":
        found.insert(0, "an AccessToken account")
    if ctx.TokenCache is not None and ctx.TokenCache.CacheData:
        found.append("TokenCache")
    if found:
        notes.append(
            f"{label}: tokens are not imported ({', '.join(found)}); sign in again to get new ones"
        )


def _read_secret(
    label: str,
    account: str,
    account_type: AccountType,
    props: AzAccountProperties | None,
    notes: list[str],
) -> ImportedSecret | None:
    """The credential in Account.ExtendedProperties, or None (with a note when one is
    present but cannot be used)."""
    if props is None:
        return None
    secret = props.ServicePrincipalSecret
    path = props.CertificatePath
    password = props.CertificatePassword
    thumbprint = props.CertificateThumbprint
    if secret is None and path is None:
        if thumbprint is not None or password is not None:
            notes.append(
                f"{label}: a certificate without CertificatePath (only a thumbprint or a "
                "password) is not imported"
            )
        return None
    if account_type != "service-principal":
        notes.append(f"{label}: the credential of a {account_type} account is not imported")
        return None
    if path is None:
        return ImportedSecret(account=account, kind="client-secret", secret=secret)
    if secret is not None:
        notes.append(f"{label}: ServicePrincipalSecret ignored; the certificate is imported")
    return ImportedSecret(
        account=account, kind="certificate", secret=password, certificate_path=path
    )


def _name_contexts(
    entries: list[_Entry], rename_invalid: bool, notes: list[str]
) -> list[tuple[str, Context]]:
    """(file key, context) for each entry, each named by its key or renamed."""
    named: list[tuple[str, Context]] = []
    taken: dict[str, str] = {}  # name_key(name) -> the file key that took it
    for entry in entries:
        name = _valid_name(entry, rename_invalid, notes)
        first = taken.setdefault(name_key(name), entry.key)
        if first != entry.key:
            bad(
                f"contexts {show(first)} and {show(entry.key)} have the same name "
                "(names are compared case-insensitively)"
            )
        named.append((entry.key, _context(entry, name)))
    return named


def _valid_name(entry: _Entry, rename_invalid: bool, notes: list[str]) -> str:
    problem = name_problem(entry.key)
    if problem is None:
        return entry.key
    if not rename_invalid:
        raise BadInput(
            f"context key {show(entry.key)} is not a valid name: {problem}",
            hint="--rename-invalid imports it under its default name",
        )
    name = default_name(entry.account, entry.subscription)
    second = name_problem(name)
    if second is not None:
        bad(f"context key {show(entry.key)} is not a valid name and neither is {show(name)}")
    notes.append(f"context key {show(entry.key)} ({problem}) is imported as {show(name)}")
    return name


def _context(entry: _Entry, name: str) -> Context:
    return Context(
        name=name,
        account=entry.account,
        account_type=entry.account_type,
        tenant=entry.tenant,
        subscription=entry.subscription,
        subscription_name=entry.subscription_name,
        environment=entry.environment,
    )


def _pick_default(
    key: str | None, named: list[tuple[str, Context]], notes: list[str]
) -> str | None:
    by_key = {file_key.casefold(): context.name for file_key, context in named}
    wanted = key if key is not None else "Default"  # Az reads a missing key as "Default"
    found = by_key.get(wanted.casefold())
    if found is not None:
        return found
    if key is None and len(named) == 1:
        return named[0][1].name  # the only context; Import-AzContext selects it too
    if named:
        notes.append(f"DefaultContextKey {show(wanted)} names no context; no default is imported")
    return None


def _collect_secrets(entries: list[_Entry], notes: list[str]) -> tuple[ImportedSecret, ...]:
    """One credential per account (it is shared by all the account's contexts)."""
    found: dict[str, ImportedSecret] = {}
    for entry in entries:
        if entry.secret is None:
            continue
        known = found.setdefault(account_key(entry.secret.account), entry.secret)
        if known != entry.secret:
            notes.append(
                f"account {show(entry.account)} has different credentials in different "
                "contexts; the first one is imported"
            )
    return tuple(found.values())
