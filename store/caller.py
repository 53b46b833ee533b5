"""Who is calling: the actor of an operation and the caller of a view, from the
process and its environment (``AZCTX_SESSION``, ``AZCTX_AUTOSAVE``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import UTC, datetime

from azctx.events import Actor, BadInput, is_session_id
from azctx.events.rules import shown
from azctx.projections.view import Caller
from azctx.store.when import parse_bool_env

_ACTORS: dict[int, Actor] = {}


def actor() -> Actor:
    """Who is running this operation; looked up once per process (a forked child is a
    process of its own)."""
    pid = os.getpid()
    known = _ACTORS.get(pid)
    if known is None:
        known = _ACTORS[pid] = Actor(_user(), _host(), pid)
    return known


def _user() -> str:
    """The login name of the process's user, from the password database (not from
    variables a caller can set, as ``getpass.getuser`` would: this names who did an
    operation in the audit history); the uid when it has no entry."""
    try:
        import pwd
    except ImportError:  # pragma: no cover - Windows
        import getpass

        return getpass.getuser()
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())


def _host() -> str:
    if hasattr(os, "uname"):
        return os.uname().nodename  # what socket.gethostname() returns, without socket
    import socket  # pragma: no cover - Windows

    return socket.gethostname()  # pragma: no cover


def caller(environ: Mapping[str, str]) -> Caller:
    raw = environ.get("AZCTX_AUTOSAVE")
    env_autosave = None if raw is None else parse_bool_env("AZCTX_AUTOSAVE", raw)
    session = environ.get("AZCTX_SESSION") or None
    if session is not None and not is_session_id(session):
        # Every event records the caller's session, and a session id becomes a folder
        # name: a value azctx did not make goes no further than this line.
        raise BadInput(
            f"AZCTX_SESSION is not a session id: {shown(session)}",
            hint='unset AZCTX_SESSION, or start a session: eval "$(azctx session start)"',
        )
    run_context = environ.get("AZCTX_CONTEXT") or None
    return Caller(actor(), datetime.now(UTC), session, env_autosave, run_context)


def session_warning(session: str | None, status: str) -> str | None:
    """The warning a read gives when the caller's session is not live."""
    if status in ("ended", "unknown", "expired"):
        return f"session {session} is {status}; showing the view without it"
    return None
