"""The typer commands, one module per group of commands (named by it). Importing this
package registers every command on ``azctx.cli.app.app``; each command parses its
arguments, calls one ``ContextStore`` method and renders the result."""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence

import typer
from azctx.cli.app import app
from azctx.cli.commands import autosave, contexts, files, hooks, keys, log, run, sessions
from typer.main import get_command_name

__all__ = [
    "app",
    "app_for",
    "autosave",
    "contexts",
    "files",
    "hooks",
    "keys",
    "log",
    "run",
    "sessions",
]

#: The options of ``azctx`` itself that take a value, before the command's word.
_VALUED = frozenset({"--store"})


def app_for(argv: Sequence[str]) -> typer.Typer:
    """The app that runs ``argv``: the whole app with only the command ``argv`` names.

    typer builds the click objects of every command it holds before it reads a word,
    and that costs a command more than its own work does; one command's are enough to
    run it. ``--help`` and the other options of ``azctx`` itself, a word that names no
    command, and shell completion get the whole app, whose help and errors list every
    command."""
    name = _command_word(argv)
    if name is None or "_AZCTX_COMPLETE" in os.environ:
        return app
    commands = [c for c in app.registered_commands if _name(c) == name]
    groups = [g for g in app.registered_groups if g.name == name]
    if not commands and not groups:
        return app
    one = copy.copy(app)
    one.registered_commands, one.registered_groups = commands, groups
    return one


def _command_word(argv: Sequence[str]) -> str | None:
    """The first word that is not an option of ``azctx`` itself or its value, or None
    when an option other than those comes first."""
    words = iter(argv)
    for word in words:
        if word in _VALUED:
            next(words, None)
        elif not word.startswith("-"):
            return word
        elif word.partition("=")[0] not in _VALUED:
            return None
    return None


def _name(info: typer.models.CommandInfo) -> str:
    if info.name:
        return info.name
    assert info.callback is not None  # every command is registered with its function
    return get_command_name(info.callback.__name__)
