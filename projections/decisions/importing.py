"""The ``import`` decision: the contexts, credentials and environments of a file, as
one operation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from azctx.events import (
    BadInput,
    Context,
    Credential,
    Environment,
    Imported,
    ImportSource,
    account_key,
    check_optional_text,
    check_text,
    context_change,
    credential_change,
    environment_change,
    name_key,
)
from azctx.projections.decisions.add import (
    check_credential,
    checked_context,
)
from azctx.projections.decisions.decision import (
    Decision,
    event,
    resolve_scope,
    select_change,
)
from azctx.projections.state import State
from azctx.projections.view import Caller


def _imported(contexts: Sequence[Context]) -> dict[str, Context]:
    imported: dict[str, Context] = {}
    for ctx in contexts:
        checked_context(ctx)
        key = name_key(ctx.name)
        if key in imported:
            raise BadInput(f"the file has two contexts named '{ctx.name}'")
        imported[key] = ctx
    return imported


def _checked_environment(env: Environment) -> Environment:
    check_text("an environment's name", env.name)
    check_optional_text("an environment's authority", env.authority)
    check_optional_text("an environment's Resource Manager URL", env.resource_manager)
    return env


def decide_import(
    state: State,
    caller: Caller,
    *,
    contexts: Sequence[Context],
    credentials: Mapping[str, Credential] | None = None,
    environments: Sequence[Environment] = (),
    default: str | None = None,
    scope: str | None = None,
    source: ImportSource = "az-powershell",
    file: str = "",
) -> Decision:
    """One operation: the file's contexts replace those of the same name, all others
    are kept, and the file's default (when it has one) becomes the default."""
    imported = _imported(contexts)
    if default is not None and name_key(default) not in imported:
        raise BadInput(f"the file's default context '{default}' is not among its contexts")
    target = resolve_scope(state, caller, scope)
    own = state.scope(target)
    changes = [context_change(target, k, own.contexts.get(k), c) for k, c in imported.items()]
    types = {account_key(c.account): c.account_type for c in imported.values()}
    for account, cred in (credentials or {}).items():
        akey = account_key(account)
        check_credential(types.get(akey, "service-principal"), True)
        check_optional_text("a certificate path", cred.certificate_path)
        changes.append(credential_change(target, akey, own.credentials.get(akey), cred))
    for env in environments:
        ekey = name_key(_checked_environment(env).name)
        changes.append(environment_change(target, ekey, own.environments.get(ekey), env))
    chosen = None
    if default is not None:
        chosen = imported[name_key(default)].name
        changes += select_change(own, target, chosen)
    op = Imported(source, file, tuple(c.name for c in imported.values()), chosen)
    return Decision(event(caller, target, op, changes))
