"""``azctx import`` and ``azctx export``: Az PowerShell and Azure CLI files."""

from __future__ import annotations

from typing import Annotated

import typer
from azctx.cli.app import (
    ScopeOpt,
    app,
    complete_names,
    done,
    scope_value,
    store_of,
)


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
