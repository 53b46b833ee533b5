"""The typer commands, one module per group of commands (named by it). Importing this
package registers every command on ``azctx.cli.app.app``; each command parses its
arguments, calls one ``ContextStore`` method and renders the result."""

from __future__ import annotations

from azctx.cli.app import app
from azctx.cli.commands import autosave, contexts, files, hooks, keys, log, run, sessions

__all__ = ["app", "autosave", "contexts", "files", "hooks", "keys", "log", "run", "sessions"]
