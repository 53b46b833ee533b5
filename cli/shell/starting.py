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
    parent: str | None = None,
) -> tuple[str, list[str]]:
    """Start the session of the shell ``pid`` (default: the caller's shell); its id
    and the lines its shell evaluates."""
    info = store.start_session(ttl, shell=shell, pid=pid, new=new, parent=parent)
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
                parent = tmux_parent(store, environ)
                own, lines = start(store, shell, environ, lambda _line: None, parent=parent)
            lines.append(own_line(shell, own))
        except AzctxError as exc:  # the shell starts anyway, without a session
            note(f"warning: azctx: this shell has no session: {exc.message}")
    return script(shell, exe, lines)


def tmux_parent(store: ContextStore, environ: Mapping[str, str]) -> str | None:
    """In a new tmux pane or window, the session of the pane it came from. tmux starts a
    pane from its server's environment, so ``AZCTX_SESSION`` names no parent there (or
    the shell that started the server); tmux knows the pane that was active before this
    one (``{last}`` in a split window, else the active pane of the last window), and the
    session of that pane's shell is the parent. One tmux process, only in tmux."""
    if not environ.get("TMUX") or not environ.get("TMUX_PANE"):
        return None
    import subprocess

    for target in ("{last}", "!"):
        try:
            done = subprocess.run(
                ["tmux", "display-message", "-p", "-t", target, "#{pane_pid}"],
                capture_output=True, text=True, timeout=2, check=False,
            )  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            return None
        pid = done.stdout.strip()
        if done.returncode == 0 and pid.isdigit():
            found = [row.session_id for row in store.sessions() if row.pid == int(pid)]
            return found[0] if found else None
    return None


def azctx_exe() -> str:
    """The azctx the hooks run: this very program when it was started by its path
    (the shell then needs no PATH lookup), else ``azctx`` from PATH."""
    program = sys.argv[0]
    if os.path.basename(program).startswith("azctx") and os.access(program, os.X_OK):
        return os.path.abspath(program)
    return shutil.which("azctx") or "azctx"
