"""Write the command reference (docs/reference/cli.md) from the ``--help`` of every
command and subcommand of ``azctx``, walking the command tree the way click does.

Run from the repository: ``python docs/generate_cli_reference.py > docs/reference/cli.md``.
The output depends on the code alone: the terminal width is fixed and the tree is read
in the order ``azctx --help`` lists it, so a new command or option shows up here without
a change to this script (tests/project/test_docs.py checks that the file is up to date).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any

import typer
import typer.main

PROG = "azctx"
COMMAND = "python docs/generate_cli_reference.py > docs/reference/cli.md"


def _walk(command: Any, ctx: typer.Context) -> Iterator[tuple[str, str]]:
    """The full name and help text of ``command`` and of everything under it."""
    yield ctx.command_path, ctx.get_help()
    list_commands = getattr(command, "list_commands", None)
    if list_commands is None:
        return
    for name in list_commands(ctx):
        sub = command.get_command(ctx, name)
        if sub is None or sub.hidden:
            continue
        yield from _walk(sub, typer.Context(sub, info_name=name, parent=ctx))


def _anchor(path: str) -> str:
    return path.replace(" ", "-")


def render() -> str:
    from azctx.cli.commands import app

    # click wraps help text to the terminal's width, which it reads from COLUMNS.
    os.environ["COLUMNS"] = "100"

    root = typer.main.get_command(app)
    pages = list(_walk(root, typer.Context(root, info_name=PROG)))
    lines = [
        "# Command reference",
        "",
        f"<!-- Generated from --help; do not edit by hand. Regenerate: {COMMAND} -->",
        "",
        "What `--help` prints for every command and subcommand of azctx. Every command",
        "also takes `--help`; the options of `azctx` itself (`--store`) go before the",
        "command.",
        "",
    ]
    lines += [f"- [`{path}`](#{_anchor(path)})" for path, _ in pages]
    for path, text in pages:
        lines += ["", f"## {path}", "", "```text", text.rstrip(), "```"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
