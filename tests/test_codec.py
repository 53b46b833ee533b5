"""The event codec: what ``decode`` accepts, what it refuses and with which message, and
that old versions are brought up to date by their upcasters.

``decode`` may take shortcuts for the events this program writes itself; whatever the
shortcut, it must answer exactly as the plain definition below (``reference_decode``):
parse the JSON, upcast an event of another version, validate the dict."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from azctx.events import (
    Actor,
    Context,
    ContextAdded,
    ContextChange,
    ContextRemoved,
    DefaultSelected,
    Event,
    SessionStarted,
    codec,
    decode,
    encode,
)
from azctx.events.codec import EventDecodeError, RawEvent
from hypothesis import given, settings
from hypothesis import strategies as st

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ACTOR = Actor(user="u", host="h", pid=7)
CTX = Context(name="Dev", account="a@x.org", account_type="user", tenant="t-1")

EVENTS: list[Event] = [
    ContextAdded(
        time=T0,
        actor=ACTOR,
        scope="user",
        context=CTX,
        changes=(ContextChange(scope="user", key="dev", before=None, after=CTX),),
    ),
    DefaultSelected(time=T0, actor=ACTOR, scope="process", session="s-1", name="Dev"),
    ContextRemoved(time=T0, actor=ACTOR, scope="user", name="Dev", shredded=("k-1",)),
    SessionStarted(time=T0, actor=ACTOR, scope=None, session_id="s-1", expires=T0),
]


def reference_decode(data: bytes) -> Event:
    """The definition of ``decode``: JSON, upcast when the version differs, validate."""
    try:
        raw = json.loads(data)
        if not isinstance(raw, dict):
            raise EventDecodeError("an event must be a JSON object")
        kind = raw.get("type")
        if not isinstance(kind, str) or raw.get("v", 1) != codec._CURRENT.get(kind, -1):
            raw = codec.upcast(raw)
        return codec._adapter().validate_python(raw)
    except EventDecodeError:
        raise
    except ValueError as exc:
        raise EventDecodeError(str(exc).splitlines()[0]) from None


def outcome(data: bytes, how: Any) -> tuple[str, object]:
    try:
        return "ok", how(data)
    except EventDecodeError as exc:
        return "error", str(exc)


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.type)
def test_every_event_survives_the_codec(event: Event) -> None:
    assert decode(encode(event)) == event
    assert type(decode(encode(event))) is type(event)


def test_what_this_program_writes_takes_the_direct_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # Replay decodes every row: its own events must not go through json.loads and a
    # second validation (the direct path is what makes replay fast enough).
    def no(data: bytes) -> Event:
        raise AssertionError(f"took the slow path: {data!r}")

    monkeypatch.setattr(codec, "_decode_slowly", no)
    for event in EVENTS:
        assert decode(encode(event)) == event


def _remove(**changes: object) -> bytes:
    raw = json.loads(encode(EVENTS[2]))
    raw.update(changes)
    return json.dumps({k: v for k, v in raw.items() if v is not ...}).encode()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (_remove(v=2), "event 'remove' version 2 is newer than this program"),
        (_remove(v="1"), "event 'remove' version '1' is newer than this program"),
        (_remove(v=None), "event 'remove' version None is newer than this program"),
        (_remove(type="teleport"), "unknown event type 'teleport'"),
        (_remove(type=...), "unknown event type None"),
        (_remove(type=["remove"]), "unknown event type ['remove']"),
        (b"[1, 2]", "an event must be a JSON object"),
        (b'"add"', "an event must be a JSON object"),
        (b"not json", "Expecting value: line 1 column 1 (char 0)"),
        (b"", "Expecting value: line 1 column 1 (char 0)"),
        (b"\xff\xfe\x00", "'utf-16-le' codec can't decode byte 0x00 in position 2: truncated data"),
    ],
)
def test_what_cannot_be_read_says_why(payload: bytes, message: str) -> None:
    with pytest.raises(EventDecodeError) as caught:
        decode(payload)
    assert str(caught.value) == message
    assert outcome(payload, reference_decode) == ("error", message)


def test_a_field_that_fails_validation_is_a_decode_error_with_pydantics_first_line() -> None:
    for payload in (_remove(name=5), _remove(time="soon"), _remove(surprise=1)):
        with pytest.raises(EventDecodeError, match=r"^1 validation error for tagged-union"):
            decode(payload)
        assert outcome(payload, decode) == outcome(payload, reference_decode)


@pytest.mark.parametrize(
    "changes",
    [
        {"v": 1.0},  # json numbers that equal the version are that version
        {"v": True},
        {"v": ...},  # no version: version 1
        {"time": 1772366400},  # epoch seconds are a time too
        {"shredded": ["a", "a"]},
    ],
    ids=["v-float", "v-true", "v-missing", "time-number", "duplicates"],
)
def test_lenient_spellings_read_as_they_always_did(changes: dict[str, object]) -> None:
    payload = _remove(**changes)
    assert outcome(payload, decode) == outcome(payload, reference_decode)
    assert outcome(payload, decode)[0] == "ok"


def test_duplicate_keys_and_odd_text_read_as_they_always_did() -> None:
    text = encode(EVENTS[2]).decode()
    for payload in (
        text.replace('"name":"Dev"', '"name":"a","name":"b"').encode(),
        text.replace('"v":1', '"v":1,"v":2').encode(),
        text.replace('"type":"remove"', '"type":"select","type":"remove"').encode(),
        text.replace('"name":"Dev"', '"name":"\\ud800"').encode(),  # a lone surrogate
        text.replace('"pid":7', '"pid":7.0').encode(),
        ("\ufeff" + text).encode(),  # a byte order mark
        text.encode("utf-16"),
        (text + " \n").encode(),
    ):
        assert outcome(payload, decode) == outcome(payload, reference_decode), payload


# -- upcasting --------------------------------------------------------------------------


@pytest.fixture
def remove_v2(monkeypatch: pytest.MonkeyPatch) -> None:
    """``remove`` as if its schema had moved on to version 2 (no upcaster registered)."""
    monkeypatch.setattr(ContextRemoved, "VERSION", 2)
    monkeypatch.setitem(codec._CURRENT, "remove", 2)


def _shout(raw: RawEvent) -> RawEvent:
    return {**raw, "name": raw["name"].upper()}


@pytest.mark.usefixtures("remove_v2")
def test_an_old_version_goes_through_its_upcaster(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(codec.UPCASTERS, ("remove", 1), _shout)
    for payload in (_remove(v=1), _remove(v=...)):
        event = decode(payload)
        assert isinstance(event, ContextRemoved)
        assert (event.name, event.v) == ("DEV", 2)
        assert outcome(payload, decode) == outcome(payload, reference_decode)
    # The current version is not upcast.
    current = decode(_remove(v=2))
    assert isinstance(current, ContextRemoved)
    assert (current.name, current.v) == ("Dev", 2)


@pytest.mark.usefixtures("remove_v2")
def test_an_old_version_without_an_upcaster_is_refused() -> None:
    with pytest.raises(EventDecodeError) as caught:
        decode(_remove(v=1))
    assert str(caught.value) == "no upcaster for event 'remove' version 1"
    with pytest.raises(EventDecodeError, match="version 3 is newer than this program"):
        decode(_remove(v=3))


# -- any bytes: the same answer as the definition -----------------------------------------

_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(["", "Dev", "user", "process", "remove", "add", "2026-03-01T12:00:00Z"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)
_keys = st.sampled_from(
    ["v", "type", "time", "actor", "scope", "session", "changes", "shredded", "name", "x"]
)


@settings(max_examples=300, deadline=None, database=None)
@given(
    base=st.sampled_from(EVENTS),
    edits=st.lists(st.tuples(_keys, _json_values | st.just(...)), max_size=3),
)
def test_decode_answers_as_its_definition_on_edited_events(
    base: Event, edits: list[tuple[str, object]]
) -> None:
    raw = json.loads(encode(base))
    for key, value in edits:
        if value is ...:
            raw.pop(key, None)
        else:
            raw[key] = value
    payload = json.dumps(raw).encode()
    assert outcome(payload, decode) == outcome(payload, reference_decode)


@settings(max_examples=300, deadline=None, database=None)
@given(base=st.sampled_from(EVENTS), cut=st.integers(0, 400), junk=st.binary(max_size=4))
def test_decode_answers_as_its_definition_on_damaged_bytes(
    base: Event, cut: int, junk: bytes
) -> None:
    data = encode(base)
    payload = data[:cut] + junk + data[cut + len(junk) :]
    assert outcome(payload, decode) == outcome(payload, reference_decode)
