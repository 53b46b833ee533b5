"""The present view from plain JSON, without pydantic: what ``azctx current`` and
``azctx list`` show, folded from the snapshot text and the tail events' bytes.

Importing the pydantic models and validating a snapshot through them costs more than
those commands do, and they run at every shell prompt. This module is ``state.replay``
followed by ``view.view``, restricted to what the present view reads: each change's
``after`` value for the context, hidden, default, autosave and credential cells, the
sessions (expiry, ended) and the shredded data keys. The default history, the
environments and the undo ledger do not change what is shown now, so they are skipped.

The payloads were authenticated by the log and written by this program's encoder; the
reader still checks the shape of every field it uses, and raises ``Unreadable`` for
anything it does not know (another event version, an unknown field or cell type). Its
caller then reads through the pydantic models, which upcast the event or report it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, NamedTuple

from azctx.events.names import DEFAULT_ENVIRONMENT, USER

from . import overlay
from .overlay import SessionStatus

#: Raised whenever the shape or meaning of ``state.State`` changes, so that a snapshot
#: written by another version is ignored (and the log replayed) instead of misread.
PROJECTION_VERSION = 1

#: The version of each event type this reader folds (``codec`` upcasts older ones;
#: a test keeps this equal to the event classes' ``VERSION``).
EVENT_VERSIONS: dict[str, int] = {
    "add": 1,
    "select": 1,
    "rename": 1,
    "remove": 1,
    "disconnect": 1,
    "clear": 1,
    "autosave": 1,
    "undo": 1,
    "import": 1,
    "session-start": 1,
    "session-end": 1,
    "key-rotate": 1,
}


class Unreadable(ValueError):
    """The JSON is not in the shape this reader knows; read it through the models."""


class PlainContext(NamedTuple):
    name: str
    account: str
    account_type: str
    tenant: str
    subscription: str | None = None
    subscription_name: str | None = None
    environment: str = DEFAULT_ENVIRONMENT


class _Record:
    """Equality and repr by slot, as a dataclass has them: this module's working
    records are classes of their own, because importing ``dataclasses`` (with the
    ``inspect`` it pulls in) costs a prompt command more than its whole fold."""

    __slots__: tuple[str, ...] = ()
    __hash__ = None  # type: ignore[assignment]  # mutable, like a dataclass with eq

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"


class PlainScope(_Record):
    __slots__ = ("autosave", "contexts", "credentials", "default", "hidden")

    def __init__(
        self,
        contexts: dict[str, PlainContext] | None = None,
        hidden: set[str] | None = None,
        default: str | None = None,
        autosave: bool | None = None,
        credentials: dict[str, str] | None = None,
    ) -> None:
        self.contexts: dict[str, PlainContext] = {} if contexts is None else contexts
        self.hidden: set[str] = set() if hidden is None else hidden
        self.default = default
        self.autosave = autosave
        #: Account key -> the data key id its credential is sealed under.
        self.credentials: dict[str, str] = {} if credentials is None else credentials


class PlainSession(_Record):
    __slots__ = ("ended", "expires")

    def __init__(self, expires: datetime, ended: bool = False) -> None:
        self.expires = expires
        self.ended = ended


class PlainState(_Record):
    """A working state, folded in place (each load builds its own)."""

    __slots__ = ("process", "seq", "sessions", "shredded", "user")

    def __init__(
        self,
        seq: int = 0,
        user: PlainScope | None = None,
        process: dict[str, PlainScope] | None = None,
        sessions: dict[str, PlainSession] | None = None,
        shredded: set[str] | None = None,
    ) -> None:
        self.seq = seq
        self.user = PlainScope() if user is None else user
        self.process: dict[str, PlainScope] = {} if process is None else process
        self.sessions: dict[str, PlainSession] = {} if sessions is None else sessions
        self.shredded: set[str] = set() if shredded is None else shredded

    def scope(self, key: str) -> PlainScope:
        if key == USER:
            return self.user
        return self.process.setdefault(key, PlainScope())


class PlainCaller(NamedTuple):
    """``view.Caller`` without the actor, which a view does not read."""

    time: datetime
    session: str | None = None
    autosave_env: bool | None = None


class PlainItem(NamedTuple):
    context: PlainContext
    scope: Literal["user", "process"]
    default: bool
    credential: Literal["stored", "none"]


class PlainView(NamedTuple):
    contexts: tuple[PlainItem, ...]
    default: str | None


# --- checked access to JSON values ----------------------------------------------------


def _object(value: Any, known: frozenset[str]) -> Mapping[str, Any]:
    if not isinstance(value, dict) or not set(value) <= known:
        raise Unreadable("unexpected JSON object")
    return value


def _entries(value: Any) -> Mapping[str, Any]:
    """A JSON object with any keys."""
    if isinstance(value, dict):
        return value
    raise Unreadable("expected a JSON object")


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise Unreadable("expected a string")


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _optional_bool(value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    raise Unreadable("expected a boolean")


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise Unreadable("expected a boolean")


def _texts(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise Unreadable("expected a list")
    return [_text(v) for v in value]


def _time(value: Any) -> datetime:
    try:
        return datetime.fromisoformat(_text(value))
    except ValueError:
        raise Unreadable("expected an ISO-8601 time") from None


_CONTEXT_FIELDS = frozenset(
    {"name", "account", "account_type", "tenant", "subscription", "subscription_name"}
    | {"environment"}
)
_CREDENTIAL_FIELDS = frozenset({"key_id", "kind", "sealed", "certificate_path"})
_SCOPE_FIELDS = frozenset(
    {"contexts", "hidden", "default", "default_history", "autosave", "credentials"}
    | {"environments"}
)
_SESSION_FIELDS = frozenset({"id", "started", "expires", "ended", "actor"})
_STATE_FIELDS = frozenset(
    {"seq", "user", "process", "sessions", "shredded", "undo_of", "undos_of", "undone_by"}
)
_CHANGE_FIELDS = frozenset({"type", "scope", "key", "before", "after"})


def _context(value: Any) -> PlainContext:
    raw = _object(value, _CONTEXT_FIELDS)
    return PlainContext(
        name=_text(raw["name"]),
        account=_text(raw["account"]),
        account_type=_text(raw["account_type"]),
        tenant=_text(raw["tenant"]),
        subscription=_optional_text(raw.get("subscription")),
        subscription_name=_optional_text(raw.get("subscription_name")),
        environment=_text(raw.get("environment", DEFAULT_ENVIRONMENT)),
    )


def _credential_key(value: Any) -> str:
    return _text(_object(value, _CREDENTIAL_FIELDS)["key_id"])


# --- the snapshot and the events ------------------------------------------------------


def _scope(value: Any) -> PlainScope:
    raw = _object(value, _SCOPE_FIELDS)
    contexts = _entries(raw.get("contexts", {}))
    credentials = _entries(raw.get("credentials", {}))
    return PlainScope(
        contexts={k: _context(v) for k, v in contexts.items()},
        hidden=set(_texts(raw.get("hidden", []))),
        default=_optional_text(raw.get("default")),
        autosave=_optional_bool(raw.get("autosave")),
        credentials={k: _credential_key(v) for k, v in credentials.items()},
    )


def _session(value: Any) -> PlainSession:
    raw = _object(value, _SESSION_FIELDS)
    return PlainSession(expires=_time(raw["expires"]), ended=_bool(raw.get("ended", False)))


def from_snapshot(payload: str | bytes) -> PlainState:
    """The state in a snapshot (``State.model_dump_json()``)."""
    try:
        raw = _object(json.loads(payload), _STATE_FIELDS)
        seq = raw.get("seq", 0)
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise Unreadable("expected an integer seq")
        return PlainState(
            seq=seq,
            user=_scope(raw.get("user", {})),
            process={k: _scope(v) for k, v in _entries(raw.get("process", {})).items()},
            sessions={k: _session(v) for k, v in _entries(raw.get("sessions", {})).items()},
            shredded=set(_texts(raw.get("shredded", []))),
        )
    except (KeyError, ValueError) as exc:  # json errors are ValueErrors
        raise Unreadable(str(exc)) from None


def _set_cell(state: PlainState, value: Any) -> None:
    """``state._set_cell``: put the change's ``after`` value in its cell."""
    change = _object(value, _CHANGE_FIELDS)
    kind = change["type"]
    scope = state.scope(_text(change["scope"]))
    key = _text(change.get("key", ""))
    after = change["after"]
    if kind == "context":
        if after is None:
            scope.contexts.pop(key, None)
        else:
            scope.contexts[key] = _context(after)
    elif kind == "default":
        scope.default = _optional_text(after)
    elif kind == "credential":
        if after is None:
            scope.credentials.pop(key, None)
        else:
            scope.credentials[key] = _credential_key(after)
    elif kind == "hidden":
        if _bool(after):
            scope.hidden.add(key)
        else:
            scope.hidden.discard(key)
    elif kind == "autosave":
        scope.autosave = _optional_bool(after)
    elif kind != "environment":  # environments are not part of the view
        raise Unreadable(f"unknown cell type {kind!r}")


def apply(state: PlainState, seq: int, payload: bytes) -> None:
    """Fold one event (``codec.encode`` bytes), logged as operation ``seq``."""
    try:
        event = json.loads(payload)
        if not isinstance(event, dict):
            raise Unreadable("an event must be a JSON object")
        kind = event.get("type")
        if not isinstance(kind, str) or event.get("v", 1) != EVENT_VERSIONS.get(kind):
            raise Unreadable(f"event {kind!r} of a version this reader does not fold")
        changes = event.get("changes", [])
        if not isinstance(changes, list):
            raise Unreadable("expected a list of changes")
        for change in changes:
            _set_cell(state, change)
        state.shredded.update(_texts(event.get("shredded", [])))
        if kind == "session-start":
            session = _text(event["session_id"])
            state.sessions[session] = PlainSession(expires=_time(event["expires"]))
            state.process[session] = PlainScope()
        elif kind == "session-end":
            session = _text(event["session_id"])
            info = state.sessions.get(session)
            if info is not None:
                info.ended = True
            # Its contexts are no longer visible to anyone.
            state.process.pop(session, None)
        state.seq = seq
    except (KeyError, ValueError) as exc:
        raise Unreadable(str(exc)) from None


# --- the view (projections/view.py) ---------------------------------------------------


def session_status(state: PlainState, caller: PlainCaller) -> SessionStatus:
    return overlay.session_status(state.sessions, caller.session, caller.time)


def _live_process(state: PlainState, caller: PlainCaller) -> PlainScope | None:
    if caller.session is None or session_status(state, caller) != "live":
        return None
    return state.process.get(caller.session, PlainScope())


def view(state: PlainState, caller: PlainCaller) -> PlainView:
    process = _live_process(state, caller)
    saved, _ = overlay.autosave(caller.autosave_env, process, state.user)
    shown, default = overlay.overlay(state.user, process, saved, state.shredded, str)
    items = tuple(
        PlainItem(
            item.context, item.scope, item.default, "none" if item.credential is None else "stored"
        )
        for item in shown
    )
    return PlainView(contexts=items, default=default)
