"""The commands on contexts: ``add``, ``list``, ``show``, ``current``, ``select``,
``rename``, ``remove``, ``disconnect``, ``clear``, ``protect`` and ``unprotect``."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Annotated

import typer
from azctx.cli import render
from azctx.cli.app import (
    AccountTypeOpt,
    AtOpt,
    JsonOpt,
    NameArg,
    ScopeOpt,
    YesOpt,
    app,
    checked_name,
    checked_text,
    complete_names,
    done,
    scope_value,
    store_of,
)
from azctx.cli.asking import confirmed, stdin_is_tty
from azctx.events import BadInput, check_name
from azctx.events.rules import MAX_SECRET_BYTES, decode_text


def _stdin_secret() -> str:
    """Stdin to its end, less one trailing newline; never more than a secret may hold
    (a file piped in by mistake is refused, not read into memory)."""
    data = sys.stdin.buffer.read(MAX_SECRET_BYTES + 3)
    if len(data) > MAX_SECRET_BYTES + 2:
        raise BadInput(f"--secret-stdin read more than {MAX_SECRET_BYTES // 1024} KiB")
    if data.endswith(b"\r\n"):
        data = data[:-2]
    elif data.endswith(b"\n"):
        data = data[:-1]
    if not data:
        raise BadInput("--secret-stdin read an empty secret")
    return decode_text("the secret on stdin", data)


_VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,255}")


def _env_secret(name: str) -> str:
    """The secret in the variable ``name``. A value pasted where the name belongs (a
    secret) is never repeated in the error: the message names the problem only."""
    hint = "give the name of the variable that holds the secret, e.g. --secret-env SP_SECRET"
    if not _VARIABLE_NAME.fullmatch(name):
        raise BadInput("--secret-env takes a variable's name (letters, digits, _)", hint=hint)
    value = os.environ.get(name)
    if not value:
        raise BadInput("the variable --secret-env names is not set or empty", hint=hint)
    return value


def _read_secret(secret_stdin: bool, secret_env: str | None, prompt: bool) -> str | None:
    if secret_stdin and secret_env is not None:
        raise BadInput("--secret-stdin and --secret-env cannot be used together")
    if secret_stdin:
        return _stdin_secret()
    if secret_env is not None:
        return _env_secret(secret_env)
    if prompt and stdin_is_tty():
        value = typer.prompt("Secret (empty for none)", hide_input=True, default="")
        return value or None
    return None


EnvironmentOpt = Annotated[
    str | None,
    typer.Option(
        "--environment", callback=checked_text, help="AzureCloud (default) or another cloud."
    ),
]


AccountTypeOption = Annotated[
    AccountTypeOpt,
    typer.Option(
        "--account-type",
        metavar="TYPE",
        help="The kind of account: user, service-principal or managed-identity.",
    ),
]


SecretEnvOpt = Annotated[
    str | None,
    typer.Option(
        "--secret-env",
        metavar="VAR",
        callback=checked_text,
        help="Read the secret from variable VAR.",
    ),
]


CertificateOpt = Annotated[
    Path | None,
    typer.Option(
        "--certificate",
        exists=True,
        dir_okay=False,
        help="Certificate file (its password as the secret).",
    ),
]


@app.command()
def add(
    ctx: typer.Context,
    account: Annotated[str, typer.Option("--account", help="UPN, app id or identity id.")],
    tenant: Annotated[str, typer.Option("--tenant", help="Tenant id.")],
    subscription: Annotated[str, typer.Option("--subscription", help="Subscription id.")],
    subscription_name: Annotated[
        str | None, typer.Option("--subscription-name", help="The subscription's display name.")
    ] = None,
    environment: EnvironmentOpt = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Default: [ACCOUNT; SUBSCRIPTION].")
    ] = None,
    account_type: AccountTypeOption = AccountTypeOpt.user,
    secret_stdin: Annotated[
        bool, typer.Option("--secret-stdin", help="Read the secret from stdin.")
    ] = False,
    secret_env: SecretEnvOpt = None,
    certificate: CertificateOpt = None,
    scope: ScopeOpt = None,
    no_select: Annotated[bool, typer.Option("--no-select", help="Keep the default.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace a context of that name.")] = False,
) -> None:
    """Add a context (and the account's credential) and select it."""
    wants_secret = account_type is AccountTypeOpt.service_principal
    secret = _read_secret(secret_stdin, secret_env, prompt=wants_secret)
    result = store_of(ctx).add(
        account=account,
        tenant=tenant,
        subscription=subscription,
        subscription_name=subscription_name,
        environment=environment,
        name=name,
        account_type=account_type.value,
        secret=secret,
        certificate=None if certificate is None else str(certificate),
        scope=scope_value(scope),
        select=not no_select,
        force=force,
    )
    done(result)


@app.command("list")
def list_(
    ctx: typer.Context,
    json_: JsonOpt = False,
    names: Annotated[bool, typer.Option("--names", help="Names only, one a line.")] = False,
    wide: Annotated[bool, typer.Option("--wide", help="Every column, nothing cut.")] = False,
    at: AtOpt = None,
) -> None:
    """The contexts, sorted by name: * marks the default, ! a protected one."""
    view = store_of(ctx).view(at=at)
    new = at is None and render.is_new(store_of(ctx), view)
    render.show_list(view, json_=json_, names=names, wide=wide, echo=typer.echo, new=new)


@app.command()
def show(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Argument(autocompletion=complete_names, callback=checked_name, show_default=False),
    ] = None,
    json_: JsonOpt = False,
    at: AtOpt = None,
) -> None:
    """One context (the default when NAME is omitted)."""
    item = store_of(ctx).show(name, at=at)
    if json_:
        render.emit_json(render.context_json(item))
    else:
        typer.echo(render.context_detail(item))


@app.command()
def current(ctx: typer.Context) -> None:
    """The default context's name alone (for prompts); exit 1 if none."""
    code = render.show_current(store_of(ctx).current(), echo=typer.echo)
    if code:
        raise typer.Exit(code)


def _checked_target(value: str | None) -> str | None:
    """A name to select, ``-`` (go back), or None (pick one)."""
    return value if value is None or value == "-" else check_name(value)


@app.command(short_help="Make NAME the default (a picker without NAME); - goes back.")
def select(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Argument(
            metavar="[NAME]",
            autocompletion=complete_names,
            callback=_checked_target,
            show_default=False,
            help="A context name, subscription id or subscription name; - for the previous.",
        ),
    ] = None,
    scope: ScopeOpt = None,
    yes: YesOpt = False,
) -> None:
    """Make NAME the default context. Without NAME, on a terminal, pick one from a list
    (fzf when it is installed); `select -` goes back to the previous default."""
    store = store_of(ctx)
    if name is None:
        from azctx.cli.picker import choose

        shown = store.view()
        name = choose(shown.contexts, shown.default)
    where = scope_value(scope)
    if name == "-":
        done(confirmed(lambda y: store.select_previous(where, yes=y), yes, "--yes"))
    else:
        picked = name
        done(confirmed(lambda y: store.select(picked, where, yes=y), yes, "--yes"))


@app.command()
def rename(
    ctx: typer.Context,
    old: NameArg,
    new: Annotated[str, typer.Argument(callback=checked_name, show_default=False)],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing NEW.")] = False,
    scope: ScopeOpt = None,
) -> None:
    """Rename a context; the default follows."""
    store = store_of(ctx)
    done(
        confirmed(
            lambda f: store.rename(old, new, force=f, scope=scope_value(scope)), force, "--force"
        )
    )


@app.command()
def remove(
    ctx: typer.Context,
    name: NameArg,
    scope: ScopeOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Also remove the default.")] = False,
) -> None:
    """Remove a context (the default only with --force)."""
    store = store_of(ctx)
    done(
        confirmed(lambda f: store.remove(name, force=f, scope=scope_value(scope)), force, "--force")
    )


@app.command()
def disconnect(
    ctx: typer.Context,
    account: Annotated[
        str | None,
        typer.Argument(callback=checked_text, help="Default: the default context's account."),
    ] = None,
    scope: ScopeOpt = None,
    yes: YesOpt = False,
) -> None:
    """Remove every context of the account and destroy its credential."""
    store, where = store_of(ctx), scope_value(scope)
    done(confirmed(lambda y: store.disconnect(account, scope=where, ask=not y), yes, "--yes"))


@app.command()
def clear(
    ctx: typer.Context,
    scope: ScopeOpt = None,
    yes: YesOpt = False,
) -> None:
    """Remove every context and credential in the scope."""
    store, where = store_of(ctx), scope_value(scope)
    done(confirmed(lambda y: store.clear(scope=where, ask=not y), yes, "--yes"))


@app.command()
def protect(ctx: typer.Context, name: NameArg, scope: ScopeOpt = None) -> None:
    """Protect a context: selecting it or running as it asks first."""
    done(store_of(ctx).protect(name, scope=scope_value(scope)))


@app.command()
def unprotect(ctx: typer.Context, name: NameArg, scope: ScopeOpt = None) -> None:
    """Take the protection off a context."""
    done(store_of(ctx).unprotect(name, scope=scope_value(scope)))
