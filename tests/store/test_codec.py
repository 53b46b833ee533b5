"""The event codec: every operation survives it, what ``decode`` refuses and with which
message, old versions brought up to date by their upcasters, and on any bytes an
answer that is an event or an ``EventDecodeError``, nothing else."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from azctx.events import (
    CELL_VALUES,
    OPS,
    VERSIONS,
    Actor,
    Added,
    AutosaveSet,
    Cleared,
    Context,
    Credential,
    Disconnected,
    Environment,
    Event,
    Imported,
    KeyRotated,
    Protected,
    Removed,
    Renamed,
    Selected,
    SessionEnded,
    SessionStarted,
    Undone,
    Unprotected,
    codec,
    context_change,
    credential_change,
    decode,
    default_change,
    encode,
    environment_change,
    hidden_change,
)
from azctx.events.codec import EventDecodeError, RawEvent
from hypothesis import given, settings
from hypothesis import strategies as st

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SID = "s-0123456789abcdef"
ACTOR = Actor(user="u", host="h", pid=7)
CTX = Context(name="Dev", account="a@x.org", account_type="user", tenant="t-1")
CRED = Credential(key_id="k-1", kind="client-secret", sealed="c2VhbGVk")
CELLS = ", ".join(CELL_VALUES)
ENV = Environment(name="MyCloud", authority="https://login.example/")


def _event(op: object, scope: str | None = "user", **fields: object) -> Event:
    return Event(T0, ACTOR, scope, fields.pop("session", None), op, **fields)  # type: ignore[arg-type]


EVENTS: list[Event] = [
    _event(
        Added(CTX),
        changes=(
            context_change("user", "dev", None, CTX),
            credential_change("user", "a@x.org", None, CRED),
            default_change("user", None, "Dev"),
        ),
    ),
    _event(Selected("Dev", previous=True), "process", session=SID),
    _event(Renamed("Dev", "Prod", replaced=True)),
    _event(
        Removed("Dev"),
        "process",
        session=SID,
        changes=(hidden_change(SID, "dev", False, True),),
    ),
    _event(Disconnected("a@x.org"), shredded=("k-1",)),
    _event(Cleared()),
    _event(AutosaveSet(False)),
    _event(
        Imported("az-cli", "azureProfile.json", ("Dev",), "Dev"),
        changes=(environment_change("user", "mycloud", None, ENV),),
    ),
    _event(Undone(3, "rename")),
    _event(SessionStarted(SID, T0), "process", session=SID),
    _event(SessionEnded(SID, "expired"), "process", session=SID),
    _event(KeyRotated("m-2")),
    _event(
        Protected("Dev"),
        changes=(context_change("user", "dev", CTX, CTX._replace(protected=True)),),
    ),
    _event(Unprotected("Dev")),
]


def test_the_events_cover_every_operation() -> None:
    assert {e.type for e in EVENTS} == set(OPS)


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.type)
def test_every_event_survives_the_codec(event: Event) -> None:
    assert decode(encode(event)) == event
    assert type(decode(encode(event)).op) is type(event.op)


def test_an_event_is_one_flat_object_as_release_0_1_wrote_it() -> None:
    raw = json.loads(encode(EVENTS[2]))
    assert list(raw) == [
        "v", "time", "actor", "scope", "session", "changes", "shredded",
        "type", "old", "new", "replaced",
    ]  # fmt: skip
    assert raw["time"] == "2026-03-01T12:00:00Z" and raw["v"] == 1


def _remove(**changes: object) -> bytes:
    raw = json.loads(encode(EVENTS[3]))
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
        (_remove(name=5), "expected a string, got 5"),
        (_remove(name=...), "Removed: missing field 'name'"),
        (_remove(surprise=1), "Removed: unexpected field 'surprise'"),
        (_remove(time="soon"), "expected an ISO-8601 time, got 'soon'"),
        (_remove(time="2026-03-01T12:00"), "expected a time with a zone, got '2026-03-01T12:00'"),
        (_remove(scope="galaxy"), "expected one of user, process, got 'galaxy'"),
        (_remove(changes=[{"type": "hue"}]), f"expected one of {CELLS}, got 'hue'"),
        (_remove(actor={"user": "u", "host": "h"}), "Actor: missing field 'pid'"),
        (_remove(actor={"user": "u", "host": "h", "pid": True}), "expected an integer, got True"),
        (b"[1, 2]", "an event must be a JSON object"),
        (b'"add"', "an event must be a JSON object"),
        (b"not json", "Expecting value: line 1 column 1 (char 0)"),
        (b"", "Expecting value: line 1 column 1 (char 0)"),
    ],
)  # fmt: skip
def test_what_cannot_be_read_says_why(payload: bytes, message: str) -> None:
    with pytest.raises(EventDecodeError) as caught:
        decode(payload)
    assert str(caught.value) == message


def test_a_missing_version_is_version_1_and_optional_fields_take_their_defaults() -> None:
    event = decode(_remove(v=..., changes=..., shredded=..., session=...))
    assert event.op == Removed("Dev") and event.changes == () and event.session is None


# -- upcasting --------------------------------------------------------------------------


@pytest.fixture
def remove_v2(monkeypatch: pytest.MonkeyPatch) -> None:
    """``remove`` as if its schema had moved on to version 2 (no upcaster registered)."""
    monkeypatch.setitem(VERSIONS, "remove", 2)


def _shout(raw: RawEvent) -> RawEvent:
    return {**raw, "name": raw["name"].upper()}


@pytest.mark.usefixtures("remove_v2")
def test_an_old_version_goes_through_its_upcaster(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(codec.UPCASTERS, ("remove", 1), _shout)
    for payload in (_remove(v=1), _remove(v=...)):
        event = decode(payload)
        assert event.op == Removed("DEV")
        assert json.loads(encode(event))["v"] == 2
    # The current version is not upcast.
    assert decode(_remove(v=2)).op == Removed("Dev")


@pytest.mark.usefixtures("remove_v2")
def test_an_old_version_without_an_upcaster_is_refused() -> None:
    with pytest.raises(EventDecodeError) as caught:
        decode(_remove(v=1))
    assert str(caught.value) == "no upcaster for event 'remove' version 1"
    with pytest.raises(EventDecodeError, match="version 3 is newer than this program"):
        decode(_remove(v=3))


# -- any bytes: an event or an EventDecodeError -------------------------------------------

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


def _answer(payload: bytes) -> None:
    """decode answers with an event that survives the codec again, or says why not."""
    try:
        event = decode(payload)
    except EventDecodeError:
        return
    assert decode(encode(event)) == event


@settings(max_examples=300, deadline=None, database=None)
@given(
    base=st.sampled_from(EVENTS),
    edits=st.lists(st.tuples(_keys, _json_values | st.just(...)), max_size=3),
)
def test_edited_events_decode_or_say_why(base: Event, edits: list[tuple[str, object]]) -> None:
    raw = json.loads(encode(base))
    for key, value in edits:
        if value is ...:
            raw.pop(key, None)
        else:
            raw[key] = value
    _answer(json.dumps(raw).encode())


@settings(max_examples=300, deadline=None, database=None)
@given(base=st.sampled_from(EVENTS), cut=st.integers(0, 400), junk=st.binary(max_size=4))
def test_damaged_bytes_decode_or_say_why(base: Event, cut: int, junk: bytes) -> None:
    data = encode(base)
    _answer(data[:cut] + junk + data[cut + len(junk) :])


@settings(max_examples=200, deadline=None, database=None)
@given(
    picks=st.lists(st.sampled_from(EVENTS), min_size=0, max_size=6),
    damage=st.none() | st.tuples(st.integers(0, 5), st.integers(0, 400), st.binary(max_size=3)),
)
def test_a_batch_decodes_as_its_rows_one_by_one(
    picks: list[Event], damage: tuple[int, int, bytes] | None
) -> None:
    payloads = [encode(e) for e in picks]
    if damage is not None and payloads:
        row, cut, junk = damage
        row %= len(payloads)
        data = payloads[row]
        payloads[row] = data[:cut] + junk + data[cut + len(junk) :]

    def one_by_one() -> object:
        try:
            return [decode(p) for p in payloads]
        except EventDecodeError as exc:
            return str(exc)

    try:
        together: object = codec.decode_many(payloads)
    except EventDecodeError as exc:
        together = str(exc)
    assert together == one_by_one()
