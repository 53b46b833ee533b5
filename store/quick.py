"""The present view for the prompt commands (``azctx current``, ``azctx list``),
read without pydantic.

It reads what ``ContextStore.view()`` reads, through the same ``Log`` checks (the
newest snapshot authenticated and bound to its re-hashed row, then every row after it
hashed, linked and decrypted), and folds it with ``projections/plain.py`` instead of
the pydantic models. Errors and warnings come in the same order as there:
``AZCTX_AUTOSAVE`` first, then the store, then the session warning. A log the plain
reader does not know how to fold (an event of another version) is read through
``ContextStore`` instead, which upcasts it or reports it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from azctx.projections import plain

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


def load_plain(log: Log) -> plain.PlainState:
    """The present state, as ``ContextStore._load`` reads it; ``plain.Unreadable`` when
    the plain reader cannot fold it."""
    snapshot = log.latest_snapshot(plain.PROJECTION_VERSION)
    state = plain.PlainState() if snapshot is None else plain.from_snapshot(snapshot.payload)
    for entry in log.entries(after=state.seq):
        plain.apply(state, entry.seq, entry.payload)
    return state


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
            state = load_plain(log)
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
