"""A shell's session started: for ``azctx session start`` and ``azctx init``, which
starts the session of a new interactive shell in the same process (one azctx process at
shell start)."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from azctx.cli import render
from azctx.cli.shell.exports import start_lines
from azctx.cli.shell.scripts import own_line, script
from azctx.events import AzctxError

if TYPE_CHECKING:
    from azctx.store.context_store import ContextStore

Note = Callable[[str], None]


def start(
    store: ContextStore,
    shell: str,
    environ: Mapping[str, str],
    note: Note,
    *,
    ttl: str = "24h",
    pid: int | None = None,
    new: bool = False,
) -> tuple[str, list[str]]:
    """Start the session of the shell ``pid`` (default: the caller's shell); its id
    and the lines its shell evaluates."""
    info = store.start_session(ttl, shell=shell, pid=pid, new=new)
    for line in info.notes:
        note(line)
    origin = "" if info.parent is None else f", from the default of session {info.parent}"
    note(
        f"azctx: session {info.session_id} started for this {shell} shell "
        f"(expires {render.local_expiry(info.expires)}{origin})"
    )
    return info.session_id, start_lines(shell, info.session_id, environ)


def init_script(
    shell: str, exe: str, environ: Mapping[str, str], store: ContextStore, note: Note
) -> str:
    """``azctx init SHELL``: the hooks, and the session of a new interactive shell.
    Inside ``azctx run`` nothing starts (the shell is the run's context); a shell that
    has its own session (its startup file sourced again) keeps it."""
    lines: list[str] = []
    if not environ.get("AZCTX_CONTEXT") and os.isatty(0):
        try:
            own = store.own_session()
            if own is None:
                own, lines = start(store, shell, environ, lambda _line: None)
            lines.append(own_line(shell, own))
        except AzctxError as exc:  # the shell starts anyway, without a session
            note(f"warning: azctx: this shell has no session: {exc.message}")
    return script(shell, exe, lines)


def azctx_exe() -> str:
    """The azctx the hooks run: this very program when it was started by its path
    (the shell then needs no PATH lookup), else ``azctx`` from PATH."""
    program = sys.argv[0]
    if os.path.basename(program).startswith("azctx") and os.access(program, os.X_OK):
        return os.path.abspath(program)
    return shutil.which("azctx") or "azctx"
