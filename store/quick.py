"""The prompt commands (``azctx current``, ``azctx list``) and ``azctx select NAME``,
without pydantic.

It reads what ``ContextStore.view()`` reads, through the same ``Log`` checks (the
newest snapshot authenticated and bound to its re-hashed row, then every row after it
hashed, linked and decrypted), and folds it with ``projections/plain.py`` instead of
the pydantic models. Errors and warnings come in the same order as there:
``AZCTX_AUTOSAVE`` first, then the store, then the session warning. A log the plain
reader does not know how to fold (an event of another version) is read through
``ContextStore`` instead, which upcasts it or reports it.

``quick_select`` is ``ContextStore.select(name)`` the same way: under the write lock
it loads the plain state, decides with ``projections/plain_select.py`` and appends the
same event bytes. What the plain decision leaves to the models (a refusal, sessions
to expire, a snapshot due: writing one takes the full state) rolls back and runs
through ``ContextStore``, which decides it and words any refusal.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from azctx.projections import plain, plain_select

from . import schedule
from .log import Log, open_log
from .when import parse_bool_env

if TYPE_CHECKING:
    from azctx.projections.view import View

Warn = Callable[[str], None]


def plain_caller(environ: Mapping[str, str]) -> plain.PlainCaller:
    """``ContextStore._caller`` without the actor (a view does not read it)."""
    raw = environ.get("AZCTX_AUTOSAVE")
    env_autosave = None if raw is None else parse_bool_env("AZCTX_AUTOSAVE", raw)
    return plain.PlainCaller(
        time=datetime.now(UTC),
        session=environ.get("AZCTX_SESSION") or None,
        autosave_env=env_autosave,
    )


_ACTORS: dict[int, plain_select.PlainActor] = {}


def plain_actor() -> plain_select.PlainActor:
    """Who is running this operation (the ``actor`` of its event); looked up once per
    process (a forked child is a process of its own)."""
    pid = os.getpid()
    known = _ACTORS.get(pid)
    if known is None:
        known = _ACTORS[pid] = plain_select.PlainActor(_user(), _host(), pid)
    return known


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


def _host() -> str:
    if hasattr(os, "uname"):
        return os.uname().nodename  # what socket.gethostname() returns, without socket
    import socket  # pragma: no cover - Windows

    return socket.gethostname()  # pragma: no cover


def load_plain(log: Log) -> tuple[plain.PlainState, int]:
    """The present state, as ``ContextStore._load`` reads it, and the seq of the
    snapshot it grew from; ``plain.Unreadable`` when the plain reader cannot fold it."""
    snapshot = log.latest_snapshot(plain.PROJECTION_VERSION)
    state = plain.PlainState() if snapshot is None else plain.from_snapshot(snapshot.payload)
    base = state.seq
    for entry in log.entries(after=state.seq):
        plain.apply(state, entry.seq, entry.payload)
    return state, base


def session_warning(session: str | None, status: str) -> str | None:
    """The warning a read gives when the caller's session is not live."""
    if status in ("ended", "unknown", "expired"):
        return f"session {session} is {status}; showing the view without it"
    return None


def quick_view(
    target: str | Path | None,
    environ: Mapping[str, str],
    on_warning: Warn | None = None,
) -> plain.PlainView:
    """What ``ContextStore(target, environ=environ, on_warning=on_warning).view()``
    shows, as plain rows."""
    caller = plain_caller(environ)
    with open_log(target, environ=environ) as log:
        try:
            state, _ = load_plain(log)
        except plain.Unreadable:
            state = None
    if state is None:
        return _through_models(target, environ, on_warning)
    warning = session_warning(caller.session, plain.session_status(state, caller))
    if warning is not None and on_warning is not None:
        on_warning(warning)
    return plain.view(state, caller)


def _through_models(
    target: str | Path | None, environ: Mapping[str, str], on_warning: Warn | None
) -> plain.PlainView:
    from .context_store import ContextStore

    with ContextStore(target, environ=environ, on_warning=on_warning) as store:
        return plain_rows(store.view())


def plain_rows(shown: View) -> plain.PlainView:
    """A pydantic view as plain rows."""
    items = tuple(
        plain.PlainItem(
            context=plain.PlainContext(**item.context.model_dump()),
            scope=item.scope,
            default=item.default,
            credential=item.credential,
        )
        for item in shown.contexts
    )
    return plain.PlainView(contexts=items, default=shown.default)


def selected(name: str) -> str:
    """What a select says it did (before `` (operation N)``)."""
    return f"default context is now '{name}'"


class Selected(NamedTuple):
    """``OperationResult`` of a select, without the models."""

    seq: int
    name: str
    summary: str
    notes: tuple[str, ...]


def quick_select(target: str | Path | None, environ: Mapping[str, str], name: str) -> Selected:
    """What ``ContextStore(target, environ=environ).select(name)`` does and returns."""
    caller = plain_caller(environ)
    actor = plain_actor()
    with open_log(target, environ=environ) as log:
        try:
            with log.write():
                return _append_select(log, caller, actor, name)
        except plain.Unreadable:
            pass  # rolled back: nothing was written
    return _select_through_models(target, environ, name)


def _append_select(
    log: Log, caller: plain.PlainCaller, actor: plain_select.PlainActor, name: str
) -> Selected:
    state, base = load_plain(log)
    if any(not session.ended for session in state.sessions.values()):  # azcli hook
        raise plain.Unreadable("open sessions: the models rewrite their Azure CLI folders")
    decided = plain_select.decide_select(state, caller, actor, name)
    if schedule.snapshot_due(state.seq, state.seq + 1, base):
        raise plain.Unreadable("a snapshot is due: the models write it")
    entry = log.append(
        kind="select",
        scope=decided.scope,
        session=decided.session,
        time=decided.time,
        payload=decided.payload,
    )
    summary = f"{selected(decided.name)} (operation {entry.seq})"
    return Selected(entry.seq, decided.name, summary, decided.notes)


def _select_through_models(
    target: str | Path | None, environ: Mapping[str, str], name: str
) -> Selected:
    from .context_store import ContextStore

    with ContextStore(target, environ=environ) as store:
        result = store.select(name)
    return Selected(result.seq, result.context or name, result.summary, result.notes)
