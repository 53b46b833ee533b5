"""``azctx session start|end|status|list``: the shell's own process scope."""

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

ShellOpt = Annotated[Shell, typer.Option("--shell", help="The shell to print for.")]


def _note(text: str) -> None:
    typer.echo(text, err=True)


@session_app.command("start")
def session_start(
    ctx: typer.Context,
    ttl: Annotated[str, typer.Option("--ttl", help="Lifetime: 30m, 12h, 7d.")] = "24h",
    shell: ShellOpt = Shell.bash,
    pid: Annotated[
        int | None,
        typer.Option(
            "--pid",
            help="The process of the shell the session lives in (default: the caller's shell).",
        ),
    ] = None,
    new: Annotated[
        bool,
        typer.Option("--new", help="End this shell's own session first, and start another."),
    ] = False,
) -> None:
    """Start this shell's session; use as: eval "$(azctx session start)"."""
    from azctx.cli.shell.starting import start

    _, lines = start(store_of(ctx), shell.value, os.environ, _note, ttl=ttl, pid=pid, new=new)
    for line in lines:
        typer.echo(line)


@session_app.command("end")
def session_end(ctx: typer.Context, shell: ShellOpt = Shell.bash) -> None:
    """End this shell's session; its secrets become unreadable forever."""
    from azctx.cli.shell.exports import end_lines, session_restore

    back = session_restore(os.environ)  # read before the session's az folder goes
    result = store_of(ctx).end_session()
    for note in result.notes:
        _note(note)
    for line in end_lines(shell.value, back):
        typer.echo(line)
    _note(f"azctx: {result.summary}")


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


@session_app.command("list")
def session_list(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """The live sessions of this host, with their shells; '*' marks this shell's."""
    rows = store_of(ctx).sessions()
    if json_:
        render.emit_json([render.session_row_json(row) for row in rows])
    else:
        typer.echo(render.session_rows(rows, render.layout(os.environ)))
