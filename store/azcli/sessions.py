"""Each live session's own Azure CLI directory: made by ``session start``,
brought up to date by every write on this host (whoever wrote: another shell's
user-scope select moves a session without a default of its own), removed when the
session ends or expires.

The directory is ``session-<id>`` in azctx's runtime folder (``azcli_dirs``). A small
metadata file in it records the caller's Azure CLI directory at ``session start`` (the
token cache and extensions every rewrite shares) and the ``AZURE_CONFIG_DIR`` value to
restore at ``session end``. A write finds nothing to do, and does no I/O, when the
state it loaded has no session that is not ended.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from azctx.events import AzctxError, is_session_id
from azctx.events.records import Record
from azctx.events.rules import shown
from azctx.projections.handoff.azcli_folder import AzTarget, az_target
from azctx.projections.handoff.session_default import (
    SessionDefault,
    live_sessions,
    open_sessions,
    prompt_text,
    session_default,
)
from azctx.projections.state import State
from azctx.store.azcli.folders import (
    caller_config_dir,
    extension_dir,
    remove_dir,
    write_config_dir,
    write_private,
)
from azctx.store.azcli.runtime import inside, runtime_root, setting
from azctx.store.azcli.sweep import OWNER, SESSION_PREFIX
from azctx.store.errors import TamperedError

META = ".azctx-session.json"
#: The session's default context's name on one line, for a prompt that reads it with
#: the shell's own builtins (no process).
PROMPT = "prompt"
#: Left by ``allow`` and ``disallow`` when the pin file the caller's shell is under
#: changed permission: the shell's prompt hook sees it with ``test -f`` (no process)
#: and runs ``azctx pin`` again, which removes it, so the change applies at the next
#: prompt instead of at the next crossing of the folder's boundary.
PIN_CHANGED = "pin-changed"

Unseal = Callable[[str, bytes], bytes]
Warn = Callable[[str], None]


class Restore(Record):
    """What ``session end`` does to ``AZURE_CONFIG_DIR``: ``change`` False leaves it
    alone; else it becomes ``value`` (None: unset)."""

    change: bool
    value: str | None


def session_dir(session: str, environ: Mapping[str, str]) -> Path:
    """The session's folder; an id azctx never makes is refused, never a path."""
    if not is_session_id(session):
        raise TamperedError(f"refusing the session id {shown(session)}: not one azctx makes")
    return inside(runtime_root(environ), f"{SESSION_PREFIX}{session}")


def mark_pin_changed(session: str, environ: Mapping[str, str], pin: Path) -> None:
    """Tell the shell of ``session`` to read its pin again at its next prompt; the
    file holds the pin's path, for whoever looks."""
    write_private(session_dir(session, environ) / PIN_CHANGED, f"{pin}\n")


def clear_pin_changed(session: str, environ: Mapping[str, str]) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(session_dir(session, environ) / PIN_CHANGED)


def _target(choice: SessionDefault | None, unseal: Unseal) -> AzTarget | None:
    if choice is None:
        return None
    context, credential, environment = choice
    secret = None
    if (
        context.account_type == "service-principal"
        and credential is not None
        and credential.sealed is not None
    ):
        with contextlib.suppress(AzctxError):  # a destroyed key: no secret to hand on
            secret = unseal(credential.key_id, base64.b64decode(credential.sealed)).decode()
    return az_target(context, credential, secret, environment)


def open_session(state: State, session: str, environ: Mapping[str, str], unseal: Unseal) -> Path:
    """Make the new session's directory, naming its default (if any)."""
    directory = session_dir(session, environ)
    os.mkdir(directory, 0o700)
    previous = setting(environ, "AZURE_CONFIG_DIR") or None
    caller = caller_config_dir(environ)
    extensions = extension_dir(environ, caller)
    inherited = _meta(caller)  # started inside another session: share that one's
    if inherited is not None:
        caller, extensions = Path(inherited["caller"]), inherited.get("extensions", extensions)
    meta = {"previous": previous, "caller": str(caller), "extensions": extensions}
    write_private(directory / META, json.dumps(meta))
    info = state.sessions[session]
    write_private(directory / OWNER, f"{info.shell or '-'}\n{int(info.expires.timestamp())}\n")
    paths = {"caller": str(caller), "extensions": extensions}
    _write(directory, session_default(state, session, datetime.now(UTC)), unseal, paths)
    return directory


def _write(
    directory: Path, choice: SessionDefault | None, unseal: Unseal, meta: Mapping[str, str]
) -> None:
    """The folder as ``az`` reads it, and the prompt file the shell reads."""
    write_config_dir(
        directory, _target(choice, unseal), Path(meta["caller"]), meta.get("extensions")
    )
    prompt = prompt_text(choice)
    if _read(directory / PROMPT) != prompt + "\n":
        write_private(directory / PROMPT, prompt + "\n")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _meta(directory: Path) -> dict[str, str] | None:
    try:
        loaded = json.loads((directory / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(loaded, dict) or not isinstance(loaded.get("caller"), str):
        return None
    return loaded


def restore(session: str, environ: Mapping[str, str]) -> Restore:
    """What ``session end`` restores: the value recorded at ``session start``; when the
    directory is gone already (expired), only a variable still naming it is unset."""
    current = environ.get("AZURE_CONFIG_DIR")
    with contextlib.suppress(AzctxError):
        directory = session_dir(session, environ)
        meta = _meta(directory)
        if meta is not None:
            previous = meta.get("previous")
            return Restore(True, previous if isinstance(previous, str) else None)
        if current is not None and Path(current) == directory:
            return Restore(True, None)
    return Restore(False, None)


def refresh_after_write(
    loaded: State, state: State, environ: Mapping[str, str], unseal: Unseal, warn: Warn
) -> None:
    """After a committed write from ``loaded`` to ``state``: bring the folder of every
    live session on this host up to date (only files whose text changed are written:
    this also catches changes another host made), and remove those of sessions that
    ended or expired."""
    now = datetime.now(UTC)
    live = set(live_sessions(state, now))
    for session in open_sessions(loaded):
        try:
            directory = session_dir(session, environ)
            if session not in live:
                remove_dir(directory)
                continue
            meta = _meta(directory)
            if meta is not None:  # None: a session of another host
                _write(directory, session_default(state, session, now), unseal, meta)
        except (OSError, AzctxError) as exc:
            warn(f"the Azure CLI folder of session {session} was not updated: {exc}")


def start_session_dir(
    state: State, session: str, environ: Mapping[str, str], unseal: Unseal, warn: Warn
) -> None:
    """``open_session``, with a failure reported as a warning: the session is started."""
    try:
        open_session(state, session, environ, unseal)
    except (OSError, AzctxError) as exc:
        warn(f"session {session} has no Azure CLI folder: {exc}")
