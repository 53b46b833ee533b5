"""The encrypted, hash-chained, append-only operation log, over any ``Recorder``.

Row format (the chain and the cryptography are written here once, for every backend):

- ``metadata`` = ``row_metadata(seq, time, kind, scope, session, key_id)``, a canonical,
  self-delimiting encoding of the row's clear columns (``seq`` included);
- the payload is encrypted with AES-256-GCM under the log data key ``key_id`` with
  associated data ``prev_hash ‖ metadata``;
- ``hash = SHA-256(prev_hash ‖ metadata ‖ len(nonce) ‖ nonce ‖ ciphertext)``; the genesis
  ``prev_hash`` is 32 zero bytes.

So editing, swapping, reordering or dropping a row from the middle breaks a hash or a
link (found without the key), and rewriting the whole chain after an edit still breaks
the authentication of the edited row (found with the key). Every read checks the rows it
returns; ``verify`` checks them all.

Times are stored as integer microseconds since the epoch (UTC) and never decrease along
the log: an append whose clock is behind the head (another process' clock, or a clock
step) is stamped with the head's time, so "the last operation at or before T" is one
index lookup and agrees with the order of the log.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import struct
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import NamedTuple

from azctx.events import BadInput

from . import crypto, keys
from .crypto import AESGCM
from .errors import (
    CorruptStoreError,
    KeyDestroyedError,
    MalformedKeyError,
    MissingKeyError,
    SchemaTooNewError,
    StoreUnavailableError,
    TamperedError,
    WrongKeyError,
)
from .keys import MasterKey, MasterKeyInfo
from .migrations import HEAD_REVISION, REVISIONS
from .paths import Environ
from .recorder import DataKeyRow, LogRow, Recorder, SnapshotRow
from .sqlite_recorder import DEFAULT_LOCK_TIMEOUT

ZERO_HASH = bytes(32)
LOCK_TIMEOUT_ENV = "AZCTX_LOCK_TIMEOUT"
MAX_LOCK_TIMEOUT = 3600.0
SECRET_KINDS = ("account", "session")

_PAGE = 256
#: Rows decrypted ahead at first by ``Log._entries``; doubled per batch up to ``_PAGE``.
_FIRST_BATCH = 16
_SNAPSHOT_PAGE = 8
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)

_META_MASTER_KEY_ID = "master_key_id"
_META_KEY_CHECK = "key_check"
_META_LOG_KEY_ID = "log_key_id"
_KEY_CHECK_PLAINTEXT = b"azctx key check v1"
#: How long a process waits for another's rotation to put the new key file in place.
_ROTATION_GRACE = 2.0


class Entry(NamedTuple):
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


class Snapshot(NamedTuple):
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


# -- the canonical encodings ------------------------------------------------------------


_METADATA_TAG = b"azctx-log-v1\0"
_SEQ_TIME = struct.Struct(">Qq").pack
_TEXT_LENGTH = struct.Struct(">BI").pack


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


def _snapshot_aad(seq: int, version: int, log_hash: bytes) -> bytes:
    return b"azctx-snapshot-v1\0" + seq.to_bytes(8, "big") + version.to_bytes(8, "big") + log_hash


def _secret_aad(key_id: str) -> bytes:
    return b"azctx-secret-v1\0" + key_id.encode()


def _key_check_aad(master_key_id: str) -> bytes:
    return b"azctx-key-check-v1\0" + master_key_id.encode()


def to_us(time: datetime) -> int:
    if time.tzinfo is None or time.utcoffset() is None:
        raise ValueError("log times must be timezone-aware")
    return (time - _EPOCH) // _ONE_US


def from_us(time_us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=time_us)


def _now_us() -> int:
    return to_us(datetime.now(UTC))


def _missing(seq: int) -> TamperedError:
    return TamperedError(f"log row {seq} is missing", seq)


# -- the log ----------------------------------------------------------------------------


class Log:
    """One open store. Not thread-safe: use one ``Log`` per thread or process."""

    def __init__(
        self, recorder: Recorder, master: MasterKey | None, stored_key_id: str, log_key_id: str
    ) -> None:
        self._recorder = recorder
        self._master = master
        self._stored_key_id = stored_key_id
        self._log_key_id = log_key_id
        self._log_keys: dict[str, bytes] = {}
        self._log_ciphers: dict[str, AESGCM] = {}
        self._writing = False
        self._pending_master: MasterKey | None = None
        self._shredded = False

    # -- lifetime ---------------------------------------------------------------------

    def close(self) -> None:
        self._log_keys.clear()
        self._log_ciphers.clear()
        self._recorder.close()

    def __enter__(self) -> Log:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def description(self) -> str:
        return self._recorder.description

    # -- transactions -----------------------------------------------------------------

    @contextlib.contextmanager
    def write(self, after_commit: Callable[[], None] | None = None) -> Iterator[None]:
        """One write transaction; a nested ``write()`` joins the outer one.

        ``after_commit`` runs once the transaction is committed and before the WAL is
        scrubbed of shredded keys (which waits for a turn in the write queue): a key
        rotation puts its new key file in place there, since the writers ahead of it in
        the queue may be waiting for that file."""
        if self._writing:
            yield
            if after_commit is not None:
                raise RuntimeError("a nested write cannot run code after the commit")
            return
        self._pending_master = None
        self._shredded = False
        try:
            with self._recorder.transaction():
                self._writing = True
                self._check_master_current()
                yield
        finally:
            self._writing = False
            pending, self._pending_master = self._pending_master, None
        # Only reached after a commit.
        if pending is not None:
            self._master = pending
            self._stored_key_id = pending.key_id
        if after_commit is not None:
            after_commit()
        if self._shredded:
            self._recorder.after_shred()

    def _require_writing(self, what: str) -> None:
        if not self._writing:
            raise RuntimeError(f"Log.{what}() must run inside Log.write()")

    def _check_master_current(self) -> None:
        # Another process may have rotated the master key since we opened the store;
        # wrapping new keys with the old one would make them unreadable. A key that
        # came from a file is read again (the rotation replaced it); one from
        # AZCTX_KEY cannot be, so the write stops here, before it changes anything.
        if self._master is None:
            return
        stored = self._recorder.get_meta(_META_MASTER_KEY_ID)
        if stored is not None and stored.decode() == self._master.key_id:
            return
        fresh = None if stored is None else _rotated_master(self._recorder, self._master, stored)
        if fresh is None:
            raise WrongKeyError(
                f"the master key of {self.description} changed since it was opened",
                hint="the key was rotated by another command; run it again with the new key",
            )
        self._master = fresh
        self._stored_key_id = fresh.key_id

    # -- keys ---------------------------------------------------------------------------

    def _current_master(self) -> MasterKey:
        master = self._pending_master or self._master
        if master is None:
            raise MissingKeyError(
                f"the store {self.description} was opened without its master key",
                hint="this needs the key: set AZCTX_KEY or AZCTX_KEY_FILE",
            )
        return master

    def _unwrap(self, row: DataKeyRow) -> bytes:
        master = self._current_master()
        try:
            return crypto.unwrap(master.key, master.key_id, row.key_id, row.wrapped)
        except crypto.CryptoError:
            raise TamperedError(f"data key {row.key_id} fails its integrity check") from None

    def _log_key(self, key_id: str, seq: int | None) -> bytes:
        cached = self._log_keys.get(key_id)
        if cached is not None:
            return cached
        row = self._recorder.data_key(key_id)
        if row is None or row.kind != "log":
            where = f"log row {seq}" if seq is not None else "the store"
            raise TamperedError(f"{where} names a log data key that does not exist", seq)
        key = self._unwrap(row)
        self._log_keys[key_id] = key
        return key

    def _log_cipher(self, key_id: str, seq: int) -> AESGCM:
        cached = self._log_ciphers.get(key_id)
        if cached is None:
            cached = self._log_ciphers[key_id] = crypto.cipher(self._log_key(key_id, seq))
        return cached

    def master_key_info(self) -> MasterKeyInfo:
        master = self._master
        if master is None:
            return MasterKeyInfo(None, None, self._stored_key_id, self.description)
        return MasterKeyInfo(master.source, master.path, self._stored_key_id, self.description)

    def new_data_key(self, kind: str, session: str | None = None) -> str:
        self._require_writing("new_data_key")
        if kind not in SECRET_KINDS:
            raise ValueError(f"data key kind must be one of {SECRET_KINDS}, not {kind!r}")
        master = self._current_master()
        key_id = f"{kind}-{os.urandom(8).hex()}"
        wrapped = crypto.wrap(master.key, master.key_id, key_id, crypto.new_key())
        self._recorder.insert_data_key(DataKeyRow(key_id, kind, session, wrapped, _now_us()))
        return key_id

    def _secret_key(self, key_id: str) -> bytes:
        row = self._recorder.data_key(key_id)
        if row is None:
            raise KeyDestroyedError(
                f"the key {key_id} of this secret was destroyed; the secret is gone",
                hint="add the credential again",
            )
        return self._unwrap(row)

    def seal(self, key_id: str, plaintext: bytes) -> bytes:
        return crypto.seal(self._secret_key(key_id), plaintext, _secret_aad(key_id))

    def unseal(self, key_id: str, blob: bytes) -> bytes:
        key = self._secret_key(key_id)
        try:
            return crypto.open(key, blob, _secret_aad(key_id))
        except crypto.CryptoError:
            raise TamperedError(
                f"a secret sealed under {key_id} fails its integrity check"
            ) from None

    def key_exists(self, key_id: str) -> bool:
        return self._recorder.data_key(key_id) is not None

    def session_key_ids(self, session: str) -> list[str]:
        return self._recorder.session_key_ids(session)

    def destroy_data_keys(self, key_ids: Iterable[str]) -> None:
        """Shred data keys: their secrets become unreadable for good. After the commit
        the old bytes are pushed out of the journal as well."""
        self._require_writing("destroy_data_keys")
        wanted = list(dict.fromkeys(key_ids))
        for key_id in wanted:
            row = self._recorder.data_key(key_id)
            if row is not None and row.kind == "log":
                raise ValueError("the log data key is never destroyed")
        self._recorder.delete_data_keys(wanted)
        self._shredded = True

    def rotate_master_key(self, new_key: bytes) -> str:
        """Rewrap every data key and the key check under ``new_key``; returns its id.

        Takes effect at commit; the caller stores the new key (``keys.write_key_file``)
        and should have it safely on disk before the transaction commits."""
        self._require_writing("rotate_master_key")
        if len(new_key) != keys.KEY_BYTES:
            raise MalformedKeyError(f"a master key is exactly {keys.KEY_BYTES} bytes")
        old = self._current_master()
        new = MasterKey(new_key, old.source, old.path)
        for row in self._recorder.data_keys():
            data_key = self._unwrap(row)
            wrapped = crypto.wrap(new.key, new.key_id, row.key_id, data_key)
            self._recorder.rewrap_data_key(row.key_id, wrapped)
        self._recorder.set_meta(_META_MASTER_KEY_ID, new.key_id.encode())
        self._recorder.set_meta(_META_KEY_CHECK, _key_check(new))
        self._pending_master = new
        self._shredded = True
        return new.key_id

    # -- appending ------------------------------------------------------------------------

    def head(self) -> tuple[int, bytes]:
        row = self._recorder.head()
        return (0, ZERO_HASH) if row is None else (row.seq, row.hash)

    def stored_hash(self, seq: int) -> bytes | None:
        """Row ``seq``'s hash as stored, unchecked (None if there is no such row): enough
        to tell whether the log still continues from a row already read and checked."""
        row = self._recorder.log_row(seq)
        return None if row is None else row.hash

    def append(
        self,
        *,
        kind: str,
        scope: str | None,
        session: str | None,
        time: datetime,
        payload: bytes,
    ) -> Entry:
        self._require_writing("append")
        key = self._log_key(self._log_key_id, None)
        head = self._recorder.head()
        seq = 1 if head is None else head.seq + 1
        prev_hash = ZERO_HASH if head is None else head.hash
        time_us = to_us(time) if head is None else max(to_us(time), head.time_us)
        metadata = row_metadata(seq, time_us, kind, scope, session, self._log_key_id)
        nonce, ciphertext = crypto.encrypt(key, payload, prev_hash + metadata)
        digest = row_hash(prev_hash, metadata, nonce, ciphertext)
        self._recorder.insert_log(
            LogRow(
                seq, time_us, kind, scope, session, self._log_key_id, nonce, ciphertext,
                prev_hash, digest,
            )
        )  # fmt: skip
        return Entry(seq, time_us, kind, scope, session, payload, digest)

    # -- reading ----------------------------------------------------------------------------

    def _check_row(self, row: LogRow) -> bytes:
        """Check the row's hash; returns its metadata, which its decryption needs too."""
        metadata = row_metadata(row.seq, row.time_us, row.kind, row.scope, row.session, row.key_id)
        if row_hash(row.prev_hash, metadata, row.nonce, row.ciphertext) != row.hash:
            raise TamperedError(f"log row {row.seq} fails its hash check", row.seq)
        return metadata

    def _entries(self, rows: Iterator[tuple[LogRow, bytes]]) -> Iterator[Entry]:
        """The checked ``rows`` (with their metadata, from ``_check_row``) decrypted.

        One loop for every read, run a batch of rows at a time, the batch doubling up to
        a page: a replay then alternates between this loop and its own decode-and-fold
        loop once per batch instead of once per row, which is markedly faster (each loop
        keeps its code and data in the CPU caches), while a caller that stops early has
        paid for few rows more than it took. A failure is raised after the entries
        before it, as if the rows were read one by one."""
        ciphers = self._log_ciphers
        decrypt = crypto.decrypt_with
        size = _FIRST_BATCH
        while True:
            batch: list[Entry] = []
            failure: Exception | None = None
            try:
                for row, metadata in rows:
                    aead = ciphers.get(row.key_id) or self._log_cipher(row.key_id, row.seq)
                    try:
                        aad = row.prev_hash + metadata
                        payload = decrypt(aead, row.nonce, row.ciphertext, aad)
                    except crypto.CryptoError:
                        raise TamperedError(
                            f"log row {row.seq} fails its authentication check", row.seq
                        ) from None
                    batch.append(
                        Entry(
                            row.seq, row.time_us, row.kind, row.scope, row.session, payload,
                            row.hash,
                        )
                    )  # fmt: skip
                    if len(batch) == size:
                        break
            except Exception as exc:
                failure = exc
            yield from batch
            if failure is not None:
                raise failure
            if len(batch) < size:
                return
            size = min(2 * size, _PAGE)

    def _walk(self, after: int, upto: int | None) -> Iterator[tuple[LogRow, bytes]]:
        """Rows after < seq <= upto, oldest first, each checked against its own hash and
        linked to its predecessor, with no gaps; each with its metadata."""
        prev_hash: bytes | None = ZERO_HASH
        if after > 0:
            anchor = self._recorder.log_row(after)
            prev_hash = None if anchor is None else anchor.hash
        expected = after + 1
        while True:
            page = self._recorder.log_page(expected - 1, upto, _PAGE)
            for row in page:
                if row.seq != expected:
                    raise _missing(expected)
                if prev_hash is None:
                    raise _missing(after)
                metadata = self._check_row(row)
                if row.prev_hash != prev_hash:
                    raise TamperedError(
                        f"log row {row.seq} does not link to its predecessor", row.seq
                    )
                yield row, metadata
                prev_hash = row.hash
                expected += 1
            if len(page) < _PAGE:
                break
        if upto is not None and expected <= upto:
            head = self._recorder.head()
            if head is not None and head.seq >= expected:
                raise _missing(expected)

    def _walk_reverse(self, before: int | None) -> Iterator[tuple[LogRow, bytes]]:
        """Rows seq < before, newest first, with the same checks as ``_walk``; each row's
        link is checked against its predecessor before the row is returned."""
        rows = self._desc_rows(before)
        current = next(rows, None)
        if current is not None and before is not None and current.seq != before - 1:
            head = self._recorder.head()
            if head is not None and head.seq >= before - 1:
                raise _missing(before - 1)
        while current is not None:
            previous = next(rows, None)
            metadata = self._check_row(current)
            if current.seq > 1 and (previous is None or previous.seq != current.seq - 1):
                raise _missing(current.seq - 1)
            expected_prev = ZERO_HASH if previous is None else previous.hash
            if current.prev_hash != expected_prev:
                raise TamperedError(
                    f"log row {current.seq} does not link to its predecessor", current.seq
                )
            yield current, metadata
            current = previous

    def _desc_rows(self, before: int | None) -> Iterator[LogRow]:
        bound = before
        while True:
            page = self._recorder.log_page_desc(bound, _PAGE)
            yield from page
            if len(page) < _PAGE:
                return
            bound = page[-1].seq

    def entries(self, after: int = 0, upto: int | None = None) -> Iterator[Entry]:
        """Entries with after < seq <= upto, oldest first, decrypted and checked."""
        return self._entries(self._walk(after, upto))

    def entries_reverse(self, before: int | None = None) -> Iterator[Entry]:
        """Entries with seq < before (all when None), newest first, decrypted and checked."""
        return self._entries(self._walk_reverse(before))

    def entry(self, seq: int) -> Entry:
        """The entry ``seq``; LookupError when the log has no such row (seq < 1 or past
        the head), TamperedError when a row that should be there is missing."""
        if seq < 1:
            raise LookupError(f"no log row {seq}")
        for found in self._entries(self._walk(seq - 1, seq)):
            return found
        raise LookupError(f"no log row {seq}")

    def seq_at(self, time: datetime) -> int:
        """The last seq whose time is at or before ``time``; 0 if none."""
        return self._recorder.seq_at(to_us(time))

    # -- snapshots ------------------------------------------------------------------------

    def latest_snapshot(self, version: int, upto: int | None = None) -> Snapshot | None:
        """The newest snapshot of ``version`` at or before ``upto``.

        A snapshot that fails to open is tampering, not a cache miss: passing over it
        would let anyone with write access roll the cache back unnoticed. Only a
        deleted snapshot goes unnoticed, and that merely costs a longer replay."""
        page = self._recorder.snapshot_page(version, upto, 1)
        return self._open_snapshot(page[0]) if page else None

    def snapshots(self, version: int) -> Iterator[Snapshot]:
        """Every snapshot of ``version``, newest first, each opened and checked."""
        bound = None
        while True:
            page = self._recorder.snapshot_page(version, bound, _SNAPSHOT_PAGE)
            for row in page:
                yield self._open_snapshot(row)
            if len(page) < _SNAPSHOT_PAGE:
                return
            bound = page[-1].seq - 1

    def _open_snapshot(self, row: SnapshotRow) -> Snapshot:
        log_row = self._recorder.log_row(row.seq)
        if log_row is None:
            # Snapshots are only saved for rows that exist: the log was cut short.
            raise TamperedError(
                f"the snapshot of operation {row.seq} has no log row: log rows are missing",
                row.seq,
            )
        self._check_row(log_row)
        try:
            key = self._log_key(row.key_id, None)
            aad = _snapshot_aad(row.seq, row.version, log_row.hash)
            payload = crypto.decrypt(key, row.nonce, row.ciphertext, aad)
        except (crypto.CryptoError, TamperedError):
            raise TamperedError(
                f"the snapshot of operation {row.seq} fails its authentication check", row.seq
            ) from None
        return Snapshot(row.seq, row.version, payload)

    def save_snapshot(self, seq: int, version: int, payload: bytes) -> None:
        """Cache the projected state after row ``seq``; a second save of the same
        (seq, version) is ignored. Joins the current write transaction, if any."""
        with self.write():
            log_row = self._recorder.log_row(seq)
            if log_row is None:
                raise LookupError(f"no log row {seq}")
            self._check_row(log_row)
            if self._recorder.has_snapshot(seq, version):
                return
            key = self._log_key(self._log_key_id, None)
            nonce, ciphertext = crypto.encrypt(
                key, payload, _snapshot_aad(seq, version, log_row.hash)
            )
            self._recorder.insert_snapshot(
                SnapshotRow(seq, version, self._log_key_id, nonce, ciphertext), _now_us()
            )

    # -- verify -----------------------------------------------------------------------------

    def verify(self, *, chain_only: bool = False) -> VerifyReport:
        """Walk the whole log: every hash and link, and (unless ``chain_only``) every
        ciphertext. Raises TamperedError naming the first bad row."""
        if not chain_only:
            self._current_master()
        count, head_seq, head_hash = 0, 0, ZERO_HASH
        rows = self._walk(0, None)
        checked: Iterator[LogRow | Entry] = (
            (row for row, _ in rows) if chain_only else self._entries(rows)
        )
        for row in checked:
            count, head_seq, head_hash = count + 1, row.seq, row.hash
        return VerifyReport(count, head_seq, head_hash, not chain_only)


# -- opening ------------------------------------------------------------------------------


def _key_check(master: MasterKey) -> bytes:
    return crypto.seal(master.key, _KEY_CHECK_PLAINTEXT, _key_check_aad(master.key_id))


def open_log(
    target: str | Path | None = None,
    *,
    create: bool = True,
    key_required: bool = True,
    lock_timeout: float | None = None,
    environ: Environ | None = None,
) -> Log:
    """Open (and, with ``create``, make) the store at ``target``.

    ``target`` containing ``://`` is a SQLAlchemy URL; anything else is a file path for
    the sqlite3 recorder; None is the default store (``azctx.store.paths``). With
    ``key_required=False`` no master key is loaded: only the chain can be read (``verify
    (chain_only=True)``, ``head``); a store that does not exist yet is still created
    with a key, as always. ``environ`` (default ``os.environ``) is where the key and
    path variables are read. ``lock_timeout`` (seconds to wait for another writer's
    lock) defaults to ``$AZCTX_LOCK_TIMEOUT``, else ``DEFAULT_LOCK_TIMEOUT``.
    """
    if target is None:
        from .paths import default_store

        target = default_store(environ)
    # The key is read first: a malformed or exposed key then stops us before the
    # store file is even created.
    master = keys.load_master_key(environ) if key_required else None
    if lock_timeout is None:
        lock_timeout = _lock_timeout(environ)
    recorder = _recorder_for(target, create=create, lock_timeout=lock_timeout)
    try:
        return _attach(recorder, master, environ, create=create, key_required=key_required)
    except BaseException:
        recorder.close()
        raise


def _lock_timeout(environ: Environ | None) -> float:
    """``$AZCTX_LOCK_TIMEOUT`` in seconds (a positive number), else the default."""
    raw = (os.environ if environ is None else environ).get(LOCK_TIMEOUT_ENV)
    if raw is None or not raw.strip():
        return DEFAULT_LOCK_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= MAX_LOCK_TIMEOUT:
        raise BadInput(
            f"{LOCK_TIMEOUT_ENV} must be a number of seconds, more than 0 and at most "
            f"{MAX_LOCK_TIMEOUT:g}, not {raw!r}"[:300],
            hint=f"unset {LOCK_TIMEOUT_ENV} or fix it",
        )
    return value


def _recorder_for(target: str | Path, *, create: bool, lock_timeout: float) -> Recorder:
    if isinstance(target, str) and "://" in target:
        from .sqlalchemy_recorder import SqlAlchemyRecorder

        return SqlAlchemyRecorder(target, create=create, lock_timeout=lock_timeout)
    from .sqlite_recorder import SqliteRecorder

    return SqliteRecorder(Path(target).expanduser(), create=create, lock_timeout=lock_timeout)


def _check_revision(revision: str | None, description: str) -> None:
    if revision is not None and revision not in REVISIONS:
        raise SchemaTooNewError(
            f"the store {description} has schema {revision}, newer than this azctx knows"
            f" (up to {HEAD_REVISION})",
            hint="upgrade azctx to use this store",
        )


def _attach(
    recorder: Recorder,
    master: MasterKey | None,
    environ: Environ | None,
    *,
    create: bool,
    key_required: bool,
) -> Log:
    revision = recorder.schema_revision()
    _check_revision(revision, recorder.description)
    if revision == HEAD_REVISION:
        return _open_current(recorder, master, environ, key_required=key_required)
    if revision is None and not create:
        raise StoreUnavailableError(f"no azctx store at {recorder.description}")
    # New or behind: initialize or migrate under the write lock, re-checking what we saw,
    # since another process may be doing the same right now.
    with recorder.transaction():
        revision = recorder.schema_revision()
        _check_revision(revision, recorder.description)
        if revision != HEAD_REVISION:
            recorder.migrate()
        if revision is None:
            master = _initialize(recorder, master, environ)
    return _open_current(recorder, master, environ, key_required=key_required)


def _initialize(recorder: Recorder, master: MasterKey | None, environ: Environ | None) -> MasterKey:
    """A new store: the master key (a key file is created only here), the key check and
    the log data key."""
    if master is None:
        master = keys.load_master_key(environ)
    if master is None:
        path, source = keys.key_file_location(environ)
        master = keys.create_key_file(path, source)
    log_key_id = f"log-{os.urandom(8).hex()}"
    wrapped = crypto.wrap(master.key, master.key_id, log_key_id, crypto.new_key())
    recorder.insert_data_key(DataKeyRow(log_key_id, "log", None, wrapped, _now_us()))
    recorder.set_meta(_META_MASTER_KEY_ID, master.key_id.encode())
    recorder.set_meta(_META_KEY_CHECK, _key_check(master))
    recorder.set_meta(_META_LOG_KEY_ID, log_key_id.encode())
    return master


def _open_current(
    recorder: Recorder, master: MasterKey | None, environ: Environ | None, *, key_required: bool
) -> Log:
    stored_id = recorder.get_meta(_META_MASTER_KEY_ID)
    log_key_id = recorder.get_meta(_META_LOG_KEY_ID)
    if stored_id is None or log_key_id is None:
        raise CorruptStoreError(f"the store {recorder.description} has no key record")
    if not key_required:
        return Log(recorder, None, stored_id.decode(), log_key_id.decode())
    if master is None:
        # Another process may have created the store, and its key file, meanwhile.
        master = keys.load_master_key(environ)
    if master is None:
        raise keys.missing_key_error(environ)
    if master.key_id != stored_id.decode():
        master = _rotated_master(recorder, master, stored_id) or master
    _check_master(recorder, master, stored_id.decode())
    log = Log(recorder, master, stored_id.decode(), log_key_id.decode())
    log._log_key(log_key_id.decode(), None)
    return log


def _rotated_master(recorder: Recorder, master: MasterKey, stored_id: bytes) -> MasterKey | None:
    """The key now in ``master``'s key file, if it is the one the store needs: another
    process rotated the key. Its new key file goes into place just after its commit
    (``keys.KeyRotation``), so while that rotation's temporary file is still there we
    wait for it, briefly."""
    if master.path is None:
        return None
    wanted = stored_id.decode()
    deadline = time.monotonic() + _ROTATION_GRACE
    while True:
        pending = keys.rotation_pending(master.path)
        fresh = keys.read_key_file(master.path, master.source)
        if fresh is not None and fresh.key_id == wanted:
            _check_master(recorder, fresh, wanted)
            return fresh
        if not pending or time.monotonic() > deadline:
            return None
        time.sleep(0.02)


def _check_master(recorder: Recorder, master: MasterKey, stored_id: str) -> None:
    if master.key_id != stored_id:
        where = "AZCTX_KEY" if master.path is None else f"key file {master.path}"
        raise WrongKeyError(
            f"the master key from {where} does not open the store {recorder.description}",
            hint=f"this key's id is {master.key_id}; the store needs key {stored_id}",
        )
    check = recorder.get_meta(_META_KEY_CHECK)
    try:
        if check is None:
            raise crypto.CryptoError("no key check")
        crypto.open(master.key, check, _key_check_aad(stored_id))
    except crypto.CryptoError:
        raise TamperedError(f"the key check of {recorder.description} fails") from None
