"""``azctx run``: a command run as a context, or as each of several (the body is
``azctx.cli.fan_out.run_command``)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import typer
from azctx.cli.app import YesOpt, app, complete_names, store_of


@app.command(
    context_settings={"allow_interspersed_args": False, "ignore_unknown_options": True},
    short_help="Run CMD as a context, or as each context a pattern matches.",
)
def run(
    ctx: typer.Context,
    command: Annotated[
        list[str], typer.Argument(metavar="CMD [ARG...]", help="The command and its arguments.")
    ],
    context: Annotated[
        str | None,
        typer.Option(
            "--context",
            metavar="NAME|PATTERN",
            autocompletion=complete_names,
            help="The context to run as (when omitted, the default context), or a glob "
            "such as 'dev-*' that runs CMD once per matching context.",
        ),
    ] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Run CMD once per context, in name order.")
    ] = False,
    parallel: Annotated[
        int,
        typer.Option(
            "--parallel",
            metavar="N",
            min=1,
            help="With several contexts: how many run at once.",
        ),
    ] = 1,
    yes: YesOpt = False,
) -> None:
    """Run CMD with a context's AZURE_* variables and a private AZURE_CONFIG_DIR. With
    a pattern or --all, once per matching context, each output line led by its name."""
    from azctx.cli.fan_out import run_command

    note = partial(typer.echo, err=True)
    code = run_command(
        store_of(ctx), context, command, note, every=every, parallel=parallel, yes=yes
    )
    raise typer.Exit(code)
