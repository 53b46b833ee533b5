"""What every ``azctx`` command shares: the typer apps, the global options, the store
of the invocation, the checks of arguments (the rules themselves are the core's,
``azctx.events.rules``) and the questions destructive commands ask."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from azctx.cli import render
from azctx.cli.usage import AzctxGroup
from azctx.events import BadInput, check_name, check_text

if TYPE_CHECKING:
    from azctx.store.context_store import ContextStore
    from azctx.store.results import OperationResult


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


def store_of(ctx: typer.Context) -> ContextStore:
    obj: dict[str, Any] = ctx.ensure_object(dict)
    store = obj.get("store")
    if store is None:
        from azctx.store.context_store import ContextStore

        store = ContextStore(obj.get("target"), on_warning=warn)
        obj["store"] = store
        ctx.call_on_close(store.close)
    return store


def warn(message: str) -> None:
    typer.echo(f"warning: {message}", err=True)


def checked_name(value: str | None) -> str | None:
    """An invalid name is bad input (exit 2), also where it is only looked up;
    found before any question is asked or the store is opened."""
    return None if value is None else check_name(value)


def checked_text(param: typer.CallbackParam, value: str | None) -> str | None:
    """An empty, over-long, control-character or non-UTF-8 value is bad input (exit 2),
    found before any question is asked or the store is opened."""
    if value is None:
        return None
    label = param.opts[0] if param.param_type_name == "option" else str(param.name).upper()
    return check_text(label, value)


def complete_names(ctx: typer.Context, incomplete: str) -> list[str]:
    """Context names for shell completion; silent on any failure."""
    try:
        from azctx.store.context_store import ContextStore

        root = ctx.find_root().params.get("store") if ctx else None
        with ContextStore(root) as store:
            names = [i.context.name for i in store.view().contexts]
    except Exception:
        return []
    return [n for n in names if n.casefold().startswith(incomplete.casefold())]


def print_version(value: bool) -> None:
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
        typer.Option("--version", callback=print_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    if store is not None and not store.strip():
        raise BadInput("--store cannot be empty", hint="unset AZCTX_STORE or give a path")
    ctx.ensure_object(dict)["target"] = store


def scope_value(scope: Scope | None) -> str | None:
    return None if scope is None else scope.value


def done(result: OperationResult) -> None:
    render.show_result(result, echo=typer.echo)


NameArg = Annotated[
    str,
    typer.Argument(autocompletion=complete_names, callback=checked_name, show_default=False),
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Confirm without a question.")]
ScopeOpt = Annotated[
    Scope | None, typer.Option("--scope", help="user or process (default: by autosave).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")]
AtOpt = Annotated[
    str | None,
    typer.Option("--at", help="The view after operation N, or at an ISO-8601 date/time."),
]
