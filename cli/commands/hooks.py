"""``azctx init SHELL``, ``azctx allow|disallow [DIR]`` and the hook ``azctx pin``:
what a shell's startup file and its prompt hooks run."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from typing import Annotated

import typer
from azctx.cli.app import Shell, app, store_of
from azctx.cli.asking import confirm, stdin_is_tty
from azctx.cli.commands.sessions import ShellOpt
from azctx.events import ConfirmationNeeded


class InitShell(StrEnum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"
    pwsh = "pwsh"


def _note(text: str) -> None:
    typer.echo(text, err=True)


@app.command("init")
def init(
    ctx: typer.Context,
    shell: Annotated[InitShell, typer.Argument(help="The shell: bash, zsh, fish or pwsh.")],
) -> None:
    """Print the hooks for the shell's startup file: eval "$(azctx init bash)"."""
    from azctx.cli.shell.starting import azctx_exe, init_script

    script = init_script(shell.value, azctx_exe(), os.environ, store_of(ctx), _note)
    typer.echo(script, nl=False)


DirArg = Annotated[
    str | None, typer.Argument(help="The folder holding the .azctx file (default: this one).")
]


@app.command("allow")
def allow(ctx: typer.Context, directory: DirArg = None) -> None:
    """Honour the folder's .azctx file, as it is now, in every shell."""
    typer.echo(store_of(ctx).allow_pin(directory))


@app.command("disallow")
def disallow(ctx: typer.Context, directory: DirArg = None) -> None:
    """Stop honouring the folder's .azctx file."""
    typer.echo(store_of(ctx).disallow_pin(directory))


@app.command("pin", hidden=True)
def pin(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="The .azctx file the shell is under, or ''.")],
    shell: ShellOpt = Shell.bash,
    previous: Annotated[
        str, typer.Option("--previous", help="The default from before the first pin.")
    ] = "",
    again: Annotated[
        bool, typer.Option("--again", help="Still under PATH, whose permission changed.")
    ] = False,
) -> None:
    """Run by the shell's hook when it crosses a pinned folder's boundary, or when
    allow or disallow changed the pin it is under."""
    from azctx.cli.shell.exports import pin_line

    store = store_of(ctx)
    try:
        result = store.pin(path, previous or None, again=again)
    except ConfirmationNeeded as need:
        # The hook evals stdout: the question goes to stderr, and a refusal is a note,
        # never an error of the shell (the hook asks again only on the next crossing).
        if not (stdin_is_tty() and confirm(need.question, out=sys.stderr)):
            _note(f"azctx: not pinned: {need.message}")
            typer.echo(pin_line(shell.value, previous or None))
            return
        result = store.pin(path, previous or None, yes=True, again=again)
    if result.summary is not None:
        _note(f"azctx: {result.summary}")
    typer.echo(pin_line(shell.value, result.previous))
