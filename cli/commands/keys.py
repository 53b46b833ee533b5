"""``azctx key status|rotate``: the master key."""

from __future__ import annotations

from typing import Annotated

import typer
from azctx.cli import render
from azctx.cli.app import (
    JsonOpt,
    checked_text,
    done,
    key_app,
    store_of,
)


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
