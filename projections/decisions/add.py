"""Adding a context: the checks of a new context, whichever door it comes
in by, and the ``add`` decision."""

from __future__ import annotations

from azctx.events import (
    ACCOUNT_TYPES,
    BUILTIN_ENVIRONMENT_NAMES,
    DEFAULT_ENVIRONMENT,
    Added,
    BadInput,
    Context,
    Credential,
    Refused,
    account_key,
    check_name,
    check_optional_text,
    check_secret,
    check_text,
    context_change,
    credential_change,
    default_name,
    name_key,
)
from azctx.events.records import Record
from azctx.projections.decisions.decision import (
    Decision,
    event,
    notes,
    resolve_scope,
    scope_names,
    select_change,
)
from azctx.projections.state import State
from azctx.projections.view import Caller


class AddRequest(Record):
    """What ``add`` asks for; ``name`` None means ``[ACCOUNT; SUBSCRIPTION]``."""

    account: str
    tenant: str
    subscription: str | None = None
    account_type: str = "user"
    subscription_name: str | None = None
    environment: str | None = None
    name: str | None = None
    scope: str | None = None
    select: bool = True
    force: bool = False


def checked_context(ctx: Context) -> Context:
    """``ctx`` when every value in it obeys the input rules, else BadInput:
    the one check of a context, whether it comes from ``add`` or from a file."""
    check_name(ctx.name)
    check_text("the account", ctx.account)
    check_text("the tenant", ctx.tenant)
    check_optional_text("the subscription", ctx.subscription)
    check_optional_text("the subscription name", ctx.subscription_name)
    check_text("the environment", ctx.environment)
    if ctx.account_type not in ACCOUNT_TYPES:
        raise BadInput(
            f"unknown account type {ctx.account_type!r}",
            hint="use user, service-principal or managed-identity",
        )
    return ctx


def check_credential(account_type: str, credential: bool) -> None:
    """A credential (a secret or a certificate) belongs only to a service
    principal."""
    if credential and account_type != "service-principal":
        raise BadInput(
            f"a {account_type} account takes no secret or certificate: only a service "
            "principal has one",
            hint="drop --secret-stdin/--secret-env/--certificate, or use "
            "--account-type service-principal",
        )


def _requested(request: AddRequest) -> Context:
    """The context a request names, checked, its cloud as spelled."""
    name = request.name
    if name is None:
        name = default_name(request.account, request.subscription)
    return checked_context(
        Context(
            name=name,
            account=request.account,
            account_type=request.account_type,  # type: ignore[arg-type]  # checked_context checks it
            tenant=request.tenant,
            subscription=request.subscription,
            subscription_name=request.subscription_name,
            environment=DEFAULT_ENVIRONMENT if request.environment is None else request.environment,
        )
    )


def check_request(request: AddRequest, secret: str | None, certificate: str | None) -> None:
    """Everything about an add request that needs no state, so that bad input is
    reported before the store is opened or a question asked (``decide_add`` checks it
    all again on the way)."""
    ctx = _requested(request)
    check_credential(ctx.account_type, secret is not None or certificate is not None)
    if secret is not None:
        check_secret(secret)
    check_optional_text("the certificate path", certificate)


def _environment(state: State, target: str, wanted: str | None) -> str:
    """The canonical name of a built-in cloud, or a custom one an import brought in."""
    if wanted is None:
        return DEFAULT_ENVIRONMENT
    key = name_key(wanted)
    if key in BUILTIN_ENVIRONMENT_NAMES:
        return BUILTIN_ENVIRONMENT_NAMES[key]
    for scope in (state.scope(target), state.user):
        if key in scope.environments:
            return scope.environments[key].name
    raise BadInput(
        f"unknown environment {wanted!r}",
        hint="use AzureCloud, AzureChinaCloud or AzureUSGovernment; other clouds come "
        "from an imported file",
    )


def decide_add(
    state: State, caller: Caller, request: AddRequest, *, credential: Credential | None = None
) -> Decision:
    ctx = _requested(request)
    target = resolve_scope(state, caller, request.scope, ctx.name)
    ctx = ctx._replace(environment=_environment(state, target, request.environment))
    check_credential(ctx.account_type, credential is not None)
    key = name_key(ctx.name)
    taken = scope_names(state, caller, target).get(key)
    if taken is not None and not request.force:
        raise Refused(f"a context named '{taken.name}' already exists", hint="--force replaces it")
    own = state.scope(target)
    changes = [context_change(target, key, own.contexts.get(key), ctx)]
    if credential is not None:
        account = account_key(ctx.account)
        changes.append(credential_change(target, account, own.credentials.get(account), credential))
    said: tuple[str, ...] = ()
    if request.select:
        changes += select_change(own, target, ctx.name)
        said = notes(state, caller, target, ctx.name)
    op = Added(ctx, replaced=taken is not None, selected=request.select)
    return Decision(event(caller, target, op, changes), said)


def account_key_id(state: State, scope_key: str, account: str) -> str | None:
    """The data key id of the account's live credential in that scope, if any (so the
    store seals a new secret under the same key)."""
    cred = state.scope(scope_key).credentials.get(account_key(account))
    if cred is None or cred.key_id in state.shredded:
        return None
    return cred.key_id
