"""Events to bytes and back: the one codec, with the upcast step that keeps old logs
readable.

An event is written as one flat JSON object: ``v`` (its operation's schema version),
the ``Event`` fields, ``type`` (the operation) and the fields of its operation record.
Reading checks every field against the records' own annotations (``values``,
``changes``, ``operations``): they are the schema, spelled once. Anything else (an
unknown field, a missing one, a value of the wrong type) is an ``EventDecodeError``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from azctx.events.changes import CELL_VALUES, Change
from azctx.events.names import USER, is_session_id
from azctx.events.operations import OPS, VERSIONS, Event
from azctx.events.records import Record
from azctx.events.values import (
    ACCOUNT_TYPES,
    CREDENTIAL_KINDS,
    SCOPES,
    Actor,
    Context,
    Credential,
    Environment,
)

RawEvent = dict[str, Any]
Upcaster = Callable[[RawEvent], RawEvent]
Reader = Callable[[Any], Any]

#: (event type, version) -> function that turns that version's dict into the next one.
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


class EventDecodeError(ValueError):
    """The bytes are not an event this program can read."""


# --- writing --------------------------------------------------------------------------


def utc_text(time: datetime) -> str:
    """An aware time as ISO-8601 in UTC ending in ``Z``."""
    text = time.astimezone(UTC).isoformat()
    return text[:-6] + "Z"


def jsonable(value: Any) -> Any:
    """A record (NamedTuple), tuple, time or plain value as JSON-ready data."""
    fields = getattr(value, "_fields", None)
    if fields is not None:
        return {name: jsonable(item) for name, item in zip(fields, value, strict=True)}
    if isinstance(value, tuple | list):
        return [jsonable(item) for item in value]
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, datetime):
        return utc_text(value)
    return value


def event_dict(event: Event) -> RawEvent:
    kind = event.type
    raw: RawEvent = {"v": VERSIONS[kind]}
    for name in ("time", "actor", "scope", "session", "changes", "shredded"):
        raw[name] = jsonable(getattr(event, name))
    raw["type"] = kind
    raw.update(jsonable(event.op))
    return raw


def encode(event: Event) -> bytes:
    return json.dumps(event_dict(event), ensure_ascii=False, separators=(",", ":")).encode()


# --- reading: a reader per annotation -------------------------------------------------


def _fail(expected: str, value: Any) -> EventDecodeError:
    shown = repr(value)
    return EventDecodeError(f"expected {expected}, got {shown[:60]}")


def _text(value: Any) -> str:
    if type(value) is str:
        return value
    raise _fail("a string", value)


def _bool(value: Any) -> bool:
    if type(value) is bool:
        return value
    raise _fail("a boolean", value)


def _int(value: Any) -> int:
    if type(value) is int:
        return value
    raise _fail("an integer", value)


def _time(value: Any) -> datetime:
    try:
        moment = datetime.fromisoformat(_text(value))
    except ValueError:
        raise _fail("an ISO-8601 time", value) from None
    if moment.tzinfo is None:
        raise _fail("a time with a zone", value)
    return moment


def _session_id(value: Any) -> str:
    # A session id becomes a folder name: one that breaks the rule it was made by is
    # not a path to follow but a row azctx never wrote.
    if type(value) is str and is_session_id(value):
        return value
    raise _fail("a session id", value)


def _scope_key(value: Any) -> str:
    if value == USER:
        return USER
    return _session_id(value)


def _choice(allowed: tuple[str, ...]) -> Reader:
    known = frozenset(allowed)

    def read(value: Any) -> str:
        if type(value) is str and value in known:
            return value
        raise _fail(f"one of {', '.join(allowed)}", value)

    return read


def _optional(inner: Reader) -> Reader:
    def read(value: Any) -> Any:
        return None if value is None else inner(value)

    return read


def _many(inner: Reader) -> Reader:
    def read(value: Any) -> tuple[Any, ...]:
        if type(value) is not list:
            raise _fail("a list", value)
        return tuple([inner(item) for item in value])

    return read


_SCALARS: dict[str, Reader] = {
    "str": _text,
    "bool": _bool,
    "int": _int,
    "datetime": _time,
    "SessionId": _session_id,
    "ScopeKey": _scope_key,
    "AccountType": _choice(ACCOUNT_TYPES),
    "ScopeName": _choice(SCOPES),
    "CredentialKind": _choice(CREDENTIAL_KINDS),
    "ImportSource": _choice(("az-powershell", "az-cli")),
    "EndReason": _choice(("ended", "expired", "shell-gone")),
    "CellType": _choice(tuple(CELL_VALUES)),
}
#: The records a JSON value can be read as (``register`` adds those of other layers).
_RECORDS: dict[str, type[Any]] = {
    "Actor": Actor,
    "Context": Context,
    "Credential": Credential,
    "Environment": Environment,
    "Change": Change,
}


def register(cls: type[Any]) -> None:
    """Let ``reader`` read ``cls`` (a NamedTuple whose fields it can read) by name."""
    _RECORDS[cls.__name__] = cls


def reader(annotation: str) -> Reader:
    """The reader of a JSON value of type ``annotation`` (as written in a record)."""
    if annotation.endswith(" | None"):
        return _optional(reader(annotation[: -len(" | None")]))
    if annotation.startswith("tuple[") and annotation.endswith(", ...]"):
        return _many(reader(annotation[len("tuple[") : -len(", ...]")]))
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    if annotation == "Change":
        return _change
    return record_reader(_RECORDS[annotation])


class _Spec(Record):
    """How to read one record: each field's name, reader and default, and the names."""

    fields: tuple[tuple[str, Reader, bool, Any], ...]
    readers: tuple[tuple[str, Reader], ...]
    names: frozenset[str]


_SPECS: dict[type[Any], _Spec] = {}
_MISSING = object()
#: Builds a record from a list holding every field, in C: ``cls(*values)`` goes through
#: the Python ``__new__`` that NamedTuple generates, a fifth of a small record's decoding.
_new = tuple.__new__


def _annotation(cls: type[Any], name: str) -> str:
    # NamedTuple keeps a postponed annotation as a ForwardRef holding its text.
    annotation = cls.__annotations__[name]
    return str(getattr(annotation, "__forward_arg__", annotation))


def _spec(cls: type[Any]) -> _Spec:
    spec = _SPECS.get(cls)
    if spec is None:
        defaults = cls._field_defaults
        fields = tuple(
            (name, reader(_annotation(cls, name)), name in defaults, defaults.get(name))
            for name in cls._fields
        )
        readers = tuple((name, read) for name, read, _, _ in fields)
        spec = _SPECS[cls] = _Spec(fields, readers, frozenset(cls._fields))
    return spec


def read_fields(cls: type[Any], raw: dict[str, Any], skip: frozenset[str] = frozenset()) -> Any:
    """``cls`` built from the JSON object ``raw``: every field checked, defaults filled
    in, and no key left over but those in ``skip``."""
    spec = _SPECS.get(cls) or _spec(cls)
    if not skip and raw.keys() == spec.names:  # every field given: what encode writes
        return _new(cls, [read(raw[name]) for name, read in spec.readers])
    values = []
    present = 0
    for name, read, has_default, default in spec.fields:
        value = raw.get(name, _MISSING)
        if value is not _MISSING:
            present += 1
            values.append(read(value))
        elif has_default:
            values.append(default)
        else:
            raise EventDecodeError(f"{cls.__name__}: missing field {name!r}")
    if len(raw) != present:
        extra = sorted(set(raw) - spec.names - skip)
        if extra:
            raise EventDecodeError(f"{cls.__name__}: unexpected field {extra[0]!r}")
    return cls(*values)


def record_reader(cls: type[Any]) -> Reader:
    def read(value: Any) -> Any:
        if type(value) is not dict:
            raise _fail(f"a {cls.__name__} object", value)
        return read_fields(cls, value)

    return read


_CELL_READERS: dict[str, Reader] = {kind: reader(ann) for kind, ann in CELL_VALUES.items()}
_read_cell_type = _SCALARS["CellType"]
_CHANGE_FIELDS = frozenset(Change._fields)


def _change(value: Any) -> Change:
    if type(value) is dict and value.keys() == _CHANGE_FIELDS:  # what encode writes
        kind = _read_cell_type(value["type"])
        read = _CELL_READERS[kind]
        scope, key = _scope_key(value["scope"]), _text(value["key"])
        return _new(Change, (kind, scope, key, read(value["before"]), read(value["after"])))
    if type(value) is not dict or not value.keys() <= _CHANGE_FIELDS:
        raise _fail("a change object", value)
    kind = _read_cell_type(value.get("type"))
    read = _CELL_READERS[kind]
    try:
        before, after = read(value["before"]), read(value["after"])
    except KeyError as exc:
        raise EventDecodeError(f"Change: missing field {exc.args[0]!r}") from None
    key = value.get("key", "")
    return Change(kind, _scope_key(value["scope"]), _text(key), before, after)


_EVENT_READERS = {
    name: reader(ann)
    for name, ann in (
        ("time", "datetime"),
        ("actor", "Actor"),
        ("scope", "ScopeName | None"),
        ("session", "SessionId | None"),
        ("changes", "tuple[Change, ...]"),
        ("shredded", "tuple[str, ...]"),
    )
}
_EVENT_KEYS = frozenset({"v", "type", *_EVENT_READERS})


def upcast(raw: RawEvent) -> RawEvent:
    """Bring an event dict written by an older program up to the current schema."""
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in VERSIONS:
        raise EventDecodeError(f"unknown event type {kind!r}")
    version = raw.get("v", 1)
    if type(version) is not int or version > VERSIONS[kind]:
        raise EventDecodeError(f"event {kind!r} version {version!r} is newer than this program")
    while version < VERSIONS[kind]:
        step = UPCASTERS.get((kind, version))
        if step is None:
            raise EventDecodeError(f"no upcaster for event {kind!r} version {version}")
        raw = step(raw)
        version += 1
        raw["v"] = version
    return raw


#: Each operation -> every key of its events as ``encode`` writes them.
_FLAT_KEYS = {kind: _EVENT_KEYS | frozenset(cls._fields) for kind, cls in OPS.items()}


_read_time = _EVENT_READERS["time"]
_read_actor = _EVENT_READERS["actor"]
_read_scope = _EVENT_READERS["scope"]
_read_session = _EVENT_READERS["session"]
_read_changes = _EVENT_READERS["changes"]
_read_shredded = _EVENT_READERS["shredded"]


def _written(raw: dict[str, Any]) -> Event | None:
    """The event in ``raw`` when it has exactly the keys ``encode`` writes for the
    current version (replay's common case), else None."""
    kind = raw.get("type")
    if type(kind) is not str or raw.keys() != _FLAT_KEYS.get(kind):
        return None
    version = raw["v"]
    if type(version) is not int or version != VERSIONS[kind]:
        return None
    cls = OPS[kind]
    fields = (_SPECS.get(cls) or _spec(cls)).readers
    return _new(
        Event,
        (
            _read_time(raw["time"]),
            _read_actor(raw["actor"]),
            _read_scope(raw["scope"]),
            _read_session(raw["session"]),
            _new(cls, [read(raw[name]) for name, read in fields]),
            _read_changes(raw["changes"]),
            _read_shredded(raw["shredded"]),
        ),
    )


def from_dict(raw: Any) -> Event:
    """An event from its JSON object (as ``json.loads`` returns it)."""
    if type(raw) is not dict:
        raise EventDecodeError("an event must be a JSON object")
    event = _written(raw)
    if event is not None:
        return event
    raw = upcast(raw)
    common = {}
    for name, read in _EVENT_READERS.items():
        if name in raw:
            common[name] = read(raw[name])
        elif name in ("changes", "shredded", "session"):
            common[name] = () if name != "session" else None
        else:
            raise EventDecodeError(f"event: missing field {name!r}")
    op = read_fields(OPS[raw["type"]], raw, skip=_EVENT_KEYS)
    return Event(op=op, **common)


def decode(data: bytes | str) -> Event:
    try:
        # Events are UTF-8 (encode writes them so): decoding first skips json's guess.
        raw = json.loads(data.decode() if isinstance(data, bytes) else data)
    except ValueError as exc:  # also UnicodeDecodeError
        raise EventDecodeError(str(exc).splitlines()[0]) from None
    try:
        return from_dict(raw)
    except RecursionError:
        raise EventDecodeError("an event nested too deeply") from None


def decode_many(payloads: list[bytes]) -> list[Event]:
    """``[decode(p) for p in payloads]``, faster: the JSON of a batch is parsed in one
    call. Should the batch not parse as that many values, each payload is decoded alone,
    so an error is the one ``decode`` gives for the first bad payload."""
    try:
        raws = json.loads(b"[" + b",".join(payloads) + b"]")
    except ValueError:
        raws = None
    if type(raws) is not list or len(raws) != len(payloads):
        return [decode(p) for p in payloads]
    try:
        return [from_dict(raw) for raw in raws]
    except RecursionError:
        raise EventDecodeError("an event nested too deeply") from None
