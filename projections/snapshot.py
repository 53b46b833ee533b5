"""Snapshots: a state as JSON text and back, tagged with ``PROJECTION_VERSION``.

A snapshot is a cache of the fold, saved by the store and authenticated there; loading
the present reads the newest one and folds only the rows after it. A snapshot of
another version (or one this reader cannot read) is ignored and the state is rebuilt
from the log: it never makes a store unreadable.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

from azctx.events import EventDecodeError
from azctx.events.codec import jsonable, reader, register
from azctx.projections.state import ScopeState, SessionInfo, State

#: Raised whenever the shape or meaning of ``State`` changes. Version 1 was the
#: pydantic dump of release 0.1; version 2 is this layout.
PROJECTION_VERSION = 2

T = TypeVar("T")


def _scope_json(scope: ScopeState) -> dict[str, Any]:
    raw: dict[str, Any] = jsonable(scope)
    raw["hidden"] = sorted(scope.hidden)
    return raw


def snapshot_bytes(state: State) -> bytes:
    """The state as JSON bytes, with the projection version."""
    body = {
        "version": PROJECTION_VERSION,  # read at call time, as the store reads it
        "seq": state.seq,
        "user": _scope_json(state.user),
        "process": {k: _scope_json(v) for k, v in state.process.items()},
        "sessions": {k: jsonable(v) for k, v in state.sessions.items()},
        "shredded": sorted(state.shredded),
        # JSON keys are text: the ledger's seqs go as pairs.
        "undo_of": list(state.undo_of.items()),
        "undos_of": [[k, list(v)] for k, v in state.undos_of.items()],
        "undone_by": list(state.undone_by.items()),
        "renames": [[seq, *move] for seq, move in state.renames.items()],
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


_read_text = reader("str")
_read_int = reader("int")
_read_texts = reader("tuple[str, ...]")
_read_ints = reader("tuple[int, ...]")
_read_context = reader("Context")
_read_credential = reader("Credential")
_read_environment = reader("Environment")
_read_optional_text = reader("str | None")
_read_optional_bool = reader("bool | None")
register(SessionInfo)
_read_session = reader("SessionInfo")
_read_session_id = reader("SessionId")


def _mapping(
    value: Any, read: Callable[[Any], T], read_key: Callable[[Any], str] = _read_text
) -> dict[str, T]:
    if type(value) is not dict:
        raise EventDecodeError("expected a JSON object")
    return {read_key(k): read(v) for k, v in value.items()}


def _pairs(value: Any, read: Callable[[Any], T]) -> dict[int, T]:
    if type(value) is not list:
        raise EventDecodeError("expected a list of pairs")
    found: dict[int, T] = {}
    for pair in value:
        if type(pair) is not list or len(pair) != 2:
            raise EventDecodeError("expected a pair")
        found[_read_int(pair[0])] = read(pair[1])
    return found


def _renames(value: Any) -> dict[int, tuple[str, str, str]]:
    if type(value) is not list:
        raise EventDecodeError("expected a list of renames")
    found: dict[int, tuple[str, str, str]] = {}
    for item in value:
        if type(item) is not list or len(item) != 4:
            raise EventDecodeError("expected a rename")
        seq, scope, old, new = item
        found[_read_int(seq)] = (_read_text(scope), _read_text(old), _read_text(new))
    return found


def _scope(raw: Any) -> ScopeState:
    if type(raw) is not dict:
        raise EventDecodeError("expected a scope object")
    return ScopeState(
        _mapping(raw["contexts"], _read_context),
        frozenset(_read_texts(raw["hidden"])),
        _read_optional_text(raw["default"]),
        _read_texts(raw["default_history"]),
        _read_optional_bool(raw["autosave"]),
        _mapping(raw["credentials"], _read_credential),
        _mapping(raw["environments"], _read_environment),
    )


def state_from_snapshot(payload: bytes | str) -> State | None:
    """The state in a snapshot, or None when it is of another version or unreadable."""
    try:
        raw = json.loads(payload)
        if type(raw) is not dict or raw.get("version") != PROJECTION_VERSION:
            return None
        return State(
            _read_int(raw["seq"]),
            _scope(raw["user"]),
            _mapping(raw["process"], _scope, _read_session_id),
            _mapping(raw["sessions"], _read_session, _read_session_id),
            frozenset(_read_texts(raw["shredded"])),
            _pairs(raw["undo_of"], _read_int),
            _pairs(raw["undos_of"], _read_ints),
            _pairs(raw["undone_by"], _read_int),
            _renames(raw["renames"]),
        )
    except (ValueError, KeyError, TypeError, RecursionError):  # EventDecodeError included
        return None
