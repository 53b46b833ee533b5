"""``azctx history``, ``undo`` and ``verify``: commands on the log itself."""

from __future__ import annotations

from typing import Annotated

import typer
from azctx.cli import render
from azctx.cli.app import (
    JsonOpt,
    app,
    checked_name,
    complete_names,
    done,
    store_of,
)


@app.command()
def history(
    ctx: typer.Context,
    json_: JsonOpt = False,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most N.")] = None,
    context: Annotated[
        str | None,
        typer.Option(
            "--context",
            callback=checked_name,
            autocompletion=complete_names,
            help="Only operations on this context.",
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="From operation N or an ISO-8601 time on.")
    ] = None,
) -> None:
    """Operations, newest first."""
    rows = store_of(ctx).history(limit=limit, context=context, since=since)
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
    done(store_of(ctx).undo(seq))


@app.command()
def verify(
    ctx: typer.Context,
    chain_only: Annotated[
        bool, typer.Option("--chain-only", help="Check the hash chain only (no key needed).")
    ] = False,
) -> None:
    """Check the whole log; print the count and the head hash."""
    report = store_of(ctx).verify(chain_only=chain_only)
    what = "chain" if chain_only else "chain and ciphertexts"
    typer.echo(f"ok: {report.count} operations, {what} verified")
    typer.echo(f"head: {report.head_seq} {report.head_hash.hex()}")
