"""The stored row format: the canonical encodings that every row's hash and associated
data cover, and the value types a ``Log`` hands out.

Row format (the chain and the cryptography are written once, for every backend):

- ``metadata`` = ``row_metadata(seq, time, kind, scope, session, key_id)``, a canonical,
  self-delimiting encoding of the row's clear columns (``seq`` included);
- the payload is encrypted with AES-256-GCM under the log data key ``key_id`` with
  associated data ``prev_hash ‖ metadata``;
- ``hash = SHA-256(prev_hash ‖ metadata ‖ len(nonce) ‖ nonce ‖ ciphertext)``; the genesis
  ``prev_hash`` is 32 zero bytes.

Times are integer microseconds since the epoch (UTC).
"""

from __future__ import annotations

import functools
import hashlib
import struct
from datetime import UTC, datetime, timedelta

from azctx.events.records import Record
from azctx.store.errors import TamperedError

ZERO_HASH = bytes(32)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_METADATA_TAG = b"azctx-log-v1\0"
_SEQ_TIME = struct.Struct(">Qq").pack
_TEXT_LENGTH = struct.Struct(">BI").pack


class Entry(Record):
    """One log entry, decrypted and checked. A named tuple, and its ``time`` made on
    demand: a replay builds one per row and never looks at the time."""

    seq: int
    time_us: int
    kind: str
    scope: str | None
    session: str | None
    payload: bytes
    hash: bytes

    @property
    def time(self) -> datetime:
        return from_us(self.time_us)


class Snapshot(Record):
    seq: int
    version: int
    payload: bytes


class VerifyReport:
    """What ``verify`` checked. (Not a NamedTuple: ``count`` would shadow tuple.count.)"""

    __slots__ = ("ciphertexts_checked", "count", "head_hash", "head_seq")

    def __init__(
        self, count: int, head_seq: int, head_hash: bytes, ciphertexts_checked: bool
    ) -> None:
        self.count = count
        self.head_seq = head_seq
        self.head_hash = head_hash
        self.ciphertexts_checked = ciphertexts_checked

    def __repr__(self) -> str:
        return (
            f"VerifyReport(count={self.count}, head_seq={self.head_seq}, "
            f"head_hash={self.head_hash.hex()}, ciphertexts_checked={self.ciphertexts_checked})"
        )


@functools.lru_cache(maxsize=1024)
def _text_fields(kind: str, scope: str | None, session: str | None, key_id: str) -> bytes:
    # Cached: a log repeats few combinations of these clear columns (no secret here).
    parts = []
    for text in (kind, scope, session, key_id):
        if text is None:
            parts.append(b"\x00")
        else:
            data = text.encode("utf-8")
            parts.append(_TEXT_LENGTH(1, len(data)) + data)
    return b"".join(parts)


def row_metadata(
    seq: int, time_us: int, kind: str, scope: str | None, session: str | None, key_id: str
) -> bytes:
    """The one encoding of a row's clear columns, for its hash and its associated data:
    the tag, seq (8 bytes, big-endian), time (8 bytes, signed), then each text as a zero
    byte for None, else a one byte, its UTF-8 length (4 bytes) and its UTF-8 bytes.

    A stored-format contract (every row's hash covers it); ``struct`` only because
    replay encodes it for every row it reads."""
    try:
        return _METADATA_TAG + _SEQ_TIME(seq, time_us) + _text_fields(kind, scope, session, key_id)
    except struct.error:
        # What int.to_bytes raised before struct did the packing: callers see the same.
        raise OverflowError(f"a field of log row {seq} is out of range") from None


def row_hash(prev_hash: bytes, metadata: bytes, nonce: bytes, ciphertext: bytes) -> bytes:
    return hashlib.sha256(
        prev_hash + metadata + len(nonce).to_bytes(1, "big") + nonce + ciphertext
    ).digest()


def snapshot_aad(seq: int, version: int, log_hash: bytes) -> bytes:
    return b"azctx-snapshot-v1\0" + seq.to_bytes(8, "big") + version.to_bytes(8, "big") + log_hash


def secret_aad(key_id: str) -> bytes:
    return b"azctx-secret-v1\0" + key_id.encode()


def to_us(time: datetime) -> int:
    if time.tzinfo is None or time.utcoffset() is None:
        raise ValueError("log times must be timezone-aware")
    return (time - _EPOCH) // _ONE_US


def from_us(time_us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=time_us)


def now_us() -> int:
    return to_us(datetime.now(UTC))


def missing(seq: int) -> TamperedError:
    return TamperedError(f"log row {seq} is missing", seq)
