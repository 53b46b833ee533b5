"""The ``azctx`` commands: each parses, calls one ContextStore method, renders."""

from __future__ import annotations

import os
import sys
import unicodedata
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from azctx.events import BadInput, ConfirmationNeeded, Refused, name_problem

from . import render
from .errors import AzctxGroup

if TYPE_CHECKING:
    from collections.abc import Callable

    from azctx.store.context_store import ContextStore, OperationResult


class Scope(StrEnum):
    user = "user"
    process = "process"


class Shell(StrEnum):
    bash = "bash"
    zsh = "zsh"
    sh = "sh"
    fish = "fish"
    pwsh = "pwsh"


class AccountTypeOpt(StrEnum):
    user = "user"
    service_principal = "service-principal"
    managed_identity = "managed-identity"


app = typer.Typer(
    cls=AzctxGroup,
    help="Azure sign-in contexts kept across shell sessions, in an encrypted event log.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
)
autosave_app = typer.Typer(cls=AzctxGroup, help="Turn autosave on or off, or report it.")
session_app = typer.Typer(cls=AzctxGroup, help="Shell sessions: the process scope.")
key_app = typer.Typer(cls=AzctxGroup, help="The master key.")
app.add_typer(autosave_app, name="autosave")
app.add_typer(session_app, name="session")
app.add_typer(key_app, name="key")


def _store(ctx: typer.Context) -> ContextStore:
    obj: dict[str, Any] = ctx.ensure_object(dict)
    store = obj.get("store")
    if store is None:
        from azctx.store.context_store import ContextStore

        store = ContextStore(obj.get("target"), on_warning=_warn)
        obj["store"] = store
        ctx.call_on_close(store.close)
    return store


def _warn(message: str) -> None:
    typer.echo(f"warning: {message}", err=True)


def _checked_name(value: str | None) -> str | None:
    """SPEC §1: an invalid name is bad input (exit 2), also where it is only looked up."""
    if value is None:
        return None
    problem = name_problem(value)
    if problem is not None:
        shown = value if len(value) <= 60 else value[:60] + "..."
        raise BadInput(f"invalid context name {shown!r}: {problem}")
    return value


MAX_TEXT = 1024


def _checked_text(param: typer.CallbackParam, value: str | None) -> str | None:
    """An empty, over-long or control-character value is bad input (exit 2), found
    before any question is asked or the store is opened."""
    if value is None:
        return None
    label = param.opts[0] if param.param_type_name == "option" else str(param.name).upper()
    if not value.strip():
        raise BadInput(f"{label} cannot be empty")
    if len(value) > MAX_TEXT:
        raise BadInput(f"{label} is at most {MAX_TEXT} characters (got {len(value)})")
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise BadInput(f"{label} cannot contain control characters")
    return value


def _complete_names(ctx: typer.Context, incomplete: str) -> list[str]:
    """Context names for shell completion; silent on any failure."""
    try:
        from azctx.store.context_store import ContextStore

        root = ctx.find_root().params.get("store") if ctx else None
        with ContextStore(root) as store:
            names = [i.context.name for i in store.view().contexts]
    except Exception:
        return []
    return [n for n in names if n.casefold().startswith(incomplete.casefold())]


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"azctx {version('azctx')}")
        raise typer.Exit()


@app.callback()
def main_options(
    ctx: typer.Context,
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            envvar="AZCTX_STORE",
            help="Store path or SQLAlchemy URL (default: store.db in the user data dir).",
            show_envvar=True,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    if store is not None and not store.strip():
        raise BadInput("--store cannot be empty", hint="unset AZCTX_STORE or give a path")
    ctx.ensure_object(dict)["target"] = store


def _scope(scope: Scope | None) -> str | None:
    return None if scope is None else scope.value


def _done(result: OperationResult) -> None:
    for note in result.notes:
        typer.echo(note, err=True)
    typer.echo(result.summary)


def _stdin_is_tty() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def _confirmed(
    attempt: Callable[[bool], OperationResult], skip: bool, flag: str
) -> OperationResult:
    """Run ``attempt(skip)``; if it needs confirmation, ask on a TTY, else refuse."""
    try:
        return attempt(skip)
    except ConfirmationNeeded as need:
        if not _stdin_is_tty():
            raise Refused(need.message, hint=f"pass {flag} to do it without a question") from None
        if not typer.confirm(need.question, default=False):
            raise Refused("cancelled; nothing was changed") from None
        return attempt(True)


def _ask_first(question: str, yes: bool) -> None:
    if yes:
        return
    if not _stdin_is_tty():
        raise Refused(
            f"this would {question[:1].lower()}{question[1:].rstrip('?')}; it needs confirmation",
            hint="pass --yes to do it without a question",
        )
    if not typer.confirm(question, default=False):
        raise Refused("cancelled; nothing was changed")


NameArg = Annotated[
    str,
    typer.Argument(autocompletion=_complete_names, callback=_checked_name, show_default=False),
]
ScopeOpt = Annotated[
    Scope | None, typer.Option("--scope", help="user or process (default: by autosave).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")]
AtOpt = Annotated[
    str | None,
    typer.Option("--at", help="The view after operation N, or at an ISO-8601 date/time."),
]


def _read_secret(secret_stdin: bool, secret_env: str | None, prompt: bool) -> str | None:
    if secret_stdin and secret_env is not None:
        raise BadInput("--secret-stdin and --secret-env cannot be used together")
    if secret_stdin:
        data = sys.stdin.read()
        if data.endswith("\r\n"):
            data = data[:-2]
        elif data.endswith("\n"):
            data = data[:-1]
        if not data:
            raise BadInput("--secret-stdin read an empty secret")
        return data
    if secret_env is not None:
        value = os.environ.get(secret_env)
        if not value:
            raise BadInput(f"the environment variable {secret_env!r} is not set or empty")
        return value
    if prompt and _stdin_is_tty():
        value = typer.prompt("Secret (empty for none)", hide_input=True, default="")
        return value or None
    return None


@app.command()
def add(
    ctx: typer.Context,
    account: Annotated[str, typer.Option("--account", help="UPN, app id or identity id.")],
    tenant: Annotated[str, typer.Option("--tenant", help="Tenant id.")],
    subscription: Annotated[str, typer.Option("--subscription", help="Subscription id.")],
    subscription_name: Annotated[str | None, typer.Option("--subscription-name")] = None,
    environment: Annotated[
        str | None,
        typer.Option(
            "--environment",
            callback=_checked_text,
            help="AzureCloud (default) or another cloud.",
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Default: [ACCOUNT; SUBSCRIPTION].")
    ] = None,
    account_type: Annotated[
        AccountTypeOpt, typer.Option("--account-type", help="The kind of account.")
    ] = AccountTypeOpt.user,
    secret_stdin: Annotated[
        bool, typer.Option("--secret-stdin", help="Read the secret from stdin.")
    ] = False,
    secret_env: Annotated[
        str | None,
        typer.Option(
            "--secret-env",
            metavar="VAR",
            callback=_checked_text,
            help="Read the secret from variable VAR.",
        ),
    ] = None,
    certificate: Annotated[
        Path | None,
        typer.Option(
            "--certificate",
            exists=True,
            dir_okay=False,
            help="Certificate file (its password as the secret).",
        ),
    ] = None,
    scope: ScopeOpt = None,
    no_select: Annotated[bool, typer.Option("--no-select", help="Keep the default.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace a context of that name.")] = False,
) -> None:
    """Add a context (and the account's credential) and select it."""
    wants_secret = account_type is AccountTypeOpt.service_principal
    secret = _read_secret(secret_stdin, secret_env, prompt=wants_secret)
    result = _store(ctx).add(
        account=account,
        tenant=tenant,
        subscription=subscription,
        subscription_name=subscription_name,
        environment=environment,
        name=name,
        account_type=account_type.value,
        secret=secret,
        certificate=None if certificate is None else str(certificate),
        scope=_scope(scope),
        select=not no_select,
        force=force,
    )
    _done(result)


@app.command("list")
def list_(
    ctx: typer.Context,
    json_: JsonOpt = False,
    names: Annotated[bool, typer.Option("--names", help="Names only, one a line.")] = False,
    at: AtOpt = None,
) -> None:
    """The contexts in the view, sorted by name; * marks the default."""
    view = _store(ctx).view(at=at)
    if json_:
        render.emit_json([render.context_json(i) for i in view.contexts])
    elif names:
        for item in view.contexts:
            typer.echo(item.context.name)
    elif view.contexts:
        typer.echo(render.context_rows(view.contexts))


@app.command()
def show(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Argument(autocompletion=_complete_names, callback=_checked_name, show_default=False),
    ] = None,
    json_: JsonOpt = False,
    at: AtOpt = None,
) -> None:
    """One context (the default when NAME is omitted)."""
    item = _store(ctx).show(name, at=at)
    if json_:
        render.emit_json(render.context_json(item))
    else:
        typer.echo(render.context_detail(item))


@app.command()
def current(ctx: typer.Context) -> None:
    """The default context's name alone (for prompts); exit 1 if none."""
    name = _store(ctx).current()
    if name is None:
        raise typer.Exit(1)
    typer.echo(name)


@app.command()
def select(ctx: typer.Context, name: NameArg, scope: ScopeOpt = None) -> None:
    """Make NAME the default; `select -` goes back to the previous one."""
    store = _store(ctx)
    result = (
        store.select_previous(_scope(scope)) if name == "-" else store.select(name, _scope(scope))
    )
    _done(result)


@app.command()
def rename(
    ctx: typer.Context,
    old: NameArg,
    new: Annotated[str, typer.Argument(callback=_checked_name, show_default=False)],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing NEW.")] = False,
    scope: ScopeOpt = None,
) -> None:
    """Rename a context; the default follows."""
    store = _store(ctx)
    _done(
        _confirmed(lambda f: store.rename(old, new, force=f, scope=_scope(scope)), force, "--force")
    )


@app.command()
def remove(
    ctx: typer.Context,
    name: NameArg,
    scope: ScopeOpt = None,
    force: Annotated[bool, typer.Option("--force", help="Also remove the default.")] = False,
) -> None:
    """Remove a context (the default only with --force)."""
    store = _store(ctx)
    _done(_confirmed(lambda f: store.remove(name, force=f, scope=_scope(scope)), force, "--force"))


@app.command()
def disconnect(
    ctx: typer.Context,
    account: Annotated[
        str | None,
        typer.Argument(callback=_checked_text, help="Default: the default context's account."),
    ] = None,
    scope: ScopeOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Remove every context of the account and destroy its credential."""
    who = f"account {account!r}" if account else "the default context's account"
    _ask_first(f"Disconnect {who} and destroy its credential?", yes)
    _done(_store(ctx).disconnect(account, scope=_scope(scope)))


@app.command()
def clear(
    ctx: typer.Context,
    scope: ScopeOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Remove every context and credential in the scope."""
    _ask_first("Clear every context and credential in the scope?", yes)
    _done(_store(ctx).clear(scope=_scope(scope)))


@autosave_app.command("enable")
def autosave_enable(ctx: typer.Context, scope: ScopeOpt = None) -> None:
    """Turn autosave on (default scope: user)."""
    _done(_store(ctx).set_autosave(True, scope=_scope(scope)))


@autosave_app.command("disable")
def autosave_disable(ctx: typer.Context, scope: ScopeOpt = None) -> None:
    """Turn autosave off (default scope: user)."""
    _done(_store(ctx).set_autosave(False, scope=_scope(scope)))


@autosave_app.command("status")
def autosave_status(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Whether autosave is on, and where the value came from."""
    enabled, source = _store(ctx).autosave_status()
    if json_:
        render.emit_json({"enabled": enabled, "source": source})
    else:
        typer.echo(f"autosave {'on' if enabled else 'off'} (from {source})")


@app.command()
def history(
    ctx: typer.Context,
    json_: JsonOpt = False,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most N.")] = None,
    context: Annotated[
        str | None,
        typer.Option(
            "--context",
            callback=_checked_name,
            autocompletion=_complete_names,
            help="Only operations on this context.",
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="From operation N or an ISO-8601 time on.")
    ] = None,
) -> None:
    """Operations, newest first."""
    rows = _store(ctx).history(limit=limit, context=context, since=since)
    if json_:
        render.emit_json([render.history_json(r) for r in rows])
    elif rows:
        typer.echo(render.history_rows(rows))


@app.command()
def undo(
    ctx: typer.Context,
    seq: Annotated[
        int | None, typer.Argument(min=1, help="The operation; default: the latest.")
    ] = None,
) -> None:
    """Revert an operation by appending a compensating one."""
    _done(_store(ctx).undo(seq))


@app.command()
def verify(
    ctx: typer.Context,
    chain_only: Annotated[
        bool, typer.Option("--chain-only", help="Check the hash chain only (no key needed).")
    ] = False,
) -> None:
    """Check the whole log; print the count and the head hash."""
    report = _store(ctx).verify(chain_only=chain_only)
    what = "chain" if chain_only else "chain and ciphertexts"
    typer.echo(f"ok: {report.count} operations, {what} verified")
    typer.echo(f"head: {report.head_seq} {report.head_hash.hex()}")


SHELL_EXPORT: dict[str, tuple[str, str]] = {
    "bash": ("export AZCTX_SESSION={sid}", "unset AZCTX_SESSION"),
    "zsh": ("export AZCTX_SESSION={sid}", "unset AZCTX_SESSION"),
    "sh": ("export AZCTX_SESSION={sid}", "unset AZCTX_SESSION"),
    "fish": ("set -gx AZCTX_SESSION {sid}", "set -e AZCTX_SESSION"),
    "pwsh": ("$env:AZCTX_SESSION = '{sid}'", "Remove-Item Env:AZCTX_SESSION"),
}
ShellOpt = Annotated[Shell, typer.Option("--shell", help="The shell to print for.")]


@session_app.command("start")
def session_start(
    ctx: typer.Context,
    ttl: Annotated[str, typer.Option("--ttl", help="Lifetime: 30m, 12h, 7d.")] = "24h",
    shell: ShellOpt = Shell.bash,
) -> None:
    """Start a session; use as: eval "$(azctx session start)"."""
    from .shell_env import session_dir_line

    info = _store(ctx).start_session(ttl)
    typer.echo(SHELL_EXPORT[shell.value][0].format(sid=info.session_id))
    if (line := session_dir_line(shell.value, info.session_id, os.environ)) is not None:
        typer.echo(line)
    typer.echo(f"azctx: session {info.session_id} started (expires {info.expires_local})", err=True)


@session_app.command("end")
def session_end(ctx: typer.Context, shell: ShellOpt = Shell.bash) -> None:
    """End this shell's session; its secrets become unreadable forever."""
    from .shell_env import restore_line, session_restore

    back = session_restore(os.environ)  # read before the session's az folder goes
    result = _store(ctx).end_session()
    for note in result.notes:
        typer.echo(note, err=True)
    typer.echo(SHELL_EXPORT[shell.value][1])
    if (line := restore_line(shell.value, back)) is not None:
        typer.echo(line)
    typer.echo(f"azctx: {result.summary}", err=True)


@session_app.command("status")
def session_status(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """This shell's session: id, state and expiry."""
    status = _store(ctx).session_status()
    if json_:
        render.emit_json(status.as_json())
    else:
        typer.echo(status.describe())
        if status.state != "live":
            raise typer.Exit(1)


@key_app.command("status")
def key_status(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Where the master key comes from, and its id."""
    info = _store(ctx).key_status()
    if json_:
        render.emit_json(info.as_json())
    else:
        typer.echo(info.describe())


@key_app.command("rotate")
def key_rotate(
    ctx: typer.Context,
    new_key_file: Annotated[
        str | None,
        typer.Option(
            "--new-key-file", callback=_checked_text, help="Write the new key here (0600)."
        ),
    ] = None,
) -> None:
    """Make a new master key and rewrap the data keys with it."""
    _done(_store(ctx).rotate_key(new_key_file))


@app.command("import")
def import_(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(help="AzureRmContext.json (or azureProfile.json).")],
    from_az_cli: Annotated[
        bool, typer.Option("--from-az-cli", help="FILE is the Azure CLI's azureProfile.json.")
    ] = False,
    rename_invalid: Annotated[
        bool,
        typer.Option("--rename-invalid", help="Give invalid names the default name instead."),
    ] = False,
    scope: ScopeOpt = None,
) -> None:
    """Import contexts as one operation (same names replaced, others kept)."""
    result = _store(ctx).import_file(
        file, from_az_cli=from_az_cli, scope=_scope(scope), rename_invalid=rename_invalid
    )
    _done(result)


@app.command()
def export(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(help="Where to write AzureRmContext.json.")],
    context: Annotated[
        str | None,
        typer.Option("--context", autocompletion=_complete_names, help="Only this context."),
    ] = None,
    include_secrets: Annotated[
        bool, typer.Option("--include-secrets", help="Write secrets too (file mode 0600).")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write the view as Az PowerShell's AzureRmContext.json (Save-AzContext)."""
    summary = _store(ctx).export(
        file, context=context, include_secrets=include_secrets, force=force
    )
    typer.echo(summary)


@app.command(context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True})
def run(
    ctx: typer.Context,
    command: Annotated[list[str], typer.Argument(help="CMD [ARG...] (after --).")],
    context: Annotated[
        str | None,
        typer.Option("--context", autocompletion=_complete_names, help="Default: the default."),
    ] = None,
) -> None:
    """Run CMD as the context: AZURE_* variables, and a private AZURE_CONFIG_DIR."""
    from functools import partial

    from azctx.store.azcli_dirs import private_config_dir

    from .child import run_child

    prepared = _store(ctx).environment_for(context)
    for note in prepared.notes:
        typer.echo(note, err=True)
    _store(ctx).close()
    target = prepared.azcli
    prepare = None if target is None else partial(private_config_dir, target, os.environ)
    raise typer.Exit(run_child(command, prepared.variables, prepare))
