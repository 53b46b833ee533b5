"""``azctx autosave enable|disable|status``."""

from __future__ import annotations

import typer
from azctx.cli import render
from azctx.cli.app import (
    JsonOpt,
    ScopeOpt,
    autosave_app,
    done,
    scope_value,
    store_of,
)


@autosave_app.command("enable")
def autosave_enable(ctx: typer.Context, scope: ScopeOpt = None) -> None:
    """Turn autosave on (default scope: user)."""
    done(store_of(ctx).set_autosave(True, scope=scope_value(scope)))


@autosave_app.command("disable")
def autosave_disable(ctx: typer.Context, scope: ScopeOpt = None) -> None:
    """Turn autosave off (default scope: user)."""
    done(store_of(ctx).set_autosave(False, scope=scope_value(scope)))


@autosave_app.command("status")
def autosave_status(ctx: typer.Context, json_: JsonOpt = False) -> None:
    """Whether autosave is on, and where the value came from."""
    enabled, source = store_of(ctx).autosave_status()
    if json_:
        render.emit_json({"enabled": enabled, "source": source})
    else:
        typer.echo(f"autosave {'on' if enabled else 'off'} (from {source})")
