"""Shell lines that set or unset a variable, for ``eval "$(azctx session start|end)"``
in every shell syntax ``session`` supports (bash, zsh, sh, fish, pwsh)."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from azctx.store.azcli.sessions import Restore

CONFIG_DIR = "AZURE_CONFIG_DIR"
SESSION = "AZCTX_SESSION"
#: The session's own folder, where the prompt segment reads the default's name (it
#: stays right when a user points ``AZURE_CONFIG_DIR`` elsewhere).
SESSION_DIR = "AZCTX_SESSION_DIR"


def _fish_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _pwsh_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def quote(shell: str, value: str) -> str:
    """``value`` as one word of ``shell``'s syntax."""
    if shell == "fish":
        return _fish_quote(value)
    if shell == "pwsh":
        return _pwsh_quote(value)
    return shlex.quote(value)


def set_line(shell: str, name: str, value: str) -> str:
    if shell == "fish":
        return f"set -gx {name} {quote(shell, value)}"
    if shell == "pwsh":
        return f"$env:{name} = {quote(shell, value)}"
    return f"export {name}={quote(shell, value)}"


def unset_line(shell: str, name: str) -> str:
    if shell == "fish":
        return f"set -e {name}"
    if shell == "pwsh":
        return f"Remove-Item Env:{name} -ErrorAction SilentlyContinue"
    return f"unset {name}"


def start_lines(shell: str, session: str, environ: Mapping[str, str]) -> list[str]:
    """``session start``: name the session, and point ``AZURE_CONFIG_DIR`` at its own
    Azure CLI folder, when it could be made."""
    from azctx.store.azcli.sessions import session_dir

    lines = [set_line(shell, SESSION, session)]
    folder = session_dir(session, environ)
    if folder.is_dir():
        lines += [
            set_line(shell, CONFIG_DIR, str(folder)),
            set_line(shell, SESSION_DIR, str(folder)),
        ]
    return lines


def end_lines(shell: str, back: Restore | None) -> list[str]:
    """``session end``: the session's variables unset, ``AZURE_CONFIG_DIR`` restored."""
    lines = [unset_line(shell, SESSION)]
    if (line := restore_line(shell, back)) is not None:
        lines.append(line)
    return [*lines, unset_line(shell, SESSION_DIR)]


def restore_line(shell: str, back: Restore | None) -> str | None:
    """``session end``: the caller's own ``AZURE_CONFIG_DIR`` again (or none)."""
    if back is None or not back.change:
        return None
    if back.value is None:
        return unset_line(shell, CONFIG_DIR)
    return set_line(shell, CONFIG_DIR, back.value)


def session_restore(environ: Mapping[str, str]) -> Restore | None:
    """What ``session end`` will restore; read before the session's folder goes."""
    from azctx.store.azcli.sessions import restore

    session = environ.get("AZCTX_SESSION")
    return restore(session, environ) if session else None


def pin_line(shell: str, previous: str | None) -> str:
    """The shell variable that keeps the default from before the first pin."""
    if shell == "fish":
        return f"set -g __azctx_pin_prev {quote(shell, previous or '')}"
    if shell == "pwsh":
        return f"$global:__azctxPinPrev = {quote(shell, previous or '')}"
    return f"__azctx_pin_prev={quote(shell, previous or '')}"
