"""Handing a context on: the variables ``run`` gives its child (and a Python job), and
the Az PowerShell file ``export`` writes. The only places a secret leaves the store."""

from __future__ import annotations

import base64

from azctx.events import Credential, account_key, name_key
from azctx.projections.state import State
from azctx.projections.view import Caller, ViewContext, environments, view
from azctx.store.errors import KeyDestroyedError, TamperedError
from azctx.store.log import Log
from azctx.store.results import RunEnvironment


def secret_of(log: Log, item: ViewContext, state: State) -> tuple[str | None, Credential | None]:
    """The plaintext secret of a view context's credential (None if it has none). A
    data key that is gone although no operation destroyed it is tampering."""
    cred = item.credential_obj
    if cred is None or cred.sealed is None:
        return None, cred
    try:
        return log.unseal(cred.key_id, base64.b64decode(cred.sealed)).decode(), cred
    except KeyDestroyedError:
        if cred.key_id in state.shredded:
            raise
        raise TamperedError(
            f"the data key {cred.key_id} of the account {item.context.account} is missing from the"
            " store, but no operation destroyed it"
        ) from None


def _notes(item: ViewContext, cred: Credential | None) -> tuple[str, ...]:
    ctx = item.context
    if ctx.account_type != "service-principal":
        return (
            f"note: '{ctx.name}' is a {ctx.account_type} account: there is no secret to hand over",
        )
    if cred is None:
        return (f"note: '{ctx.name}' has no stored credential",)
    return ()


def run_environment(log: Log, state: State, caller: Caller, name: str | None) -> RunEnvironment:
    """The variables a child process needs to act as context ``name`` (default: the
    default context), and what its private Azure CLI folder must hold."""
    from azctx.projections.handoff import (
        variables as run_variables,  # only run and Python jobs need it
    )
    from azctx.projections.handoff.azcli_folder import az_target

    item = view(state, caller).pick(name)
    secret, cred = secret_of(log, item, state)
    ctx = item.context
    cloud = environments(state, caller).get(name_key(ctx.environment))
    variables = run_variables.environment_variables(
        ctx,
        secret=secret,
        credential_kind=None if cred is None else cred.kind,
        certificate_path=None if cred is None else cred.certificate_path,
        environment=cloud,
    )
    if caller.session is not None:
        variables["AZCTX_SESSION"] = caller.session
    azcli = az_target(ctx, cred, secret, cloud)
    return RunEnvironment(ctx.name, variables, _notes(item, cred), azcli)


def export_text(
    log: Log, state: State, caller: Caller, context: str | None, include_secrets: bool
) -> tuple[str, int]:
    """Az PowerShell's AzureRmContext.json of the view (or of one context), and how
    many contexts it holds."""
    from azctx.projections.formats.azps_export import export_az_powershell  # export only
    from azctx.projections.formats.plans import ExportSecret

    shown = view(state, caller)
    items = shown.contexts if context is None else (shown.pick(context),)
    secrets: dict[str, ExportSecret | None] = {}
    if include_secrets:
        for item in items:
            secret, cred = secret_of(log, item, state)
            if cred is not None:
                secrets[account_key(item.context.account)] = ExportSecret(
                    kind=cred.kind, secret=secret, certificate_path=cred.certificate_path
                )
    default = shown.default
    if default is not None and all(name_key(i.context.name) != name_key(default) for i in items):
        default = None
    contexts = [i.context for i in items]
    clouds = environments(state, caller)
    return export_az_powershell(contexts, default, clouds, secrets), len(items)
