"""The ``azctx`` command line: the typer app with every command (those on contexts and
the log are in ``contexts.py``; sessions, import, export and run here); each parses,
calls one ContextStore method, renders."""

from __future__ import annotations

import os
from functools import partial
from typing import Annotated

import typer

from . import contexts as contexts  # registers its commands on the app
from . import render
from .common import (
    JsonOpt,
    ScopeOpt,
    Shell,
    app,
    checked_text,
    complete_names,
    done,
    key_app,
    scope_value,
    session_app,
    store_of,
)

__all__ = ["app"]


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

    info = store_of(ctx).start_session(ttl)
    typer.echo(SHELL_EXPORT[shell.value][0].format(sid=info.session_id))
    if (line := session_dir_line(shell.value, info.session_id, os.environ)) is not None:
        typer.echo(line)
    typer.echo(
        f"azctx: session {info.session_id} started (expires {render.local_expiry(info.expires)})",
        err=True,
    )


@session_app.command("end")
def session_end(ctx: typer.Context, shell: ShellOpt = Shell.bash) -> None:
    """End this shell's session; its secrets become unreadable forever."""
    from .shell_env import restore_line, session_restore

    back = session_restore(os.environ)  # read before the session's az folder goes
    result = store_of(ctx).end_session()
    for note in result.notes:
        typer.echo(note, err=True)
    typer.echo(SHELL_EXPORT[shell.value][1])
    if (line := restore_line(shell.value, back)) is not None:
        typer.echo(line)
    typer.echo(f"azctx: {result.summary}", err=True)


@session_app.command("status")
def session_status(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """This shell's session: id, state and expiry."""
    status = store_of(ctx).session_status()
    if json_:
        render.emit_json(render.session_json(status))
    else:
        typer.echo(render.session_text(status))
        if status.state != "live":
            raise typer.Exit(1)


@key_app.command("status")
def key_status(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Where the master key comes from, and its id."""
    info = store_of(ctx).key_status()
    if json_:
        render.emit_json(render.key_json(info))
    else:
        typer.echo(render.key_text(info))


@key_app.command("rotate")
def key_rotate(
    ctx: typer.Context,
    new_key_file: Annotated[
        str | None,
        typer.Option(
            "--new-key-file", callback=checked_text, help="Write the new key here (0600)."
        ),
    ] = None,
) -> None:
    """Make a new master key and rewrap the data keys with it."""
    done(store_of(ctx).rotate_key(new_key_file))


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
    result = store_of(ctx).import_file(
        file, from_az_cli=from_az_cli, scope=scope_value(scope), rename_invalid=rename_invalid
    )
    done(result)


@app.command()
def export(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(help="Where to write AzureRmContext.json.")],
    context: Annotated[
        str | None,
        typer.Option("--context", autocompletion=complete_names, help="Only this context."),
    ] = None,
    include_secrets: Annotated[
        bool, typer.Option("--include-secrets", help="Write secrets too (file mode 0600).")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write the view as Az PowerShell's AzureRmContext.json (Save-AzContext)."""
    summary = store_of(ctx).export(
        file, context=context, include_secrets=include_secrets, force=force
    )
    typer.echo(summary)


@app.command(context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True})
def run(
    ctx: typer.Context,
    command: Annotated[list[str], typer.Argument(help="CMD [ARG...] (after --).")],
    context: Annotated[
        str | None,
        typer.Option("--context", autocompletion=complete_names, help="Default: the default."),
    ] = None,
) -> None:
    """Run CMD as the context: AZURE_* variables, and a private AZURE_CONFIG_DIR."""
    from .child import run_as

    raise typer.Exit(run_as(store_of(ctx), context, command, partial(typer.echo, err=True)))
