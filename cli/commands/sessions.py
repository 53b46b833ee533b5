"""``azctx session start|end|status``: the shell's own process scope."""

from __future__ import annotations

import os
from typing import Annotated

import typer
from azctx.cli import render
from azctx.cli.app import (
    JsonOpt,
    Shell,
    session_app,
    store_of,
)

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
    from azctx.cli.shell.exports import session_dir_line

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
    from azctx.cli.shell.exports import restore_line, session_restore

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
