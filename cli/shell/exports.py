"""Shell lines that set or unset a variable, for ``eval "$(azctx session start|end)"``
in every shell syntax ``session`` supports (bash, zsh, sh, fish, pwsh)."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from azctx.store.azcli.sessions import Restore

CONFIG_DIR = "AZURE_CONFIG_DIR"


def _fish_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _pwsh_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def set_line(shell: str, name: str, value: str) -> str:
    if shell == "fish":
        return f"set -gx {name} {_fish_quote(value)}"
    if shell == "pwsh":
        return f"$env:{name} = {_pwsh_quote(value)}"
    return f"export {name}={shlex.quote(value)}"


def unset_line(shell: str, name: str) -> str:
    if shell == "fish":
        return f"set -e {name}"
    if shell == "pwsh":
        return f"Remove-Item Env:{name} -ErrorAction SilentlyContinue"
    return f"unset {name}"


def session_dir_line(shell: str, session: str, environ: Mapping[str, str]) -> str | None:
    """``session start``: point ``AZURE_CONFIG_DIR`` at the session's own Azure CLI
    folder, when it could be made."""
    from azctx.store.azcli.sessions import session_dir

    folder = session_dir(session, environ)
    return set_line(shell, CONFIG_DIR, str(folder)) if folder.is_dir() else None


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
