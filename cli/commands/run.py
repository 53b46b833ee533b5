"""``azctx run``: a command run as a context (the body is ``azctx.cli.child.run_as``)."""

from __future__ import annotations

from functools import partial
from typing import Annotated

import typer
from azctx.cli.app import (
    app,
    complete_names,
    store_of,
)


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
    from azctx.cli.child import run_as

    raise typer.Exit(run_as(store_of(ctx), context, command, partial(typer.echo, err=True)))
