"""Events to bytes and back, with the upcast step that keeps old logs readable."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from pydantic import TypeAdapter

from .operations import EVENT_CLASSES, Event

RawEvent = dict[str, Any]
Upcaster = Callable[[RawEvent], RawEvent]

_CURRENT: dict[str, int] = {cls.model_fields["type"].default: cls.VERSION for cls in EVENT_CLASSES}

#: (event type, version) -> function that turns that version's dict into the next one.
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


@functools.cache
def _adapter() -> TypeAdapter[Event]:
    # Built on first decode, not at import: commands that never decode skip its cost.
    return TypeAdapter(Event)


@functools.cache
def _validate_json_strictly() -> Callable[[bytes], Any]:
    # The adapter's own validator without the adapter's wrapper around it (replay calls
    # it once per row). Strict: JSON as ``encode`` writes it, nothing coerced.
    return functools.partial(_adapter().validator.validate_json, strict=True)


class EventDecodeError(ValueError):
    """The bytes are not an event this program can read."""


def encode(event: Event) -> bytes:
    return event.model_dump_json(exclude_defaults=False).encode()


def upcast(raw: RawEvent) -> RawEvent:
    """Bring an event dict written by an older program up to the current schema."""
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in _CURRENT:
        raise EventDecodeError(f"unknown event type {kind!r}")
    version = raw.get("v", 1)
    if not isinstance(version, int) or version > _CURRENT[kind]:
        raise EventDecodeError(f"event {kind!r} version {version!r} is newer than this program")
    while version < _CURRENT[kind]:
        step = UPCASTERS.get((kind, version))
        if step is None:
            raise EventDecodeError(f"no upcaster for event {kind!r} version {version}")
        raw = step(raw)
        version += 1
        raw["v"] = version
    return raw


def decode(data: bytes) -> Event:
    # The events this program writes go straight from bytes to a model: strict JSON
    # validation accepts a subset of what the path below accepts, and reads it the same
    # way. Anything else (an old version, lenient spellings, errors) takes that path,
    # so upcasting and the error messages stay as they are.
    try:
        event: Event = _validate_json_strictly()(data)
    except ValueError:
        pass
    else:
        # ``v`` must be in the payload: a missing one means version 1, not the default.
        if event.v == _CURRENT[event.type] and "v" in event.model_fields_set:
            return event
    return _decode_slowly(data)


def _decode_slowly(data: bytes) -> Event:
    try:
        raw = json.loads(data)
        if not isinstance(raw, dict):
            raise EventDecodeError("an event must be a JSON object")
        kind = raw.get("type")
        # A type that is not a string (a list is not even hashable) is for upcast to refuse.
        if not isinstance(kind, str) or raw.get("v", 1) != _CURRENT.get(kind, -1):
            raw = upcast(raw)
        return _adapter().validate_python(raw)
    except EventDecodeError:
        raise
    except ValueError as exc:  # json and pydantic errors both derive from ValueError
        raise EventDecodeError(str(exc).splitlines()[0]) from None
