"""Shell lines that set or unset a variable, for ``eval "$(azctx session start|end)"``
in every shell syntax ``session`` supports (bash, zsh, sh, fish, pwsh)."""

from __future__ import annotations

import shlex


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
